#![no_main]

// The seeds are for the replay test; the target needs only the body.
#[allow(dead_code)]
#[path = "../src/stream.rs"]
mod stream;

libfuzzer_sys::fuzz_target!(|data: &[u8]| stream::stream_server(data));
