#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ws_proto_fuzz::frame_header(data));
