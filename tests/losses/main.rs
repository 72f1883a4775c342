//! Every loss against Keras and PyTorch references, edge cases and property tests.
//!
//! One test crate of a few (see README.md, "Tests"): each file here is a module.

mod fixture;
mod keras_losses;
mod more_losses;
mod loss_edges;
mod loss_beyond_keras;
mod loss_props;
mod loss_props_more;
mod loss_options_errors;
mod loss_fit_cli;
