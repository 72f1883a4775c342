//! The table of losses by Keras name: aliases, formula and the options each one reads. Training,
//! the command line and the docs all look losses up here.

use super::LossError;

/// Which loss an entry computes (one variant per registered loss).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LossKind {
    /// `mean_squared_error`.
    MeanSquaredError,
    /// `mean_absolute_error`.
    MeanAbsoluteError,
    /// `mean_absolute_percentage_error`.
    MeanAbsolutePercentageError,
    /// `mean_squared_logarithmic_error`.
    MeanSquaredLogarithmicError,
    /// `huber`.
    Huber,
    /// `log_cosh`.
    LogCosh,
    /// `poisson`.
    Poisson,
    /// `cosine_similarity`.
    CosineSimilarity,
    /// `hinge`.
    Hinge,
    /// `squared_hinge`.
    SquaredHinge,
    /// `categorical_hinge`.
    CategoricalHinge,
    /// `binary_crossentropy`.
    BinaryCrossentropy,
    /// `binary_focal_crossentropy`.
    BinaryFocalCrossentropy,
    /// `categorical_crossentropy`.
    CategoricalCrossentropy,
    /// `categorical_focal_crossentropy`.
    CategoricalFocalCrossentropy,
    /// `sparse_categorical_crossentropy`.
    SparseCategoricalCrossentropy,
    /// `kl_divergence`.
    KlDivergence,
    /// `dice`.
    Dice,
    /// `tversky`.
    Tversky,
}

/// One registered loss: its Keras name, the other names Keras accepts for it, its formula and
/// the [`LossOptions`](super::LossOptions) fields it reads (by their Keras names).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LossInfo {
    /// Canonical Keras function name, e.g. `"binary_crossentropy"`.
    pub name: &'static str,
    /// Other names Keras resolves to the same loss (short forms and the class name).
    pub aliases: &'static [&'static str],
    /// What it computes per sample, in plain text (`t` = y_true, `p` = y_pred, `eps` = 1e-7).
    pub formula: &'static str,
    /// The options it reads, as Keras names them (`"reduction"` is read by every loss).
    pub options: &'static [&'static str],
    /// Which loss this is.
    pub kind: LossKind,
}

use LossKind::*;

const REGISTRY: &[LossInfo] = &[
    LossInfo {
        name: "mean_squared_error",
        aliases: &["mse", "MSE", "MeanSquaredError"],
        formula: "mean over the last axis of (p - t)^2",
        options: &["reduction"],
        kind: MeanSquaredError,
    },
    LossInfo {
        name: "mean_absolute_error",
        aliases: &["mae", "MAE", "MeanAbsoluteError"],
        formula: "mean over the last axis of |p - t|",
        options: &["reduction"],
        kind: MeanAbsoluteError,
    },
    LossInfo {
        name: "mean_absolute_percentage_error",
        aliases: &["mape", "MAPE", "MeanAbsolutePercentageError"],
        formula: "100 * mean over the last axis of |(t - p) / max(|t|, eps)|",
        options: &["reduction"],
        kind: MeanAbsolutePercentageError,
    },
    LossInfo {
        name: "mean_squared_logarithmic_error",
        aliases: &["msle", "MSLE", "MeanSquaredLogarithmicError"],
        formula: "mean over the last axis of (log(max(p, eps) + 1) - log(max(t, eps) + 1))^2",
        options: &["reduction"],
        kind: MeanSquaredLogarithmicError,
    },
    LossInfo {
        name: "huber",
        aliases: &["Huber"],
        formula: "mean over the last axis of e^2 / 2 if |e| <= delta else delta * |e| - delta^2 / 2, with e = p - t",
        options: &["delta", "reduction"],
        kind: Huber,
    },
    LossInfo {
        name: "log_cosh",
        aliases: &["logcosh", "LogCosh"],
        formula: "mean over the last axis of log(cosh(e)) = e + softplus(-2 e) - log 2, with e = p - t",
        options: &["reduction"],
        kind: LogCosh,
    },
    LossInfo {
        name: "poisson",
        aliases: &["Poisson"],
        formula: "mean over the last axis of p - t * log(p + eps)",
        options: &["reduction"],
        kind: Poisson,
    },
    LossInfo {
        name: "cosine_similarity",
        aliases: &["CosineSimilarity"],
        formula: "-sum over axis of (t / ||t||) * (p / ||p||), each norm's inverse capped at 1/eps",
        options: &["axis", "reduction"],
        kind: CosineSimilarity,
    },
    LossInfo {
        name: "hinge",
        aliases: &["Hinge"],
        formula: "mean over the last axis of max(1 - t * p, 0); labels all in {0, 1} become {-1, 1}",
        options: &["reduction"],
        kind: Hinge,
    },
    LossInfo {
        name: "squared_hinge",
        aliases: &["SquaredHinge"],
        formula: "mean over the last axis of max(1 - t * p, 0)^2; labels all in {0, 1} become {-1, 1}",
        options: &["reduction"],
        kind: SquaredHinge,
    },
    LossInfo {
        name: "categorical_hinge",
        aliases: &["CategoricalHinge"],
        formula: "max(0, 1 + max over the last axis of (1 - t) * p - sum over the last axis of t * p)",
        options: &["reduction"],
        kind: CategoricalHinge,
    },
    LossInfo {
        name: "binary_crossentropy",
        aliases: &["BinaryCrossentropy"],
        formula: "mean over axis of -(t log q + (1 - t) log(1 - q)), q = clip(p, eps, 1 - eps); \
                  from logits: softplus(p) - t * p; smoothing: t -> t (1 - s) + s / 2",
        options: &["from_logits", "label_smoothing", "axis", "reduction"],
        kind: BinaryCrossentropy,
    },
    LossInfo {
        name: "binary_focal_crossentropy",
        aliases: &["BinaryFocalCrossentropy"],
        formula: "mean over axis of w * (1 - p_t)^gamma * bce(t, p), p_t = t p + (1 - t)(1 - p), \
                  w = t alpha + (1 - t)(1 - alpha) with apply_class_balancing, else 1",
        options: &["apply_class_balancing", "alpha", "gamma", "from_logits", "label_smoothing", "axis", "reduction"],
        kind: BinaryFocalCrossentropy,
    },
    LossInfo {
        name: "categorical_crossentropy",
        aliases: &["CategoricalCrossentropy"],
        formula: "-sum over axis of t * log(clip(p / sum(p), eps, 1 - eps)); \
                  from logits: -sum of t * log_softmax(p); smoothing: t -> t (1 - s) + s / classes",
        options: &["from_logits", "label_smoothing", "axis", "reduction"],
        kind: CategoricalCrossentropy,
    },
    LossInfo {
        name: "categorical_focal_crossentropy",
        aliases: &["CategoricalFocalCrossentropy"],
        formula: "-sum over axis of alpha * (1 - q)^gamma * t * log q, q = clip(p / sum(p), eps, 1 - eps) \
                  (softmax(p) from logits)",
        options: &["alpha", "gamma", "from_logits", "label_smoothing", "axis", "reduction"],
        kind: CategoricalFocalCrossentropy,
    },
    LossInfo {
        name: "sparse_categorical_crossentropy",
        aliases: &["SparseCategoricalCrossentropy"],
        formula: "-log_softmax(z)[t] for integer class ids t, z = p from logits, \
                  else z = log(clip(p, eps, 1 - eps))",
        options: &["from_logits", "reduction"],
        kind: SparseCategoricalCrossentropy,
    },
    LossInfo {
        name: "kl_divergence",
        aliases: &["kld", "KLD", "kullback_leibler_divergence", "KLDivergence"],
        formula: "sum over the last axis of t' * log(t' / p'), t' = clip(t, eps, 1), p' = clip(p, eps, 1)",
        options: &["reduction"],
        kind: KlDivergence,
    },
    LossInfo {
        name: "dice",
        aliases: &["Dice"],
        formula: "1 - 2 sum(t p) / (sum(t) + sum(p) + eps), sums over every element of the batch",
        options: &["reduction"],
        kind: Dice,
    },
    LossInfo {
        name: "tversky",
        aliases: &["Tversky"],
        formula: "1 - sum(t p) / (sum(t p) + alpha sum((1 - p) t) + beta sum(p (1 - t)) + eps), \
                  sums over every element of the batch",
        options: &["alpha", "beta", "reduction"],
        kind: Tversky,
    },
];

/// Every registered loss, in the order the docs list them.
///
/// ```
/// let names: Vec<&str> = tapegrad::losses::registry().iter().map(|i| i.name).collect();
/// assert!(names.contains(&"binary_crossentropy"));
/// ```
pub fn registry() -> &'static [LossInfo] {
    REGISTRY
}

/// The entry for a canonical name or alias; the error lists every known name.
pub fn lookup(name: &str) -> Result<&'static LossInfo, LossError> {
    REGISTRY
        .iter()
        .find(|i| i.name == name || i.aliases.contains(&name))
        .ok_or_else(|| LossError(format!("unknown loss '{name}'; known losses: {}", known_names())))
}

/// Every accepted name, canonical names first with their aliases in brackets.
pub fn known_names() -> String {
    REGISTRY
        .iter()
        .map(|i| format!("{} ({})", i.name, i.aliases.join(", ")))
        .collect::<Vec<_>>()
        .join(", ")
}
