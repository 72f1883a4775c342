//! Stochastic gradient descent with optional (Nesterov) momentum.

use super::{base_methods, clip_builders, LearningRate, check_lengths, Base, keras_cast, Optimizer, SlotState};
use crate::tensor::parallel::split_in_two;
use crate::tensor::Float;

/// Slots of at least this many weights take plain SGD's step on two threads.
const SPLIT_AT: usize = 1 << 16;

/// `w -= lr * g`.
fn step<T: Float>(param: &mut [T], grad: &[T], lr: T) {
    for (w, &g) in param.iter_mut().zip(grad) {
        *w -= g * lr;
    }
}

/// Keras' `SGD`: with `momentum` m, a velocity `v = m * v - lr * g` and `w += v`
/// (Nesterov: `w += m * v - lr * g`); without momentum, `w -= lr * g`.
///
/// ```
/// use tapegrad::optim::{Optimizer, Sgd};
/// let mut opt = Sgd::default(); // learning rate 0.01, no momentum
/// let mut w = vec![1.0f64];
/// opt.begin_step();
/// opt.update(0, &mut w, &[2.0]);
/// assert!((w[0] - 0.98).abs() < 1e-15);
/// ```
#[derive(Clone, Debug)]
pub struct Sgd<T> {
    base: Base,
    momentum: f64,
    nesterov: bool,
    velocity: SlotState<T>,
}

impl<T: Float> Default for Sgd<T> {
    /// Keras' defaults: learning rate 0.01, no momentum.
    fn default() -> Self {
        Sgd::new(0.01)
    }
}

impl<T: Float> Sgd<T> {
    /// Plain SGD with the given learning rate.
    pub fn new(learning_rate: impl Into<LearningRate>) -> Self {
        Sgd {
            base: Base::new(learning_rate),
            momentum: 0.0,
            nesterov: false,
            velocity: SlotState::default(),
        }
    }

    /// Sets the momentum (0 turns it off).
    pub fn momentum(mut self, momentum: f64) -> Self {
        self.momentum = momentum;
        self
    }

    /// Uses Nesterov momentum.
    pub fn nesterov(mut self, nesterov: bool) -> Self {
        self.nesterov = nesterov;
        self
    }

    /// Decoupled weight decay (`w -= w * weight_decay * lr` before each update).
    pub fn weight_decay(mut self, weight_decay: Option<f64>) -> Self {
        self.base.weight_decay = weight_decay;
        self
    }
    clip_builders!();
}

impl<T: Float> Optimizer<T> for Sgd<T> {
    fn name(&self) -> &'static str {
        "sgd"
    }
    base_methods!();
    fn update_step(&mut self, slot: usize, param: &mut [T], grad: &[T]) {
        check_lengths("SGD", slot, param, grad);
        self.base.decay(param);
        let lr = T::from_f64(self.base.learning_rate);
        if self.momentum == 0.0 {
            // Memory-bound: two threads move the large slots faster than one (the products
            // already use both cores, so none is left idle by this). Same arithmetic per weight.
            split_in_two(param, SPLIT_AT, |s, part| step(part, &grad[s..s + part.len()], lr));
            return;
        }
        let m = keras_cast::<T>(self.momentum);
        let v = self.velocity.get(slot, param.len(), T::ZERO);
        for ((w, v), &g) in param.iter_mut().zip(v.iter_mut()).zip(grad) {
            *v = *v * m - g * lr;
            if self.nesterov {
                *w += *v * m - g * lr;
            } else {
                *w += *v;
            }
        }
    }
    fn keras_config(&self) -> serde_json::Map<String, serde_json::Value> {
        let mut m = self.base.keras_config("SGD");
        m.insert("momentum".into(), self.momentum.into());
        m.insert("nesterov".into(), self.nesterov.into());
        m
    }
    fn reset(&mut self) {
        self.base.iterations = 0;
        self.velocity.clear();
    }
    fn state_buffers(&self) -> Vec<(&'static str, &[Vec<T>])> {
        vec![("momentum", self.velocity.slots())]
    }
    fn state_buffers_mut(&mut self) -> Vec<(&'static str, &mut Vec<Vec<T>>)> {
        vec![("momentum", self.velocity.slots_mut())]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The two-thread step of large slots gives exactly the one-thread step's weights, with and
    /// without decay (momentum takes the one-thread path).
    #[test]
    fn split_update_equals_the_plain_step() {
        for len in [7, SPLIT_AT + 3] {
            let grad: Vec<f32> = (0..len).map(|i| ((i * 37 % 101) as f32 - 50.0) * 0.01).collect();
            let start: Vec<f32> = (0..len).map(|i| ((i * 13 % 29) as f32 - 14.0) * 0.1).collect();
            for decay in [None, Some(0.01)] {
                let mut opt = Sgd::<f32>::new(0.05).weight_decay(decay);
                let mut w = start.clone();
                let mut want = start.clone();
                for _ in 0..3 {
                    opt.begin_step();
                    opt.update(0, &mut w, &grad);
                    opt.base.decay(&mut want);
                    step(&mut want, &grad, 0.05);
                    assert_eq!(w, want, "len {len}, decay {decay:?}");
                }
                assert_ne!(w, start);
            }
        }
    }
}
