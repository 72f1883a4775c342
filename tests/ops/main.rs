//! Tensors, the tape and every op: property tests of forward values, gradients, second order and forward mode; errors; custom ops; the autodiff toolbox.
//!
//! One test crate of a few (see README.md, "Tests"): each file here is a module.

mod panics;
mod props_support;
mod props_activations;
mod props_conv;
mod props_derived;
mod props_elementwise;
mod props_jvp_audit;
mod props_keepdim_tile;
mod props_kinks;
mod props_matmul;
mod props_pow;
mod props_reduce;
mod props_scan;
mod props_shape;
mod gradgrad_props;
mod tensor;
mod large_buffers;
mod tape;
mod inspect;
mod errors;
mod custom_op;
mod conv_errors;
mod autodiff;
