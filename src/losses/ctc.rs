//! Connectionist temporal classification (Graves et al. 2006), Keras' `ctc` and PyTorch's
//! `ctc_loss`, written as the forward (alpha) recursion over time steps with `logsumexp` on the
//! tape: no backward (beta) pass is written anywhere, the tape differentiates the recursion.
//!
//! For a label sequence `l` of length `L`, the extended sequence `l'` puts a blank before, between
//! and after the labels (`2L + 1` states). With `e_t(s) = log p_t(l'_s)`:
//! `α_0(0) = e_0(0)`, `α_0(1) = e_0(1)`, and
//! `α_t(s) = logsumexp(α_{t-1}(s), α_{t-1}(s-1), α_{t-1}(s-2) if l'_s ≠ blank and l'_s ≠ l'_{s-2}) + e_t(s)`;
//! the loss is `-logsumexp(α_{T-1}(2L), α_{T-1}(2L-1))`. All samples of a batch step together: the
//! states that do not exist (past `2L + 1`, or a forbidden skip) get a very negative constant
//! instead of `-inf`, so no NaN can reach a gradient. A target needs `L` plus its adjacent repeats
//! frames; with fewer the alignment is impossible and the loss is infinite (0 with
//! `zero_infinity`, with gradient 0), as PyTorch.

use super::inputs::integers;
use super::metric_learning::NEG;
use super::weights::{PerSample, TorchMean};
use super::{LossError, LossOptions};
use crate::tape::Var;
use crate::tensor::Float;

/// One sample's CTC problem: its labels and its number of frames.
struct Sample {
    labels: Vec<usize>,
    frames: usize,
}

/// `-log p(labels | frames)` for every sample, on the tape, with `lp` the flat log-probabilities
/// and `at(n, t, k)` the flat index of sample `n`, frame `t`, class `k`. Returns the losses
/// `(N,)` (infinite or 0 where impossible) and the impossible samples.
fn ctc_forward<'t, T: Float>(
    lp: Var<'t, T>,
    at: impl Fn(usize, usize, usize) -> usize,
    samples: &[Sample],
    frames: usize,
    blank: usize,
    zero_infinity: bool,
) -> Var<'t, T> {
    let tape = lp.tape();
    let n = samples.len();
    let lmax = samples.iter().map(|s| s.labels.len()).max().unwrap_or(0);
    let s_len = 2 * lmax + 1;
    let ext: Vec<Vec<usize>> = samples
        .iter()
        .map(|smp| (0..s_len).map(|s| if s % 2 == 1 && (s - 1) / 2 < smp.labels.len() { smp.labels[(s - 1) / 2] } else { blank }).collect())
        .collect();
    let konst = |shape: &[usize], data: Vec<f64>| tape.leaf(shape, &data.into_iter().map(T::from_f64).collect::<Vec<_>>(), false);
    let emissions = |t: usize| {
        let idx: Vec<usize> = (0..n).flat_map(|b| ext[b].iter().map(move |&k| (b, k))).map(|(b, k)| at(b, t, k)).collect();
        lp.gather(0, &idx).reshape(&[n, s_len])
    };
    let init: Vec<f64> = samples
        .iter()
        .flat_map(|smp| (0..s_len).map(move |s| if s == 0 || (s == 1 && !smp.labels.is_empty()) { 0.0 } else { NEG }))
        .collect();
    let mut alpha = emissions(0) + konst(&[n, s_len], init);
    let shift1: Vec<usize> = (0..s_len).map(|s| s.saturating_sub(1)).collect();
    let shift2: Vec<usize> = (0..s_len).map(|s| s.saturating_sub(2)).collect();
    let mask1 = konst(&[1, s_len], (0..s_len).map(|s| if s == 0 { NEG } else { 0.0 }).collect());
    let skip: Vec<f64> = ext
        .iter()
        .flat_map(|e| (0..s_len).map(move |s| if s >= 2 && e[s] != blank && e[s] != e[s - 2] { 0.0 } else { NEG }))
        .collect();
    let mask2 = konst(&[n, s_len], skip);
    for t in 1..frames {
        let stay = alpha.reshape(&[n, s_len, 1]);
        let step = (alpha.gather(1, &shift1) + mask1).reshape(&[n, s_len, 1]);
        let jump = (alpha.gather(1, &shift2) + mask2).reshape(&[n, s_len, 1]);
        let next = Var::concat(&[stay, step, jump], 2).logsumexp(2, false) + emissions(t);
        alpha = if samples.iter().all(|s| s.frames > t) {
            next
        } else {
            let active = konst(&[n, 1], samples.iter().map(|s| if s.frames > t { 1.0 } else { 0.0 }).collect());
            Var::where_(active, next, alpha)
        };
    }
    let last: Vec<usize> = samples
        .iter()
        .enumerate()
        .flat_map(|(b, smp)| {
            let l = smp.labels.len();
            [b * s_len + 2 * l, b * s_len + (2 * l).saturating_sub(1)]
        })
        .collect();
    let end_mask = konst(&[n, 2], samples.iter().flat_map(|s| [0.0, if s.labels.is_empty() { NEG } else { 0.0 }]).collect());
    let loss = -(alpha.reshape(&[n * s_len]).gather(0, &last).reshape(&[n, 2]) + end_mask).logsumexp(1, false);
    let impossible: Vec<f64> = samples
        .iter()
        .map(|s| {
            let repeats = s.labels.windows(2).filter(|w| w[0] == w[1]).count();
            if s.labels.len() + repeats > s.frames {
                1.0
            } else {
                0.0
            }
        })
        .collect();
    if impossible.iter().all(|&v| v == 0.0) {
        return loss;
    }
    let fill = if zero_infinity { 0.0 } else { f64::INFINITY };
    Var::where_(konst(&[n], impossible), tape.scalar(T::from_f64(fill)), loss)
}

/// The label rows of `y_true` `(N, S)`, each cut to its length; errors name the loss and value.
fn label_rows<T: Float>(loss: &str, y_true: Var<'_, T>, n: usize, classes: usize, blank: usize, lengths: Option<&[i64]>) -> Result<Vec<Vec<usize>>, LossError> {
    let st = y_true.shape();
    if st.len() != 2 || st[0] != n {
        return Err(LossError(format!("{loss}: y_true must be ({n}, S) label rows, got shape {:?}", &st[..])));
    }
    let s = st[1];
    let all = integers(loss, "y_true", y_true)?;
    let mut rows = Vec::with_capacity(n);
    for b in 0..n {
        let row = &all[b * s..(b + 1) * s];
        let len = match lengths {
            Some(l) => {
                let v = l[b];
                if v < 0 || v as usize > s {
                    return Err(LossError(format!("{loss}: target_lengths[{b}] is {v}, outside 0..={s}")));
                }
                v as usize
            }
            // Keras: labels padded at the end with the blank 0.
            None => {
                let len = row.iter().filter(|&&v| v != blank as i64).count();
                if row[..len].contains(&(blank as i64)) {
                    return Err(LossError(format!("{loss}: y_true row {b} has a padding 0 before a label: {row:?}")));
                }
                len
            }
        };
        let mut labels = Vec::with_capacity(len);
        for (i, &v) in row[..len].iter().enumerate() {
            if v < 0 || v as usize >= classes || v as usize == blank {
                return Err(LossError(format!(
                    "{loss}: y_true label {v} at row {b}, position {i} is not a class in 0..{classes} other than the blank {blank}"
                )));
            }
            labels.push(v as usize);
        }
        rows.push(labels);
    }
    Ok(rows)
}

fn check_fits(loss: &str, samples: &[Sample]) -> Result<(), LossError> {
    for (b, s) in samples.iter().enumerate() {
        if s.labels.len() > s.frames {
            return Err(LossError(format!(
                "{loss}: target {b} has {} labels but its input has only {} frames",
                s.labels.len(),
                s.frames
            )));
        }
    }
    Ok(())
}

/// Keras' `ctc`: `y_true` `(N, S)` holds labels `1..C-1` padded at the end with 0 (the blank);
/// `y_pred` `(N, T, C)` holds logits, log-softmaxed over `C`; every sample uses all `T` frames.
/// One loss per sample, `-log p(labels)`.
pub(crate) fn keras_ctc<'t, T: Float>(y_true: Var<'t, T>, y_pred: Var<'t, T>) -> Result<PerSample<'t, T>, LossError> {
    let name = "ctc";
    let sp = y_pred.shape();
    if sp.len() != 3 || sp[1] == 0 || sp[2] < 2 {
        return Err(LossError(format!("{name}: y_pred must be (N, T, C) logits with T >= 1 and C >= 2, got shape {:?}", &sp[..])));
    }
    let (n, frames, c) = (sp[0], sp[1], sp[2]);
    let rows = label_rows(name, y_true, n, c, 0, None)?;
    let samples: Vec<Sample> = rows.into_iter().map(|labels| Sample { labels, frames }).collect();
    check_fits(name, &samples)?;
    let lp = y_pred.log_softmax(-1).reshape(&[n * frames * c]);
    Ok(PerSample::plain(ctc_forward(lp, |b, t, k| (b * frames + t) * c + k, &samples, frames, 0, false)))
}

/// PyTorch's `ctc_loss` on logits `y_pred` `(T, N, C)` (time first), log-softmaxed over `C`;
/// `y_true` `(N, S)` padded beyond `target_lengths`; frames at or past `input_lengths` get no
/// gradient. Its mean is the batch mean of `loss_n / max(target_length_n, 1)`.
pub(crate) fn torch_ctc<'t, T: Float>(
    y_true: Var<'t, T>,
    y_pred: Var<'t, T>,
    input_lengths: Option<Var<'t, T>>,
    target_lengths: Option<Var<'t, T>>,
    opts: &LossOptions,
) -> Result<PerSample<'t, T>, LossError> {
    let name = "ctc_loss";
    let sp = y_pred.shape();
    if sp.len() != 3 || sp[0] == 0 || sp[2] < 2 {
        return Err(LossError(format!("{name}: y_pred must be (T, N, C) logits with T >= 1 and C >= 2, got shape {:?}", &sp[..])));
    }
    let (frames, n, c) = (sp[0], sp[1], sp[2]);
    if opts.blank >= c {
        return Err(LossError(format!("{name}: blank is {} but y_pred has {c} classes", opts.blank)));
    }
    let read_lengths = |arg: &str, v: Option<Var<'t, T>>| -> Result<Option<Vec<i64>>, LossError> {
        match v {
            None => Ok(None),
            Some(v) => {
                let l = integers(name, arg, v)?;
                if l.len() != n {
                    return Err(LossError(format!("{name}: {arg} has {} entries for a batch of {n}", l.len())));
                }
                Ok(Some(l))
            }
        }
    };
    let tl = read_lengths("target_lengths", target_lengths)?;
    let il = read_lengths("input_lengths", input_lengths)?;
    let rows = label_rows(name, y_true, n, c, opts.blank, tl.as_deref())?;
    let mut samples = Vec::with_capacity(n);
    for (b, labels) in rows.into_iter().enumerate() {
        let f = il.as_ref().map_or(frames as i64, |l| l[b]);
        if f < 1 || f as usize > frames {
            return Err(LossError(format!("{name}: input_lengths[{b}] is {f}, outside 1..={frames}")));
        }
        samples.push(Sample { labels, frames: f as usize });
    }
    check_fits(name, &samples)?;
    let lp = y_pred.log_softmax(-1).reshape(&[frames * n * c]);
    let scale: Vec<f64> = samples.iter().map(|s| 1.0 / s.labels.len().max(1) as f64).collect();
    let values = ctc_forward(lp, |b, t, k| (t * n + b) * c + k, &samples, frames, opts.blank, opts.zero_infinity);
    Ok(PerSample { values, keep: None, torch_mean: Some(TorchMean { scale: Some(scale), divisor: n as f64 }) })
}
