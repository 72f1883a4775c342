//! Ops that move elements without arithmetic: reshape, broadcast_to, concat, gather (index_select),
//! one_hot and where. Their gradients route each output element's gradient back to its source.

use crate::ops::{Contribs, Op};
use crate::tape::{Back, Jvp, Tape, Var};
use crate::tensor::kernels::for_each_broadcast;
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
        self.tape().record(Op::Reshape(x), shape.into(), self.requires_grad(), |f, out| out.copy_from_slice(f.x(x)))
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
            gather_rows(f.x(x), (outer, len, inner), &f.aux[start as usize..(start + n) as usize], out, false);
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
            out.fill(T::ZERO);
            for (r, &i) in indices.iter().enumerate() {
                out[r * classes + i] = T::ONE;
            }
        })
    }
}

/// `out[o, k, :] (+)= x[o, idx[k], :]` for `x` viewed as `(outer, len, inner)`: gather's forward
/// rule, scatter_add's reverse rule (the two are each other's adjoint), and both ops' forward mode.
pub(crate) fn gather_rows<T: Float>(x: &[T], (outer, len, inner): (usize, usize, usize), idx: &[usize], out: &mut [T], add: bool) {
    for o in 0..outer {
        for (k, &i) in idx.iter().enumerate() {
            let (src, dst) = ((o * len + i) * inner, (o * idx.len() + k) * inner);
            if add {
                out[dst..dst + inner].iter_mut().zip(&x[src..src + inner]).for_each(|(d, &v)| *d += v);
            } else {
                out[dst..dst + inner].copy_from_slice(&x[src..src + inner]);
            }
        }
    }
}

/// `out[o, idx[k], :] += x[o, k, :]` into `out` viewed as `(outer, size, inner)`: scatter_add's
/// forward rule and gather's reverse rule.
pub(crate) fn scatter_rows<T: Float>(x: &[T], (outer, size, inner): (usize, usize, usize), idx: &[usize], out: &mut [T]) {
    for o in 0..outer {
        for (k, &i) in idx.iter().enumerate() {
            let (src, dst) = ((o * idx.len() + k) * inner, (o * size + i) * inner);
            out[dst..dst + inner].iter_mut().zip(&x[src..src + inner]).for_each(|(d, &v)| *d += v);
        }
    }
}

/// reshape, reverse sweep: the gradient keeps its order, only its shape changes.
pub(crate) fn vjp_reshape<T: Float>(x: u32, b: &mut Back<'_, T>) {
    let g = b.g;
    b.grad(x).iter_mut().zip(g).for_each(|(d, &s)| *d += s);
}

/// reshape, recorded rule.
pub(crate) fn vjp_recorded_reshape<'t, T: Float>(x: Var<'t, T>, g: Var<'t, T>, out: &mut Contribs<'t, T>) {
    out.push((x.id(), g.reshape(&x.shape())));
}

/// reshape, forward mode: the tangent keeps its order too.
pub(crate) fn jvp_reshape<T: Float>(x: u32, j: &Jvp<'_, T>, d: usize, out: &mut [T]) {
    out.copy_from_slice(j.t(x, d));
}

/// broadcast_to, reverse sweep: each source element collects the gradients of all its copies.
pub(crate) fn vjp_broadcast_to<T: Float>(x: u32, b: &mut Back<'_, T>) {
    let (g, s, out) = (b.g, b.shape_of(x), b.shape);
    let gx = b.grad(x);
    for_each_broadcast(s, s, out, |i, ix, _| gx[ix] += g[i]);
}

/// broadcast_to, recorded rule.
pub(crate) fn vjp_recorded_broadcast_to<'t, T: Float>(x: Var<'t, T>, g: Var<'t, T>, out: &mut Contribs<'t, T>) {
    out.push((x.id(), g.sum_to_shape(&x.shape())));
}

/// broadcast_to, forward mode: the tangent is broadcast like the value.
pub(crate) fn jvp_broadcast_to<T: Float>(x: u32, j: &Jvp<'_, T>, d: usize, out: &mut [T]) {
    let (t, s) = (j.t(x, d), j.shape_of(x));
    for_each_broadcast(s, s, j.shape, |i, ix, _| out[i] = t[ix]);
}

/// gather, reverse sweep: scatter-add the gradient back to the selected entries.
pub(crate) fn vjp_gather<T: Float>(x: u32, axis: u32, start: u32, n: u32, b: &mut Back<'_, T>) {
    let (g, idx) = (b.g, &b.aux[start as usize..(start + n) as usize]);
    let view = split_at_axis(b.shape_of(x), axis as usize);
    scatter_rows(g, view, idx, b.grad(x));
}

/// gather, recorded rule.
pub(crate) fn vjp_recorded_gather<'t, T: Float>(x: Var<'t, T>, axis: u32, idx: &[usize], g: Var<'t, T>, out: &mut Contribs<'t, T>) {
    let size = x.shape()[axis as usize];
    out.push((x.id(), g.scatter_add(axis as isize, idx, size)));
}

/// gather, forward mode: the tangent is gathered like the value.
pub(crate) fn jvp_gather<T: Float>(x: u32, axis: u32, start: u32, n: u32, j: &Jvp<'_, T>, d: usize, out: &mut [T]) {
    let view = split_at_axis(j.shape_of(x), axis as usize);
    gather_rows(j.t(x, d), view, &j.aux[start as usize..(start + n) as usize], out, false);
}

/// where, reverse sweep: the gradient goes to the branch that was taken.
pub(crate) fn vjp_where<T: Float>(mask: u32, a: u32, bb: u32, b: &mut Back<'_, T>) {
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

/// where, recorded rule.
pub(crate) fn vjp_recorded_where<'t, T: Float>(mask: Var<'t, T>, a: Var<'t, T>, b: Var<'t, T>, g: Var<'t, T>, out: &mut Contribs<'t, T>) {
    let zero = g.tape().constant(crate::Tensor::zeros(&g.shape()));
    out.push((a.id(), Var::where_(mask, g, zero)));
    out.push((b.id(), Var::where_(mask, zero, g)));
}

/// where, forward mode: the tangent of the branch taken.
pub(crate) fn jvp_where<T: Float>(mask: u32, a: u32, b: u32, j: &Jvp<'_, T>, d: usize, out: &mut [T]) {
    let (mv, ta, tb) = (j.x(mask), j.t(a, d), j.t(b, d));
    for i in 0..out.len() {
        out[i] = if mv[i] != T::ZERO { ta[i] } else { tb[i] };
    }
}

/// Calls `f(part, at, o, rows)` for each block of a concat's output: input `part` contributes
/// `rows` elements at output offset `at` from its own offset `o * rows`.
fn for_each_block(parts: &[usize], axis: u32, shape_of: impl Fn(u32) -> Shape, mut f: impl FnMut(u32, usize, usize, usize)) {
    let s0 = shape_of(parts[0] as u32);
    let outer: usize = s0[..axis as usize].iter().product();
    let inner: usize = s0[axis as usize + 1..].iter().product();
    let mut at = 0;
    for o in 0..outer {
        for &p in parts {
            let rows = shape_of(p as u32)[axis as usize] * inner;
            f(p as u32, at, o, rows);
            at += rows;
        }
    }
}

/// concat, reverse sweep: each input takes its block of the gradient.
pub(crate) fn vjp_concat<T: Float>(axis: u32, start: u32, n: u32, b: &mut Back<'_, T>) {
    let (g, aux, nodes) = (b.g, b.aux, b.nodes);
    let parts = &aux[start as usize..(start + n) as usize];
    for_each_block(parts, axis, |p| nodes[p as usize].shape.clone(), |p, at, o, rows| {
        if b.wants(p) {
            let gp = &mut b.grad(p)[o * rows..(o + 1) * rows];
            gp.iter_mut().zip(&g[at..at + rows]).for_each(|(d, &v)| *d += v);
        }
    });
}

/// concat, recorded rule: each input's block of the gradient, gathered along the axis.
pub(crate) fn vjp_recorded_concat<'t, T: Float>(axis: u32, parts: &[usize], g: Var<'t, T>, out: &mut Contribs<'t, T>) {
    let mut at = 0;
    for &p in parts {
        let n = Var::new(g.tape(), p as u32).shape()[axis as usize];
        let idx: Vec<usize> = (at..at + n).collect();
        out.push((p as u32, g.gather(axis as isize, &idx)));
        at += n;
    }
}

/// concat, forward mode: the inputs' tangents concatenated.
pub(crate) fn jvp_concat<T: Float>(axis: u32, start: u32, n: u32, j: &Jvp<'_, T>, d: usize, out: &mut [T]) {
    let parts = &j.aux[start as usize..(start + n) as usize];
    for_each_block(parts, axis, |p| j.shape_of(p).into(), |p, at, o, rows| {
        out[at..at + rows].copy_from_slice(&j.t(p, d)[o * rows..(o + 1) * rows]);
    });
}
