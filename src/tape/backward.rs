//! The reverse sweep and the gradients it yields.

use super::{Arena, Node, Tape, Var};
use crate::ops::{self, custom::CustomOp};
use crate::tensor::{Float, Tensor};
use std::ops::Index;

/// What an op's backward rule sees: the values of every node, the gradients of the nodes before it
/// (to accumulate into), and its own value and incoming gradient.
pub(crate) struct Back<'a, T: Float> {
    pub nodes: &'a [Node<T>],
    pub values: &'a [T],
    pub aux: &'a [usize],
    pub customs: &'a [Box<dyn CustomOp<T>>],
    grads: &'a mut [T],
    reached: &'a mut [bool],
    /// This node's value.
    pub y: &'a [T],
    /// The gradient of the output with respect to this node.
    pub g: &'a [T],
    /// This node's shape.
    pub shape: &'a [usize],
}

impl<'a, T: Float> Back<'a, T> {
    /// The value of input `id`.
    #[inline(always)]
    pub fn x(&self, id: u32) -> &'a [T] {
        let n = &self.nodes[id as usize];
        &self.values[n.offset..n.offset + n.len]
    }
    /// The shape of input `id`.
    #[inline(always)]
    pub fn shape_of(&self, id: u32) -> &'a [usize] {
        &self.nodes[id as usize].shape
    }
    /// Whether input `id` wants a gradient; a rule skips the work for inputs that do not.
    #[inline(always)]
    pub fn wants(&self, id: u32) -> bool {
        self.nodes[id as usize].requires_grad
    }
    /// The gradient buffer of input `id`, to add into (`+=`): the one contract of every rule.
    /// The sweep reuses the last pass's buffers without clearing them all first; a buffer is
    /// zeroed here when the sweep first reaches it.
    #[inline(always)]
    pub fn grad(&mut self, id: u32) -> &mut [T] {
        let n = &self.nodes[id as usize];
        let fresh = !std::mem::replace(&mut self.reached[id as usize], true);
        let g = &mut self.grads[n.offset..n.offset + n.len];
        if fresh {
            // One element (every op of a scalar chain) is cleared without a `memset` call.
            match g {
                [one] => *one = T::ZERO,
                _ => g.fill(T::ZERO),
            }
        }
        g
    }
    /// For the rules that meet large buffers: matmul's GEMMs, the convolution's input gradient,
    /// the elementwise-unary family's one shared loop and sum/mean's broadcast back. The gradient
    /// buffer of input `id` and the `beta` to write it with, 0 when the sweep reaches it first (its
    /// stale contents are overwritten rather than cleared and added to), else 1. A clearing pass
    /// over a weight's or an activation's gradient costs a measurable share of a step; every
    /// other rule adds into [`grad`](Self::grad).
    #[inline(always)]
    pub fn grad_or_overwrite(&mut self, id: u32) -> (&mut [T], T) {
        let n = &self.nodes[id as usize];
        let fresh = !std::mem::replace(&mut self.reached[id as usize], true);
        (&mut self.grads[n.offset..n.offset + n.len], if fresh { T::ZERO } else { T::ONE })
    }
}

/// Every gradient of one backward pass, indexable by any `Var` of the tape (leaf or intermediate):
/// `grads[x]` is the slice of d output / d x in `x`'s row-major layout. A value that the output does
/// not depend on has a gradient of zeros.
///
/// Its buffers go back to the tape when it drops, so the next pass allocates nothing.
pub struct Gradients<'t, T: Float> {
    tape: &'t Tape<T>,
    grads: Vec<T>,
    reached: Vec<bool>,
    nodes: usize,
}

impl<'t, T: Float> Gradients<'t, T> {
    #[track_caller]
    pub(crate) fn compute(root: Var<'t, T>) -> Self {
        let tape = root.tape();
        let (mut grads, mut reached) = std::mem::take(&mut *tape.pool.borrow_mut());
        let arena = tape.arena.borrow();
        let nodes = &arena.nodes[..];
        let r = root.id() as usize;
        let rn = &nodes[r];
        assert!(
            rn.len == 1,
            "backward: the output must have one element, but it has shape {:?} ({} elements); \
             reduce it first (for example with .sum() or .mean())",
            &rn.shape[..],
            rn.len
        );
        // Stale contents are fine: a buffer is zeroed (or overwritten) when first reached, and the
        // ones never reached are zeroed after the sweep.
        if grads.len() < rn.offset + 1 {
            grads.resize(rn.offset + 1, T::ZERO);
        } else {
            grads.truncate(rn.offset + 1);
        }
        reached.clear();
        reached.resize(r + 1, false);
        grads[rn.offset] = T::ONE;
        reached[r] = true;
        let anomaly = tape.anomaly_detection();
        for i in (0..=r).rev() {
            let node = &nodes[i];
            if !reached[i] || !node.requires_grad || !node.op.has_inputs() {
                continue;
            }
            let (lo, hi) = grads.split_at_mut(node.offset);
            let (reached_lo, _) = reached.split_at_mut(i);
            let mut back = Back {
                nodes,
                values: &arena.values,
                aux: &arena.aux,
                customs: &arena.customs,
                grads: lo,
                reached: reached_lo,
                y: &arena.values[node.offset..node.offset + node.len],
                g: &hi[..node.len],
                shape: &node.shape,
            };
            ops::vjp(&node.op, &mut back);
            if anomaly {
                check_finite(&arena, lo, reached_lo, node);
            }
        }
        for (n, _) in nodes[..r].iter().zip(&reached).filter(|(_, &seen)| !seen) {
            grads[n.offset..n.offset + n.len].fill(T::ZERO);
        }
        drop(arena);
        Gradients { tape, grads, reached, nodes: r + 1 }
    }

    /// d output / d `x` as a tensor of `x`'s shape.
    #[track_caller]
    pub fn wrt(&self, x: Var<'t, T>) -> Tensor<T> {
        Tensor::from_slice(&self[x], &x.shape())
    }

    pub(crate) fn len_nodes(&self) -> usize {
        self.nodes
    }

    pub(crate) fn reached_index(&self, i: usize) -> bool {
        self.reached.get(i).copied().unwrap_or(false)
    }

    pub(crate) fn slice_at(&self, offset: usize, len: usize) -> &[T] {
        self.grads.get(offset..offset + len).unwrap_or(&[])
    }

    /// Whether the sweep reached `x` (it lies on a path from a tracked leaf to the output).
    pub fn reached(&self, x: Var<'t, T>) -> bool {
        self.reached.get(x.index()).copied().unwrap_or(false)
    }
}

impl<'t, T: Float> Index<Var<'t, T>> for Gradients<'t, T> {
    type Output = [T];
    #[track_caller]
    fn index(&self, x: Var<'t, T>) -> &[T] {
        assert!(std::ptr::eq(x.tape(), self.tape), "Gradients: this Var belongs to another tape");
        let a = self.tape.arena.borrow();
        assert!(
            x.index() < self.nodes,
            "Gradients: Var #{} was recorded after the output (#{}), so it has no gradient from it",
            x.index(),
            self.nodes - 1
        );
        let n = &a.nodes[x.index()];
        let (off, len) = (n.offset, n.len);
        drop(a);
        if off + len <= self.grads.len() {
            &self.grads[off..off + len]
        } else {
            // The output's own value sits at the end of the buffer; nothing after it exists.
            &[]
        }
    }
}

impl<T: Float> Drop for Gradients<'_, T> {
    fn drop(&mut self) {
        if let Ok(mut pool) = self.tape.pool.try_borrow_mut() {
            *pool = (std::mem::take(&mut self.grads), std::mem::take(&mut self.reached));
        }
    }
}

/// Anomaly mode's backward check: the gradients just written to an op's inputs must be finite.
fn check_finite<T: Float>(arena: &Arena<T>, grads: &[T], reached: &[bool], node: &Node<T>) {
    let nodes = &arena.nodes;
    for &j in node.op.inputs(&arena.aux).iter().filter(|&&j| reached[j as usize]) {
        let n = &nodes[j as usize];
        if let Some(k) = grads[n.offset..n.offset + n.len].iter().position(|v| !v.is_finite()) {
            panic!(
                "anomaly: the backward of {} (output {:?}, recorded at {}) wrote a non-finite gradient ({}) \
                 at element {} of its input #{} of shape {:?}",
                arena.op_name(&node.op),
                &node.shape[..],
                node.location,
                grads[n.offset + k],
                k,
                j,
                &n.shape[..]
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{Tape, Tensor};

    /// The sweep reuses the last pass's buffers without clearing them: values it never reaches
    /// must still read as zero, and matmul's first write must not add to stale contents.
    #[test]
    fn reused_buffers_do_not_leak_stale_gradients() {
        let mut tape = Tape::<f64>::new();
        {
            let a = tape.var(Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[2, 2]));
            let b = tape.var(Tensor::from_vec(vec![5.0, 6.0, 7.0, 8.0], &[2, 2]));
            let g = (a * b * 3.0).sum().backward();
            assert_eq!(&g[a], &[15.0, 18.0, 21.0, 24.0]);
        }
        tape.clear();
        let x = tape.var(Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[2, 2]));
        let unused = tape.var(Tensor::from_vec(vec![9.0; 4], &[2, 2]));
        let w = tape.var(Tensor::from_vec(vec![1.0, 0.0, 0.0, 1.0], &[2, 2]));
        // y = sum(x w) + sum(x w): d/dw = 2 xᵀ 1, d/dx = 2 1 wᵀ (the second use accumulates).
        let y = x.matmul(w).sum() + x.matmul(w).sum();
        let g = y.backward();
        assert_eq!(&g[unused], &[0.0; 4]);
        assert!(!g.reached(unused));
        assert_eq!(&g[w], &[8.0, 8.0, 12.0, 12.0]);
        assert_eq!(&g[x], &[2.0, 2.0, 2.0, 2.0]);
    }

    /// Ops that overwrite their output reuse stale arena contents after `clear`; what they compute
    /// must not depend on it (nor may the zero-filled ops see it).
    #[test]
    fn a_reused_arena_gives_the_values_of_a_fresh_one() {
        fn record(tape: &Tape<f64>) -> Vec<f64> {
            let x = tape.var(Tensor::from_vec(vec![1.0, -2.0, 3.0, -4.0, 5.0, -6.0], &[2, 3]));
            let w = tape.var(Tensor::from_vec(vec![0.5, -1.0, 2.0], &[3, 1]));
            let b = tape.var(Tensor::from_vec(vec![0.25, -0.5, 1.0], &[3]));
            let h = (x + b).relu().clip(0.0, 4.0) * 2.0;
            let z = h.matmul(w).reshape(&[2]).sigmoid();
            let s = h.sum_axis(0, false);
            let y = z.sum() + s.sum();
            let g = y.backward();
            let mut out = z.value().data().to_vec();
            out.extend_from_slice(s.value().data());
            for v in [x, w, b] {
                out.extend_from_slice(&g[v]);
            }
            out
        }
        let fresh = record(&Tape::new());
        let mut tape = Tape::new();
        {
            let junk = tape.var(Tensor::from_vec(vec![f64::NAN; 64], &[64]));
            let _ = (junk * 3.0).exp().sum().backward();
        }
        tape.clear();
        assert_eq!(record(&tape), fresh);
    }
}
