//! Ops that move elements without arithmetic: reshape, broadcast_to, concat, gather (index_select),
//! one_hot and where. Their gradients route each output element's gradient back to its source.

use crate::ops::binary::for_each_broadcast;
use crate::ops::Op;
use crate::tape::{Back, Tape, Var};
use crate::tensor::shape::{broadcast_shapes, numel, split_at_axis, Shape};
use crate::tensor::Float;

impl<'t, T: Float> Var<'t, T> {
    /// The same elements under another shape with as many elements.
    #[track_caller]
    pub fn reshape(self, shape: &[usize]) -> Var<'t, T> {
        let s = self.shape();
        assert!(
            numel(shape) == numel(&s),
            "reshape: cannot reshape {:?} ({} elements) to {:?} ({} elements)",
            &s[..],
            numel(&s),
            shape,
            numel(shape)
        );
        let x = self.id();
        self.tape().record_full(Op::Reshape(x), shape.into(), self.requires_grad(), |f, out| out.copy_from_slice(f.x(x)))
    }

    /// Repeats the value along size-1 (or missing leading) dimensions to reach `shape`, by numpy's
    /// broadcasting rule. The gradient sums the copies back.
    #[track_caller]
    pub fn broadcast_to(self, shape: &[usize]) -> Var<'t, T> {
        let s = self.shape();
        match broadcast_shapes(&s, shape) {
            Some(b) if b.as_slice() == shape => {}
            _ => panic!("broadcast_to: shape {:?} cannot be broadcast to {:?}", &s[..], shape),
        }
        if s.as_slice() == shape {
            return self;
        }
        let x = self.id();
        self.tape().record(Op::BroadcastTo(x), shape.into(), self.requires_grad(), |f, out| {
            let xv = f.x(x);
            for_each_broadcast(&s, &s, shape, |i, ix, _| out[i] = xv[ix]);
        })
    }

    /// Selects the entries `indices` along `axis` (PyTorch's `index_select`): the output has
    /// `indices.len()` entries on that axis. Repeated indices accumulate their gradients.
    #[track_caller]
    pub fn gather(self, axis: isize, indices: &[usize]) -> Var<'t, T> {
        let a = self.axis_of(axis, "gather");
        let s = self.shape();
        if let Some(&bad) = indices.iter().find(|&&i| i >= s[a]) {
            panic!("gather: index {bad} is out of range for axis {a} of shape {:?}", &s[..]);
        }
        let (outer, len, inner) = split_at_axis(&s, a);
        let mut out_shape: Shape = s.clone();
        out_shape[a] = indices.len();
        let x = self.id();
        let (start, n) = self.tape().push_aux(indices.iter().copied());
        self.tape().record(Op::Gather { x, axis: a as u32, start, len: n }, out_shape, self.requires_grad(), |f, out| {
            let (xv, idx) = (f.x(x), &f.aux[start as usize..(start + n) as usize]);
            for o in 0..outer {
                for (k, &i) in idx.iter().enumerate() {
                    // y[o, k, :] = x[o, idx[k], :]
                    let src = (o * len + i) * inner;
                    let dst = (o * idx.len() + k) * inner;
                    out[dst..dst + inner].copy_from_slice(&xv[src..src + inner]);
                }
            }
        })
    }

    /// Where `mask` is non-zero takes `self`, elsewhere `other` (all three broadcast together).
    /// The mask gets no gradient. Unlike `mask * a + (1 - mask) * b`, an infinite value in the
    /// branch not taken does not leak a NaN.
    #[track_caller]
    pub fn where_(mask: Var<'t, T>, a: Var<'t, T>, b: Var<'t, T>) -> Var<'t, T> {
        mask.same_tape(&a, "where");
        a.same_tape(&b, "where");
        let (sm, sa, sb) = (mask.shape(), a.shape(), b.shape());
        let Some(out) = broadcast_shapes(&sm, &sa).and_then(|s| broadcast_shapes(&s, &sb)) else {
            panic!("where: shapes {:?} (mask), {:?} and {:?} cannot be broadcast together", &sm[..], &sa[..], &sb[..]);
        };
        let (m, a, b) = (mask.broadcast_to(&out), a.broadcast_to(&out), b.broadcast_to(&out));
        let (mi, ai, bi) = (m.id(), a.id(), b.id());
        let rg = a.requires_grad() || b.requires_grad();
        a.tape().record(Op::Where { mask: mi, a: ai, b: bi }, out, rg, |f, out| {
            let (mv, av, bv) = (f.x(mi), f.x(ai), f.x(bi));
            for i in 0..out.len() {
                out[i] = if mv[i] != T::ZERO { av[i] } else { bv[i] };
            }
        })
    }

    /// Concatenates values along `axis`; all other dimensions must agree.
    #[track_caller]
    pub fn concat(parts: &[Var<'t, T>], axis: isize) -> Var<'t, T> {
        assert!(!parts.is_empty(), "concat: needs at least one value");
        let first = parts[0];
        let a = first.axis_of(axis, "concat");
        let s0 = first.shape();
        let mut total = 0;
        for p in parts {
            first.same_tape(p, "concat");
            let s = p.shape();
            let ok = s.len() == s0.len() && s.iter().zip(&s0).enumerate().all(|(d, (x, y))| d == a || x == y);
            assert!(ok, "concat: shape {:?} does not match {:?} outside axis {a}", &s[..], &s0[..]);
            total += s[a];
        }
        let mut out_shape = s0.clone();
        out_shape[a] = total;
        let outer: usize = s0[..a].iter().product();
        let inner: usize = s0[a + 1..].iter().product();
        let rg = parts.iter().any(|p| p.requires_grad());
        let tape = first.tape();
        let (start, len) = tape.push_aux(parts.iter().map(|p| p.index()));
        let ids: Vec<u32> = parts.iter().map(|p| p.id()).collect();
        tape.record(Op::Concat { axis: a as u32, start, len }, out_shape, rg, |f, out| {
            let mut at = 0;
            for o in 0..outer {
                for &p in &ids {
                    // y[o, block of p, :] = p[o, :, :]
                    let rows = f.shape(p)[a] * inner;
                    out[at..at + rows].copy_from_slice(&f.x(p)[o * rows..(o + 1) * rows]);
                    at += rows;
                }
            }
        })
    }
}

impl<T: Float> Tape<T> {
    /// A constant `[indices.len(), classes]` matrix with a 1 in column `indices[i]` of row `i`
    /// (no gradient). Panics naming the first label out of range.
    #[track_caller]
    pub fn one_hot(&self, indices: &[usize], classes: usize) -> Var<'_, T> {
        if let Some((row, &bad)) = indices.iter().enumerate().find(|(_, &i)| i >= classes) {
            panic!("one_hot: label {bad} at row {row} is out of range for {classes} classes");
        }
        self.record(Op::Constant, smallvec::smallvec![indices.len(), classes], false, |_, out| {
            for (r, &i) in indices.iter().enumerate() {
                out[r * classes + i] = T::ONE;
            }
        })
    }
}

/// reshape: the gradient keeps its order, only its shape changes.
pub(crate) fn backward_reshape<T: Float>(x: u32, b: &mut Back<'_, T>) {
    let g = b.g;
    for (d, &s) in b.grad(x).iter_mut().zip(g) {
        *d += s;
    }
}

/// broadcast_to: each source element collects the gradients of all its copies.
pub(crate) fn backward_broadcast_to<T: Float>(x: u32, b: &mut Back<'_, T>) {
    let (g, s, out) = (b.g, b.shape_of(x), b.shape);
    let gx = b.grad(x);
    for_each_broadcast(s, s, out, |i, ix, _| gx[ix] += g[i]);
}

/// gather: scatter-add the gradient back to the selected entries.
pub(crate) fn backward_gather<T: Float>(x: u32, axis: u32, start: u32, n: u32, b: &mut Back<'_, T>) {
    let (g, aux) = (b.g, b.aux);
    let idx = &aux[start as usize..(start + n) as usize];
    let (outer, len, inner) = split_at_axis(b.shape_of(x), axis as usize);
    let gx = b.grad(x);
    for o in 0..outer {
        for (k, &i) in idx.iter().enumerate() {
            let (src, dst) = ((o * idx.len() + k) * inner, (o * len + i) * inner);
            for j in 0..inner {
                gx[dst + j] += g[src + j];
            }
        }
    }
}

/// where: the gradient goes to the branch that was taken.
pub(crate) fn backward_where<T: Float>(mask: u32, a: u32, bb: u32, b: &mut Back<'_, T>) {
    let (g, mv) = (b.g, b.x(mask));
    for (id, take) in [(a, true), (bb, false)] {
        if b.wants(id) {
            let gi = b.grad(id);
            for i in 0..gi.len() {
                if (mv[i] != T::ZERO) == take {
                    gi[i] += g[i];
                }
            }
        }
    }
}

/// concat: each input takes its block of the gradient.
pub(crate) fn backward_concat<T: Float>(axis: u32, start: u32, n: u32, b: &mut Back<'_, T>) {
    let (g, aux) = (b.g, b.aux);
    let parts = &aux[start as usize..(start + n) as usize];
    let s0 = b.shape_of(parts[0] as u32);
    let outer: usize = s0[..axis as usize].iter().product();
    let inner: usize = s0[axis as usize + 1..].iter().product();
    let mut at = 0;
    for o in 0..outer {
        for &p in parts {
            let rows = b.shape_of(p as u32)[axis as usize] * inner;
            if b.wants(p as u32) {
                let gp = b.grad(p as u32);
                for j in 0..rows {
                    gp[o * rows + j] += g[at + j];
                }
            }
            at += rows;
        }
    }
}
