//! RMSprop, plain, with momentum, or centered.

use super::{base_methods, clip_builders, LearningRate, check_lengths, Base, Optimizer, SlotState, DEFAULT_EPSILON};
use crate::tensor::Float;

/// Keras' `RMSprop`: `s = rho * s + (1 - rho) g^2`, step `lr * g / sqrt(s + epsilon)`;
/// centered, the denominator is `sqrt(s - a^2 + epsilon)` with `a` the running mean of `g`;
/// with momentum the steps go through a velocity `mom = momentum * mom + step`.
///
/// ```
/// use tapegrad::optim::{Optimizer, RmsProp};
/// let mut opt = RmsProp::<f64>::default(); // learning rate 0.001, rho 0.9
/// let mut w = vec![0.0];
/// opt.begin_step();
/// opt.update(0, &mut w, &[1.0]);
/// assert!((w[0] + 0.001 / (0.1f64 + 1e-7).sqrt()).abs() < 1e-15);
/// ```
#[derive(Clone, Debug)]
pub struct RmsProp<T> {
    base: Base,
    rho: f64,
    momentum: f64,
    epsilon: f64,
    centered: bool,
    velocity: SlotState<T>,
    average_grad: SlotState<T>,
    momentum_buf: SlotState<T>,
}

impl<T: Float> Default for RmsProp<T> {
    /// Keras' defaults: learning rate 0.001, rho 0.9, no momentum, epsilon 1e-7, not centered.
    fn default() -> Self {
        RmsProp::new(0.001)
    }
}

impl<T: Float> RmsProp<T> {
    /// RMSprop with the given learning rate and Keras' other defaults.
    pub fn new(learning_rate: impl Into<LearningRate>) -> Self {
        RmsProp {
            base: Base::new(learning_rate),
            rho: 0.9,
            momentum: 0.0,
            epsilon: DEFAULT_EPSILON,
            centered: false,
            velocity: SlotState::default(),
            average_grad: SlotState::default(),
            momentum_buf: SlotState::default(),
        }
    }
    /// Decay rate of the squared-gradient average.
    pub fn rho(mut self, rho: f64) -> Self {
        self.rho = rho;
        self
    }
    /// Momentum of the steps (0 turns it off).
    pub fn momentum(mut self, momentum: f64) -> Self {
        self.momentum = momentum;
        self
    }
    /// The term added under the square root.
    pub fn epsilon(mut self, epsilon: f64) -> Self {
        self.epsilon = epsilon;
        self
    }
    /// Normalizes by the estimated variance instead of the second moment.
    pub fn centered(mut self, centered: bool) -> Self {
        self.centered = centered;
        self
    }
    /// Decoupled weight decay (`w -= w * weight_decay * lr` before each update).
    pub fn weight_decay(mut self, weight_decay: Option<f64>) -> Self {
        self.base.weight_decay = weight_decay;
        self
    }
    clip_builders!();
}

impl<T: Float> Optimizer<T> for RmsProp<T> {
    fn name(&self) -> &'static str {
        "rmsprop"
    }
    base_methods!();
    fn update_step(&mut self, slot: usize, param: &mut [T], grad: &[T]) {
        check_lengths("RMSprop", slot, param, grad);
        self.base.decay(param);
        let lr = T::from_f64(self.base.learning_rate);
        let rho = T::from_f64(self.rho);
        let one_minus_rho = T::from_f64(1.0 - self.rho);
        let eps = T::from_f64(self.epsilon);
        let mom = T::from_f64(self.momentum);
        let n = param.len();
        let s = self.velocity.get(slot, n, T::ZERO);
        let mut avg = if self.centered { Some(self.average_grad.get(slot, n, T::ZERO)) } else { None };
        let mut mbuf = if self.momentum > 0.0 { Some(self.momentum_buf.get(slot, n, T::ZERO)) } else { None };
        for i in 0..n {
            let g = grad[i];
            s[i] = rho * s[i] + one_minus_rho * (g * g);
            let denominator = match avg.as_deref_mut() {
                Some(a) => {
                    a[i] = rho * a[i] + one_minus_rho * g;
                    s[i] - a[i] * a[i] + eps
                }
                None => s[i] + eps,
            };
            let increment = lr * g / denominator.sqrt();
            match mbuf.as_deref_mut() {
                Some(mb) => {
                    mb[i] = mom * mb[i] + increment;
                    param[i] -= mb[i];
                }
                None => param[i] -= increment,
            }
        }
    }
    fn keras_config(&self) -> serde_json::Map<String, serde_json::Value> {
        let mut m = self.base.keras_config("rmsprop");
        m.insert("rho".into(), self.rho.into());
        m.insert("momentum".into(), self.momentum.into());
        m.insert("epsilon".into(), self.epsilon.into());
        m.insert("centered".into(), self.centered.into());
        m
    }
    fn reset(&mut self) {
        self.base.iterations = 0;
        self.velocity.clear();
        self.average_grad.clear();
        self.momentum_buf.clear();
    }
    fn state_buffers(&self) -> Vec<(&'static str, &[Vec<T>])> {
        vec![("velocity", self.velocity.slots()), ("average_gradient", self.average_grad.slots()), ("momentum", self.momentum_buf.slots())]
    }
    fn state_buffers_mut(&mut self) -> Vec<(&'static str, &mut Vec<Vec<T>>)> {
        vec![("velocity", self.velocity.slots_mut()), ("average_gradient", self.average_grad.slots_mut()), ("momentum", self.momentum_buf.slots_mut())]
    }
}
