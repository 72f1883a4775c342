//! Reductions: sum, mean and max over all elements or along one axis (with `keepdim`), and the
//! stable log-sum-exp. A reduction along `axis` views the input as `(outer, len, inner)`.

use crate::ops::Op;
use crate::tape::{Back, Var};
use crate::tensor::shape::{normalize_axis, reduced_shape, split_at_axis, Shape};
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

/// The `(outer, len, inner)` view of a node for a reduction along `axis` (`None`: everything).
#[inline]
fn view(shape: &[usize], axis: Option<u32>) -> (usize, usize, usize) {
    match axis {
        Some(a) => split_at_axis(shape, a as usize),
        None => (1, shape.iter().product(), 1),
    }
}

impl<'t, T: Float> Var<'t, T> {
    #[track_caller]
    pub(crate) fn axis_of(self, axis: isize, op: &str) -> usize {
        let s = self.shape();
        // A `match`, not `unwrap_or_else`: a panic inside a closure would report src/ as its location.
        match normalize_axis(axis, s.len()) {
            Some(a) => a,
            None => panic!("{op}: axis {axis} is out of range for shape {:?} (rank {})", &s[..], s.len()),
        }
    }

    #[track_caller]
    fn reduce(self, kind: Reduce, axis: Option<isize>, keepdim: bool) -> Var<'t, T> {
        let shape = self.shape();
        let (ax, out_shape): (Option<u32>, Shape) = match axis {
            Some(a) => {
                let a = self.axis_of(a, kind.name());
                (Some(a as u32), reduced_shape(&shape, a, keepdim))
            }
            None if keepdim => (None, smallvec::smallvec![1; shape.len()]),
            None => (None, Shape::new()),
        };
        if kind == Reduce::Max && view(&shape, ax).1 == 0 {
            panic!("max: cannot reduce an empty axis of shape {:?}", &shape[..]);
        }
        let x = self.id();
        self.tape().record(Op::Reduce { kind, x, axis: ax }, out_shape, self.requires_grad(), |f, out| {
            reduce_forward(kind, f.x(x), &shape, ax, out)
        })
    }

    /// Sum of all elements (rank-0 result).
    #[track_caller]
    pub fn sum(self) -> Var<'t, T> {
        self.reduce(Reduce::Sum, None, false)
    }

    /// Sum along `axis` (negative counts from the end); `keepdim` keeps it as size 1.
    #[track_caller]
    pub fn sum_axis(self, axis: isize, keepdim: bool) -> Var<'t, T> {
        self.reduce(Reduce::Sum, Some(axis), keepdim)
    }

    /// Mean of all elements.
    #[track_caller]
    pub fn mean(self) -> Var<'t, T> {
        self.reduce(Reduce::Mean, None, false)
    }

    /// Mean along `axis`.
    #[track_caller]
    pub fn mean_axis(self, axis: isize, keepdim: bool) -> Var<'t, T> {
        self.reduce(Reduce::Mean, Some(axis), keepdim)
    }

    /// Largest element. Ties share the gradient equally (as TensorFlow's `reduce_max`).
    #[track_caller]
    pub fn max(self) -> Var<'t, T> {
        self.reduce(Reduce::Max, None, false)
    }

    /// Largest element along `axis`; ties share the gradient equally.
    #[track_caller]
    pub fn max_axis(self, axis: isize, keepdim: bool) -> Var<'t, T> {
        self.reduce(Reduce::Max, Some(axis), keepdim)
    }

    /// `log(sum(exp(x)))` along `axis`, computed as `m + log(sum(exp(x - m)))` with `m` the maximum,
    /// so it neither overflows nor underflows.
    #[track_caller]
    pub fn logsumexp(self, axis: isize, keepdim: bool) -> Var<'t, T> {
        let a = self.axis_of(axis, "logsumexp");
        let shape = self.shape();
        let (outer, len, inner) = split_at_axis(&shape, a);
        let x = self.id();
        self.tape().record(Op::LogSumExp { x, axis: a as u32 }, reduced_shape(&shape, a, keepdim), self.requires_grad(), |f, out| {
            let xv = f.x(x);
            for o in 0..outer {
                for n in 0..inner {
                    let at = |i: usize| xv[(o * len + i) * inner + n];
                    out[o * inner + n] = logsumexp_line(len, at);
                }
            }
        })
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

/// Sum: every input gets the output's gradient. Mean: divided by the count. Max: shared equally
/// among the elements equal to the maximum.
pub(crate) fn backward<T: Float>(kind: Reduce, x: u32, axis: Option<u32>, b: &mut Back<'_, T>) {
    let (xv, y, g) = (b.x(x), b.y, b.g);
    let (outer, len, inner) = view(b.shape_of(x), axis);
    let gx = b.grad(x);
    let scale = match kind {
        Reduce::Mean => T::ONE / T::from_f64(len as f64),
        _ => T::ONE,
    };
    for o in 0..outer {
        for n in 0..inner {
            let k = o * inner + n;
            let idx = |i: usize| (o * len + i) * inner + n;
            match kind {
                Reduce::Sum | Reduce::Mean => (0..len).for_each(|i| gx[idx(i)] += g[k] * scale),
                Reduce::Max => {
                    let ties = (0..len).filter(|&i| xv[idx(i)] == y[k]).count();
                    let share = g[k] / T::from_f64(ties.max(1) as f64);
                    (0..len).filter(|&i| xv[idx(i)] == y[k]).for_each(|i| gx[idx(i)] += share);
                }
            }
        }
    }
}

/// d logsumexp / d x_i = exp(x_i - y), the softmax.
pub(crate) fn backward_logsumexp<T: Float>(x: u32, axis: u32, b: &mut Back<'_, T>) {
    let (xv, y, g) = (b.x(x), b.y, b.g);
    let (outer, len, inner) = split_at_axis(b.shape_of(x), axis as usize);
    let gx = b.grad(x);
    for o in 0..outer {
        for n in 0..inner {
            let k = o * inner + n;
            for i in 0..len {
                let j = (o * len + i) * inner + n;
                gx[j] += g[k] * (xv[j] - y[k]).exp();
            }
        }
    }
}
