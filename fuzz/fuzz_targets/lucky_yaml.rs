//! lucky.yaml as a charm author may write it: any text gives a parsed file or a one-line
//! error naming the line, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = lucky::charm::lucky_yaml::parse(text, Path::new("lucky.yaml"), Path::new("/charm"));
    }
});
