//! Any text given to the formula parser gives a formula or a caret error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| tapegrad::io::fuzz::parse_formula_target(data));
