//! Losses over pairs and triplets of embeddings: PyTorch's triplet margin, margin ranking and
//! cosine embedding, the contrastive loss (Hadsell et al. 2006) and Keras' circle loss.

use super::inputs::integers;
use super::weights::PerSample;
use super::{rsub, LossError, LossOptions};
use crate::tape::Var;
use crate::tensor::Float;

/// A very negative finite number: `exp(NEG - m)` is 0, and unlike `-inf` it never makes a NaN in
/// a sum or a log-sum-exp's gradient.
pub(crate) const NEG: f64 = -1e30;

fn same_shape<T: Float>(loss: &str, names: [&str; 2], a: Var<'_, T>, b: Var<'_, T>) -> Result<(), LossError> {
    if a.shape() != b.shape() {
        return Err(LossError(format!(
            "{loss}: {} of shape {:?} and {} of shape {:?} differ",
            names[0],
            &a.shape()[..],
            names[1],
            &b.shape()[..]
        )));
    }
    Ok(())
}

/// Labels in {-1, 1} for the pairwise losses, one per row of `like`, as a constant of shape `(N,)`.
fn signs<'t, T: Float>(loss: &str, y: Var<'t, T>, rows: usize) -> Result<Vec<i64>, LossError> {
    let l = integers(loss, "y_true", y)?;
    if l.len() != rows {
        return Err(LossError(format!("{loss}: y_true has {} labels for {rows} pairs", l.len())));
    }
    if let Some((i, v)) = l.iter().enumerate().find(|(_, v)| **v != 1 && **v != -1) {
        return Err(LossError(format!("{loss}: y_true label {v} at position {i} is not 1 or -1")));
    }
    Ok(l)
}

/// `||a - b + eps||_p` along the last axis (PyTorch's `pairwise_distance`).
fn pairwise_distance<'t, T: Float>(a: Var<'t, T>, b: Var<'t, T>, p: f64, eps: f64) -> Var<'t, T> {
    let d = a - b + T::from_f64(eps);
    if p == 2.0 {
        d.square().sum_axis(-1, false).sqrt()
    } else if p == 1.0 {
        d.abs().sum_axis(-1, false)
    } else {
        d.abs().powf(T::from_f64(p)).sum_axis(-1, false).powf(T::from_f64(1.0 / p))
    }
}

/// PyTorch's `triplet_margin_loss`: `max(margin + d(a, p) - d_neg, 0)` with
/// `d(x, y) = ||x - y + eps||_p` and `d_neg = d(a, n)`, or `min(d(a, n), d(p, n))` with `swap`.
pub(crate) fn triplet_margin<'t, T: Float>(a: Var<'t, T>, p: Var<'t, T>, n: Var<'t, T>, opts: &LossOptions) -> Result<PerSample<'t, T>, LossError> {
    let name = "triplet_margin";
    same_shape(name, ["anchor", "positive"], a, p)?;
    same_shape(name, ["anchor", "negative"], a, n)?;
    if opts.p.is_nan() || opts.p < 1.0 {
        return Err(LossError(format!("{name}: p is {}, expected a norm degree >= 1", opts.p)));
    }
    let d_ap = pairwise_distance(a, p, opts.p, opts.eps);
    let mut d_neg = pairwise_distance(a, n, opts.p, opts.eps);
    if opts.swap {
        d_neg = d_neg.minimum(pairwise_distance(p, n, opts.p, opts.eps));
    }
    Ok(PerSample::plain((d_ap - d_neg + T::from_f64(opts.margin)).relu()))
}

/// PyTorch's `margin_ranking_loss`: `max(0, -y (x1 - x2) + margin)` with `y` in {-1, 1}.
pub(crate) fn margin_ranking<'t, T: Float>(y: Var<'t, T>, x1: Var<'t, T>, x2: Var<'t, T>, opts: &LossOptions) -> Result<PerSample<'t, T>, LossError> {
    let name = "margin_ranking";
    same_shape(name, ["input1", "input2"], x1, x2)?;
    signs(name, y, x1.len())?;
    let y = y.reshape(&x1.shape());
    Ok(PerSample::plain((-(y * (x1 - x2)) + T::from_f64(opts.margin)).relu()))
}

/// PyTorch's `cosine_embedding_loss`: `cos = Σ x1 x2 / sqrt((Σ x1² + ε)(Σ x2² + ε))` per row,
/// ε = float32(1e-12); `1 - cos` where y = 1, `max(0, cos - margin)` where y = -1.
pub(crate) fn cosine_embedding<'t, T: Float>(y: Var<'t, T>, x1: Var<'t, T>, x2: Var<'t, T>, opts: &LossOptions) -> Result<PerSample<'t, T>, LossError> {
    let name = "cosine_embedding";
    same_shape(name, ["input1", "input2"], x1, x2)?;
    let rows = if x1.shape().len() >= 2 { x1.len() / x1.shape()[x1.shape().len() - 1] } else { 1 };
    let s = signs(name, y, rows)?;
    let e = T::from_f64(1e-12f32 as f64);
    let dot = (x1 * x2).sum_axis(-1, false);
    let n = ((x1.square().sum_axis(-1, false) + e) * (x2.square().sum_axis(-1, false) + e)).sqrt();
    let cos = dot / n;
    let pos: Vec<T> = s.iter().map(|&v| if v == 1 { T::ONE } else { T::ZERO }).collect();
    let pos = x1.tape().leaf(&cos.shape(), &pos, false);
    Ok(PerSample::plain(Var::where_(pos, rsub(T::ONE, cos), (cos - T::from_f64(opts.margin)).relu())))
}

/// The contrastive loss: with `d = ||x1 - x2||` (no eps), `y d² + (1 - y) max(margin - d, 0)²`
/// per pair, `y = 1` marking a similar pair (Hadsell et al. use the opposite label and halve
/// both terms). `d²` is summed directly, so identical similar pairs have a finite gradient.
pub(crate) fn contrastive<'t, T: Float>(y: Var<'t, T>, x1: Var<'t, T>, x2: Var<'t, T>, opts: &LossOptions) -> Result<PerSample<'t, T>, LossError> {
    let name = "contrastive";
    same_shape(name, ["x1", "x2"], x1, x2)?;
    let d2 = (x1 - x2).square().sum_axis(-1, false);
    let labels = integers(name, "y_true", y)?;
    if labels.len() != d2.len() {
        return Err(LossError(format!("{name}: y_true has {} labels for {} pairs", labels.len(), d2.len())));
    }
    if let Some((i, v)) = labels.iter().enumerate().find(|(_, v)| **v != 0 && **v != 1) {
        return Err(LossError(format!("{name}: y_true label {v} at position {i} is not 0 or 1")));
    }
    let y = y.reshape(&d2.shape());
    let far = (rsub(T::from_f64(opts.margin), d2.sqrt())).relu().square();
    Ok(PerSample::plain(y * d2 + rsub(T::ONE, y) * far))
}

/// Keras' circle loss (Sun et al. 2020) per sample, with `y_pred`'s rows as both the embeddings
/// and the reference set. With `d_ij = max(1 - x_i · x_j, 0)`, `a+ = max(margin + d, 0)` and
/// `a- = max(1 + margin - d, 0)`: `softplus(LSE_P(-gamma a+ (margin - d)) +
/// LSE_N(gamma a- (1 - margin - d)))` over the same-label (P, without `i` itself when
/// `remove_diagonal`) and other-label (N) partners. A row without one kind of partner has loss 0;
/// rows of loss 0 are masked out of the mean, as Keras does.
pub(crate) fn circle<'t, T: Float>(y_true: Var<'t, T>, y_pred: Var<'t, T>, opts: &LossOptions) -> Result<PerSample<'t, T>, LossError> {
    let name = "circle";
    let sp = y_pred.shape();
    if sp.len() != 2 {
        return Err(LossError(format!("{name}: y_pred must be (N, D) embeddings, got shape {:?}", &sp[..])));
    }
    let n = sp[0];
    let labels = integers(name, "y_true", y_true)?;
    if labels.len() != n {
        return Err(LossError(format!("{name}: y_true has {} labels for {n} embeddings", labels.len())));
    }
    let tape = y_pred.tape();
    let d = rsub(T::ONE, y_pred.matmul(y_pred.t())).relu();
    let (m, g) = (opts.margin, opts.gamma);
    let a_pos = (d + T::from_f64(m)).relu();
    let a_neg = rsub(T::from_f64(1.0 + m), d).relu();
    let pos_logits = a_pos * rsub(T::from_f64(m), d) * T::from_f64(-g);
    let neg_logits = a_neg * rsub(T::from_f64(1.0 - m), d) * T::from_f64(g);
    let (mut in_p, mut in_n) = (vec![T::from_f64(NEG); n * n], vec![T::from_f64(NEG); n * n]);
    for i in 0..n {
        for j in 0..n {
            if labels[i] == labels[j] {
                if i != j || !opts.remove_diagonal {
                    in_p[i * n + j] = T::ZERO;
                }
            } else {
                in_n[i * n + j] = T::ZERO;
            }
        }
    }
    let lse_p = (pos_logits + tape.leaf(&[n, n], &in_p, false)).logsumexp(1, false);
    let lse_n = (neg_logits + tape.leaf(&[n, n], &in_n, false)).logsumexp(1, false);
    let l = (lse_p + lse_n).softplus();
    let keep: Vec<bool> = l.with_data(|v| v.iter().map(|&x| x > T::ZERO).collect());
    Ok(PerSample { values: l, keep: Some(keep), torch_mean: None })
}
