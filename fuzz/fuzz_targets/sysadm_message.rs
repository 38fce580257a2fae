#![no_main]
//! SysAdm message decode → encode → decode (see `monwire_tests::sysadm::roundtrip_message`).

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = monwire_tests::sysadm::roundtrip_message(data);
});
