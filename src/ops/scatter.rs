//! scatter_add along an axis: the adjoint of `gather`, needed to differentiate gather's gradient.

use crate::ops::shape::{gather_rows, scatter_rows};
use crate::ops::{Contribs, Op};
use crate::tape::{Back, Jvp, Var};
use crate::tensor::shape::split_at_axis;
use crate::tensor::Float;

impl<'t, T: Float> Var<'t, T> {
    /// Adds entry `k` of `self` along `axis` into entry `indices[k]` of a zero value whose `axis`
    /// has `size` entries (PyTorch's `index_add` into zeros). `gather(axis, indices)` undoes the
    /// selection; each is the other's adjoint.
    #[track_caller]
    pub fn scatter_add(self, axis: isize, indices: &[usize], size: usize) -> Var<'t, T> {
        let a = self.axis_of(axis, "scatter_add");
        let s = self.shape();
        assert!(
            indices.len() == s[a],
            "scatter_add: {} indices for axis {a} of shape {:?}",
            indices.len(),
            &s[..]
        );
        if let Some(&bad) = indices.iter().find(|&&i| i >= size) {
            panic!("scatter_add: index {bad} is out of range for a target axis of size {size}");
        }
        let (outer, _, inner) = split_at_axis(&s, a);
        let mut out_shape = s.clone();
        out_shape[a] = size;
        let x = self.id();
        let (start, n) = self.tape().push_aux(indices.iter().copied());
        let op = Op::Scatter { x, axis: a as u32, start, len: n };
        self.tape().record(op, out_shape, self.requires_grad(), |f, out| {
            out.fill(T::ZERO);
            scatter_rows(f.x(x), (outer, size, inner), &f.aux[start as usize..(start + n) as usize], out);
        })
    }
}

/// scatter_add, reverse sweep: `dx[o, k, :] += g[o, idx[k], :]`, a gather of the gradient.
pub(crate) fn vjp_scatter<T: Float>(x: u32, axis: u32, start: u32, n: u32, b: &mut Back<'_, T>) {
    let (g, idx) = (b.g, &b.aux[start as usize..(start + n) as usize]);
    let view = split_at_axis(b.shape, axis as usize);
    gather_rows(g, view, idx, b.grad(x), true);
}

/// scatter_add, recorded rule.
pub(crate) fn vjp_recorded_scatter<'t, T: Float>(x: Var<'t, T>, axis: u32, idx: &[usize], g: Var<'t, T>, out: &mut Contribs<'t, T>) {
    out.push((x.id(), g.gather(axis as isize, idx)));
}

/// scatter_add, forward mode: the tangent is scattered like the value.
pub(crate) fn jvp_scatter<T: Float>(x: u32, axis: u32, start: u32, n: u32, j: &Jvp<'_, T>, d: usize, out: &mut [T]) {
    let view = split_at_axis(j.shape, axis as usize);
    out.fill(T::ZERO);
    scatter_rows(j.t(x, d), view, &j.aux[start as usize..(start + n) as usize], out);
}
