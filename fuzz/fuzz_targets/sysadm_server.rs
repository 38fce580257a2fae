#![no_main]
//! The SysAdm server session fed arbitrary frames (see `monwire_tests::sysadm::session_server`).

libfuzzer_sys::fuzz_target!(|data: &[u8]| monwire_tests::sysadm::session_server(data));
