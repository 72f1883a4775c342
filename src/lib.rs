#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

pub mod data;
pub mod gradcheck;
pub mod losses;
mod ops;
pub mod tape;
pub mod tensor;

pub use gradcheck::{gradcheck, GradcheckOptions, GradcheckReport};
pub use tape::{Gradients, Tape, Var};
pub use tensor::{Float, Shape, Tensor};
