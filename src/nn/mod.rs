//! Layers, activations, initializers and the `Sequential` model.
//!
//! Every layer implements [`Layer`]; a [`Sequential`] holds any of them (`Box<dyn Layer<T>>`)
//! and owns all their weights in one [`ParamStore`](crate::tape::ParamStore).
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
mod builtin;
mod constraints;
mod conv;
mod dense;
mod init;
mod layer;
mod noise;
mod normalization;
mod pooling;
mod normalization_layers;
mod regularizers;
mod reshape;
mod sequential;
mod spatial;
mod summary;
mod weight_options;

pub use activation::Activation;
pub use builtin::ActivityRegularization;
pub use conv::{Conv, Conv1D, Conv2D};
pub use dense::Dense;
pub use init::Init;
pub use layer::{ArgumentError, Builder, Ctx, IntoLayer, Layer, LayerClone, LayerRegistry};
pub use pooling::{
    AveragePooling1D, AveragePooling2D, GlobalAveragePooling, GlobalAveragePooling1D, GlobalAveragePooling2D, MaxPooling1D,
    MaxPooling2D, Pooling,
};
pub use reshape::{Embedding, Flatten};
pub use spatial::{DataFormat, PaddingMode};
pub use noise::{Dropout, GaussianDropout, GaussianNoise};
pub use sequential::{Output, ParamVars, Sequential};
pub(crate) use sequential::Lent;
pub use constraints::{Constraint, ConstraintError, NORM_EPSILON};
pub use normalization_layers::{BatchNormalization, LayerNormalization};
pub use normalization::{batch_norm, layer_norm, BatchNormConfig, BatchNormOutput, LayerNormConfig};
pub use regularizers::{OrthogonalMode, Regularizer, RegularizerError};
