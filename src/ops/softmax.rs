//! Softmax and log-softmax along an axis, both through the shifted (max-subtracted) form: two op
//! units, each with its forward rule, one derivative, and that derivative's three uses.

use crate::ops::{Contribs, Op};
use crate::tape::{Back, Jvp, Var};
use crate::tensor::kernels::logsumexp_line;
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

/// Runs `f(j, s)` over the element offsets `j` of each line along `axis`, given the line's sum
/// `s = sum_i w(i)`.
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

/// softmax's derivative, once: `dx_i = y_i (g_i - s)` with `s = sum_j g_j y_j`. The Jacobian
/// `diag(y) - y yᵀ` is symmetric, so the same rule with a tangent for `g` is the JVP.
#[inline(always)]
fn softmax_rule<T: Float, E: crate::ops::elem::Elem<T>>(y: E, g: E, s: E) -> E {
    y * (g - s)
}

/// log_softmax's derivative, once: `dx_i = g_i - softmax_i s` with `s = sum_j g_j` (reverse);
/// forward mode is `ty_i = t_i - sum_j softmax_j t_j`.
#[inline(always)]
fn log_softmax_rule<T: Float, E: crate::ops::elem::Elem<T>>(y: E, g: E, s: E) -> E {
    g - y.exp() * s
}

/// softmax, reverse sweep.
pub(crate) fn vjp_softmax<T: Float>(x: u32, axis: u32, b: &mut Back<'_, T>) {
    let (y, g, shape) = (b.y, b.g, b.shape);
    let gx = b.grad(x);
    per_line(shape, axis, |j| g[j] * y[j], |j, s| gx[j] += softmax_rule(y[j], g[j], s));
}

/// softmax, recorded rule.
pub(crate) fn vjp_recorded_softmax<'t, T: Float>(x: Var<'t, T>, axis: u32, y: Var<'t, T>, g: Var<'t, T>, out: &mut Contribs<'t, T>) {
    let s = (g * y).sum_axis(axis as isize, true);
    out.push((x.id(), softmax_rule(y, g, s)));
}

/// softmax, forward mode.
pub(crate) fn jvp_softmax<T: Float>(x: u32, axis: u32, j: &Jvp<'_, T>, d: usize, out: &mut [T]) {
    let (y, t) = (j.y, j.t(x, d));
    per_line(j.shape, axis, |i| t[i] * y[i], |i, s| out[i] = softmax_rule(y[i], t[i], s));
}

/// log_softmax, reverse sweep.
pub(crate) fn vjp_log_softmax<T: Float>(x: u32, axis: u32, b: &mut Back<'_, T>) {
    let (y, g, shape) = (b.y, b.g, b.shape);
    let gx = b.grad(x);
    per_line(shape, axis, |j| g[j], |j, s| gx[j] += log_softmax_rule(y[j], g[j], s));
}

/// log_softmax, recorded rule.
pub(crate) fn vjp_recorded_log_softmax<'t, T: Float>(x: Var<'t, T>, axis: u32, y: Var<'t, T>, g: Var<'t, T>, out: &mut Contribs<'t, T>) {
    let s = g.sum_axis(axis as isize, true);
    out.push((x.id(), log_softmax_rule(y, g, s)));
}

/// log_softmax, forward mode: `ty_i = t_i - sum_j softmax_j t_j`.
pub(crate) fn jvp_log_softmax<T: Float>(x: u32, axis: u32, j: &Jvp<'_, T>, d: usize, out: &mut [T]) {
    let (y, t) = (j.y, j.t(x, d));
    per_line(j.shape, axis, |i| y[i].exp() * t[i], |i, s| out[i] = t[i] - s);
}
