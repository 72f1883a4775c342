//! Adam (with the AMSGrad variant) and AdamW.

use super::{base_methods, clip_builders, LearningRate, check_lengths, Base, keras_cast, Optimizer, SlotState, DEFAULT_EPSILON};
use crate::tensor::Float;

/// Keras' `Adam`. At step t: `m += (g - m)(1 - beta_1)`, `v += (g^2 - v)(1 - beta_2)`,
/// `alpha = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t)`, `w -= alpha * m / (sqrt(v) + epsilon)`.
/// With `amsgrad`, `v` in the last formula is the running maximum of `v`.
///
/// ```
/// use tapegrad::optim::{Adam, Optimizer};
/// let mut opt = Adam::<f64>::default(); // learning rate 0.001
/// let mut w = vec![1.0];
/// opt.begin_step();
/// opt.update(0, &mut w, &[0.5]);
/// // The first Adam step moves each weight by about the learning rate.
/// assert!((w[0] - 0.999).abs() < 1e-7);
/// ```
#[derive(Clone, Debug)]
pub struct Adam<T> {
    base: Base,
    beta_1: f64,
    beta_2: f64,
    epsilon: f64,
    amsgrad: bool,
    pub(crate) name: &'static str,
    m: SlotState<T>,
    v: SlotState<T>,
    v_hat: SlotState<T>,
}

impl<T: Float> Default for Adam<T> {
    /// Keras' defaults: learning rate 0.001, betas 0.9 and 0.999, epsilon 1e-7.
    fn default() -> Self {
        Adam::new(0.001)
    }
}

impl<T: Float> Adam<T> {
    /// Adam with the given learning rate and Keras' other defaults.
    pub fn new(learning_rate: impl Into<LearningRate>) -> Self {
        Adam {
            base: Base::new(learning_rate),
            beta_1: 0.9,
            beta_2: 0.999,
            epsilon: DEFAULT_EPSILON,
            amsgrad: false,
            name: "adam",
            m: SlotState::default(),
            v: SlotState::default(),
            v_hat: SlotState::default(),
        }
    }
    /// Decay rate of the first-moment average.
    pub fn beta_1(mut self, beta_1: f64) -> Self {
        self.beta_1 = beta_1;
        self
    }
    /// Decay rate of the second-moment average.
    pub fn beta_2(mut self, beta_2: f64) -> Self {
        self.beta_2 = beta_2;
        self
    }
    /// The term added to the denominator.
    pub fn epsilon(mut self, epsilon: f64) -> Self {
        self.epsilon = epsilon;
        self
    }
    /// Uses the running maximum of the second moment (AMSGrad).
    pub fn amsgrad(mut self, amsgrad: bool) -> Self {
        self.amsgrad = amsgrad;
        self
    }
    /// Decoupled weight decay (`w -= w * weight_decay * lr` before each update).
    pub fn weight_decay(mut self, weight_decay: Option<f64>) -> Self {
        self.base.weight_decay = weight_decay;
        self
    }
    clip_builders!();
}

impl<T: Float> Optimizer<T> for Adam<T> {
    fn name(&self) -> &'static str {
        self.name
    }
    base_methods!();
    fn update_step(&mut self, slot: usize, param: &mut [T], grad: &[T]) {
        check_lengths("Adam", slot, param, grad);
        self.base.decay(param);
        let t = self.base.iterations.max(1) as f64;
        let one = T::ONE;
        let b1_power = keras_cast::<T>(self.beta_1).powf(T::from_f64(t));
        let b2_power = keras_cast::<T>(self.beta_2).powf(T::from_f64(t));
        // The moment updates use `1 - beta` computed in double precision, as Keras does.
        let one_minus_b1 = T::from_f64(1.0 - self.beta_1);
        let one_minus_b2 = T::from_f64(1.0 - self.beta_2);
        let alpha = T::from_f64(self.base.learning_rate) * (one - b2_power).sqrt() / (one - b1_power);
        let eps = T::from_f64(self.epsilon);
        let n = param.len();
        let m = self.m.get(slot, n, T::ZERO);
        let v = self.v.get(slot, n, T::ZERO);
        let mut v_hat = if self.amsgrad { Some(self.v_hat.get(slot, n, T::ZERO)) } else { None };
        for i in 0..n {
            let g = grad[i];
            m[i] = m[i] + (g - m[i]) * one_minus_b1;
            v[i] = v[i] + (g * g - v[i]) * one_minus_b2;
            let denom_v = match v_hat.as_deref_mut() {
                Some(vh) => {
                    vh[i] = vh[i].max(v[i]);
                    vh[i]
                }
                None => v[i],
            };
            param[i] -= (m[i] * alpha) / (denom_v.sqrt() + eps);
        }
    }
    fn keras_config(&self) -> serde_json::Map<String, serde_json::Value> {
        let mut m = self.base.keras_config(if self.name == "adamw" { "adamw" } else { "adam" });
        m.insert("beta_1".into(), self.beta_1.into());
        m.insert("beta_2".into(), self.beta_2.into());
        m.insert("epsilon".into(), self.epsilon.into());
        m.insert("amsgrad".into(), self.amsgrad.into());
        m
    }
    fn reset(&mut self) {
        self.base.iterations = 0;
        self.m.clear();
        self.v.clear();
        self.v_hat.clear();
    }
    fn state_buffers(&self) -> Vec<(&'static str, &[Vec<T>])> {
        vec![("m", self.m.slots()), ("v", self.v.slots()), ("v_hat", self.v_hat.slots())]
    }
    fn state_buffers_mut(&mut self) -> Vec<(&'static str, &mut Vec<Vec<T>>)> {
        vec![("m", self.m.slots_mut()), ("v", self.v.slots_mut()), ("v_hat", self.v_hat.slots_mut())]
    }
}

/// Keras' `AdamW`: Adam with decoupled weight decay on by default (0.004).
///
/// ```
/// use tapegrad::optim::{AdamW, Optimizer};
/// let mut opt = AdamW::<f64>::new(0.001);
/// let mut w = vec![1.0];
/// opt.begin_step();
/// opt.update(0, &mut w, &[0.0]); // no gradient: only the decay acts
/// assert!((w[0] - (1.0 - 0.004 * 0.001)).abs() < 1e-12);
/// ```
#[derive(Clone, Debug)]
pub struct AdamW<T>(pub(crate) Adam<T>);

impl<T: Float> Default for AdamW<T> {
    /// Keras' defaults: learning rate 0.001, weight decay 0.004.
    fn default() -> Self {
        AdamW::new(0.001)
    }
}

impl<T: Float> AdamW<T> {
    /// AdamW with the given learning rate, weight decay 0.004 and Adam's other defaults.
    pub fn new(learning_rate: impl Into<LearningRate>) -> Self {
        let mut inner = Adam::new(learning_rate).weight_decay(Some(0.004));
        inner.name = "adamw";
        AdamW(inner)
    }
    /// The decay factor per unit of learning rate.
    pub fn weight_decay(self, weight_decay: f64) -> Self {
        AdamW(self.0.weight_decay(Some(weight_decay)))
    }
    /// Decay rate of the first-moment average.
    pub fn beta_1(self, beta_1: f64) -> Self {
        AdamW(self.0.beta_1(beta_1))
    }
    /// Decay rate of the second-moment average.
    pub fn beta_2(self, beta_2: f64) -> Self {
        AdamW(self.0.beta_2(beta_2))
    }
    /// The term added to the denominator.
    pub fn epsilon(self, epsilon: f64) -> Self {
        AdamW(self.0.epsilon(epsilon))
    }
    /// Uses the running maximum of the second moment (AMSGrad).
    pub fn amsgrad(self, amsgrad: bool) -> Self {
        AdamW(self.0.amsgrad(amsgrad))
    }
    /// Keras' `clipnorm` (see [`Adam::clipnorm`]).
    #[track_caller]
    pub fn clipnorm(self, c: f64) -> Self {
        AdamW(self.0.clipnorm(c))
    }
    /// Keras' `clipvalue` (see [`Adam::clipvalue`]).
    #[track_caller]
    pub fn clipvalue(self, v: f64) -> Self {
        AdamW(self.0.clipvalue(v))
    }
    /// Keras' `global_clipnorm` (see [`Adam::global_clipnorm`]).
    #[track_caller]
    pub fn global_clipnorm(self, c: f64) -> Self {
        AdamW(self.0.global_clipnorm(c))
    }
    /// Sets the clipping directly (see [`Adam::with_clipping`]).
    pub fn with_clipping(self, clipping: super::Clipping) -> Self {
        AdamW(self.0.with_clipping(clipping))
    }
}

impl<T: Float> Optimizer<T> for AdamW<T> {
    fn name(&self) -> &'static str {
        self.0.name
    }
    fn learning_rate(&self) -> f64 {
        self.0.base.learning_rate
    }
    fn set_learning_rate(&mut self, learning_rate: f64) {
        self.0.base.learning_rate = learning_rate;
    }
    fn iterations(&self) -> u64 {
        self.0.base.iterations
    }
    fn begin_step(&mut self) {
        self.0.base.begin_step();
    }
    fn schedule(&self) -> Option<&dyn super::LearningRateSchedule> {
        self.0.base.schedule.as_deref()
    }
    fn clipping(&self) -> super::Clipping {
        self.0.base.clipping
    }
    fn update_step(&mut self, slot: usize, param: &mut [T], grad: &[T]) {
        self.0.update_step(slot, param, grad);
    }
    fn keras_config(&self) -> serde_json::Map<String, serde_json::Value> {
        self.0.keras_config()
    }
    fn reset(&mut self) {
        self.0.reset();
    }
    fn state_buffers(&self) -> Vec<(&'static str, &[Vec<T>])> {
        self.0.state_buffers()
    }
    fn state_buffers_mut(&mut self) -> Vec<(&'static str, &mut Vec<Vec<T>>)> {
        self.0.state_buffers_mut()
    }
    fn set_iterations(&mut self, iterations: u64) {
        self.0.base.iterations = iterations;
    }
}
