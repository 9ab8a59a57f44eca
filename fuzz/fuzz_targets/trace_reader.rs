//! The trace CSV reader (src/load/trace.rs): rows or an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = mailflow::load::trace::parse(text, &["inbound", "outbound", "a"]);
});
