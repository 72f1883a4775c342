//! Adagrad: per-coordinate steps shrinking with the sum of squared gradients.

use super::{base_methods, clip_builders, LearningRate, check_lengths, Base, keras_cast, Optimizer, SlotState, DEFAULT_EPSILON};
use crate::tensor::Float;

/// Keras' `Adagrad`: `acc += g^2`, `w -= lr * g / sqrt(acc + epsilon)`, with `acc` starting at
/// `initial_accumulator_value` (0.1).
///
/// ```
/// use tapegrad::optim::{Adagrad, Optimizer};
/// let mut opt = Adagrad::<f64>::default();
/// let mut w = vec![0.0];
/// opt.begin_step();
/// opt.update(0, &mut w, &[1.0]);
/// assert!((w[0] + 0.001 / (1.1f64 + 1e-7).sqrt()).abs() < 1e-9);
/// ```
#[derive(Clone, Debug)]
pub struct Adagrad<T> {
    base: Base,
    initial_accumulator_value: f64,
    epsilon: f64,
    accumulator: SlotState<T>,
}

impl<T: Float> Default for Adagrad<T> {
    /// Keras' defaults: learning rate 0.001, initial accumulator 0.1, epsilon 1e-7.
    fn default() -> Self {
        Adagrad::new(0.001)
    }
}

impl<T: Float> Adagrad<T> {
    /// Adagrad with the given learning rate and Keras' other defaults.
    pub fn new(learning_rate: impl Into<LearningRate>) -> Self {
        Adagrad {
            base: Base::new(learning_rate),
            initial_accumulator_value: 0.1,
            epsilon: DEFAULT_EPSILON,
            accumulator: SlotState::default(),
        }
    }
    /// The accumulator's starting value.
    pub fn initial_accumulator_value(mut self, value: f64) -> Self {
        self.initial_accumulator_value = value;
        self
    }
    /// The term added under the square root.
    pub fn epsilon(mut self, epsilon: f64) -> Self {
        self.epsilon = epsilon;
        self
    }
    /// Decoupled weight decay (`w -= w * weight_decay * lr` before each update).
    pub fn weight_decay(mut self, weight_decay: Option<f64>) -> Self {
        self.base.weight_decay = weight_decay;
        self
    }
    clip_builders!();
}

impl<T: Float> Optimizer<T> for Adagrad<T> {
    fn name(&self) -> &'static str {
        "adagrad"
    }
    base_methods!();
    fn update_step(&mut self, slot: usize, param: &mut [T], grad: &[T]) {
        check_lengths("Adagrad", slot, param, grad);
        self.base.decay(param);
        let lr = T::from_f64(self.base.learning_rate);
        let eps = T::from_f64(self.epsilon);
        let acc = self.accumulator.get(slot, param.len(), keras_cast::<T>(self.initial_accumulator_value));
        for ((w, a), &g) in param.iter_mut().zip(acc.iter_mut()).zip(grad) {
            *a += g * g;
            *w -= lr * g / (*a + eps).sqrt();
        }
    }
    fn keras_config(&self) -> serde_json::Map<String, serde_json::Value> {
        let mut m = self.base.keras_config("adagrad");
        m.insert("initial_accumulator_value".into(), self.initial_accumulator_value.into());
        m.insert("epsilon".into(), self.epsilon.into());
        m
    }
    fn reset(&mut self) {
        self.base.iterations = 0;
        self.accumulator.clear();
    }
    fn state_buffers(&self) -> Vec<(&'static str, &[Vec<T>])> {
        vec![("accumulator", self.accumulator.slots())]
    }
    fn state_buffers_mut(&mut self) -> Vec<(&'static str, &mut Vec<Vec<T>>)> {
        vec![("accumulator", self.accumulator.slots_mut())]
    }
}
