//! Differentiable gradients (PyTorch's `create_graph=True`).
//!
//! The reverse sweep in `tape/backward.rs` computes numbers. Here the same chain rule is run with
//! recorded ops instead, so every gradient is itself a `Var` on the tape and can be differentiated
//! again (Hessian-vector products, gradient penalties). Each rule below restates, as an expression
//! over `Var`s, the derivative written beside the op's forward rule in its family file; the
//! `gradgradcheck` property tests hold the two formulations to each other. First-order `backward`
//! does not go through this file and keeps its speed.

use crate::ops::{Binary, Op, Reduce, ScalarOp, Unary};
use crate::tape::Var;
use crate::tensor::shape::{reduced_shape, Shape};
use crate::tensor::{Float, Tensor};
use smallvec::SmallVec;

type Contribs<'t, T> = SmallVec<[(u32, Var<'t, T>); 3]>;

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
        let tape = self.tape();
        let r = self.index();
        assert!(self.len() == 1, "grad: the output must have one element, but it has shape {:?}", &self.shape()[..]);
        for w in wrt {
            self.same_tape(w, "grad");
        }
        let mut adj: Vec<Option<Var<'t, T>>> = vec![None; r + 1];
        adj[r] = Some(tape.constant(Tensor::ones(&self.shape())));
        for i in (0..=r).rev() {
            let Some(g) = adj[i] else { continue };
            let (op, requires_grad, aux) = {
                let a = tape.arena.borrow();
                let n = &a.nodes[i];
                let aux: Vec<usize> = match n.op {
                    Op::Gather { start, len, .. } | Op::Scatter { start, len, .. } | Op::Concat { start, len, .. } => {
                        a.aux[start as usize..(start + len) as usize].to_vec()
                    }
                    _ => Vec::new(),
                };
                (n.op, n.requires_grad, aux)
            };
            if !requires_grad || !op.has_inputs() {
                continue;
            }
            let y = Var::new(tape, i as u32);
            for (j, c) in rule(op, y, g, &aux) {
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

    /// Sums a broadcast gradient back to `shape` (the recorded form of the reduction the first-order
    /// sweep does inside `for_each_broadcast`).
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

    /// A constant with `f` applied to this value (masks and signs for piecewise derivatives).
    fn constant_map(self, f: impl Fn(T) -> T) -> Var<'t, T> {
        self.tape().constant(self.value().map(f))
    }
}

fn var<'t, T: Float>(like: Var<'t, T>, id: u32) -> Var<'t, T> {
    Var::new(like.tape(), id)
}

/// The keepdim shape of a reduction's output, to broadcast its gradient back over the input.
fn keep_shape(x_shape: &[usize], axis: Option<u32>) -> Shape {
    match axis {
        Some(a) => reduced_shape(x_shape, a as usize, true),
        None => smallvec::smallvec![1; x_shape.len()],
    }
}

/// The contributions `(input, dL/dinput)` of one node, given its output `y` and gradient `g`.
fn rule<'t, T: Float>(op: Op<T>, y: Var<'t, T>, g: Var<'t, T>, aux: &[usize]) -> Contribs<'t, T> {
    let one = T::ONE;
    let mut out = Contribs::new();
    match op {
        Op::Leaf | Op::Constant => {}
        Op::Unary(kind, xi) => {
            let x = var(y, xi);
            let d = match kind {
                Unary::Neg => -g,
                Unary::Square => g * x * T::from_f64(2.0),
                Unary::Sqrt => g * T::from_f64(0.5) / y,
                Unary::Exp => g * y,
                Unary::Log => g / x,
                Unary::Log1p => g / (x + one),
                Unary::Abs => g * x.constant_map(|v| if v > T::ZERO { one } else if v < T::ZERO { -one } else { T::ZERO }),
                Unary::Relu => g * x.constant_map(|v| if v > T::ZERO { one } else { T::ZERO }),
                Unary::Sigmoid => g * y * (-y + one),
                Unary::Tanh => g * (-y.square() + one),
                Unary::Softplus => g * x.sigmoid(),
            };
            out.push((xi, d));
        }
        Op::Scalar(kind, c, xi) => {
            let x = var(y, xi);
            let d = match kind {
                ScalarOp::AddScalar => g,
                ScalarOp::MulScalar => g * c,
                ScalarOp::DivScalar => g / c,
                ScalarOp::RSub => -g,
                ScalarOp::RDiv => g * (-c) / x.square(),
                ScalarOp::Pow if c == T::ZERO => g * T::ZERO,
                ScalarOp::Pow => g * x.powf(c - one) * c,
            };
            out.push((xi, d));
        }
        Op::Clip { lo, hi, x } => out.push((x, g * var(y, x).constant_map(|v| if v >= lo && v <= hi { one } else { T::ZERO }))),
        Op::Binary(kind, ai, bi) => {
            let (a, b) = (var(y, ai), var(y, bi));
            let (sa, sb) = (a.shape(), b.shape());
            let (da, db) = match kind {
                Binary::Add => (g, g),
                Binary::Sub => (g, -g),
                Binary::Mul => (g * b, g * a),
                Binary::Div => (g / b, -(g * a) / b.square()),
                Binary::Maximum | Binary::Minimum => {
                    let mask = tie_mask(kind, a, b, &y.shape());
                    let take_a = y.tape().constant(mask);
                    (g * take_a, g * (-take_a + one))
                }
            };
            out.push((ai, da.sum_to_shape(&sa)));
            out.push((bi, db.sum_to_shape(&sb)));
        }
        Op::Reduce { kind, x, axis } => {
            let xv = var(y, x);
            let xs = xv.shape();
            let keep = keep_shape(&xs, axis);
            let gb = g.reshape(&keep).broadcast_to(&xs);
            let d = match kind {
                Reduce::Sum => gb,
                Reduce::Mean => gb / T::from_f64((xs.iter().product::<usize>() / keep.iter().product::<usize>()) as f64),
                Reduce::Max => gb * y.tape().constant(max_share(&xv.value(), &y.value(), axis)),
            };
            out.push((x, d));
        }
        Op::LogSumExp { x, axis } => {
            let xv = var(y, x);
            let keep = keep_shape(&xv.shape(), Some(axis));
            out.push((x, g.reshape(&keep) * (xv - y.reshape(&keep)).exp()));
        }
        Op::Softmax { x, axis } => {
            let s = (g * y).sum_axis(axis as isize, true);
            out.push((x, y * (g - s)));
        }
        Op::LogSoftmax { x, axis } => out.push((x, g - y.exp() * g.sum_axis(axis as isize, true))),
        Op::Matmul(ai, bi) => {
            let (a, b) = (var(y, ai), var(y, bi));
            out.push((ai, g.matmul(b.t())));
            out.push((bi, a.t().matmul(g)));
        }
        Op::Transpose(x) => out.push((x, g.t())),
        Op::Reshape(x) => out.push((x, g.reshape(&var(y, x).shape()))),
        Op::BroadcastTo(x) => out.push((x, g.sum_to_shape(&var(y, x).shape()))),
        Op::Concat { axis, .. } => {
            let mut at = 0;
            for &p in aux {
                let n = var(y, p as u32).shape()[axis as usize];
                let idx: Vec<usize> = (at..at + n).collect();
                out.push((p as u32, g.gather(axis as isize, &idx)));
                at += n;
            }
        }
        Op::Gather { x, axis, .. } => {
            let size = var(y, x).shape()[axis as usize];
            out.push((x, g.scatter_add(axis as isize, aux, size)));
        }
        Op::Scatter { x, axis, .. } => out.push((x, g.gather(axis as isize, aux))),
        Op::Where { mask, a, b } => {
            let m = var(y, mask);
            let zero = y.tape().constant(Tensor::zeros(&y.shape()));
            out.push((a, Var::where_(m, g, zero)));
            out.push((b, Var::where_(m, zero, g)));
        }
    }
    out
}

/// 1 where `maximum`/`minimum` took its first argument (ties included), 0 elsewhere.
fn tie_mask<T: Float>(kind: Binary, a: Var<'_, T>, b: Var<'_, T>, out: &[usize]) -> Tensor<T> {
    let (av, bv) = (a.value(), b.value());
    let mut mask = Tensor::zeros(out);
    let m = mask.data_mut();
    crate::ops::binary::for_each_broadcast(av.shape(), bv.shape(), out, |i, ia, ib| {
        let (x, y) = (av.data()[ia], bv.data()[ib]);
        let first = if kind == Binary::Maximum { x >= y } else { x <= y };
        m[i] = if first { T::ONE } else { T::ZERO };
    });
    mask
}

/// Each element's share of a max reduction's gradient: 1 / (number of ties) where it equals the max.
fn max_share<T: Float>(x: &Tensor<T>, y: &Tensor<T>, axis: Option<u32>) -> Tensor<T> {
    let (outer, len, inner) = match axis {
        Some(a) => crate::tensor::shape::split_at_axis(x.shape(), a as usize),
        None => (1, x.len(), 1),
    };
    let mut share = Tensor::zeros(x.shape());
    let (xv, yv) = (x.data(), y.data());
    let s = share.data_mut();
    for o in 0..outer {
        for n in 0..inner {
            let k = o * inner + n;
            let idx = |i: usize| (o * len + i) * inner + n;
            let ties = (0..len).filter(|&i| xv[idx(i)] == yv[k]).count().max(1);
            for i in (0..len).filter(|&i| xv[idx(i)] == yv[k]) {
                s[idx(i)] = T::ONE / T::from_f64(ties as f64);
            }
        }
    }
    share
}
