//! Scenario text → validated scenario or an error; never a panic, a hang or a huge allocation.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mailflow::scenario::{LoadOptions, from_text};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for allow_unstable in [false, true] {
        // A `[trace]` file is read relative to this (nonexistent) directory: never found.
        let _ = from_text(
            text,
            "/nonexistent-fuzz-dir/fuzz.toml",
            "fuzz",
            LoadOptions { allow_unstable },
        );
    }
});
