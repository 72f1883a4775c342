//! scatter_add along an axis: the adjoint of `gather`, needed to differentiate gather's gradient.

use crate::ops::Op;
use crate::tape::{Back, Var};
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
        let (outer, len, inner) = split_at_axis(&s, a);
        let mut out_shape = s.clone();
        out_shape[a] = size;
        let x = self.id();
        let (start, n) = self.tape().push_aux(indices.iter().copied());
        let op = Op::Scatter { x, axis: a as u32, start, len: n };
        self.tape().record(op, out_shape, self.requires_grad(), |f, out| {
            let (xv, idx) = (f.x(x), &f.aux[start as usize..(start + n) as usize]);
            for o in 0..outer {
                for k in 0..len {
                    // y[o, idx[k], :] += x[o, k, :]
                    let (src, dst) = ((o * len + k) * inner, (o * size + idx[k]) * inner);
                    for j in 0..inner {
                        out[dst + j] += xv[src + j];
                    }
                }
            }
        })
    }
}

/// scatter_add: dx[o, k, :] += g[o, idx[k], :] (a gather of the gradient).
pub(crate) fn backward_scatter<T: Float>(x: u32, axis: u32, start: u32, n: u32, b: &mut Back<'_, T>) {
    let (g, aux, shape) = (b.g, b.aux, b.shape);
    let idx = &aux[start as usize..(start + n) as usize];
    let (outer, size, inner) = split_at_axis(shape, axis as usize);
    let gx = b.grad(x);
    for o in 0..outer {
        for (k, &i) in idx.iter().enumerate() {
            let (dst, src) = ((o * idx.len() + k) * inner, (o * size + i) * inner);
            for j in 0..inner {
                gx[dst + j] += g[src + j];
            }
        }
    }
}
