//! A loss's options as Keras and PyTorch name them, the reduction, and the loss error type.

use std::fmt;

/// How per-sample losses become one number (Keras' `reduction`; PyTorch's `"mean"` is
/// [`Reduction::SumOverBatchSize`], which each PyTorch loss reads as PyTorch's own mean).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Reduction {
    /// Keras' default: the (weighted) sum divided by the number of entries (the entries a mask
    /// keeps when there is one); never divided by the weights. For PyTorch losses without a
    /// sample weight or mask, PyTorch's `"mean"` (see each loss).
    #[default]
    SumOverBatchSize,
    /// The (weighted) sum.
    Sum,
    /// One value per sample (per element for PyTorch's element-wise losses), weighted and masked.
    None,
    /// The weighted sum divided by the sum of the weights as given (times the mask when there is
    /// one); without a sample weight it equals `SumOverBatchSize`.
    MeanWithSampleWeight,
}

impl Reduction {
    /// Parses Keras' and PyTorch's spellings: `"sum_over_batch_size"` (or `"mean"`, `"auto"`),
    /// `"sum"`, `"none"`, `"mean_with_sample_weight"`.
    pub fn parse(s: &str) -> Result<Reduction, LossError> {
        match s {
            "sum_over_batch_size" | "mean" | "auto" => Ok(Reduction::SumOverBatchSize),
            "sum" => Ok(Reduction::Sum),
            "none" | "None" => Ok(Reduction::None),
            "mean_with_sample_weight" => Ok(Reduction::MeanWithSampleWeight),
            _ => Err(LossError(format!(
                "unknown reduction '{s}'; known: sum_over_batch_size (mean), sum, none, mean_with_sample_weight"
            ))),
        }
    }
}

/// Options as Keras and PyTorch name them; each loss reads the ones it knows (see
/// [`LossInfo::options`](super::LossInfo::options)). Defaults that differ between losses (for
/// example `margin` or `gamma`) are set by [`LossOptions::for_loss`].
#[derive(Clone, Debug, PartialEq)]
pub struct LossOptions {
    /// Predictions are logits, not probabilities.
    pub from_logits: bool,
    /// Label smoothing for cross-entropies.
    pub label_smoothing: f64,
    /// Huber's threshold.
    pub delta: f64,
    /// Focal losses' focusing parameter; circle's scale (80).
    pub gamma: f64,
    /// Focal losses' weight; tversky's weight of `sum((1 - p) t)` (Keras' `alpha`; its default
    /// there is 0.5, which [`LossOptions::for_loss`] and [`Loss::new`](super::Loss::new) apply).
    pub alpha: f64,
    /// Tversky's weight of `sum(p (1 - t))`; smooth L1's threshold (1.0).
    pub beta: f64,
    /// Focal losses' class balancing.
    pub apply_class_balancing: bool,
    /// Axis of cosine similarity, of the cross-entropies' per-sample sum or mean, and the class
    /// axis of sparse categorical cross-entropy.
    pub axis: isize,
    /// The reduction.
    pub reduction: Reduction,
    /// Sparse categorical cross-entropy: a label that counts for nothing (Keras' `ignore_class`).
    pub ignore_class: Option<i64>,
    /// PyTorch's `ignore_index` for `nll` and `cross_entropy` (-100).
    pub ignore_index: i64,
    /// Per-class weights (PyTorch's `weight`; also read by categorical cross-entropy).
    pub weight: Option<Vec<f64>>,
    /// Margins: circle 0.4, triplet 1, contrastive 1, margin ranking and cosine embedding 0.
    pub margin: f64,
    /// Circle: leave each sample out of its own positive set.
    pub remove_diagonal: bool,
    /// Generalized cross-entropy's exponent `q` in (0, 1].
    pub q: f64,
    /// Quantile (pinball) loss's quantile in (0, 1).
    pub quantile: f64,
    /// Tweedie deviance's power in (1, 2).
    pub power: f64,
    /// PyTorch's `eps`: Gaussian NLL's variance floor (1e-6), Poisson NLL's log offset (1e-8),
    /// triplet's distance offset (1e-6).
    pub eps: f64,
    /// Gaussian and Poisson NLL: add the constant terms.
    pub full: bool,
    /// Poisson NLL: the prediction is a log rate.
    pub log_input: bool,
    /// Triplet: the norm's degree `p`.
    pub p: f64,
    /// Triplet: use the smaller of d(a, n) and d(p, n).
    pub swap: bool,
    /// CTC (PyTorch): the blank class.
    pub blank: usize,
    /// CTC (PyTorch): an impossible alignment costs 0 (with gradient 0), not infinity.
    pub zero_infinity: bool,
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
            ignore_class: None,
            ignore_index: -100,
            weight: None,
            margin: 1.0,
            remove_diagonal: true,
            q: 0.5,
            quantile: 0.5,
            power: 1.5,
            eps: 1e-6,
            full: false,
            log_input: true,
            p: 2.0,
            swap: false,
            blank: 0,
            zero_infinity: false,
        }
    }
}

/// Every option name [`LossOptions::set`] knows.
pub(crate) const OPTION_NAMES: &str = "from_logits, label_smoothing, delta, gamma, alpha, beta, apply_class_balancing, axis, \
     reduction, ignore_class, ignore_index, weight, margin, remove_diagonal, q, quantile, power, eps, full, log_input, p, \
     swap, blank, zero_infinity";

impl LossOptions {
    /// The library's default options for the named loss (Keras' or PyTorch's).
    pub fn for_loss(name: &str) -> Result<LossOptions, LossError> {
        use super::LossKind::*;
        let info = super::lookup(name)?;
        let mut o = LossOptions::default();
        match info.kind {
            Tversky => o.alpha = 0.5,
            Circle => {
                o.gamma = 80.0;
                o.margin = 0.4;
            }
            MarginRanking | CosineEmbedding => o.margin = 0.0,
            SmoothL1 => o.beta = 1.0,
            PoissonNll => o.eps = 1e-8,
            // sklearn's mean_tweedie_deviance: sum(w dev) / sum(w).
            Tweedie => o.reduction = Reduction::MeanWithSampleWeight,
            _ => {}
        }
        Ok(o)
    }

    /// Sets one option by its name from text (`"true"`, `"0.1"`, `"-1"`, `"sum"`, `"[1, 2.5]"`),
    /// as the command line and JSON fixtures give them. Unknown names, unparsable values and
    /// values outside an option's range are errors naming the option and the value.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), LossError> {
        let bad = |what: &str| LossError(format!("option '{key}': expected {what}, got '{value}'"));
        let num = || value.trim().parse::<f64>().ok().filter(|v| v.is_finite()).ok_or_else(|| bad("a finite number"));
        let int = || value.trim().parse::<i64>().map_err(|_| bad("an integer"));
        let flag = || match value.trim() {
            "true" | "True" | "1" => Ok(true),
            "false" | "False" | "0" => Ok(false),
            _ => Err(bad("true or false")),
        };
        let in_range = |lo: f64, hi: f64, lo_open: bool, hi_open: bool, what: &str| -> Result<f64, LossError> {
            let v = num()?;
            let ok = (if lo_open { v > lo } else { v >= lo }) && (if hi_open { v < hi } else { v <= hi });
            if ok {
                Ok(v)
            } else {
                Err(bad(what))
            }
        };
        match key {
            "from_logits" => self.from_logits = flag()?,
            "apply_class_balancing" => self.apply_class_balancing = flag()?,
            "label_smoothing" => self.label_smoothing = in_range(0.0, 1.0, false, false, "a number in [0, 1]")?,
            "delta" => self.delta = in_range(0.0, f64::INFINITY, true, true, "a positive number")?,
            "gamma" => self.gamma = in_range(0.0, f64::INFINITY, false, true, "a number >= 0")?,
            "alpha" => self.alpha = num()?,
            "beta" => self.beta = num()?,
            "axis" => self.axis = value.trim().parse::<isize>().map_err(|_| bad("an integer axis"))?,
            "reduction" => self.reduction = Reduction::parse(value.trim())?,
            "ignore_class" => {
                self.ignore_class = match value.trim() {
                    "none" | "None" | "null" => None,
                    _ => Some(int()?),
                }
            }
            "ignore_index" => self.ignore_index = int()?,
            "weight" | "class_weight" => {
                let inner = value.trim().trim_start_matches('[').trim_end_matches(']');
                let w: Result<Vec<f64>, _> = inner.split(',').map(|s| s.trim().parse::<f64>()).collect();
                match w {
                    Ok(w) if !w.is_empty() && w.iter().all(|v| v.is_finite() && *v >= 0.0) => self.weight = Some(w),
                    _ => return Err(bad("a list of non-negative numbers like [1, 0.5, 2]")),
                }
            }
            "margin" => self.margin = num()?,
            "remove_diagonal" => self.remove_diagonal = flag()?,
            "q" => self.q = in_range(0.0, 1.0, true, false, "a number in (0, 1]")?,
            "quantile" => self.quantile = in_range(0.0, 1.0, true, true, "a number in (0, 1)")?,
            "power" => self.power = in_range(1.0, 2.0, true, true, "a number in (1, 2)")?,
            "eps" => self.eps = in_range(0.0, f64::INFINITY, false, true, "a number >= 0")?,
            "full" => self.full = flag()?,
            "log_input" => self.log_input = flag()?,
            "p" => self.p = in_range(1.0, f64::INFINITY, false, true, "a norm degree >= 1")?,
            "swap" => self.swap = flag()?,
            "blank" => self.blank = value.trim().parse::<usize>().map_err(|_| bad("a class id >= 0"))?,
            "zero_infinity" => self.zero_infinity = flag()?,
            _ => return Err(LossError(format!("unknown loss option '{key}'; known: {OPTION_NAMES}"))),
        }
        Ok(())
    }
}

/// An unknown loss name, a bad option, or inputs that do not fit the loss. The message names the
/// loss, the argument and the value.
#[derive(Clone, Debug, PartialEq)]
pub struct LossError(pub String);

impl fmt::Display for LossError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for LossError {}
