//! The calibration log readers (src/calibrate/read.rs): every format detected from content,
//! every encoding; records or an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mailflow::calibrate::read::read_bytes;
use mailflow::calibrate::record::ReadOptions;

fuzz_target!(|data: &[u8]| {
    let mut opts = ReadOptions::default();
    let mut n = 0u64;
    let _ = read_bytes(
        std::path::Path::new("fuzz.log"),
        data,
        &mut opts,
        &mut |_| {
            n += 1;
            Ok(())
        },
    );
});
