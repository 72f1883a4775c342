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
    /// `ctc` (Keras).
    Ctc,
    /// `circle` (Keras).
    Circle,
    /// `categorical_generalized_cross_entropy` (Keras).
    CategoricalGeneralizedCrossEntropy,
    /// `gaussian_nll` (PyTorch's `gaussian_nll_loss`).
    GaussianNll,
    /// `poisson_nll` (PyTorch's `poisson_nll_loss`).
    PoissonNll,
    /// `triplet_margin` (PyTorch's `triplet_margin_loss`).
    TripletMargin,
    /// `margin_ranking` (PyTorch's `margin_ranking_loss`).
    MarginRanking,
    /// `cosine_embedding` (PyTorch's `cosine_embedding_loss`).
    CosineEmbedding,
    /// `ctc_loss` (PyTorch).
    CtcLoss,
    /// `soft_margin` (PyTorch's `soft_margin_loss`).
    SoftMargin,
    /// `multilabel_soft_margin` (PyTorch's `multilabel_soft_margin_loss`).
    MultilabelSoftMargin,
    /// `smooth_l1` (PyTorch's `smooth_l1_loss`).
    SmoothL1,
    /// `nll` (PyTorch's `nll_loss`).
    Nll,
    /// `cross_entropy` (PyTorch).
    CrossEntropy,
    /// `quantile` (pinball loss).
    Quantile,
    /// `contrastive` (Hadsell et al. 2006).
    Contrastive,
    /// `tweedie` (scikit-learn's `mean_tweedie_deviance`).
    Tweedie,
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
    /// The options it reads, as Keras or PyTorch names them (`"reduction"` is read by every loss).
    pub options: &'static [&'static str],
    /// The inputs [`Loss::call_inputs`](super::Loss::call_inputs) takes by name; `Loss::call`'s
    /// `y_pred` packs the prediction inputs after `y_true` along its last axis, in this order.
    pub inputs: &'static [&'static str],
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
        inputs: &["y_true", "y_pred"],
        kind: MeanSquaredError,
    },
    LossInfo {
        name: "mean_absolute_error",
        aliases: &["mae", "MAE", "MeanAbsoluteError"],
        formula: "mean over the last axis of |p - t|",
        options: &["reduction"],
        inputs: &["y_true", "y_pred"],
        kind: MeanAbsoluteError,
    },
    LossInfo {
        name: "mean_absolute_percentage_error",
        aliases: &["mape", "MAPE", "MeanAbsolutePercentageError"],
        formula: "100 * mean over the last axis of |(t - p) / max(|t|, eps)|",
        options: &["reduction"],
        inputs: &["y_true", "y_pred"],
        kind: MeanAbsolutePercentageError,
    },
    LossInfo {
        name: "mean_squared_logarithmic_error",
        aliases: &["msle", "MSLE", "MeanSquaredLogarithmicError"],
        formula: "mean over the last axis of (log(max(p, eps) + 1) - log(max(t, eps) + 1))^2",
        options: &["reduction"],
        inputs: &["y_true", "y_pred"],
        kind: MeanSquaredLogarithmicError,
    },
    LossInfo {
        name: "huber",
        aliases: &["Huber"],
        formula: "mean over the last axis of e^2 / 2 if |e| <= delta else delta * |e| - delta^2 / 2, with e = p - t",
        options: &["delta", "reduction"],
        inputs: &["y_true", "y_pred"],
        kind: Huber,
    },
    LossInfo {
        name: "log_cosh",
        aliases: &["logcosh", "LogCosh"],
        formula: "mean over the last axis of log(cosh(e)) = e + softplus(-2 e) - log 2, with e = p - t",
        options: &["reduction"],
        inputs: &["y_true", "y_pred"],
        kind: LogCosh,
    },
    LossInfo {
        name: "poisson",
        aliases: &["Poisson"],
        formula: "mean over the last axis of p - t * log(p + eps)",
        options: &["reduction"],
        inputs: &["y_true", "y_pred"],
        kind: Poisson,
    },
    LossInfo {
        name: "cosine_similarity",
        aliases: &["CosineSimilarity"],
        formula: "-sum over axis of (t / ||t||) * (p / ||p||), each norm's inverse capped at 1/eps",
        options: &["axis", "reduction"],
        inputs: &["y_true", "y_pred"],
        kind: CosineSimilarity,
    },
    LossInfo {
        name: "hinge",
        aliases: &["Hinge"],
        formula: "mean over the last axis of max(1 - t * p, 0); labels all in {0, 1} become {-1, 1}",
        options: &["reduction"],
        inputs: &["y_true", "y_pred"],
        kind: Hinge,
    },
    LossInfo {
        name: "squared_hinge",
        aliases: &["SquaredHinge"],
        formula: "mean over the last axis of max(1 - t * p, 0)^2; labels all in {0, 1} become {-1, 1}",
        options: &["reduction"],
        inputs: &["y_true", "y_pred"],
        kind: SquaredHinge,
    },
    LossInfo {
        name: "categorical_hinge",
        aliases: &["CategoricalHinge"],
        formula: "max(0, 1 + max over the last axis of (1 - t) * p - sum over the last axis of t * p)",
        options: &["reduction"],
        inputs: &["y_true", "y_pred"],
        kind: CategoricalHinge,
    },
    LossInfo {
        name: "binary_crossentropy",
        aliases: &["BinaryCrossentropy"],
        formula: "mean over axis of -(t log q + (1 - t) log(1 - q)), q = clip(p, eps, 1 - eps); \
                  from logits: softplus(p) - t * p; smoothing: t -> t (1 - s) + s / 2",
        options: &["from_logits", "label_smoothing", "axis", "reduction"],
        inputs: &["y_true", "y_pred"],
        kind: BinaryCrossentropy,
    },
    LossInfo {
        name: "binary_focal_crossentropy",
        aliases: &["BinaryFocalCrossentropy"],
        formula: "mean over axis of w * (1 - p_t)^gamma * bce(t, p), p_t = t p + (1 - t)(1 - p), \
                  w = t alpha + (1 - t)(1 - alpha) with apply_class_balancing, else 1",
        options: &["apply_class_balancing", "alpha", "gamma", "from_logits", "label_smoothing", "axis", "reduction"],
        inputs: &["y_true", "y_pred"],
        kind: BinaryFocalCrossentropy,
    },
    LossInfo {
        name: "categorical_crossentropy",
        aliases: &["CategoricalCrossentropy"],
        formula: "-sum over axis of t * log(clip(p / sum(p), eps, 1 - eps)); \
                  from logits: -sum of t * log_softmax(p); smoothing: t -> t (1 - s) + s / classes; \
                  weight: t -> w_c t per class",
        options: &["from_logits", "label_smoothing", "axis", "weight", "reduction"],
        inputs: &["y_true", "y_pred"],
        kind: CategoricalCrossentropy,
    },
    LossInfo {
        name: "categorical_focal_crossentropy",
        aliases: &["CategoricalFocalCrossentropy"],
        formula: "-sum over axis of alpha * (1 - q)^gamma * t * log q, q = clip(p / sum(p), eps, 1 - eps) \
                  (softmax(p) from logits)",
        options: &["alpha", "gamma", "from_logits", "label_smoothing", "axis", "reduction"],
        inputs: &["y_true", "y_pred"],
        kind: CategoricalFocalCrossentropy,
    },
    LossInfo {
        name: "sparse_categorical_crossentropy",
        aliases: &["SparseCategoricalCrossentropy"],
        formula: "-log_softmax(z)[t] for integer class ids t along axis, z = p from logits, \
                  else z = log(clip(p, eps, 1 - eps)); smoothing s: -(1 - s) lsm[t] - (s / C) sum lsm; \
                  t == ignore_class costs 0 and is masked out of the mean",
        options: &["from_logits", "axis", "ignore_class", "label_smoothing", "reduction"],
        inputs: &["y_true", "y_pred"],
        kind: SparseCategoricalCrossentropy,
    },
    LossInfo {
        name: "kl_divergence",
        aliases: &["kld", "KLD", "kullback_leibler_divergence", "KLDivergence"],
        formula: "sum over the last axis of t' * log(t' / p'), t' = clip(t, eps, 1), p' = clip(p, eps, 1)",
        options: &["reduction"],
        inputs: &["y_true", "y_pred"],
        kind: KlDivergence,
    },
    LossInfo {
        name: "dice",
        aliases: &["Dice"],
        formula: "1 - 2 sum(t p) / (sum(t) + sum(p) + eps), sums over every element of the batch",
        options: &["reduction"],
        inputs: &["y_true", "y_pred"],
        kind: Dice,
    },
    LossInfo {
        name: "tversky",
        aliases: &["Tversky"],
        formula: "1 - sum(t p) / (sum(t p) + alpha sum((1 - p) t) + beta sum(p (1 - t)) + eps), \
                  sums over every element of the batch",
        options: &["alpha", "beta", "reduction"],
        inputs: &["y_true", "y_pred"],
        kind: Tversky,
    },
    LossInfo {
        name: "ctc",
        aliases: &["CTC"],
        formula: "-log sum over alignments of prod_t softmax(p_t)[a_t]; t: (N, S) labels 1..C-1 padded with 0 \
                  (the blank), p: (N, T, C) logits; alpha recursion with logsumexp on the tape",
        options: &["reduction"],
        inputs: &["y_true", "y_pred"],
        kind: Ctc,
    },
    LossInfo {
        name: "circle",
        aliases: &["Circle"],
        formula: "softplus(LSE_P(-gamma a+ (margin - d)) + LSE_N(gamma a- (1 - margin - d))), d = max(1 - p_i . p_j, 0), \
                  a+ = max(margin + d, 0), a- = max(1 + margin - d, 0); t: (N,) labels; rows of loss 0 masked",
        options: &["gamma", "margin", "remove_diagonal", "reduction"],
        inputs: &["y_true", "y_pred"],
        kind: Circle,
    },
    LossInfo {
        name: "categorical_generalized_cross_entropy",
        aliases: &["CategoricalGeneralizedCrossEntropy"],
        formula: "(1 - p[t]^q) / q for integer class ids t, probabilities used as given",
        options: &["q", "reduction"],
        inputs: &["y_true", "y_pred"],
        kind: CategoricalGeneralizedCrossEntropy,
    },
    LossInfo {
        name: "gaussian_nll",
        aliases: &["gaussian_nll_loss", "GaussianNLLLoss"],
        formula: "0.5 (log v + (p - t)^2 / v) (+ 0.5 log 2 pi if full), v = max(var, eps) (clamp not differentiated)",
        options: &["full", "eps", "reduction"],
        inputs: &["y_true", "y_pred", "var"],
        kind: GaussianNll,
    },
    LossInfo {
        name: "poisson_nll",
        aliases: &["poisson_nll_loss", "PoissonNLLLoss"],
        formula: "exp(p) - t p (log_input), else p - t log(p + eps); full adds t log t - t + 0.5 log(2 pi t) where t > 1",
        options: &["log_input", "full", "eps", "reduction"],
        inputs: &["y_true", "y_pred"],
        kind: PoissonNll,
    },
    LossInfo {
        name: "triplet_margin",
        aliases: &["triplet_margin_loss", "TripletMarginLoss"],
        formula: "max(margin + d(a, p) - d(a, n), 0), d(x, y) = ||x - y + eps||_p; swap: d(a, n) -> min(d(a, n), d(p, n))",
        options: &["margin", "p", "eps", "swap", "reduction"],
        inputs: &["y_true", "anchor", "positive", "negative"],
        kind: TripletMargin,
    },
    LossInfo {
        name: "margin_ranking",
        aliases: &["margin_ranking_loss", "MarginRankingLoss"],
        formula: "max(0, -t (x1 - x2) + margin), t in {-1, 1}",
        options: &["margin", "reduction"],
        inputs: &["y_true", "input1", "input2"],
        kind: MarginRanking,
    },
    LossInfo {
        name: "cosine_embedding",
        aliases: &["cosine_embedding_loss", "CosineEmbeddingLoss"],
        formula: "1 - cos(x1, x2) where t = 1, max(0, cos(x1, x2) - margin) where t = -1; \
                  cos = x1 . x2 / sqrt((|x1|^2 + 1e-12)(|x2|^2 + 1e-12))",
        options: &["margin", "reduction"],
        inputs: &["y_true", "input1", "input2"],
        kind: CosineEmbedding,
    },
    LossInfo {
        name: "ctc_loss",
        aliases: &["CTCLoss"],
        formula: "-log sum over alignments of prod_t softmax(p_t)[a_t]; p: (T, N, C) logits, time first; t: (N, S) \
                  padded beyond target_lengths; mean: batch mean of loss / max(target_length, 1)",
        options: &["blank", "zero_infinity", "reduction"],
        inputs: &["y_true", "y_pred", "input_lengths", "target_lengths"],
        kind: CtcLoss,
    },
    LossInfo {
        name: "soft_margin",
        aliases: &["soft_margin_loss", "SoftMarginLoss"],
        formula: "log(1 + exp(-t p)) element-wise, t in {-1, 1}",
        options: &["reduction"],
        inputs: &["y_true", "y_pred"],
        kind: SoftMargin,
    },
    LossInfo {
        name: "multilabel_soft_margin",
        aliases: &["multilabel_soft_margin_loss", "MultiLabelSoftMarginLoss"],
        formula: "-(1/C) sum_c w_c (t log sigmoid(p) + (1 - t) log sigmoid(-p)) per sample",
        options: &["weight", "reduction"],
        inputs: &["y_true", "y_pred"],
        kind: MultilabelSoftMargin,
    },
    LossInfo {
        name: "smooth_l1",
        aliases: &["smooth_l1_loss", "SmoothL1Loss"],
        formula: "0.5 e^2 / beta if |e| < beta else |e| - 0.5 beta, e = p - t (|e| for beta = 0)",
        options: &["beta", "reduction"],
        inputs: &["y_true", "y_pred"],
        kind: SmoothL1,
    },
    LossInfo {
        name: "nll",
        aliases: &["nll_loss", "NLLLoss"],
        formula: "-w[t] p[t] along axis 1 (p holds log-probabilities), 0 where t = ignore_index; \
                  mean: sum / sum of w[t] over kept targets",
        options: &["weight", "ignore_index", "reduction"],
        inputs: &["y_true", "y_pred"],
        kind: Nll,
    },
    LossInfo {
        name: "cross_entropy",
        aliases: &["CrossEntropyLoss"],
        formula: "(1 - s) (-w[t] lsm[t]) + (s / C) sum_c -w_c lsm_c, lsm = log_softmax(p) along axis 1, 0 where \
                  t = ignore_index; probability targets: -sum_c w_c ((1 - s) t_c + s / C) lsm_c",
        options: &["weight", "ignore_index", "label_smoothing", "reduction"],
        inputs: &["y_true", "y_pred"],
        kind: CrossEntropy,
    },
    LossInfo {
        name: "quantile",
        aliases: &["pinball", "quantile_loss"],
        formula: "mean over the last axis of max(q (t - p), (q - 1)(t - p)), q = quantile in (0, 1)",
        options: &["quantile", "reduction"],
        inputs: &["y_true", "y_pred"],
        kind: Quantile,
    },
    LossInfo {
        name: "contrastive",
        aliases: &["contrastive_loss"],
        formula: "t d^2 + (1 - t) max(margin - d, 0)^2, d = ||x1 - x2||, t = 1 for a similar pair",
        options: &["margin", "reduction"],
        inputs: &["y_true", "x1", "x2"],
        kind: Contrastive,
    },
    LossInfo {
        name: "tweedie",
        aliases: &["tweedie_deviance", "mean_tweedie_deviance"],
        formula: "2 (max(t, 0)^(2-power) / ((1-power)(2-power)) - t p^(1-power) / (1-power) + p^(2-power) / (2-power)), \
                  power in (1, 2); default reduction: sum(w dev) / sum(w)",
        options: &["power", "reduction"],
        inputs: &["y_true", "y_pred"],
        kind: Tweedie,
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
