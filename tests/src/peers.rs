//! Outside peers: skip when allowed, fail when required.

use std::path::PathBuf;
use std::process::Command;

/// Whether `MONWIRE_REQUIRE_PEERS` is set (to anything but `0` or empty): then a missing peer is
/// a test failure, not a skip. `.ci/run` sets it.
pub fn required() -> bool {
    std::env::var_os("MONWIRE_REQUIRE_PEERS").is_some_and(|v| !v.is_empty() && v != "0")
}

/// Call when `peer` is unavailable because of `why`. Panics (fails the test) when peers are
/// required; otherwise prints the reason on stderr and returns, and the caller returns early.
pub fn unavailable(peer: &str, why: &str) {
    if required() {
        panic!(
            "outside peer {peer} is required (MONWIRE_REQUIRE_PEERS is set) but unavailable: {why}"
        );
    }
    eprintln!(
        "SKIP: outside peer {peer} unavailable ({why}); set up by .ci/run, required when MONWIRE_REQUIRE_PEERS=1"
    );
}

/// The Python interpreter with the test venv's packages: `$MONWIRE_PYTHON`, else `python3`.
pub fn python() -> PathBuf {
    std::env::var_os("MONWIRE_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("python3"))
}

/// Whether `python()` can import `module`. When it cannot, reports it through
/// [`unavailable`] and returns `false`.
pub fn python_module(module: &str) -> bool {
    let ok = Command::new(python())
        .args(["-c", &format!("import {module}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        unavailable(
            &format!("Python module {module}"),
            &format!("`{} -c 'import {module}'` failed", python().display()),
        );
    }
    ok
}

/// Whether the program `name` runs (`name --help` or any exit status counts as present). When it
/// does not, reports it through [`unavailable`] and returns `false`.
pub fn program(name: &str) -> bool {
    let ok = Command::new(name).arg("--help").output().is_ok();
    if !ok {
        unavailable(name, "not found on PATH");
    }
    ok
}
