//! Learning-rate schedules, as Keras' `keras.optimizers.schedules`.
//!
//! A schedule maps the optimizer's step count (Keras' `iterations`, from 0) to a learning rate.
//! Update `k` (counting from 0) uses `schedule(k)`: an optimizer built with a schedule asks it for
//! the rate at its `iterations` in [`Optimizer::begin_step`](super::Optimizer::begin_step), before
//! the step's updates.
//!
//! **Precision.** Keras builds a schedule from Python floats, and `ops.convert_to_tensor` makes
//! those float32 tensors, so Keras computes every schedule in float32 even when the model is
//! float64. tapegrad does the same by default ([`Precision::Float32`], matching Keras' numbers to
//! the last bit); [`Precision::Float64`] computes the same formulas in double precision (what Keras
//! gives when the arguments are float64 scalars).
//!
//! ```
//! use tapegrad::optim::{ExponentialDecay, LearningRateSchedule, Optimizer, Sgd};
//! let schedule = ExponentialDecay::new(0.1, 10, 0.5).unwrap().staircase(true);
//! assert_eq!(schedule.rate_f64(9), 0.1);
//! assert_eq!(schedule.rate_f64(10), 0.05);
//! let mut opt = Sgd::<f64>::new(schedule);
//! let mut w = vec![1.0];
//! opt.begin_step(); // step 0 uses schedule(0)
//! opt.update(0, &mut w, &[1.0]);
//! assert_eq!(opt.learning_rate(), 0.1f32 as f64); // float32, as Keras
//! ```

use super::OptimError;
use std::fmt::Debug;
use std::sync::Arc;

/// The arithmetic a schedule needs, in `f32` or `f64`.
trait Real: Copy + PartialOrd + std::ops::Add<Output = Self> + std::ops::Sub<Output = Self>
    + std::ops::Mul<Output = Self> + std::ops::Div<Output = Self>
{
    fn of(v: f64) -> Self;
    fn get(self) -> f64;
    fn cos(self) -> Self;
    fn ln(self) -> Self;
    fn powf(self, p: Self) -> Self;
    fn floor(self) -> Self;
    fn ceil(self) -> Self;
    fn min(self, o: Self) -> Self;
}

macro_rules! real {
    ($t:ty) => {
        impl Real for $t {
            fn of(v: f64) -> Self {
                v as $t
            }
            fn get(self) -> f64 {
                self as f64
            }
            fn cos(self) -> Self {
                <$t>::cos(self)
            }
            fn ln(self) -> Self {
                <$t>::ln(self)
            }
            fn powf(self, p: Self) -> Self {
                <$t>::powf(self, p)
            }
            fn floor(self) -> Self {
                <$t>::floor(self)
            }
            fn ceil(self) -> Self {
                <$t>::ceil(self)
            }
            fn min(self, o: Self) -> Self {
                <$t>::min(self, o)
            }
        }
    };
}
real!(f32);
real!(f64);

/// The precision a schedule computes in. Keras builds a schedule from Python floats, and
/// `ops.convert_to_tensor` makes those float32 tensors, so Keras computes every schedule in float32
/// even when the model is float64; `Float32` (the default) does the same, matching Keras' rates to
/// the last bit. `Float64` computes the same formulas in double precision (what Keras gives when
/// the arguments are float64 scalars).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Precision {
    /// As Keras with Python-float arguments: every operation in `f32` (the default).
    #[default]
    Float32,
    /// The same formulas in `f64`.
    Float64,
}

/// A learning rate as a function of the optimizer's step count.
pub trait LearningRateSchedule: Debug + Send + Sync {
    /// Keras' class name (`"ExponentialDecay"`, ...).
    fn name(&self) -> &'static str;
    /// The rate at `step`, computed in `f64`.
    fn rate_f64(&self, step: u64) -> f64;
    /// The rate at `step`, computed in `f32` as Keras does with Python floats.
    fn rate_f32(&self, step: u64) -> f32;
    /// The precision [`rate`](Self::rate) uses.
    fn precision(&self) -> Precision;
    /// The constructor arguments as Keras names them (its `get_config()`), for saving; plus
    /// `"precision": "float64"` for [`Precision::Float64`] (Keras' float32 is the default).
    fn config(&self) -> serde_json::Value;
    /// The rate at `step` in the schedule's [`precision`](Self::precision), as an `f64`.
    fn rate(&self, step: u64) -> f64 {
        match self.precision() {
            Precision::Float32 => self.rate_f32(step) as f64,
            Precision::Float64 => self.rate_f64(step),
        }
    }
}

/// What an optimizer is given as its learning rate: a constant or a schedule. Every optimizer's
/// `new` takes `impl Into<LearningRate>`: an `f64` or any schedule type.
///
/// ```
/// use tapegrad::optim::{CosineDecay, LearningRate};
/// let constant: LearningRate = 0.01.into();
/// assert_eq!(constant.at(1000), 0.01);
/// let cosine: LearningRate = CosineDecay::new(0.1, 100).unwrap().into();
/// assert!(cosine.at(100) < 1e-9);
/// ```
#[derive(Clone, Debug)]
pub enum LearningRate {
    /// The same rate at every step.
    Constant(f64),
    /// A rate that depends on the step count.
    Schedule(Arc<dyn LearningRateSchedule>),
}

impl LearningRate {
    /// The rate at `step`.
    pub fn at(&self, step: u64) -> f64 {
        match self {
            LearningRate::Constant(lr) => *lr,
            LearningRate::Schedule(s) => s.rate(step),
        }
    }
}

impl From<f64> for LearningRate {
    fn from(lr: f64) -> Self {
        LearningRate::Constant(lr)
    }
}

impl From<Arc<dyn LearningRateSchedule>> for LearningRate {
    fn from(s: Arc<dyn LearningRateSchedule>) -> Self {
        LearningRate::Schedule(s)
    }
}

fn bad(schedule: &str, arg: &str, value: impl Debug, what: &str) -> OptimError {
    OptimError(format!("{schedule}: argument '{arg}' {what} (got {value:?})"))
}

fn check_rate(schedule: &str, arg: &str, v: f64) -> Result<(), OptimError> {
    if v.is_finite() && v >= 0.0 {
        Ok(())
    } else {
        Err(bad(schedule, arg, v, "must be a finite number >= 0"))
    }
}

fn check_steps(schedule: &str, arg: &str, v: u64) -> Result<(), OptimError> {
    if v > 0 {
        Ok(())
    } else {
        Err(bad(schedule, arg, v, "must be at least 1"))
    }
}

/// Implements [`LearningRateSchedule`], `From<Self> for LearningRate` and the precision setter for
/// a schedule struct with a generic `compute::<R: Real>(&self, step)`.
macro_rules! schedule_impl {
    ($t:ident, $name:literal, |$s:ident| $config:expr) => {
        impl $t {
            /// Computes in `precision` ([`Precision::Float32`] by default, as Keras).
            pub fn precision(mut self, precision: Precision) -> Self {
                self.precision = precision;
                self
            }
        }
        impl LearningRateSchedule for $t {
            fn name(&self) -> &'static str {
                $name
            }
            fn rate_f64(&self, step: u64) -> f64 {
                self.compute::<f64>(step)
            }
            fn rate_f32(&self, step: u64) -> f32 {
                self.compute::<f32>(step) as f32
            }
            fn precision(&self) -> Precision {
                self.precision
            }
            fn config(&self) -> serde_json::Value {
                let $s = self;
                let mut config: serde_json::Value = $config;
                // Not a Keras key: written only for the non-Keras precision, so a saved
                // schedule comes back computing as it did.
                if self.precision == Precision::Float64 {
                    config["precision"] = "float64".into();
                }
                config
            }
        }
        impl From<$t> for LearningRate {
            fn from(s: $t) -> Self {
                LearningRate::Schedule(Arc::new(s))
            }
        }
    };
}

/// Keras' `ExponentialDecay`: `initial_learning_rate * decay_rate^(step / decay_steps)`, the
/// exponent floored with `staircase`.
///
/// ```
/// use tapegrad::optim::{ExponentialDecay, LearningRateSchedule};
/// let s = ExponentialDecay::new(0.1, 10, 0.5).unwrap();
/// assert!((s.rate_f64(20) - 0.025).abs() < 1e-15);
/// assert!(ExponentialDecay::new(0.1, 0, 0.5).is_err()); // decay_steps must be positive
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct ExponentialDecay {
    initial_learning_rate: f64,
    decay_steps: u64,
    decay_rate: f64,
    staircase: bool,
    precision: Precision,
}

impl ExponentialDecay {
    /// The schedule; errors name a negative or non-finite rate, or zero `decay_steps`.
    pub fn new(initial_learning_rate: f64, decay_steps: u64, decay_rate: f64) -> Result<Self, OptimError> {
        check_rate("ExponentialDecay", "initial_learning_rate", initial_learning_rate)?;
        check_steps("ExponentialDecay", "decay_steps", decay_steps)?;
        check_rate("ExponentialDecay", "decay_rate", decay_rate)?;
        Ok(ExponentialDecay { initial_learning_rate, decay_steps, decay_rate, staircase: false, precision: Precision::Float32 })
    }
    /// Decays in whole periods of `decay_steps` (the exponent floored).
    pub fn staircase(mut self, staircase: bool) -> Self {
        self.staircase = staircase;
        self
    }
    fn compute<R: Real>(&self, step: u64) -> f64 {
        let lr0 = R::of(self.initial_learning_rate);
        let p = periods::<R>(step, self.decay_steps, self.staircase);
        (lr0 * R::of(self.decay_rate).powf(p)).get()
    }
}
schedule_impl!(ExponentialDecay, "ExponentialDecay", |s| serde_json::json!({
    "initial_learning_rate": s.initial_learning_rate, "decay_steps": s.decay_steps,
    "decay_rate": s.decay_rate, "staircase": s.staircase}));

/// Keras' `PiecewiseConstantDecay`: `values[0]` up to and including `boundaries[0]`, `values[i]`
/// for `boundaries[i-1] < step <= boundaries[i]`, the last value after the last boundary.
///
/// ```
/// use tapegrad::optim::{LearningRateSchedule, PiecewiseConstantDecay, Precision};
/// let s = PiecewiseConstantDecay::new(&[10, 20], &[0.1, 0.01, 0.001]).unwrap().precision(Precision::Float64);
/// assert_eq!((s.rate_f64(10), s.rate_f64(11), s.rate_f64(21)), (0.1, 0.01, 0.001));
/// let err = PiecewiseConstantDecay::new(&[10, 20], &[0.1, 0.01]).unwrap_err();
/// assert!(err.to_string().contains("values"), "{err}");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct PiecewiseConstantDecay {
    boundaries: Vec<u64>,
    values: Vec<f64>,
    precision: Precision,
}

impl PiecewiseConstantDecay {
    /// The schedule; `values` must have one entry more than `boundaries`, the boundaries must
    /// increase and the values be finite and >= 0, or the error names the argument and its value.
    pub fn new(boundaries: &[u64], values: &[f64]) -> Result<Self, OptimError> {
        const N: &str = "PiecewiseConstantDecay";
        if values.len() != boundaries.len() + 1 {
            return Err(OptimError(format!(
                "{N}: argument 'values' must have one more entry than 'boundaries' ({}), got {} values {values:?}",
                boundaries.len(),
                values.len()
            )));
        }
        if boundaries.windows(2).any(|w| w[0] >= w[1]) {
            return Err(bad(N, "boundaries", boundaries, "must be strictly increasing"));
        }
        for &v in values {
            check_rate(N, "values", v)?;
        }
        Ok(PiecewiseConstantDecay { boundaries: boundaries.to_vec(), values: values.to_vec(), precision: Precision::Float32 })
    }
    fn compute<R: Real>(&self, step: u64) -> f64 {
        let i = self.boundaries.iter().position(|&b| step <= b).unwrap_or(self.boundaries.len());
        R::of(self.values[i]).get()
    }
}
schedule_impl!(PiecewiseConstantDecay, "PiecewiseConstantDecay", |s| serde_json::json!({
    "boundaries": s.boundaries, "values": s.values}));

/// Keras' `PolynomialDecay`: from `initial_learning_rate` to `end_learning_rate` as
/// `(lr0 - end) * (1 - step / decay_steps)^power + end`, the step clamped to `decay_steps`; with
/// `cycle`, `decay_steps` stretches to the next multiple above the step instead.
///
/// ```
/// use tapegrad::optim::{LearningRateSchedule, PolynomialDecay};
/// let s = PolynomialDecay::new(0.1, 10).unwrap().end_learning_rate(0.0);
/// assert!((s.rate_f64(5) - 0.05).abs() < 1e-15);
/// assert_eq!(s.rate_f64(50), 0.0);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct PolynomialDecay {
    initial_learning_rate: f64,
    decay_steps: u64,
    end_learning_rate: f64,
    power: f64,
    cycle: bool,
    precision: Precision,
}

impl PolynomialDecay {
    /// The schedule with Keras' defaults (`end_learning_rate` 0.0001, `power` 1, no cycle).
    pub fn new(initial_learning_rate: f64, decay_steps: u64) -> Result<Self, OptimError> {
        check_rate("PolynomialDecay", "initial_learning_rate", initial_learning_rate)?;
        check_steps("PolynomialDecay", "decay_steps", decay_steps)?;
        Ok(PolynomialDecay {
            initial_learning_rate,
            decay_steps,
            end_learning_rate: 0.0001,
            power: 1.0,
            cycle: false,
            precision: Precision::Float32,
        })
    }
    /// The final rate. Panics (naming it) when negative or not finite.
    #[track_caller]
    pub fn end_learning_rate(mut self, end: f64) -> Self {
        if let Err(e) = check_rate("PolynomialDecay", "end_learning_rate", end) {
            panic!("{e}");
        }
        self.end_learning_rate = end;
        self
    }
    /// The polynomial's power. Panics (naming it) when negative or not finite: a negative power
    /// makes the rate grow without bound as the decay ends (infinite at `decay_steps`).
    #[track_caller]
    pub fn power(mut self, power: f64) -> Self {
        assert!(power >= 0.0 && power.is_finite(), "PolynomialDecay: argument 'power' must be a finite number >= 0 (got {power})");
        self.power = power;
        self
    }
    /// Restarts the decay after each `decay_steps` instead of staying at the end rate.
    pub fn cycle(mut self, cycle: bool) -> Self {
        self.cycle = cycle;
        self
    }
    fn compute<R: Real>(&self, step: u64) -> f64 {
        let lr0 = R::of(self.initial_learning_rate);
        let end = R::of(self.end_learning_rate);
        let power = R::of(self.power);
        let mut step_r = R::of(step as f64);
        let mut decay_steps = R::of(self.decay_steps as f64);
        if self.cycle {
            let multiplier = if step == 0 { R::of(1.0) } else { (step_r / decay_steps).ceil() };
            decay_steps = decay_steps * multiplier;
        } else {
            step_r = step_r.min(decay_steps);
        }
        let p = step_r / decay_steps;
        ((lr0 - end) * (R::of(1.0) - p).powf(power) + end).get()
    }
}
schedule_impl!(PolynomialDecay, "PolynomialDecay", |s| serde_json::json!({
    "initial_learning_rate": s.initial_learning_rate, "decay_steps": s.decay_steps,
    "end_learning_rate": s.end_learning_rate, "power": s.power, "cycle": s.cycle}));

/// Keras' `InverseTimeDecay`: `initial_learning_rate / (1 + decay_rate * step / decay_steps)`, the
/// quotient floored with `staircase`.
///
/// ```
/// use tapegrad::optim::{InverseTimeDecay, LearningRateSchedule};
/// let s = InverseTimeDecay::new(0.1, 10, 1.0).unwrap();
/// assert!((s.rate_f64(10) - 0.05).abs() < 1e-15);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct InverseTimeDecay {
    initial_learning_rate: f64,
    decay_steps: u64,
    decay_rate: f64,
    staircase: bool,
    precision: Precision,
}

impl InverseTimeDecay {
    /// The schedule; errors name a negative or non-finite rate, or zero `decay_steps`.
    pub fn new(initial_learning_rate: f64, decay_steps: u64, decay_rate: f64) -> Result<Self, OptimError> {
        check_rate("InverseTimeDecay", "initial_learning_rate", initial_learning_rate)?;
        check_steps("InverseTimeDecay", "decay_steps", decay_steps)?;
        check_rate("InverseTimeDecay", "decay_rate", decay_rate)?;
        Ok(InverseTimeDecay { initial_learning_rate, decay_steps, decay_rate, staircase: false, precision: Precision::Float32 })
    }
    /// Decays in whole periods of `decay_steps`.
    pub fn staircase(mut self, staircase: bool) -> Self {
        self.staircase = staircase;
        self
    }
    fn compute<R: Real>(&self, step: u64) -> f64 {
        let lr0 = R::of(self.initial_learning_rate);
        let p = periods::<R>(step, self.decay_steps, self.staircase);
        (lr0 / (R::of(1.0) + R::of(self.decay_rate) * p)).get()
    }
}
schedule_impl!(InverseTimeDecay, "InverseTimeDecay", |s| serde_json::json!({
    "initial_learning_rate": s.initial_learning_rate, "decay_steps": s.decay_steps,
    "decay_rate": s.decay_rate, "staircase": s.staircase}));

/// `(1 - alpha) * 0.5 * (1 + cos(pi * fraction)) + alpha`, times `from`, in `R` as Keras does; the
/// factor `1 - alpha` is a Python float (double) in Keras, so it is rounded once.
/// `step / decay_steps` in the schedule's precision, floored with `staircase`: the exponent of
/// `ExponentialDecay` and the divisor's term of `InverseTimeDecay`.
fn periods<R: Real>(step: u64, decay_steps: u64, staircase: bool) -> R {
    let p = R::of(step as f64) / R::of(decay_steps as f64);
    if staircase {
        p.floor()
    } else {
        p
    }
}

fn cosine<R: Real>(step: R, decay_steps: R, from: R, alpha: f64) -> R {
    let fraction = step / decay_steps;
    let pi = R::of(std::f64::consts::PI);
    let decayed = R::of(0.5) * (R::of(1.0) + (pi * fraction).cos());
    from * (R::of(1.0 - alpha) * decayed + R::of(alpha))
}

/// Keras' `CosineDecay`: an optional linear warm-up from `initial_learning_rate` to
/// `warmup_target` over `warmup_steps`, then a cosine from the peak down to `alpha` times it over
/// `decay_steps`, staying there.
///
/// ```
/// use tapegrad::optim::{CosineDecay, LearningRateSchedule, Precision};
/// let s = CosineDecay::new(0.0, 100).unwrap().warmup(0.1, 10).unwrap().precision(Precision::Float64);
/// assert!((s.rate_f64(5) - 0.05).abs() < 1e-15);      // half-way up
/// assert!((s.rate_f64(10) - 0.1).abs() < 1e-15);      // the peak
/// assert!((s.rate_f64(60) - 0.05).abs() < 1e-15);     // half-way down
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct CosineDecay {
    initial_learning_rate: f64,
    decay_steps: u64,
    alpha: f64,
    warmup: Option<(f64, u64)>,
    precision: Precision,
}

impl CosineDecay {
    /// The schedule without warm-up and `alpha` 0.
    pub fn new(initial_learning_rate: f64, decay_steps: u64) -> Result<Self, OptimError> {
        check_rate("CosineDecay", "initial_learning_rate", initial_learning_rate)?;
        check_steps("CosineDecay", "decay_steps", decay_steps)?;
        Ok(CosineDecay { initial_learning_rate, decay_steps, alpha: 0.0, warmup: None, precision: Precision::Float32 })
    }
    /// The final rate as a fraction of the peak. Panics (naming it) outside [0, 1].
    #[track_caller]
    pub fn alpha(mut self, alpha: f64) -> Self {
        assert!((0.0..=1.0).contains(&alpha), "CosineDecay: argument 'alpha' must be in [0, 1] (got {alpha})");
        self.alpha = alpha;
        self
    }
    /// A linear warm-up to `warmup_target` over `warmup_steps` before the decay (Keras'
    /// `warmup_target` and `warmup_steps`).
    pub fn warmup(mut self, warmup_target: f64, warmup_steps: u64) -> Result<Self, OptimError> {
        check_rate("CosineDecay", "warmup_target", warmup_target)?;
        self.warmup = Some((warmup_target, warmup_steps));
        Ok(self)
    }
    fn compute<R: Real>(&self, step: u64) -> f64 {
        let lr0 = R::of(self.initial_learning_rate);
        let decay_steps = R::of(self.decay_steps as f64);
        let step_r = R::of(step as f64);
        match self.warmup {
            None => cosine(step_r.min(decay_steps), decay_steps, lr0, self.alpha).get(),
            Some((target, warmup_steps)) => {
                let target = R::of(target);
                let warmup = R::of(warmup_steps as f64);
                let step_r = step_r.min(decay_steps + warmup);
                if step_r < warmup {
                    let fraction = step_r / warmup;
                    ((target - lr0) * fraction + lr0).get()
                } else {
                    cosine(step_r - warmup, decay_steps, target, self.alpha).get()
                }
            }
        }
    }
}
schedule_impl!(CosineDecay, "CosineDecay", |s| serde_json::json!({
    "initial_learning_rate": s.initial_learning_rate, "decay_steps": s.decay_steps, "alpha": s.alpha,
    "warmup_target": s.warmup.map(|w| w.0), "warmup_steps": s.warmup.map_or(0, |w| w.1)}));

/// Keras' `CosineDecayRestarts` (SGDR): cosine periods, the i-th lasting
/// `first_decay_steps * t_mul^i` steps and peaking at `m_mul^i` times the initial rate:
/// `lr0 * ((1 - alpha) * 0.5 * m_mul^i * (1 + cos(pi * fraction)) + alpha)` (`alpha` is not
/// scaled by `m_mul^i`, as in Keras).
///
/// ```
/// use tapegrad::optim::{CosineDecayRestarts, LearningRateSchedule};
/// let s = CosineDecayRestarts::new(0.1, 10).unwrap().t_mul(1.0).m_mul(0.5);
/// assert!((s.rate_f64(10) - 0.05).abs() < 1e-15); // the first restart, at half the peak
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct CosineDecayRestarts {
    initial_learning_rate: f64,
    first_decay_steps: u64,
    t_mul: f64,
    m_mul: f64,
    alpha: f64,
    precision: Precision,
}

impl CosineDecayRestarts {
    /// The schedule with Keras' defaults (`t_mul` 2, `m_mul` 1, `alpha` 0).
    pub fn new(initial_learning_rate: f64, first_decay_steps: u64) -> Result<Self, OptimError> {
        check_rate("CosineDecayRestarts", "initial_learning_rate", initial_learning_rate)?;
        check_steps("CosineDecayRestarts", "first_decay_steps", first_decay_steps)?;
        Ok(CosineDecayRestarts { initial_learning_rate, first_decay_steps, t_mul: 2.0, m_mul: 1.0, alpha: 0.0, precision: Precision::Float32 })
    }
    /// Each period's length relative to the previous one. Panics (naming it) unless > 0.
    #[track_caller]
    pub fn t_mul(mut self, t_mul: f64) -> Self {
        assert!(t_mul > 0.0 && t_mul.is_finite(), "CosineDecayRestarts: argument 't_mul' must be > 0 (got {t_mul})");
        self.t_mul = t_mul;
        self
    }
    /// Each period's peak relative to the previous one. Panics (naming it) when negative.
    #[track_caller]
    pub fn m_mul(mut self, m_mul: f64) -> Self {
        assert!(m_mul >= 0.0 && m_mul.is_finite(), "CosineDecayRestarts: argument 'm_mul' must be >= 0 (got {m_mul})");
        self.m_mul = m_mul;
        self
    }
    /// The floor as a fraction of the initial rate. Panics (naming it) outside [0, 1].
    #[track_caller]
    pub fn alpha(mut self, alpha: f64) -> Self {
        assert!((0.0..=1.0).contains(&alpha), "CosineDecayRestarts: argument 'alpha' must be in [0, 1] (got {alpha})");
        self.alpha = alpha;
        self
    }
    fn compute<R: Real>(&self, step: u64) -> f64 {
        let one = R::of(1.0);
        let lr0 = R::of(self.initial_learning_rate);
        let alpha = R::of(self.alpha);
        let t_mul = R::of(self.t_mul);
        let m_mul = R::of(self.m_mul);
        let mut fraction = R::of(step as f64) / R::of(self.first_decay_steps as f64);
        let i_restart = if self.t_mul == 1.0 {
            let i = fraction.floor();
            fraction = fraction - i;
            i
        } else {
            let i = ((one - fraction * (one - t_mul)).ln() / t_mul.ln()).floor();
            let sum_r = (one - t_mul.powf(i)) / (one - t_mul);
            fraction = (fraction - sum_r) / t_mul.powf(i);
            i
        };
        let m_fac = m_mul.powf(i_restart);
        let pi = R::of(std::f64::consts::PI);
        let decayed = R::of(0.5) * m_fac * (one + (pi * fraction).cos());
        (lr0 * ((one - alpha) * decayed + alpha)).get()
    }
}
schedule_impl!(CosineDecayRestarts, "CosineDecayRestarts", |s| serde_json::json!({
    "initial_learning_rate": s.initial_learning_rate, "first_decay_steps": s.first_decay_steps,
    "t_mul": s.t_mul, "m_mul": s.m_mul, "alpha": s.alpha}));
