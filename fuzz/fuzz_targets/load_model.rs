//! Any bytes given to the model loader give a model or an error, never a panic or an abort.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tapegrad::io::{model_from_bytes, SafeTensors};

fuzz_target!(|data: &[u8]| {
    if let Ok(file) = SafeTensors::from_bytes(data.to_vec()) {
        for info in file.tensors() {
            let _ = file.tensor::<f32>(&info.name);
        }
    }
    if let Ok(saved) = model_from_bytes::<f32>(data.to_vec()) {
        // A loaded model must also run.
        let tape = tapegrad::Tape::new();
        let x = tape.constant(tapegrad::Tensor::zeros(&[1, saved.model.input_width()]));
        let _ = saved.model.forward(&tape, x);
    }
    let _ = model_from_bytes::<f64>(data.to_vec());
});
