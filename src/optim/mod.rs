//! Optimizers with Keras' update rules and defaults.
//!
//! An optimizer updates parameters in place from their gradients. It keeps one set of state buffers
//! per parameter *slot* (the parameter's position in the model's list), allocated on the slot's first
//! update and reused afterwards. One training step is [`Optimizer::begin_step`] followed by one
//! [`Optimizer::update`] per parameter.
//!
//! ```
//! use tapegrad::optim::{Optimizer, Sgd};
//! let mut opt = Sgd::new(0.1).momentum(0.9);
//! let mut w = vec![1.0f64, 2.0];
//! opt.begin_step();
//! opt.update(0, &mut w, &[1.0, -1.0]);
//! assert_eq!(w, vec![0.9, 2.1]);
//! ```

mod adagrad;
mod adam;
mod config;
mod rmsprop;
mod sgd;

pub use adagrad::Adagrad;
pub use adam::{Adam, AdamW};
pub use config::{from_keras_config, OptimError};
pub use rmsprop::RmsProp;
pub use sgd::Sgd;

use crate::tensor::Float;

/// Keras' default epsilon for the adaptive optimizers.
pub const DEFAULT_EPSILON: f64 = 1e-7;

/// A rule that moves parameters against their gradients.
pub trait Optimizer<T: Float> {
    /// Keras' name of the optimizer (`"sgd"`, `"adam"`, ...).
    fn name(&self) -> &'static str;

    /// The current learning rate.
    fn learning_rate(&self) -> f64;

    /// Changes the learning rate (for schedules); state is kept.
    fn set_learning_rate(&mut self, learning_rate: f64);

    /// Steps taken so far (Keras' `iterations`).
    fn iterations(&self) -> u64;

    /// Starts a step: call once before the step's [`update`](Self::update)s.
    fn begin_step(&mut self);

    /// Updates the parameter in `slot` in place from its gradient (same length as the parameter).
    /// Panics when a slot's length changes between calls or `grad` does not match `param`.
    fn update(&mut self, slot: usize, param: &mut [T], grad: &[T]);

    /// Forgets every state buffer and the step count.
    fn reset(&mut self);

    /// The state buffers by name (e.g. Adam's `"m"` and `"v"`), each a list indexed by parameter
    /// slot; an empty entry is a slot not updated yet. Checkpoints save these. The default (for an
    /// optimizer without state) is none.
    fn state_buffers(&self) -> Vec<(&'static str, &[Vec<T>])> {
        Vec::new()
    }

    /// The same buffers as [`state_buffers`](Self::state_buffers), mutable, in the same order, to
    /// restore them from a checkpoint.
    fn state_buffers_mut(&mut self) -> Vec<(&'static str, &mut Vec<Vec<T>>)> {
        Vec::new()
    }

    /// Sets the step count (Keras' `iterations`), to resume from a checkpoint. The default ignores it.
    fn set_iterations(&mut self, iterations: u64) {
        let _ = iterations;
    }
}

/// What every optimizer shares: the learning rate, Keras' optional decoupled weight decay, and the
/// step count.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Base {
    pub learning_rate: f64,
    pub weight_decay: Option<f64>,
    pub iterations: u64,
}

impl Base {
    pub fn new(learning_rate: f64) -> Self {
        Base { learning_rate, weight_decay: None, iterations: 0 }
    }

    /// Keras' decoupled weight decay, applied before the update: `w -= w * weight_decay * lr`.
    #[inline]
    pub fn decay<T: Float>(&self, param: &mut [T]) {
        if let Some(wd) = self.weight_decay.filter(|&wd| wd != 0.0) {
            let wd = keras_cast::<T>(wd);
            let lr = T::from_f64(self.learning_rate);
            for w in param.iter_mut() {
                *w -= *w * wd * lr;
            }
        }
    }
}

/// The [`Optimizer`] methods that only read or advance [`Base`] (for a struct with a `base` field).
macro_rules! base_methods {
    () => {
        fn learning_rate(&self) -> f64 {
            self.base.learning_rate
        }
        fn set_learning_rate(&mut self, learning_rate: f64) {
            self.base.learning_rate = learning_rate;
        }
        fn iterations(&self) -> u64 {
            self.base.iterations
        }
        fn begin_step(&mut self) {
            self.base.iterations += 1;
        }
        fn set_iterations(&mut self, iterations: u64) {
            self.base.iterations = iterations;
        }
    };
}
pub(crate) use base_methods;

/// A hyperparameter as Keras' TensorFlow backend sees it where the update rule passes a Python
/// float through `ops.cast`: the float first becomes a float32 tensor, then the variable's dtype.
/// So in f64 such constants (SGD's momentum, Adam's betas in `beta^t`, the weight decay, Adagrad's
/// initial accumulator) carry float32 rounding; reproducing it is what makes the weights agree
/// with Keras to the last bits.
#[inline]
pub(crate) fn keras_cast<T: Float>(value: f64) -> T {
    T::from_f64(value as f32 as f64)
}

/// Per-slot state buffers, each allocated once at the slot's first update.
#[derive(Clone, Debug, Default)]
pub(crate) struct SlotState<T> {
    slots: Vec<Vec<T>>,
}

impl<T: Float> SlotState<T> {
    /// The buffer of `slot` with `len` elements, created filled with `init` on first use.
    #[track_caller]
    pub fn get(&mut self, slot: usize, len: usize, init: T) -> &mut [T] {
        if self.slots.len() <= slot {
            self.slots.resize_with(slot + 1, Vec::new);
        }
        let buf = &mut self.slots[slot];
        if buf.is_empty() {
            buf.resize(len, init);
        }
        assert_eq!(buf.len(), len, "optimizer: parameter slot {slot} changed length from {} to {len}", buf.len());
        buf
    }

    /// Drops every buffer.
    pub fn clear(&mut self) {
        self.slots.clear();
    }

    /// Every slot's buffer (empty when not allocated yet).
    pub fn slots(&self) -> &[Vec<T>] {
        &self.slots
    }

    /// Every slot's buffer, mutable (for restoring a checkpoint).
    pub fn slots_mut(&mut self) -> &mut Vec<Vec<T>> {
        &mut self.slots
    }
}

#[track_caller]
#[inline]
pub(crate) fn check_lengths<T>(name: &str, slot: usize, param: &[T], grad: &[T]) {
    assert_eq!(
        param.len(),
        grad.len(),
        "{name}: parameter slot {slot} has {} elements but its gradient has {}",
        param.len(),
        grad.len()
    );
}
