//! The reduction kernels shared by the tape's ops and `Tensor`'s: sum, mean and max over all
//! elements or along one axis, and a stable log-sum-exp of one line.

use crate::tensor::shape::split_at_axis;
use crate::tensor::Float;

/// The reduction kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Reduce {
    Sum,
    Mean,
    Max,
}

impl Reduce {
    pub fn name(self) -> &'static str {
        match self {
            Reduce::Sum => "sum",
            Reduce::Mean => "mean",
            Reduce::Max => "max",
        }
    }
}

/// The `(outer, len, inner)` view of a value of `shape` for a reduction along `axis` (`None`:
/// everything at once).
#[inline]
pub(crate) fn view(shape: &[usize], axis: Option<u32>) -> (usize, usize, usize) {
    match axis {
        Some(a) => split_at_axis(shape, a as usize),
        None => (1, shape.iter().product(), 1),
    }
}

/// The forward kernel of sum, mean and max: reduces `xv` (of `shape`) along `axis` (`None`: all
/// elements) into `out`, which holds one element per line. Shared by the tape ops and `Tensor`'s.
pub(crate) fn reduce_forward<T: Float>(kind: Reduce, xv: &[T], shape: &[usize], axis: Option<u32>, out: &mut [T]) {
    let (outer, len, inner) = view(shape, axis);
    for o in 0..outer {
        for n in 0..inner {
            let at = |i: usize| xv[(o * len + i) * inner + n];
            out[o * inner + n] = match kind {
                // y = sum_i x_i
                Reduce::Sum => (0..len).map(at).sum(),
                // y = (1/n) sum_i x_i
                Reduce::Mean => (0..len).map(at).sum::<T>() / T::from_f64(len as f64),
                // y = max_i x_i (NaN propagates)
                Reduce::Max => (0..len).map(at).fold(at(0), |m, v| if v > m || v.is_nan() { v } else { m }),
            };
        }
    }
}

/// `m + log(sum_i exp(x_i - m))` over one line; `-inf` for a line of `-inf`s.
#[inline]
pub(crate) fn logsumexp_line<T: Float>(len: usize, at: impl Fn(usize) -> T) -> T {
    let m = (0..len).map(&at).fold(T::from_f64(f64::NEG_INFINITY), |m, v| m.max(v));
    if !m.is_finite() {
        return m;
    }
    m + (0..len).map(|i| (at(i) - m).exp()).sum::<T>().ln()
}

