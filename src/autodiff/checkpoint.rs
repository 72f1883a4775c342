//! Gradient checkpointing: trade compute for memory. A checkpointed segment keeps only its inputs
//! and its output on the tape; its intermediate values live on a scratch tape that is dropped
//! right after the forward pass, and the reverse sweep records the segment again to get them back.

use crate::ops::custom::CustomOp;
use crate::tape::{Tape, Var};
use crate::tensor::Float;

type Segment<T> = Box<dyn for<'s> Fn(&[Var<'s, T>]) -> Var<'s, T>>;

/// The segment as an op of the outer tape.
struct Checkpoint<T: Float> {
    segment: Segment<T>,
}

impl<T: Float> Checkpoint<T> {
    /// Records the segment on a scratch tape with `inputs` as leaves (tracked or not).
    fn replay<'s>(&self, tape: &'s Tape<T>, inputs: &[&[T]], shapes: &[&[usize]], tracked: bool) -> (Vec<Var<'s, T>>, Var<'s, T>) {
        let xs: Vec<Var<'s, T>> = inputs.iter().zip(shapes).map(|(x, s)| tape.leaf(s, x, tracked)).collect();
        let y = (self.segment)(&xs);
        (xs, y)
    }
}

impl<T: Float> CustomOp<T> for Checkpoint<T> {
    fn name(&self) -> &str {
        "checkpoint"
    }

    fn output_shape(&self, shapes: &[&[usize]]) -> Result<Vec<usize>, String> {
        // Only the segment knows: record it once on values of the right shape, without gradients.
        let tape = Tape::new();
        let xs: Vec<Var<'_, T>> = shapes.iter().map(|s| tape.leaf(s, &vec![T::ZERO; s.iter().product()], false)).collect();
        Ok(tape.no_grad(|| (self.segment)(&xs)).shape().to_vec())
    }

    fn forward(&self, inputs: &[&[T]], shapes: &[&[usize]], out: &mut [T]) {
        let tape = Tape::new();
        let (_, y) = self.replay(&tape, inputs, shapes, false);
        y.with_data(|v| out.copy_from_slice(v));
    }

    /// Records the segment again (tracked), then sweeps it from the output seeded with `g`: the
    /// same arithmetic as the unchecked pass, so the gradients are bit for bit the same.
    fn backward(&self, inputs: &[&[T]], shapes: &[&[usize]], _y: &[T], g: &[T], grads: &mut [Vec<T>]) {
        let tape = Tape::new();
        let (xs, y) = self.replay(&tape, inputs, shapes, true);
        let seed = tape.leaf(&y.shape(), g, false);
        let sweep = (y * seed).sum().backward();
        for (d, x) in grads.iter_mut().zip(&xs) {
            d.iter_mut().zip(&sweep[*x]).for_each(|(a, &b)| *a += b);
        }
    }

    /// Second order: the segment recorded again on the outer tape, and its recorded
    /// vector-Jacobian product with `g`, walking back through the new nodes only.
    fn backward_recorded<'t>(&self, inputs: &[Var<'t, T>], _y: Var<'t, T>, g: Var<'t, T>) -> Option<Vec<Var<'t, T>>> {
        let start = g.tape().len();
        let y = (self.segment)(inputs);
        Some(y.grad_seeded(g, inputs, start))
    }

    fn jvp(&self, inputs: &[&[T]], shapes: &[&[usize]], _y: &[T], tangents: &[&[T]], out: &mut [T]) -> bool {
        let tape = Tape::new();
        tape.forward_mode(1);
        let xs: Vec<Var<'_, T>> = inputs.iter().zip(shapes).map(|(x, s)| tape.leaf(s, x, false)).collect();
        for (x, t) in xs.iter().zip(tangents) {
            x.set_tangent(0, t);
        }
        let y = (self.segment)(&xs);
        out.copy_from_slice(y.tangent(0).data());
        true
    }
}

/// Runs `segment` on `inputs` without keeping its intermediate values on the tape: only the inputs
/// and the output stay, and the reverse sweep records the segment again to differentiate it
/// (PyTorch's `torch.utils.checkpoint`, JAX's `jax.checkpoint`). Gradients are bit for bit those
/// of the unchecked pass when the segment's inputs are used nowhere else. Forward mode and
/// `Var::grad` (which records the segment again on the tape) work through it too.
///
/// ```
/// use tapegrad::autodiff::checkpoint;
/// use tapegrad::{Tape, Tensor, Var};
/// fn block<'s>(v: &[Var<'s, f64>]) -> Var<'s, f64> {
///     v[0].matmul(v[1]).tanh().matmul(v[1]).tanh()
/// }
/// let tape = Tape::<f64>::new();
/// let x = tape.constant(Tensor::from_vec(vec![0.1, 0.2, 0.3, 0.4], &[2, 2]));
/// let w = tape.var(Tensor::from_vec(vec![0.5, -0.5, 0.25, 1.0], &[2, 2]));
/// let y = checkpoint(block, &[x, w]).sum();
/// let nodes = tape.len();                       // x, w, the checkpoint, the sum
/// let g = y.backward();
/// let plain = Tape::<f64>::new();
/// let (px, pw) = (plain.constant(x.value()), plain.var(w.value()));
/// let py = block(&[px, pw]).sum();
/// assert_eq!(&g[w], &py.backward()[pw]);       // bit for bit
/// assert!(nodes < plain.len());
/// ```
#[track_caller]
pub fn checkpoint<'t, T, F>(segment: F, inputs: &[Var<'t, T>]) -> Var<'t, T>
where
    T: Float,
    F: for<'s> Fn(&[Var<'s, T>]) -> Var<'s, T> + 'static,
{
    assert!(!inputs.is_empty(), "checkpoint: needs at least one input");
    inputs[0].tape().apply(Checkpoint { segment: Box::new(segment) }, inputs)
}
