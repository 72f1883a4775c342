//! Softmax and log-softmax along an axis, both through the shifted (max-subtracted) form.

use crate::ops::reduce::logsumexp_line;
use crate::ops::Op;
use crate::tape::{Back, Var};
use crate::tensor::shape::split_at_axis;
use crate::tensor::Float;

impl<'t, T: Float> Var<'t, T> {
    #[track_caller]
    fn along_axis(self, axis: isize, name: &str, op: impl FnOnce(u32, u32) -> Op<T>, log: bool) -> Var<'t, T> {
        let a = self.axis_of(axis, name);
        let shape = self.shape();
        let (outer, len, inner) = split_at_axis(&shape, a);
        let x = self.id();
        self.tape().record(op(x, a as u32), shape, self.requires_grad(), |f, out| {
            let xv = f.x(x);
            for o in 0..outer {
                for n in 0..inner {
                    let idx = |i: usize| (o * len + i) * inner + n;
                    let lse = logsumexp_line(len, |i| xv[idx(i)]);
                    for i in 0..len {
                        // log_softmax: y_i = x_i - lse(x); softmax: y_i = exp(x_i - lse(x))
                        let ls = xv[idx(i)] - lse;
                        out[idx(i)] = if log { ls } else { ls.exp() };
                    }
                }
            }
        })
    }

    /// `exp(x_i) / sum_j exp(x_j)` along `axis`, computed stably.
    #[track_caller]
    pub fn softmax(self, axis: isize) -> Var<'t, T> {
        self.along_axis(axis, "softmax", |x, axis| Op::Softmax { x, axis }, false)
    }

    /// `x_i - logsumexp(x)` along `axis`: the log of the softmax without forming it.
    #[track_caller]
    pub fn log_softmax(self, axis: isize) -> Var<'t, T> {
        self.along_axis(axis, "log_softmax", |x, axis| Op::LogSoftmax { x, axis }, true)
    }
}

/// Runs `f(j, k)` over element offsets `j` of each line, given per-line sums `s = sum_i w(i)`.
fn per_line<T: Float>(shape: &[usize], axis: u32, w: impl Fn(usize) -> T, mut f: impl FnMut(usize, T)) {
    let (outer, len, inner) = split_at_axis(shape, axis as usize);
    for o in 0..outer {
        for n in 0..inner {
            let idx = |i: usize| (o * len + i) * inner + n;
            let s: T = (0..len).map(|i| w(idx(i))).sum();
            (0..len).for_each(|i| f(idx(i), s));
        }
    }
}

/// softmax: dx_i = y_i (g_i - sum_j g_j y_j).
pub(crate) fn backward_softmax<T: Float>(x: u32, axis: u32, b: &mut Back<'_, T>) {
    let (y, g, shape) = (b.y, b.g, b.shape);
    let gx = b.grad(x);
    per_line(shape, axis, |j| g[j] * y[j], |j, s| gx[j] += y[j] * (g[j] - s));
}

/// log_softmax: dx_i = g_i - softmax_i sum_j g_j.
pub(crate) fn backward_log_softmax<T: Float>(x: u32, axis: u32, b: &mut Back<'_, T>) {
    let (y, g, shape) = (b.y, b.g, b.shape);
    let gx = b.grad(x);
    per_line(shape, axis, |j| g[j], |j, s| gx[j] += g[j] - y[j].exp() * s);
}
