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
