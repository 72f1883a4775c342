//! Differentiable gradients (PyTorch's `create_graph=True`): the chain rule run backward with each
//! op unit's *recorded* rule, so every gradient is itself a `Var` on the tape and can be
//! differentiated again (Hessian-vector products, gradient penalties). First-order `backward`
//! does not come here and keeps its speed.

use crate::ops::{vjp_recorded, Op};
use crate::tape::Var;
use crate::tensor::{Float, Tensor};

impl<'t, T: Float> Var<'t, T> {
    /// The gradients of this one-element value with respect to `wrt`, recorded on the tape as
    /// differentiable values (`torch.autograd.grad(y, xs, create_graph=True)`). Differentiate them
    /// again for second derivatives.
    ///
    /// ```
    /// use tapegrad::{Tape, Tensor};
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(Tensor::scalar(3.0));
    /// let y = x * x * x;                 // y = x^3
    /// let dy = y.grad(&[x])[0];          // 3x^2 = 27, as a Var
    /// assert_eq!(dy.item(), 27.0);
    /// let d2y = dy.backward();           // d(3x^2)/dx = 6x = 18
    /// assert_eq!(d2y[x][0], 18.0);
    /// ```
    #[track_caller]
    pub fn grad(self, wrt: &[Var<'t, T>]) -> Vec<Var<'t, T>> {
        assert!(self.len() == 1, "grad: the output must have one element, but it has shape {:?}", &self.shape()[..]);
        let ones = self.tape().constant(Tensor::ones(&self.shape()));
        self.grad_seeded(ones, wrt, 0)
    }

    /// The recorded vector-Jacobian product `seedᵀ d self / d wrt` (differentiable in `seed` as well),
    /// walking back only through nodes from index `lowest` on: the nodes below are inputs whose
    /// own inputs the product does not reach (a checkpoint's re-recorded segment starts there).
    #[track_caller]
    pub(crate) fn grad_seeded(self, seed: Var<'t, T>, wrt: &[Var<'t, T>], lowest: usize) -> Vec<Var<'t, T>> {
        let tape = self.tape();
        let r = self.index();
        for w in wrt {
            self.same_tape(w, "grad");
        }
        let mut adj: Vec<Option<Var<'t, T>>> = vec![None; r + 1];
        adj[r] = Some(seed);
        for i in (lowest..=r).rev() {
            let Some(g) = adj[i] else { continue };
            let (op, requires_grad, aux) = {
                let a = tape.arena.borrow();
                let n = &a.nodes[i];
                let aux: Vec<usize> = match n.op {
                    Op::Gather { start, len, .. }
                    | Op::Scatter { start, len, .. }
                    | Op::Concat { start, len, .. }
                    | Op::Custom { start, len, .. } => a.aux[start as usize..(start + len) as usize].to_vec(),
                    _ => Vec::new(),
                };
                (n.op, n.requires_grad, aux)
            };
            if !requires_grad || !op.has_inputs() {
                continue;
            }
            let y = Var::new(tape, i as u32);
            for (j, c) in vjp_recorded(op, y, g, &aux) {
                if Var::new(tape, j).requires_grad() {
                    let j = j as usize;
                    adj[j] = Some(match adj[j] {
                        None => c,
                        Some(prev) => prev + c,
                    });
                }
            }
        }
        wrt.iter()
            .map(|w| adj.get(w.index()).copied().flatten().unwrap_or_else(|| tape.constant(Tensor::zeros(&w.shape()))))
            .collect()
    }

    /// Sums a broadcast gradient back to `shape`: the recorded form of the reduction the reverse
    /// sweep does in `binary.rs`'s `accumulate` and `broadcast_to`'s rule.
    #[track_caller]
    pub(crate) fn sum_to_shape(self, shape: &[usize]) -> Var<'t, T> {
        let mut v = self;
        let mut s = v.shape();
        while s.len() > shape.len() {
            v = v.sum_axis(0, false);
            s = v.shape();
        }
        for (d, &want) in shape.iter().enumerate() {
            if want == 1 && s[d] != 1 {
                v = v.sum_axis(d as isize, true);
            }
        }
        v
    }
}
