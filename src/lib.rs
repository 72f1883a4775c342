#![doc = include_str!("../README.md")]
#![warn(missing_docs)]
// Numeric kernels index several buffers with one counter; iterator chains would hide the math.
#![allow(clippy::needless_range_loop)]

pub mod autodiff;
pub mod data;
pub mod formula;
pub mod gradcheck;
pub mod losses;
mod ops;
#[cfg(feature = "app")]
pub mod perf;
#[cfg(feature = "app")]
pub mod report;
#[cfg(feature = "app")]
pub mod study;
pub mod tape;
pub mod tensor;

pub use gradcheck::{gradcheck, GradcheckOptions, GradcheckReport};
pub use losses::{Loss, LossOptions};
pub use ops::conv::{ConvOptions, Padding};
pub use ops::custom::CustomOp;
pub use ops::pool::PoolOptions;
pub use ops::elem::Elem;
pub use tape::{Gradients, Tape, Var};
pub use tensor::{Float, Shape, Tensor};
pub mod optim;
pub mod nn;
pub mod metrics;
pub mod train;
pub mod io;

/// The guides in `docs/`, compiled as doctests so their code stays true. (`docs/training.md` is
/// compiled the same way as `train::callbacks::TrainingGuide`.)
#[cfg(doctest)]
pub mod guides {
    #[doc = include_str!("../docs/writing-a-loss.md")]
    pub struct WritingALoss;
    #[doc = include_str!("../docs/saving.md")]
    pub struct Saving;
    #[doc = include_str!("../docs/data.md")]
    pub struct Data;
    #[doc = include_str!("../docs/forward-and-reverse.md")]
    pub struct ForwardAndReverse;
    #[doc = include_str!("../docs/custom-ops.md")]
    pub struct CustomOps;
}
