//! Any bytes given to the model loader give a model or an error, never a panic or an abort.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| tapegrad::io::fuzz::load_model_target(data));
