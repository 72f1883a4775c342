//! Any text given to the CSV reader gives a table or an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tapegrad::data::parse_csv;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    // Fixed column names, then the header's own: all columns but the last as features.
    let _ = parse_csv(text, &["a", "b"], "y");
    let header: Vec<&str> = text.lines().next().unwrap_or("").split(',').map(|s| s.trim().trim_matches('"')).collect();
    if let Some((target, features)) = header.split_last() {
        let _ = parse_csv(text, features, target);
    }
});
