//! The bodies of the fuzz targets in `fuzz/`, shared by cargo-fuzz and by the stable mutation
//! driver in `tests/io_fuzz_regressions.rs`, so the two can never drift apart.

use super::{model_from_bytes, SafeTensors};
use crate::data::parse_csv;
use crate::tape::Tape;
use crate::tensor::Tensor;

/// Any bytes given to the model loader give a model or a one-line error, never a panic or an
/// abort; a model that loads also runs.
pub fn load_model_target(data: &[u8]) {
    if let Ok(file) = SafeTensors::from_bytes(data.to_vec()) {
        for info in file.tensors() {
            let _ = file.tensor::<f32>(&info.name);
        }
    }
    if let Ok(saved) = model_from_bytes::<f32>(data.to_vec()) {
        let tape = Tape::new();
        let x = tape.constant(Tensor::zeros(&[1, saved.model.input_width()]));
        let _ = saved.model.forward(&tape, x);
    }
    if let Err(e) = model_from_bytes::<f64>(data.to_vec()) {
        assert!(!e.to_string().contains('\n'), "a load error must be one line: {e}");
    }
}

/// Any text given to the CSV reader gives a table or an error, never a panic: with fixed column
/// names, and with the header's own (every column but the last as features).
pub fn parse_csv_target(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = parse_csv(text, &["a", "b"], "y");
    let header: Vec<&str> = text.lines().next().unwrap_or("").split(',').map(|s| s.trim().trim_matches('"')).collect();
    if let Some((target, features)) = header.split_last() {
        let _ = parse_csv(text, features, target);
    }
}
