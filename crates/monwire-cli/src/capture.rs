//! Reading capture input: a file or `-` (stdin), line by line with line numbers.

use std::io::{self, BufRead, BufReader, Read};
use std::ops::ControlFlow;
use std::path::Path;

use crate::pipeline::Pipeline;
use crate::{Failure, Status, diag};

/// Opens `path` (or stdin for `-` or no path) for reading.
pub(crate) fn open(path: Option<&Path>) -> Result<Box<dyn Read + Send>, Failure> {
    match path {
        None => Ok(Box::new(io::stdin())),
        Some(p) if p == Path::new("-") => Ok(Box::new(io::stdin())),
        Some(p) => std::fs::File::open(p)
            .map(|f| Box::new(f) as Box<dyn Read + Send>)
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

/// Reads what is there into `buf` (at most its length), retrying when a signal interrupts the
/// read; 0 at the end of the input.
pub(crate) fn read_chunk(input: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match input.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

/// Reads all of the input.
pub(crate) fn read_all(mut input: Box<dyn Read>, what: &str) -> Result<Vec<u8>, Failure> {
    let mut buf = Vec::new();
    input
        .read_to_end(&mut buf)
        .map_err(|e| Failure::Runtime(format!("{what}: {e}")))?;
    Ok(buf)
}

/// Hex digit values; 0xFF for anything else.
static HEX: [u8; 256] = {
    let mut t = [0xFFu8; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        t[b'a' as usize + i] = 10 + i as u8;
        t[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    t
};

/// Appends the bytes that the hex digits of `text` spell to `out`, ignoring ASCII
/// whitespace between them; `Err` names the first offending character (1-based column) or an
/// odd count of digits.
pub(crate) fn unhex_into(text: &str, out: &mut Vec<u8>) -> Result<(), String> {
    let b = text.as_bytes();
    out.reserve(b.len() / 2);
    let mut high: Option<u8> = None;
    let mut i = 0;
    while i < b.len() {
        // The common case: two digits in a row make a byte.
        if high.is_none()
            && let (Some(&c1), Some(&c2)) = (b.get(i), b.get(i + 1))
        {
            let (h, l) = (HEX[usize::from(c1)], HEX[usize::from(c2)]);
            if h < 16 && l < 16 {
                out.push(h << 4 | l);
                i += 2;
                continue;
            }
        }
        let c = b.get(i).copied().unwrap_or(b' ');
        let v = HEX[usize::from(c)];
        if v < 16 {
            match high.take() {
                None => high = Some(v),
                Some(h) => out.push(h << 4 | v),
            }
        } else if !c.is_ascii_whitespace() {
            let ch = text.get(i..).and_then(|s| s.chars().next()).unwrap_or('?');
            return Err(format!("column {}: {ch:?} is not a hex digit", i + 1));
        }
        i += 1;
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
        unhex_into("a b\nc d", &mut v).unwrap();
        assert_eq!(v, [0xab, 0xcd], "blanks between the digits of a byte");
        let mut v = Vec::new();
        unhex_into("", &mut v).unwrap();
        assert!(v.is_empty());
    }
}
