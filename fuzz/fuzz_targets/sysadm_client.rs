#![no_main]
//! The SysAdm client session fed arbitrary frames (see `monwire_tests::sysadm::session_client`).

libfuzzer_sys::fuzz_target!(|data: &[u8]| monwire_tests::sysadm::session_client(data));
