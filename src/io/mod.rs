//! Saving and loading: models and training checkpoints as [safetensors] files.
//!
//! - [`save_model`] / [`load_model`]: a `Sequential`'s weights, named as Keras names them
//!   (`dense/kernel`, `dense/bias`, ...), with the architecture as JSON in the metadata key
//!   `tapegrad.architecture`, so the file rebuilds the model without code, and PyTorch or candle
//!   read the weights with their own safetensors loaders.
//! - [`save_checkpoint`] / [`load_checkpoint`]: the same plus the optimizer's state and the epoch,
//!   so `fit` resumes where it stopped.
//! - Every write is atomic ([`write_atomic`]): a crash mid-save leaves the old file whole.
//! - Every read is validated: a truncated, corrupted, empty or foreign file, a tensor of the wrong
//!   shape or dtype, or metadata that does not describe a model gives a one-line
//!   [`ModelFileError`], never a panic.
//!
//! See `docs/saving.md` for the file layout.
//!
//! [safetensors]: https://github.com/huggingface/safetensors
//!
//! ```
//! use std::collections::BTreeMap;
//! use tapegrad::io::{model_from_bytes, model_to_bytes};
//! use tapegrad::nn::{Dense, Sequential};
//! let net = Sequential::<f64>::with_seed(3, vec![Dense::new(2)], 0);
//! let bytes = model_to_bytes(&net, &BTreeMap::new()).unwrap();
//! let back = model_from_bytes::<f64>(bytes.clone()).unwrap();
//! assert_eq!(back.model.named_parameters(), net.named_parameters());
//! let err = model_from_bytes::<f64>(bytes[..40].to_vec()).unwrap_err();
//! assert!(err.to_string().starts_with("<bytes>: not a valid safetensors file"));
//! ```

mod atomic;
mod checkpoint;
mod error;
pub mod fuzz;
mod model_file;
mod preprocessing;
mod safetensors;
mod training_state;

pub use atomic::{write_atomic, ABORT_AFTER_ENV};
pub use checkpoint::{
    checkpoint_from_bytes, checkpoint_from_bytes_with, checkpoint_to_bytes, checkpoint_to_bytes_with, load_checkpoint,
    load_checkpoint_with, save_checkpoint, save_checkpoint_with, Checkpoint, CHECKPOINT_KEY, OPTIMIZER_PREFIX,
};
pub use error::ModelFileError;
pub use model_file::{
    load_model, load_model_with, model_from_bytes, model_from_bytes_with, model_to_bytes, save_model, SavedModel, ARCHITECTURE_KEY,
    FORMAT_KEY, RESERVED_PREFIX,
};
pub use preprocessing::{load_model_finite, preprocessing_from_json, preprocessing_to_json, PREPROCESSING_KEY};
pub use safetensors::{save_tensors, tensors_to_bytes, Dtype, SafeTensors, TensorInfo};
pub use training_state::CALLBACKS_PREFIX;
