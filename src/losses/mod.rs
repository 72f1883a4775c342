//! Keras' losses as graph expressions over public ops: every loss is built from `Var` operations,
//! so its gradient comes from the tape with no hand-written backward.
//!
//! Two ways in:
//! - [`Loss`]: a loss by Keras name (or alias) with [`LossOptions`], reduced to one value as
//!   [`Reduction`] says. This is what training and the command line use.
//! - Free functions with Keras' names ([`mean_squared_error`], [`binary_crossentropy`], ...):
//!   like Keras' functional forms they return the *per-sample* losses, unreduced; [`reduce`]
//!   finishes them.
//!
//! ```
//! use tapegrad::losses::{Loss, LossOptions};
//! use tapegrad::{Tape, Tensor};
//! let tape = Tape::new();
//! let y_true = tape.constant(Tensor::from_vec(vec![0.0, 1.0], &[2, 1]));
//! let y_pred = tape.var(Tensor::from_vec(vec![0.1, 0.8], &[2, 1]));
//! let bce = Loss::new("binary_crossentropy").unwrap();
//! let loss = bce.call(y_true, y_pred);
//! let grads = loss.backward();
//! assert!(loss.item() > 0.0 && grads[y_pred][0] > 0.0);
//! ```
//!
//! Conventions taken from Keras (3.x): `eps = 1e-7`; probabilities are clipped to
//! `[eps, 1 - eps]` before a log; categorical cross-entropy on probabilities divides each row by
//! its sum; hinge labels all in {0, 1} become {-1, 1}; sparse labels are integer class ids of
//! shape `(n,)` or `(n, 1)`; dice and tversky sum over every element of the batch at once, so
//! they give one value for the whole batch whatever the reduction. Where Keras returns NaN for
//! categorical cross-entropy on a row of zero probabilities (0 / 0), tapegrad divides by
//! `max(row sum, eps)` and returns the finite value `-log(eps) * sum(t)` with a zero gradient
//! for that row.

mod focal;
mod hinge;
mod overlap;
mod probabilistic;
mod registry;
mod regression;
mod sample;

pub use focal::{binary_focal_crossentropy, categorical_focal_crossentropy};
pub use hinge::{categorical_hinge, hinge, squared_hinge};
pub use overlap::{dice, tversky};
pub use probabilistic::{binary_crossentropy, categorical_crossentropy, kl_divergence, poisson, sparse_categorical_crossentropy};
pub use registry::{known_names, lookup, registry, LossInfo, LossKind};
pub use sample::sample_batch;
pub use regression::{
    cosine_similarity, huber, log_cosh, mean_absolute_error, mean_absolute_percentage_error, mean_squared_error,
    mean_squared_logarithmic_error,
};

use crate::tape::Var;
use crate::tensor::{Float, Tensor};
use std::fmt;

/// Keras' fuzz factor `epsilon()`, used for clipping and safe division.
pub const EPSILON: f64 = 1e-7;

/// How per-sample losses become one number (Keras' `reduction`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Reduction {
    /// Mean over the batch (Keras' default `sum_over_batch_size`).
    #[default]
    SumOverBatchSize,
    /// Sum over the batch.
    Sum,
    /// One value per sample.
    None,
}

impl Reduction {
    /// Parses Keras' spelling: `"sum_over_batch_size"` (or `"mean"`), `"sum"`, `"none"`.
    pub fn parse(s: &str) -> Result<Reduction, LossError> {
        match s {
            "sum_over_batch_size" | "mean" | "auto" => Ok(Reduction::SumOverBatchSize),
            "sum" => Ok(Reduction::Sum),
            "none" | "None" => Ok(Reduction::None),
            _ => Err(LossError(format!("unknown reduction '{s}'; known: sum_over_batch_size, sum, none"))),
        }
    }
}

/// Options as Keras names them; each loss reads the ones it knows (see [`LossInfo::options`]).
#[derive(Clone, Debug, PartialEq)]
pub struct LossOptions {
    /// Predictions are logits, not probabilities.
    pub from_logits: bool,
    /// Label smoothing for cross-entropies.
    pub label_smoothing: f64,
    /// Huber's threshold.
    pub delta: f64,
    /// Focal losses' focusing parameter.
    pub gamma: f64,
    /// Focal losses' weight; tversky's weight of `sum((1 - p) t)` (Keras' `alpha`; its default
    /// there is 0.5, which [`LossOptions::for_loss`] and [`Loss::new`] apply).
    pub alpha: f64,
    /// Tversky's weight of `sum(p (1 - t))`.
    pub beta: f64,
    /// Focal losses' class balancing.
    pub apply_class_balancing: bool,
    /// Axis of cosine similarity and of the cross-entropies' per-sample sum or mean.
    pub axis: isize,
    /// The reduction.
    pub reduction: Reduction,
}

impl Default for LossOptions {
    fn default() -> Self {
        LossOptions {
            from_logits: false,
            label_smoothing: 0.0,
            delta: 1.0,
            gamma: 2.0,
            alpha: 0.25,
            beta: 0.5,
            apply_class_balancing: false,
            axis: -1,
            reduction: Reduction::SumOverBatchSize,
        }
    }
}

impl LossOptions {
    /// Keras' default options for the named loss (they differ from [`Default`] only for
    /// tversky, whose `alpha` defaults to 0.5).
    pub fn for_loss(name: &str) -> Result<LossOptions, LossError> {
        let info = lookup(name)?;
        let mut o = LossOptions::default();
        if info.kind == LossKind::Tversky {
            o.alpha = 0.5;
        }
        Ok(o)
    }

    /// Sets one option by its Keras name from text (`"true"`, `"0.1"`, `"-1"`, `"sum"`), as the
    /// command line and JSON fixtures give them. Unknown names and unparsable values are errors.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), LossError> {
        let bad = |what: &str| LossError(format!("option '{key}': expected {what}, got '{value}'"));
        let num = || value.trim().parse::<f64>().ok().filter(|v| v.is_finite()).ok_or_else(|| bad("a finite number"));
        let flag = || match value.trim() {
            "true" | "True" | "1" => Ok(true),
            "false" | "False" | "0" => Ok(false),
            _ => Err(bad("true or false")),
        };
        match key {
            "from_logits" => self.from_logits = flag()?,
            "apply_class_balancing" => self.apply_class_balancing = flag()?,
            "label_smoothing" => {
                let v = num()?;
                if !(0.0..=1.0).contains(&v) {
                    return Err(bad("a number in [0, 1]"));
                }
                self.label_smoothing = v;
            }
            "delta" => {
                let v = num()?;
                if v <= 0.0 {
                    return Err(bad("a positive number"));
                }
                self.delta = v;
            }
            "gamma" => {
                let v = num()?;
                if v < 0.0 {
                    return Err(bad("a number >= 0"));
                }
                self.gamma = v;
            }
            "alpha" => self.alpha = num()?,
            "beta" => self.beta = num()?,
            "axis" => self.axis = value.trim().parse::<isize>().map_err(|_| bad("an integer axis"))?,
            "reduction" => self.reduction = Reduction::parse(value.trim())?,
            _ => {
                return Err(LossError(format!(
                    "unknown loss option '{key}'; known: from_logits, label_smoothing, delta, gamma, alpha, beta, \
                     apply_class_balancing, axis, reduction"
                )))
            }
        }
        Ok(())
    }
}

/// An unknown loss name, a bad option, or targets that do not fit the loss.
#[derive(Clone, Debug, PartialEq)]
pub struct LossError(pub String);

impl fmt::Display for LossError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for LossError {}

/// A loss from the registry with its options.
#[derive(Clone, Debug, PartialEq)]
pub struct Loss {
    info: &'static LossInfo,
    options: LossOptions,
}

impl Loss {
    /// The loss registered under `name` (or a Keras alias) with Keras' default options.
    ///
    /// ```
    /// let mse = tapegrad::losses::Loss::new("mse").unwrap();
    /// assert_eq!(mse.name(), "mean_squared_error");
    /// assert!(tapegrad::losses::Loss::new("msqe").unwrap_err().to_string().contains("mean_squared_error"));
    /// ```
    pub fn new(name: &str) -> Result<Loss, LossError> {
        Self::with_options(name, LossOptions::for_loss(name)?)
    }

    /// The loss registered under `name` with the given options.
    pub fn with_options(name: &str, options: LossOptions) -> Result<Loss, LossError> {
        let info = lookup(name)?;
        Ok(Loss { info, options })
    }

    /// The loss with Keras' defaults changed by `(option, value)` pairs given as text (see
    /// [`LossOptions::set`]). An option this loss does not read is an error naming the ones it does.
    ///
    /// ```
    /// let l = tapegrad::losses::Loss::with_args("huber", &[("delta", "0.5")]).unwrap();
    /// assert_eq!(l.options().delta, 0.5);
    /// assert!(tapegrad::losses::Loss::with_args("mse", &[("gamma", "2")]).is_err());
    /// ```
    pub fn with_args(name: &str, args: &[(&str, &str)]) -> Result<Loss, LossError> {
        let mut loss = Loss::new(name)?;
        for &(k, v) in args {
            if !loss.info.options.contains(&k) {
                return Err(LossError(format!(
                    "loss '{}' does not read option '{k}'; it reads: {}",
                    loss.info.name,
                    loss.info.options.join(", ")
                )));
            }
            loss.options.set(k, v)?;
        }
        Ok(loss)
    }

    /// The canonical (Keras function) name.
    pub fn name(&self) -> &'static str {
        self.info.name
    }

    /// The registry entry: aliases, formula, options read.
    pub fn info(&self) -> &'static LossInfo {
        self.info
    }

    /// The options.
    pub fn options(&self) -> &LossOptions {
        &self.options
    }

    /// Checks that targets of this shape and content fit a model output of `output_width`
    /// columns: sparse labels must be integer class ids below `output_width` (shape `(n,)` or
    /// `(n, 1)`), other targets must have `output_width` columns, hinge targets must lie in
    /// {-1, 0, 1}, binary cross-entropy targets in [0, 1], and no target may be NaN or infinite.
    pub fn validate<T: Float>(&self, y_true: &Tensor<T>, output_width: usize) -> Result<(), LossError> {
        let name = self.info.name;
        let err = |msg: String| Err(LossError(format!("{name}: {msg}")));
        let shape = y_true.shape();
        let data = y_true.data();
        if let Some(i) = data.iter().position(|v| !v.is_finite()) {
            return err(format!("target element {i} is {} (targets must be finite)", data[i]));
        }
        if output_width == 0 {
            return err("the model output has no columns".into());
        }
        if self.info.kind == LossKind::SparseCategoricalCrossentropy {
            let ok_shape = shape.len() == 1 || (shape.len() == 2 && shape[1] == 1);
            if !ok_shape {
                return err(format!(
                    "sparse labels must have shape (n,) or (n, 1), got {shape:?}; for one-hot targets use \
                     categorical_crossentropy"
                ));
            }
            for (row, &v) in data.iter().enumerate() {
                let f = v.to_f64();
                if f.fract() != 0.0 || f < 0.0 {
                    return err(format!("label {f} at row {row} is not a non-negative integer class id"));
                }
                if f >= output_width as f64 {
                    return err(format!("label {f} at row {row} is out of range for {output_width} classes (0..{output_width})"));
                }
            }
            return Ok(());
        }
        let width = match shape.len() {
            0 => return err("targets are a scalar; expected one row per sample".into()),
            1 => 1,
            _ => shape[shape.len() - 1],
        };
        if width != output_width {
            return err(format!(
                "targets of shape {shape:?} have {width} column(s) but the model outputs {output_width}"
            ));
        }
        match self.info.kind {
            LossKind::Hinge | LossKind::SquaredHinge => {
                if let Some(i) = data.iter().position(|v| ![-1.0, 0.0, 1.0].contains(&v.to_f64())) {
                    return err(format!("target {} at element {i} is not in {{-1, 0, 1}}", data[i]));
                }
            }
            LossKind::BinaryCrossentropy | LossKind::BinaryFocalCrossentropy => {
                if let Some(i) = data.iter().position(|v| !(0.0..=1.0).contains(&v.to_f64())) {
                    return err(format!("target {} at element {i} is outside [0, 1]", data[i]));
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// The loss of predictions `y_pred` against targets `y_true`, reduced as the options say.
    /// Panics (naming the loss and both shapes) when the shapes do not fit; run
    /// [`validate`](Self::validate) first to get an error instead.
    #[track_caller]
    pub fn call<'t, T: Float>(&self, y_true: Var<'t, T>, y_pred: Var<'t, T>) -> Var<'t, T> {
        reduce(self.per_sample(y_true, y_pred), self.options.reduction)
    }

    /// The unreduced losses: one per sample (one value in all for dice and tversky).
    #[track_caller]
    pub fn per_sample<'t, T: Float>(&self, y_true: Var<'t, T>, y_pred: Var<'t, T>) -> Var<'t, T> {
        let o = &self.options;
        let (t, p) = (y_true, y_pred);
        match self.info.kind {
            LossKind::MeanSquaredError => mean_squared_error(t, p),
            LossKind::MeanAbsoluteError => mean_absolute_error(t, p),
            LossKind::MeanAbsolutePercentageError => mean_absolute_percentage_error(t, p),
            LossKind::MeanSquaredLogarithmicError => mean_squared_logarithmic_error(t, p),
            LossKind::Huber => huber(t, p, o),
            LossKind::LogCosh => log_cosh(t, p),
            LossKind::Poisson => poisson(t, p),
            LossKind::CosineSimilarity => cosine_similarity(t, p, o),
            LossKind::Hinge => hinge(t, p),
            LossKind::SquaredHinge => squared_hinge(t, p),
            LossKind::CategoricalHinge => categorical_hinge(t, p),
            LossKind::BinaryCrossentropy => binary_crossentropy(t, p, o),
            LossKind::BinaryFocalCrossentropy => binary_focal_crossentropy(t, p, o),
            LossKind::CategoricalCrossentropy => categorical_crossentropy(t, p, o),
            LossKind::CategoricalFocalCrossentropy => categorical_focal_crossentropy(t, p, o),
            LossKind::SparseCategoricalCrossentropy => sparse_categorical_crossentropy(t, p, o),
            LossKind::KlDivergence => kl_divergence(t, p),
            LossKind::Dice => dice(t, p),
            LossKind::Tversky => tversky(t, p, o),
        }
    }
}

/// Reduces per-sample losses: their mean ([`Reduction::SumOverBatchSize`]), their sum, or
/// leaves them as they are ([`Reduction::None`]).
pub fn reduce<'t, T: Float>(per_sample: Var<'t, T>, reduction: Reduction) -> Var<'t, T> {
    match reduction {
        Reduction::SumOverBatchSize => per_sample.mean(),
        Reduction::Sum => per_sample.sum(),
        Reduction::None => per_sample,
    }
}

/// `EPSILON` in the element type.
#[inline]
pub(crate) fn eps<T: Float>() -> T {
    T::from_f64(EPSILON)
}

/// A scalar constant on `like`'s tape.
#[inline]
pub(crate) fn konst<'t, T: Float>(like: Var<'t, T>, v: f64) -> Var<'t, T> {
    like.tape().scalar(T::from_f64(v))
}

/// `y_true` brought to `y_pred`'s shape: equal shapes pass, `(n,)` against `(n, 1)` (either way)
/// is reshaped as Keras does; anything else panics naming the loss and both shapes.
#[track_caller]
pub(crate) fn align<'t, T: Float>(loss: &str, y_true: Var<'t, T>, y_pred: Var<'t, T>) -> Var<'t, T> {
    let (st, sp) = (y_true.shape(), y_pred.shape());
    if st == sp {
        return y_true;
    }
    let squeeze = |s: &[usize]| -> Vec<usize> {
        let mut v = s.to_vec();
        if v.last() == Some(&1) {
            v.pop();
        }
        v
    };
    if squeeze(&st) == squeeze(&sp) {
        return y_true.reshape(&sp);
    }
    panic!("{loss}: y_true of shape {:?} does not match y_pred of shape {:?}", &st[..], &sp[..]);
}

/// `c - x` for a generic element type (the `c - var` operator exists only for `f32` and `f64`).
#[inline]
pub(crate) fn rsub<'t, T: Float>(c: T, x: Var<'t, T>) -> Var<'t, T> {
    x.rsub(c)
}
