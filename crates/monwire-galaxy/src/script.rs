//! Scripts for playing the Hub side: the format `monwire serve galaxy --script FILE` reads.
//!
//! A script is UTF-8 or Latin-1 text, read line by line outside frames:
//!
//! - blank lines and lines starting with `#` are ignored;
//! - a line starting with `{` starts a **frame** in the text syntax (PR or PP form, it may span
//!   lines, see [`text`](crate::text)); it is sent as a status message (MESSAGE, no admin data),
//!   exactly as written, so any frame can be played, not only the Hub's own;
//! - `prompt` sends `hub_debug_prompt` and waits for the GUI's answer, like the Hub under
//!   `-debug`;
//! - `sleep <ms>` pauses for that many milliseconds.
//!
//! The frame must end with its `}` (the reader's early stops are errors here). Example:
//!
//! ```text
//! # a provider comes up
//! {c provider_status :provider_list ( {c provider :provider_id "[0]" :connected 1 } ) }
//! sleep 100
//! {c token_status
//!    :action 2
//!    :tidx 1 }
//! prompt
//! ```

use std::time::Duration;

use crate::message::Frame;
use crate::text::read_frame_report;

/// One step of a script.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    /// Send this frame as a status message.
    Send(Frame),
    /// Send `hub_debug_prompt` and wait for the answer.
    Prompt,
    /// Pause.
    Sleep(Duration),
}

/// A script error: the 1-based line and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("script line {line}: {reason}")]
pub struct ScriptError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub reason: String,
}

/// Parses a script.
pub fn parse(text: &[u8]) -> Result<Vec<Step>, ScriptError> {
    let mut steps = Vec::new();
    let mut pos = 0;
    let line_of = |pos: usize| text.iter().take(pos).filter(|&&b| b == b'\n').count() + 1;
    while pos < text.len() {
        let end = text
            .iter()
            .skip(pos)
            .position(|&b| b == b'\n')
            .map_or(text.len(), |n| pos + n);
        let line = text.get(pos..end).unwrap_or_default();
        let trimmed = line.trim_ascii();
        if trimmed.first() == Some(&b'{') {
            let start = pos + (line.len() - line.trim_ascii_start().len());
            let rest = text.get(start..).unwrap_or_default();
            let read = read_frame_report(rest);
            match (read.frame, read.stop) {
                (Some(f), None) => steps.push(Step::Send(f)),
                (_, Some(stop)) => {
                    return Err(ScriptError {
                        line: line_of(start + stop.offset),
                        reason: stop.reason,
                    });
                }
                (None, None) => {
                    return Err(ScriptError {
                        line: line_of(start),
                        reason: "not a frame".to_owned(),
                    });
                }
            }
            pos = start + read.consumed;
            // The rest of the line after the frame must be empty.
            let tail_end = text
                .iter()
                .skip(pos)
                .position(|&b| b == b'\n')
                .map_or(text.len(), |n| pos + n);
            if !text
                .get(pos..tail_end)
                .unwrap_or_default()
                .trim_ascii()
                .is_empty()
            {
                return Err(ScriptError {
                    line: line_of(pos),
                    reason: "text after the frame".to_owned(),
                });
            }
            pos = tail_end + 1;
            continue;
        }
        if trimmed.is_empty() || trimmed.first() == Some(&b'#') {
        } else if trimmed == b"prompt" {
            steps.push(Step::Prompt);
        } else if let Some(ms) = trimmed.strip_prefix(b"sleep ") {
            let ms = std::str::from_utf8(ms.trim_ascii())
                .ok()
                .and_then(|s| s.parse::<u64>().ok())
                .ok_or_else(|| ScriptError {
                    line: line_of(pos),
                    reason: "sleep wants milliseconds".to_owned(),
                })?;
            steps.push(Step::Sleep(Duration::from_millis(ms)));
        } else {
            return Err(ScriptError {
                line: line_of(pos),
                reason: format!("unknown line {:?}", crate::message::lossy(trimmed)),
            });
        }
        pos = end + 1;
    }
    Ok(steps)
}

/// The built-in script: the status messages of the captured run (`cap.hub2gui`) after the
/// handshake, one of each other Hub status message, and a debug prompt.
pub const DEFAULT_SCRIPT: &str = r#"# monwire serve galaxy: the default script
{c provider_status :provider_list ( {c [0] :screen_name "[0]double" :init 1 :available 1 :hub_is_client 1 :provider_id "[0]" :connected 0 } ) }
{c new_service_type :name "double" :port 15000 }
{c listener_status :action 0 :port 15000 :reused 0 }
{c session_status :action 1 :session_id "Default" }
{c token_status :action 1 :tidx 1 }
{c token_status :action 0 :state {c main :initialize 1 :domain "Unspecified" :user_id "sls" :tidx 1 } }
{c message_event :provider_id "[0]" :msg {c double :number 7 } :msg_type 1 :destination "server" }
{c message_queue_status :action 0 :queue ( ) }
{c session_lock_status :action 1 :lock_type 3 :session_id "Default" }
{c provider_status :provider_list ( {c provider :provider_id "[0]" :connected 1 } ) }
{c token_status :action 2 :tidx 1 }
prompt
"#;

/// The steps of [`DEFAULT_SCRIPT`]. `message_queue_status :queue` is an INT_32 array on the
/// wire, which the text syntax cannot write; this sets it properly.
pub fn default_script() -> Vec<Step> {
    let mut steps = parse(DEFAULT_SCRIPT.as_bytes()).unwrap_or_default();
    for s in &mut steps {
        if let Step::Send(f) = s
            && f.is_named("message_queue_status")
        {
            f.set(":queue", crate::message::Object::Int32(Box::default()));
        }
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::StatusMessage;

    #[test]
    fn the_default_script_parses_to_typed_status_messages() {
        let steps = default_script();
        assert_eq!(steps.len(), 12);
        assert_eq!(steps.last(), Some(&Step::Prompt));
        for s in &steps {
            if let Step::Send(f) = s {
                let m = StatusMessage::from_frame(f.clone());
                assert!(!matches!(m, StatusMessage::Other(_)), "{f:?}");
            }
        }
    }

    #[test]
    fn multi_line_frames_sleep_and_errors() {
        let s = parse(b"# c\n{c a\n   :x 1 }\nsleep 5\n\nprompt\n").unwrap();
        assert_eq!(s.len(), 3);
        assert_eq!(s[1], Step::Sleep(Duration::from_millis(5)));
        assert_eq!(parse(b"\n{c a :x 1a }\n").unwrap_err().line, 2);
        assert_eq!(parse(b"bogus\n").unwrap_err().line, 1);
        assert_eq!(parse(b"{c a } x\n").unwrap_err().line, 1);
    }
}
