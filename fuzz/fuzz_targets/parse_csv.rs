//! Any text given to the CSV reader gives a table or an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| tapegrad::io::fuzz::parse_csv_target(data));
