//! Scans along an axis: `cumprod` (PyTorch's `torch.cumprod`) and the first-order linear
//! recurrence `r_i = a_i r_(i-1) + u_i` its derivatives are made of.
//!
//! A scan along `axis` views its operands as `(outer, len, inner)`: `inner` independent lanes of
//! length `len`, `outer` times. Every rule below walks one step of the recurrence at a time over
//! a row of `inner` lanes, so it is O(n) and never divides.
//!
//! **cumprod with zeros.** `y_i = x_0 ⋯ x_i`, and `∂L/∂x_j = Σ_(i≥j) g_i ∏_(k≤i, k≠j) x_k`. The
//! usual shortcut `(Σ_(i≥j) g_i y_i) / x_j` is wrong where `x_j = 0` (0/0). tapegrad factors the
//! sum instead: `∂L/∂x_j = y_(j-1) S_j` with `S_j = g_j + x_(j+1) S_(j+1)`, a reverse linear
//! recurrence, exact for any number of zeros (PyTorch's `cumprod_backward` gets the same numbers
//! by treating the first zero of each lane apart).
//!
//! **The linear recurrence** (`scan`, crate-private) is closed under differentiation: its adjoint
//! `λ_i = g_i + a_(i+1) λ_(i+1)` is the same recurrence run the other way, with `∂L/∂u = λ` and
//! `∂L/∂a_i = λ_i r_(i-1)`; its tangent `t_i = a_i t_(i-1) + (ta_i r_(i-1) + tu_i)` is the same
//! recurrence again. So cumprod's recorded rule (second order) is a `scan`, whose own recorded
//! rule is a `scan`: every order of derivative stays O(n) and exact at zeros.

use crate::ops::{Contribs, Op};
use crate::tape::{Back, Jvp, Var};
use crate::tensor::shape::split_at_axis;
use crate::tensor::{Float, Tensor};

/// One lane walk: `(row, previous row)` offsets of step `i` for every `i` in scan order, for lane
/// block `o`. The previous row of the first step is `None`.
#[inline]
fn steps(o: usize, len: usize, inner: usize, reverse: bool) -> impl Iterator<Item = (usize, Option<usize>)> {
    let base = o * len * inner;
    (0..len).map(move |s| {
        let (i, prev) = if reverse { (len - 1 - s, (s > 0).then(|| len - s)) } else { (s, s.checked_sub(1)) };
        (base + i * inner, prev.map(|p| base + p * inner))
    })
}

/// `v` shifted one step along `axis`: `out_i = v_(i+1)` (`from_next`) or `v_(i-1)`, with `fill`
/// where there is no such element. Recorded ops (narrow and pad), so it is differentiable.
#[track_caller]
fn shift<'t, T: Float>(v: Var<'t, T>, axis: usize, from_next: bool, fill: T) -> Var<'t, T> {
    let shape = v.shape();
    let n = shape[axis];
    if n <= 1 {
        return v.tape().constant(Tensor::from_vec(vec![fill; v.len()], &shape));
    }
    let mut widths = vec![[0, 0]; axis + 1];
    if from_next {
        widths[axis] = [0, 1];
        v.narrow(axis as isize, 1, n - 1).pad(&widths, fill)
    } else {
        widths[axis] = [1, 0];
        v.narrow(axis as isize, 0, n - 1).pad(&widths, fill)
    }
}

impl<'t, T: Float> Var<'t, T> {
    /// Running products along `axis` (`torch.cumprod(x, dim)`, same semantics): `y_i = x_0 x_1 ⋯ x_i`.
    ///
    /// The gradient is the exact derivative also where elements are 0 (one or several): it is
    /// computed without dividing by `x` (see the module notes), and so are the recorded rule
    /// (second order) and the forward-mode rule.
    ///
    /// ```
    /// use tapegrad::{Tape, Tensor};
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(Tensor::from_vec(vec![2.0, 0.0, 3.0, 4.0], &[4]));
    /// let y = x.cumprod(0);
    /// assert_eq!(y.value().data(), &[2.0, 0.0, 0.0, 0.0]);
    /// // d(sum y)/dx_1 = x_0 + x_0 x_2 + x_0 x_2 x_3 = 2 + 6 + 24, although x_1 = 0.
    /// assert_eq!(&y.sum().backward()[x], &[1.0, 32.0, 0.0, 0.0]);
    /// ```
    #[track_caller]
    pub fn cumprod(self, axis: isize) -> Var<'t, T> {
        let shape = self.shape();
        let a = self.axis_of(axis, "cumprod");
        let (outer, len, inner) = split_at_axis(&shape, a);
        let x = self.id();
        self.tape().record(Op::Cumprod { x, axis: a as u32 }, shape, self.requires_grad(), |f, out| {
            let xv = f.x(x);
            for o in 0..outer {
                for (row, prev) in steps(o, len, inner, false) {
                    match prev {
                        None => out[row..row + inner].copy_from_slice(&xv[row..row + inner]),
                        Some(p) => (0..inner).for_each(|k| out[row + k] = out[p + k] * xv[row + k]),
                    }
                }
            }
        })
    }

    /// The linear recurrence `r_i = a_i r_(i-1) + u_i` along `axis` (`r_(-1) = 0`), or with
    /// `reverse` from the end, `r_i = a_i r_(i+1) + u_i`. `a` and `u` have one shape.
    #[track_caller]
    pub(crate) fn scan(a: Var<'t, T>, u: Var<'t, T>, axis: usize, reverse: bool) -> Var<'t, T> {
        a.same_tape(&u, "scan");
        let shape = a.shape();
        assert!(shape == u.shape(), "scan: shapes {:?} and {:?} differ", &shape[..], &u.shape()[..]);
        let (outer, len, inner) = split_at_axis(&shape, axis);
        let (ai, ui) = (a.id(), u.id());
        let rg = a.requires_grad() || u.requires_grad();
        a.tape().record(Op::Scan { a: ai, u: ui, axis: axis as u32, reverse }, shape, rg, |f, out| {
            let (av, uv) = (f.x(ai), f.x(ui));
            for o in 0..outer {
                for (row, prev) in steps(o, len, inner, reverse) {
                    match prev {
                        None => out[row..row + inner].copy_from_slice(&uv[row..row + inner]),
                        Some(p) => (0..inner).for_each(|k| out[row + k] = av[row + k] * out[p + k] + uv[row + k]),
                    }
                }
            }
        })
    }
}

/// cumprod, reverse sweep: `dx_j += y_(j-1) S_j`, `S_j = g_j + x_(j+1) S_(j+1)`, one row of lanes
/// at a time from the end.
pub(crate) fn vjp_cumprod<T: Float>(x: u32, axis: u32, bk: &mut Back<'_, T>) {
    let (xv, y, g) = (bk.x(x), bk.y, bk.g);
    let (outer, len, inner) = split_at_axis(bk.shape, axis as usize);
    let gx = bk.grad(x);
    let mut s = vec![T::ZERO; inner];
    for o in 0..outer {
        // Reverse order: `prev` is the step after this one in the running product.
        for (row, next) in steps(o, len, inner, true) {
            for k in 0..inner {
                s[k] = match next {
                    None => g[row + k],
                    Some(n) => g[row + k] + xv[n + k] * s[k],
                };
                let before = if row % (len * inner) < inner { T::ONE } else { y[row - inner + k] };
                gx[row + k] += before * s[k];
            }
        }
    }
}

/// cumprod, recorded rule: `dx = shift(y, fill 1) * scan(shift(x, fill 0), g, reverse)`.
pub(crate) fn vjp_recorded_cumprod<'t, T: Float>(x: Var<'t, T>, axis: u32, y: Var<'t, T>, g: Var<'t, T>, out: &mut Contribs<'t, T>) {
    let a = axis as usize;
    let s = Var::scan(shift(x, a, true, T::ZERO), g, a, true);
    out.push((x.id(), shift(y, a, false, T::ONE) * s));
}

/// cumprod, forward mode: `ty_i = ty_(i-1) x_i + y_(i-1) tx_i`, `ty_0 = tx_0`.
pub(crate) fn jvp_cumprod<T: Float>(x: u32, axis: u32, j: &Jvp<'_, T>, d: usize, out: &mut [T]) {
    let (xv, t, y) = (j.x(x), j.t(x, d), j.y);
    let (outer, len, inner) = split_at_axis(j.shape, axis as usize);
    for o in 0..outer {
        for (row, prev) in steps(o, len, inner, false) {
            match prev {
                None => out[row..row + inner].copy_from_slice(&t[row..row + inner]),
                Some(p) => (0..inner).for_each(|k| out[row + k] = out[p + k] * xv[row + k] + y[p + k] * t[row + k]),
            }
        }
    }
}

/// scan, reverse sweep: `λ_i = g_i + a_next λ_next` (the recurrence run the other way),
/// `du += λ`, `da_i += λ_i r_prev`.
pub(crate) fn vjp_scan<T: Float>(a: u32, u: u32, axis: u32, reverse: bool, bk: &mut Back<'_, T>) {
    let (av, r, g) = (bk.x(a), bk.y, bk.g);
    let (outer, len, inner) = split_at_axis(bk.shape, axis as usize);
    let mut lam = vec![T::ZERO; g.len()];
    for o in 0..outer {
        // Walking the scan backward: the step visited before this one is its successor.
        for (row, next) in steps(o, len, inner, !reverse) {
            for k in 0..inner {
                lam[row + k] = match next {
                    None => g[row + k],
                    Some(n) => g[row + k] + av[n + k] * lam[n + k],
                };
            }
        }
    }
    if bk.wants(u) {
        bk.grad(u).iter_mut().zip(&lam).for_each(|(d, &l)| *d += l);
    }
    if bk.wants(a) {
        let ga = bk.grad(a);
        for o in 0..outer {
            for (row, prev) in steps(o, len, inner, reverse) {
                if let Some(p) = prev {
                    (0..inner).for_each(|k| ga[row + k] += lam[row + k] * r[p + k]);
                }
            }
        }
    }
}

/// scan, recorded rule: the same adjoint as recorded ops (a `scan` the other way).
pub(crate) fn vjp_recorded_scan<'t, T: Float>(
    a: Var<'t, T>, u: Var<'t, T>, axis: u32, reverse: bool, r: Var<'t, T>, g: Var<'t, T>, out: &mut Contribs<'t, T>,
) {
    let ax = axis as usize;
    // Forward scan: the successor of step i is i + 1 and its predecessor i - 1; reversed, the other way.
    let lam = Var::scan(shift(a, ax, !reverse, T::ZERO), g, ax, !reverse);
    out.push((u.id(), lam));
    out.push((a.id(), lam * shift(r, ax, reverse, T::ZERO)));
}

/// scan, forward mode: `tr_i = a_i tr_prev + ta_i r_prev + tu_i`.
pub(crate) fn jvp_scan<T: Float>(a: u32, u: u32, axis: u32, reverse: bool, j: &Jvp<'_, T>, d: usize, out: &mut [T]) {
    let (av, ta, tu, r) = (j.x(a), j.t(a, d), j.t(u, d), j.y);
    let (outer, len, inner) = split_at_axis(j.shape, axis as usize);
    for o in 0..outer {
        for (row, prev) in steps(o, len, inner, reverse) {
            match prev {
                None => out[row..row + inner].copy_from_slice(&tu[row..row + inner]),
                Some(p) => (0..inner).for_each(|k| out[row + k] = av[row + k] * out[p + k] + ta[row + k] * r[p + k] + tu[row + k]),
            }
        }
    }
}

#[cfg(test)]
#[path = "scan_tests.rs"]
mod tests;
