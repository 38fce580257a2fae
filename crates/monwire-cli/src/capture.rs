//! Reading capture input: a file or `-` (stdin), line by line with line numbers.

use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use crate::Failure;

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

/// Calls `f(line_number, line)` for every line (1-based), stopping when it breaks.
pub(crate) fn for_each_line(
    input: Box<dyn Read>,
    what: &str,
    mut f: impl FnMut(usize, &str) -> std::ops::ControlFlow<()>,
) -> Result<(), Failure> {
    for (i, line) in BufReader::new(input).lines().enumerate() {
        let line = line.map_err(|e| Failure::Runtime(format!("{what}: line {}: {e}", i + 1)))?;
        if f(i + 1, &line).is_break() {
            break;
        }
    }
    Ok(())
}

/// Reads all of the input.
pub(crate) fn read_all(mut input: Box<dyn Read>, what: &str) -> Result<Vec<u8>, Failure> {
    let mut buf = Vec::new();
    input
        .read_to_end(&mut buf)
        .map_err(|e| Failure::Runtime(format!("{what}: {e}")))?;
    Ok(buf)
}
