//! Layers, activations, initializers and the `Sequential` model.
//!
//! ```
//! use tapegrad::nn::{Activation, Dense, Init, Sequential};
//! let model = Sequential::<f64>::with_seed(2, vec![
//!     Dense::new(50).activation(Activation::Relu).kernel_initializer(Init::HeUniform),
//!     Dense::new(1).activation(Activation::Sigmoid),
//! ], 1);
//! assert_eq!(model.count_params(), 2 * 50 + 50 + 50 + 1);
//! assert_eq!(model.named_parameters()[0].0, "dense/kernel");
//! ```

mod activation;
mod constraints;
mod dense;
mod init;
mod normalization;
mod regularizers;
mod sequential;
mod summary;

pub use activation::Activation;
pub use constraints::{Constraint, ConstraintError, NORM_EPSILON};
pub use dense::Dense;
pub use init::Init;
pub use normalization::{batch_norm, layer_norm, BatchNormConfig, BatchNormOutput, LayerNormConfig};
pub use regularizers::{OrthogonalMode, Regularizer, RegularizerError};
pub use sequential::{ParamVars, Sequential};
