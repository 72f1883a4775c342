//! Layers, models, optimizers, fit and callbacks, against Keras references where Keras is deterministic.
//!
//! One test crate of a few (see README.md, "Tests"): each file here is a module.

mod keras_training_support;
mod nn;
mod layers;
mod custom_layer;
mod conv_layers;
mod conv_penalties;
mod embedding_penalties;
mod layer_options;
mod training;
mod fit_weights;
mod fit_callbacks;
mod fit_ctc;
mod fit_resume;
mod keras_callbacks;
mod keras_fit;
mod keras_optimizers;
mod keras_penalties_norm;
mod keras_schedules_clipping;
mod fit_clipping;
