//! Optimizers with Keras' update rules and defaults.
//!
//! An optimizer updates parameters in place from their gradients. It keeps one set of state buffers
//! per parameter *slot* (the parameter's position in the model's list), allocated on the slot's first
//! update and reused afterwards. One training step is [`Optimizer::step`] with every parameter and
//! its gradient, or, slot by slot, [`Optimizer::begin_step`] followed by one [`Optimizer::update`]
//! per parameter.
//!
//! Every optimizer takes a constant learning rate or a [`LearningRateSchedule`] (through
//! [`LearningRate`]), and clips gradients as Keras does ([`Clipping`]: `clipnorm`, `clipvalue`,
//! `global_clipnorm`).
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
mod clipping;
mod config;
mod rmsprop;
mod schedule;
mod schedule_config;
mod sgd;

pub use adagrad::Adagrad;
pub use adam::{Adam, AdamW};
pub use config::{from_keras_config, OptimError};
pub use clipping::Clipping;
pub(crate) use clipping::sum_of_squares;
pub use rmsprop::RmsProp;
pub use schedule::{
    CosineDecay, CosineDecayRestarts, ExponentialDecay, InverseTimeDecay, LearningRate, LearningRateSchedule,
    PiecewiseConstantDecay, PolynomialDecay, Precision,
};
pub use schedule_config::schedule_from_keras;
pub use sgd::Sgd;

use crate::tensor::Float;

/// Keras' default epsilon for the adaptive optimizers.
pub const DEFAULT_EPSILON: f64 = 1e-7;

/// A rule that moves parameters against their gradients.
pub trait Optimizer<T: Float> {
    /// Keras' name of the optimizer (`"sgd"`, `"adam"`, ...).
    fn name(&self) -> &'static str;

    /// The learning rate of the current step (with a schedule: the schedule's rate at the step
    /// count [`begin_step`](Self::begin_step) last saw; before the first step, at step 0).
    fn learning_rate(&self) -> f64;

    /// Sets the learning rate; state is kept. With a schedule the value holds only until the next
    /// [`begin_step`](Self::begin_step) asks the schedule again (Keras refuses to set a scheduled
    /// rate; check [`schedule`](Self::schedule) first, as the callbacks do).
    fn set_learning_rate(&mut self, learning_rate: f64);

    /// The schedule the optimizer was built with, if any.
    fn schedule(&self) -> Option<&dyn LearningRateSchedule> {
        None
    }

    /// How the optimizer clips gradients (Keras' `clipnorm`, `clipvalue`, `global_clipnorm`).
    fn clipping(&self) -> Clipping {
        Clipping::None
    }

    /// Steps taken so far (Keras' `iterations`).
    fn iterations(&self) -> u64;

    /// Starts a step: call once before the step's [`update`](Self::update)s. With a schedule, it
    /// first sets the learning rate to the schedule's rate at the current step count (so update
    /// `k`, from 0, uses `schedule(k)`, as Keras), then counts the step.
    fn begin_step(&mut self);

    /// The update rule itself (Keras' `update_step`, with the decoupled weight decay before it):
    /// updates the parameter in `slot` in place from a gradient that is already clipped. Panics
    /// when a slot's length changes between calls or `grad` does not match `param`.
    fn update_step(&mut self, slot: usize, param: &mut [T], grad: &[T]);

    /// Updates the parameter in `slot` in place from its gradient (same length as the parameter),
    /// clipped first by `clipnorm` or `clipvalue` when set (into a temporary copy; the caller's
    /// gradient is untouched). `global_clipnorm` needs all of a step's gradients, so with it set this
    /// panics: use [`step`](Self::step). Panics when a slot's length changes between calls or
    /// `grad` does not match `param`.
    #[track_caller]
    fn update(&mut self, slot: usize, param: &mut [T], grad: &[T]) {
        match self.clipping() {
            Clipping::None => self.update_step(slot, param, grad),
            Clipping::GlobalNorm(c) => panic!(
                "{}: global_clipnorm={c} needs every gradient of the step: call Optimizer::step, not update",
                self.name()
            ),
            clip => {
                let mut g = grad.to_vec();
                clip.clip_slot(&mut g);
                self.update_step(slot, param, &g);
            }
        }
    }

    /// One whole training step, as Keras' `apply_gradients`: [`begin_step`](Self::begin_step), the
    /// gradients clipped as configured (`global_clipnorm` over all of them together), then
    /// [`update_step`](Self::update_step) for each slot in order (`params[i]` is slot `i`). The
    /// caller's gradients are untouched; with clipping on, one scratch buffer is reused across slots.
    ///
    /// ```
    /// use tapegrad::optim::{Optimizer, Sgd};
    /// let mut opt = Sgd::<f64>::new(1.0).global_clipnorm(1.0);
    /// let (mut w, mut b) = (vec![0.0, 0.0], vec![0.0]);
    /// opt.step(&mut [&mut w, &mut b], &[&[3.0, 0.0], &[4.0]]); // global norm 5 -> scaled by 1/5
    /// assert!((w[0] + 0.6).abs() < 1e-15 && (b[0] + 0.8).abs() < 1e-15);
    /// ```
    #[track_caller]
    fn step(&mut self, params: &mut [&mut [T]], grads: &[&[T]]) {
        assert_eq!(
            params.len(),
            grads.len(),
            "{}: step got {} parameters but {} gradients",
            self.name(),
            params.len(),
            grads.len()
        );
        self.begin_step();
        let clip = self.clipping();
        if !clip.is_active() {
            for (slot, (p, g)) in params.iter_mut().zip(grads).enumerate() {
                self.update_step(slot, p, g);
            }
            return;
        }
        let scale = clip.global_scale(grads);
        let mut buf: Vec<T> = Vec::new();
        for (slot, (p, g)) in params.iter_mut().zip(grads).enumerate() {
            buf.clear();
            match scale {
                Some(s) => buf.extend(g.iter().map(|&x| x * s)),
                None => {
                    buf.extend_from_slice(g);
                    clip.clip_slot(&mut buf);
                }
            }
            self.update_step(slot, p, &buf);
        }
    }

    /// The optimizer as Keras' `get_config()` writes it: `name`, `learning_rate` (a number, or the
    /// schedule as `{"class_name", "config"}`), `weight_decay`, the three clipping keys and the
    /// optimizer's own hyperparameters, so [`from_keras_config`] rebuilds the same optimizer (for
    /// saving it in a model file). The default, for an optimizer outside this crate, has only the
    /// name and the current learning rate.
    fn keras_config(&self) -> serde_json::Map<String, serde_json::Value> {
        let mut m = serde_json::Map::new();
        m.insert("name".into(), self.name().into());
        m.insert("learning_rate".into(), self.learning_rate().into());
        m
    }

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

/// What every optimizer shares: the learning rate (the current value, and the schedule it comes
/// from if any), Keras' optional decoupled weight decay, the clipping, and the step count.
#[derive(Clone, Debug)]
pub(crate) struct Base {
    pub learning_rate: f64,
    pub schedule: Option<std::sync::Arc<dyn LearningRateSchedule>>,
    pub weight_decay: Option<f64>,
    pub clipping: Clipping,
    pub iterations: u64,
}

impl Base {
    pub fn new(learning_rate: impl Into<LearningRate>) -> Self {
        let (learning_rate, schedule) = match learning_rate.into() {
            LearningRate::Constant(lr) => (lr, None),
            LearningRate::Schedule(s) => (s.rate(0), Some(s)),
        };
        Base { learning_rate, schedule, weight_decay: None, clipping: Clipping::None, iterations: 0 }
    }

    /// The keys every optimizer's Keras config has: name, learning rate (or schedule), weight decay
    /// and clipping.
    pub fn keras_config(&self, name: &str) -> serde_json::Map<String, serde_json::Value> {
        use serde_json::{json, Value};
        let mut m = serde_json::Map::new();
        m.insert("name".into(), name.into());
        let lr = match &self.schedule {
            Some(s) => json!({"module": "keras.optimizers.schedules", "class_name": s.name(), "config": s.config(),
                              "registered_name": Value::Null}),
            None => self.learning_rate.into(),
        };
        m.insert("learning_rate".into(), lr);
        m.insert("weight_decay".into(), self.weight_decay.map_or(Value::Null, Value::from));
        let (mut norm, mut value, mut global) = (Value::Null, Value::Null, Value::Null);
        match self.clipping {
            Clipping::Norm(c) => norm = c.into(),
            Clipping::Value(v) => value = v.into(),
            Clipping::GlobalNorm(c) => global = c.into(),
            Clipping::None => {}
        }
        m.insert("clipnorm".into(), norm);
        m.insert("global_clipnorm".into(), global);
        m.insert("clipvalue".into(), value);
        m
    }

    /// Sets the clipping; panics naming both when another kind is already set.
    #[track_caller]
    pub fn set_clipping(&mut self, clipping: Clipping) {
        if self.clipping.is_active() && clipping.is_active() && std::mem::discriminant(&self.clipping) != std::mem::discriminant(&clipping) {
            panic!("only one of clipnorm, clipvalue and global_clipnorm can be set (got {:?}, then {clipping:?})", self.clipping);
        }
        self.clipping = clipping;
    }

    /// Counts a step, first taking the schedule's rate at the step count before it.
    pub fn begin_step(&mut self) {
        if let Some(s) = &self.schedule {
            self.learning_rate = s.rate(self.iterations);
        }
        self.iterations += 1;
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
            self.base.begin_step();
        }
        fn set_iterations(&mut self, iterations: u64) {
            self.base.iterations = iterations;
        }
        fn schedule(&self) -> Option<&dyn $crate::optim::LearningRateSchedule> {
            self.base.schedule.as_deref()
        }
        fn clipping(&self) -> $crate::optim::Clipping {
            self.base.clipping
        }
    };
}
pub(crate) use base_methods;

/// The clipping builders every optimizer with a `base` field shares.
macro_rules! clip_builders {
    () => {
        /// Keras' `clipnorm`: each variable's gradient scaled to an L2 norm of at most `c`. Panics
        /// (naming it) unless `c` is finite and > 0, or when `clipvalue` / `global_clipnorm` is set.
        #[track_caller]
        pub fn clipnorm(mut self, c: f64) -> Self {
            self.base.set_clipping($crate::optim::Clipping::from_keras(Some(c), None, None).unwrap_or_else(|e| panic!("{e}")));
            self
        }
        /// Keras' `clipvalue`: each gradient element clipped to `[-v, v]`. Panics (naming it)
        /// unless `v` is finite and > 0, or when `clipnorm` / `global_clipnorm` is set.
        #[track_caller]
        pub fn clipvalue(mut self, v: f64) -> Self {
            self.base.set_clipping($crate::optim::Clipping::from_keras(None, Some(v), None).unwrap_or_else(|e| panic!("{e}")));
            self
        }
        /// Keras' `global_clipnorm`: all of a step's gradients scaled together to an L2 norm of at
        /// most `c` (acts through [`Optimizer::step`]). Panics (naming it) unless `c` is finite and
        /// > 0, or when `clipnorm` / `clipvalue` is set.
        #[track_caller]
        pub fn global_clipnorm(mut self, c: f64) -> Self {
            self.base.set_clipping($crate::optim::Clipping::from_keras(None, None, Some(c)).unwrap_or_else(|e| panic!("{e}")));
            self
        }
        /// Sets the [`Clipping`](crate::optim::Clipping) directly (replacing any set before).
        pub fn with_clipping(mut self, clipping: $crate::optim::Clipping) -> Self {
            self.base.clipping = clipping;
            self
        }
    };
}
pub(crate) use clip_builders;

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
