#![no_main]
//! SysAdm routed bridge frame decode → encode (see `monwire_tests::sysadm::roundtrip_routed`).

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = monwire_tests::sysadm::roundtrip_routed(data);
});
