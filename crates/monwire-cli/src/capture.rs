//! Reading capture input: a file or `-` (stdin), line by line with line numbers.

use std::io::{self, BufRead, BufReader, Read};
use std::ops::ControlFlow;
use std::path::Path;

use crate::pipeline::Pipeline;
use crate::{Failure, Status, diag};

/// Opens `path` (or stdin for `-` or no path) for reading.
pub(crate) fn open(path: Option<&Path>) -> Result<Box<dyn Read>, Failure> {
    match path {
        None => Ok(Box::new(io::stdin())),
        Some(p) if p == Path::new("-") => Ok(Box::new(io::stdin())),
        Some(p) => std::fs::File::open(p)
            .map(|f| Box::new(f) as Box<dyn Read>)
            .map_err(|e| Failure::Runtime(format!("{}: {e}", p.display()))),
    }
}

/// The name of the input for error messages.
pub(crate) fn name(path: Option<&Path>) -> String {
    match path {
        Some(p) if p != Path::new("-") => p.display().to_string(),
        _ => "<stdin>".to_owned(),
    }
}

/// Calls `f(out, line_number, line)` for every line (1-based, without its `\n` or `\r\n`),
/// until the input ends, `f` breaks, or a signal asks the run to stop.
///
/// A line that is not valid UTF-8 is reported as `FILE:LINE: not valid UTF-8 …` and skipped;
/// the run goes on and the status is then [`Status::BadInput`]. Whenever the input has
/// nothing buffered (a pause in a pipe, or the next block of a file), the pipeline is told it
/// is [idle](Pipeline::idle) first, so a live pipe's events are shown without waiting.
pub(crate) fn for_each_line(
    input: Box<dyn Read>,
    what: &str,
    out: &mut Pipeline,
    mut f: impl FnMut(&mut Pipeline, usize, &str) -> ControlFlow<()>,
) -> Result<Status, Failure> {
    let mut reader = BufReader::with_capacity(64 * 1024, input);
    let mut buf = Vec::with_capacity(256);
    let mut status = Status::Ok;
    let mut n = 0usize;
    loop {
        if out.shutdown().is_requested() {
            break;
        }
        if reader.buffer().is_empty() {
            out.idle();
        }
        buf.clear();
        let read = reader
            .read_until(b'\n', &mut buf)
            .map_err(|e| Failure::Runtime(format!("{what}: line {}: {e}", n + 1)))?;
        if read == 0 {
            break;
        }
        n += 1;
        let mut line = buf.as_slice();
        if let Some(l) = line.strip_suffix(b"\n") {
            line = l.strip_suffix(b"\r").unwrap_or(l);
        }
        match std::str::from_utf8(line) {
            Ok(text) => {
                if f(out, n, text).is_break() {
                    break;
                }
            }
            Err(e) => {
                diag::input(
                    what,
                    n,
                    Some(e.valid_up_to() + 1),
                    "not valid UTF-8; line skipped",
                );
                status = Status::BadInput;
            }
        }
    }
    Ok(status)
}

/// Reads all of the input.
pub(crate) fn read_all(mut input: Box<dyn Read>, what: &str) -> Result<Vec<u8>, Failure> {
    let mut buf = Vec::new();
    input
        .read_to_end(&mut buf)
        .map_err(|e| Failure::Runtime(format!("{what}: {e}")))?;
    Ok(buf)
}

/// The value of one hex digit.
fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Appends the bytes that the hex digits of `text` spell to `out`, ignoring ASCII
/// whitespace between them; `Err` names the first offending character (1-based column) or an
/// odd count of digits.
pub(crate) fn unhex_into(text: &str, out: &mut Vec<u8>) -> Result<(), String> {
    out.reserve(text.len() / 2);
    let mut high: Option<u8> = None;
    for (i, c) in text.bytes().enumerate() {
        if c.is_ascii_whitespace() {
            continue;
        }
        let Some(v) = hex_digit(c) else {
            let ch = text.get(i..).and_then(|s| s.chars().next()).unwrap_or('?');
            return Err(format!("column {}: {ch:?} is not a hex digit", i + 1));
        };
        match high.take() {
            None => high = Some(v),
            Some(h) => out.push(h << 4 | v),
        }
    }
    if high.is_some() {
        return Err("odd number of hex digits".to_owned());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::unhex_into;

    #[test]
    fn hex_with_blanks_decodes_and_errors_say_where() {
        let mut v = Vec::new();
        unhex_into("2f72 61 79\t00", &mut v).unwrap();
        assert_eq!(v, b"/ray\0");
        let mut v = Vec::new();
        assert_eq!(
            unhex_into("2f7g", &mut v).unwrap_err(),
            "column 4: 'g' is not a hex digit"
        );
        assert_eq!(
            unhex_into("abc", &mut v).unwrap_err(),
            "odd number of hex digits"
        );
        let mut v = Vec::new();
        unhex_into("", &mut v).unwrap();
        assert!(v.is_empty());
    }
}
