#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| monwire_tests::galaxy::roundtrip_session(data));
