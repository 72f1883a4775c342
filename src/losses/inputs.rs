//! The inputs of one loss call by name: `y_true`, `y_pred` and the other inputs PyTorch's losses
//! take (`var`, `input1`, `anchor`, `input_lengths`, ...), with an optional sample weight and mask.

use super::LossError;
use crate::tape::Var;
use crate::tensor::Float;

/// Named inputs for [`Loss::call_inputs`](super::Loss::call_inputs). Names follow the libraries:
/// `y_true` and `y_pred` (PyTorch's `target` and `input`), `var` (Gaussian NLL), `input1` and
/// `input2` (margin ranking, cosine embedding), `anchor`, `positive`, `negative` (triplet), `x1`
/// and `x2` (contrastive), `input_lengths` and `target_lengths` (PyTorch's CTC). Labels, lengths,
/// weights and masks are read as constants.
///
/// ```
/// use tapegrad::losses::{Loss, LossInputs};
/// use tapegrad::{Tape, Tensor};
/// let tape = Tape::<f64>::new();
/// let t = tape.constant(Tensor::from_vec(vec![1.0, 2.0], &[2, 1]));
/// let mu = tape.var(Tensor::from_vec(vec![1.5, 2.0], &[2, 1]));
/// let var = tape.var(Tensor::from_vec(vec![0.5, 2.0], &[2, 1]));
/// let nll = Loss::new("gaussian_nll").unwrap();
/// let value = nll.call_inputs(&LossInputs::new(t, mu).with("var", var)).unwrap();
/// let expected = 0.25 * ((0.5f64).ln() + 0.25 / 0.5 + (2.0f64).ln());
/// assert!((value.item() - expected).abs() < 1e-12);
/// ```
#[derive(Clone, Debug, Default)]
pub struct LossInputs<'t, T: Float> {
    named: Vec<(String, Var<'t, T>)>,
    /// Keras' `sample_weight`: a scalar, one weight per sample, or per time step.
    pub sample_weight: Option<Var<'t, T>>,
    /// Keras' mask of y_pred: 0/1 with the per-sample losses' shape.
    pub mask: Option<Var<'t, T>>,
}

impl<'t, T: Float> LossInputs<'t, T> {
    /// `y_true` and `y_pred`.
    pub fn new(y_true: Var<'t, T>, y_pred: Var<'t, T>) -> Self {
        LossInputs::default().with("y_true", y_true).with("y_pred", y_pred)
    }

    /// No inputs yet (for losses without `y_true`, such as `triplet_margin`).
    pub fn empty() -> Self {
        LossInputs::default()
    }

    /// Adds (or replaces) the input called `name`.
    pub fn with(mut self, name: &str, v: Var<'t, T>) -> Self {
        self.named.retain(|(n, _)| n != name);
        self.named.push((name.to_string(), v));
        self
    }

    /// Sets the sample weight.
    pub fn sample_weight(mut self, w: Var<'t, T>) -> Self {
        self.sample_weight = Some(w);
        self
    }

    /// Sets the mask.
    pub fn mask(mut self, m: Var<'t, T>) -> Self {
        self.mask = Some(m);
        self
    }

    /// The input called `name`, if given.
    pub fn get(&self, name: &str) -> Option<Var<'t, T>> {
        self.named.iter().find(|(n, _)| n == name).map(|(_, v)| *v)
    }

    /// The input called `name`, or an error naming the loss and the missing argument.
    pub(crate) fn need(&self, loss: &str, name: &str) -> Result<Var<'t, T>, LossError> {
        self.get(name).ok_or_else(|| {
            let have: Vec<&str> = self.named.iter().map(|(n, _)| n.as_str()).collect();
            LossError(format!("{loss}: missing input '{name}' (given: {})", have.join(", ")))
        })
    }
}

/// Integer values of a constant input (labels, lengths); an error names the loss, the argument,
/// the position and the value when one is not an integer.
pub(crate) fn integers<T: Float>(loss: &str, arg: &str, v: Var<'_, T>) -> Result<Vec<i64>, LossError> {
    v.with_data(|d| {
        d.iter()
            .enumerate()
            .map(|(i, &x)| {
                let f = x.to_f64();
                if f.is_finite() && f.fract() == 0.0 {
                    Ok(f as i64)
                } else {
                    Err(LossError(format!("{loss}: {arg} element {i} is {f}, not an integer")))
                }
            })
            .collect()
    })
}

/// Picks, along `axis` of `x`, the entry `idx[k]` for every position `k` of the other axes
/// (row-major), as one gather: the result has `x`'s shape without `axis`.
#[track_caller]
pub(crate) fn pick<'t, T: Float>(x: Var<'t, T>, axis: usize, idx: &[usize]) -> Var<'t, T> {
    let s = x.shape();
    let len = s[axis];
    let inner: usize = s[axis + 1..].iter().product();
    let outer: usize = s[..axis].iter().product();
    assert_eq!(idx.len(), outer * inner, "pick: {} indices for {} positions", idx.len(), outer * inner);
    let flat: Vec<usize> = (0..outer)
        .flat_map(|o| (0..inner).map(move |k| (o, k)))
        .map(|(o, k)| (o * len + idx[o * inner + k]) * inner + k)
        .collect();
    let mut out: Vec<usize> = s.to_vec();
    out.remove(axis);
    x.reshape(&[x.len()]).gather(0, &flat).reshape(&out)
}

/// Splits `x` along its last axis into `parts` equal pieces; an error names the loss otherwise.
pub(crate) fn split_last<'t, T: Float>(loss: &str, x: Var<'t, T>, parts: usize, what: &str) -> Result<Vec<Var<'t, T>>, LossError> {
    let s = x.shape();
    let w = *s.last().unwrap_or(&0);
    if s.is_empty() || !w.is_multiple_of(parts) || w == 0 {
        return Err(LossError(format!(
            "{loss}: y_pred of shape {:?} cannot be split into {parts} equal parts along its last axis ({what})",
            &s[..]
        )));
    }
    let k = w / parts;
    Ok((0..parts).map(|i| x.gather(-1, &(i * k..(i + 1) * k).collect::<Vec<_>>())).collect())
}
