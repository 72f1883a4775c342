//! Reductions: sum, mean and max over all elements or along one axis (with `keepdim`), and the
//! stable log-sum-exp. A reduction along `axis` views the input as `(outer, len, inner)`; the
//! forward kernels live in `tensor::kernels` (plain tensors run them too).
//!
//! The derivative of each reduction is one weight per input element, stated once below
//! ([`for_each_weight`] for sum, mean and max; [`lse_weight`] for log-sum-exp) and used by the
//! reverse sweep, the recorded rule and forward mode alike.

use crate::ops::{Contribs, Op};
use crate::tape::{Back, Jvp, Var};
pub(crate) use crate::tensor::kernels::Reduce;
use crate::tensor::kernels::{logsumexp_line, reduce_forward, view};
use crate::tensor::shape::{normalize_axis, reduced_shape, split_at_axis, Shape};
use crate::tensor::{Float, Tensor};

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

/// Calls `f(j, k, w)` for every input element `j` that output element `k` depends on, with
/// `w = dy_k / dx_j`: 1 for sum, `1 / len` for mean, and for max `1 / ties` on the elements equal
/// to the maximum (ties share the gradient equally, as TensorFlow's `reduce_max`), 0 elsewhere.
#[inline]
fn for_each_weight<T: Float>(kind: Reduce, xv: &[T], y: &[T], shape: &[usize], axis: Option<u32>, mut f: impl FnMut(usize, usize, T)) {
    let (outer, len, inner) = view(shape, axis);
    let mean = T::ONE / T::from_f64(len as f64);
    if kind != Reduce::Max {
        // Sum and mean: every input element has one weight. Walk the input in memory order (a
        // reduction over a leading axis would otherwise stride by `inner` on every step); each
        // output element still meets its inputs in the order `i = 0..len`.
        let w = if kind == Reduce::Sum { T::ONE } else { mean };
        for o in 0..outer {
            for i in 0..len {
                for n in 0..inner {
                    f((o * len + i) * inner + n, o * inner + n, w);
                }
            }
        }
        return;
    }
    for o in 0..outer {
        for n in 0..inner {
            let k = o * inner + n;
            let idx = |i: usize| (o * len + i) * inner + n;
            match kind {
                Reduce::Sum => (0..len).for_each(|i| f(idx(i), k, T::ONE)),
                Reduce::Mean => (0..len).for_each(|i| f(idx(i), k, mean)),
                Reduce::Max => {
                    let ties = (0..len).filter(|&i| xv[idx(i)] == y[k]).count();
                    let share = T::ONE / T::from_f64(ties.max(1) as f64);
                    (0..len).filter(|&i| xv[idx(i)] == y[k]).for_each(|i| f(idx(i), k, share));
                }
            }
        }
    }
}

/// Reverse sweep: `dx_j += g_k * w_jk`. For sum and mean every element of an input line gets its
/// output's `g_k` times one weight, and the first contribution is written rather than added to a
/// cleared buffer (a full sum's backward, the seed of most sweeps, is then one pass over the input).
pub(crate) fn vjp<T: Float>(kind: Reduce, x: u32, axis: Option<u32>, b: &mut Back<'_, T>) {
    let (xv, y, g, shape) = (b.x(x), b.y, b.g, b.shape_of(x));
    if kind != Reduce::Max {
        let (_, len, inner) = view(shape, axis);
        let w = if kind == Reduce::Sum { T::ONE } else { T::ONE / T::from_f64(len as f64) };
        let (gx, beta) = b.grad_or_overwrite(x);
        if gx.is_empty() {
            return;
        }
        for (block, go) in gx.chunks_exact_mut(len * inner).zip(g.chunks_exact(inner)) {
            if let [gk] = go {
                // A line of one output (a full reduction, or along the last axis): one value.
                let v = *gk * w;
                match beta == T::ZERO {
                    true => block.fill(v),
                    false => block.iter_mut().for_each(|d| *d += v),
                }
                continue;
            }
            for line in block.chunks_exact_mut(inner) {
                if beta == T::ZERO {
                    line.iter_mut().zip(go).for_each(|(d, &gk)| *d = gk * w);
                } else {
                    line.iter_mut().zip(go).for_each(|(d, &gk)| *d += gk * w);
                }
            }
        }
        return;
    }
    let gx = b.grad(x);
    for_each_weight(kind, xv, y, shape, axis, |j, k, w| gx[j] += g[k] * w);
}

/// Recorded rule: the gradient broadcast back over the input, times the weights (a constant).
pub(crate) fn vjp_recorded<'t, T: Float>(kind: Reduce, x: Var<'t, T>, axis: Option<u32>, y: Var<'t, T>, g: Var<'t, T>, out: &mut Contribs<'t, T>) {
    let xs = x.shape();
    let gb = g.reshape(&keep_shape(&xs, axis)).broadcast_to(&xs);
    let mut w = Tensor::zeros(&xs);
    let (xv, yv) = (x.value(), y.value());
    let wd = w.data_mut();
    for_each_weight(kind, xv.data(), yv.data(), &xs, axis, |j, _, v| wd[j] = v);
    out.push((x.id(), gb * x.tape().constant(w)));
}

/// Forward mode: `ty_k = sum_j w_jk tx_j`.
pub(crate) fn jvp<T: Float>(kind: Reduce, x: u32, axis: Option<u32>, j: &Jvp<'_, T>, d: usize, out: &mut [T]) {
    let (xv, t) = (j.x(x), j.t(x, d));
    out.fill(T::ZERO);
    for_each_weight(kind, xv, j.y, j.shape_of(x), axis, |i, k, w| out[k] += w * t[i]);
}

/// The keepdim shape of a reduction's output, to broadcast its gradient back over the input.
pub(crate) fn keep_shape(x_shape: &[usize], axis: Option<u32>) -> Shape {
    match axis {
        Some(a) => reduced_shape(x_shape, a as usize, true),
        None => smallvec::smallvec![1; x_shape.len()],
    }
}

/// d logsumexp / d x_j = exp(x_j - y): the softmax of the line.
#[inline(always)]
fn lse_weight<T: Float, E: crate::ops::elem::Elem<T>>(x: E, y: E) -> E {
    (x - y).exp()
}

/// Calls `f(j, k)` for every element `j` of line `k` along `axis`.
#[inline]
fn for_each_in_line(shape: &[usize], axis: u32, mut f: impl FnMut(usize, usize)) {
    let (outer, len, inner) = split_at_axis(shape, axis as usize);
    for o in 0..outer {
        for n in 0..inner {
            (0..len).for_each(|i| f((o * len + i) * inner + n, o * inner + n));
        }
    }
}

/// logsumexp, reverse sweep: `dx_j += g * exp(x_j - y)`.
pub(crate) fn vjp_logsumexp<T: Float>(x: u32, axis: u32, b: &mut Back<'_, T>) {
    let (xv, y, g, shape) = (b.x(x), b.y, b.g, b.shape_of(x));
    let gx = b.grad(x);
    for_each_in_line(shape, axis, |j, k| gx[j] += g[k] * lse_weight(xv[j], y[k]));
}

/// logsumexp, recorded rule.
pub(crate) fn vjp_recorded_logsumexp<'t, T: Float>(x: Var<'t, T>, axis: u32, y: Var<'t, T>, g: Var<'t, T>, out: &mut Contribs<'t, T>) {
    let keep = keep_shape(&x.shape(), Some(axis));
    out.push((x.id(), g.reshape(&keep) * lse_weight(x, y.reshape(&keep))));
}

/// logsumexp, forward mode: `ty = sum_j exp(x_j - y) tx_j`.
pub(crate) fn jvp_logsumexp<T: Float>(x: u32, axis: u32, j: &Jvp<'_, T>, d: usize, out: &mut [T]) {
    let (xv, t, y) = (j.x(x), j.t(x, d), j.y);
    out.fill(T::ZERO);
    for_each_in_line(j.shape_of(x), axis, |i, k| out[k] += lse_weight(xv[i], y[k]) * t[i]);
}
