//! merge's shard readers (src/shard/read.rs): `shard.json`, `units.json`, `units.hlog` and
//! `capacity.json` bytes → parsed values or an error, never a panic or an unbounded
//! allocation. The first byte picks the reader, the rest is the file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mailflow::shard::read;

fuzz_target!(|data: &[u8]| {
    let Some((&which, bytes)) = data.split_first() else {
        return;
    };
    match which % 4 {
        0 => drop(read::parse_manifest(bytes)),
        1 => drop(read::parse_units(bytes)),
        2 => drop(read::parse_hlog(bytes)),
        _ => drop(read::parse_capacity(bytes)),
    }
});
