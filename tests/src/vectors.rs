//! Golden vectors and fuzz corpora on disk.

use std::path::{Path, PathBuf};

/// `tests/vectors/<protocol>/`.
pub fn dir(protocol: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("vectors")
        .join(protocol)
}

/// Reads `tests/vectors/<protocol>/<name>`.
pub fn read(protocol: &str, name: &str) -> Vec<u8> {
    let path = dir(protocol).join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// The files of `tests/vectors/<protocol>/` whose names end in `suffix`, sorted by name.
pub fn files(protocol: &str, suffix: &str) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir(protocol)).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.ends_with(suffix) {
            out.push((name, std::fs::read(&path).unwrap()));
        }
    }
    out.sort();
    out
}

/// The committed fuzz corpus of `target` (`fuzz/corpus/<target>/`), every file's bytes, sorted
/// by name. Panics when the directory is missing or empty, so a replay test cannot pass on
/// nothing.
pub fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("fuzz")
        .join("corpus")
        .join(target);
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_file() {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            out.push((name, std::fs::read(&path).unwrap()));
        }
    }
    out.sort();
    assert!(!out.is_empty(), "corpus {} is empty", dir.display());
    out
}

/// Parses hex text (whitespace ignored). Panics on bad hex: vectors are ours.
pub fn unhex(text: &str) -> Vec<u8> {
    let digits: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    assert!(digits.len().is_multiple_of(2), "odd number of hex digits");
    digits
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
        .collect()
}

/// The golden vectors of `protocol` as the line captures `monwire decode <protocol>` reads,
/// one record per line, in file order: `zmq`, the message lines of `v1-libzmq-4.3.4.txt`;
/// `nsm`, each `.hex` datagram's digits on one line; `sysadm`, each `event-*.json` message as
/// compact JSON.
pub fn capture_lines(protocol: &str) -> Vec<String> {
    let text = |b: Vec<u8>| String::from_utf8(b).unwrap();
    match protocol {
        "zmq" => text(read("zmq", "v1-libzmq-4.3.4.txt"))
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .map(str::to_owned)
            .collect(),
        "nsm" => files("nsm", ".hex")
            .into_iter()
            .map(|(_, b)| text(b).split_whitespace().collect())
            .collect(),
        "sysadm" => files("sysadm", ".json")
            .into_iter()
            .filter(|(name, _)| name.starts_with("event-"))
            .map(|(_, b)| {
                let v: serde_json::Value = serde_json::from_slice(&b).unwrap();
                serde_json::to_string(&v).unwrap()
            })
            .collect(),
        other => panic!("no line captures for {other}"),
    }
}
