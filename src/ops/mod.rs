//! Every op the tape can record, grouped by family. Each family's file holds, side by side, the
//! forward rule (a method on [`Var`](crate::Var)) and the derivative used by the reverse sweep.
//!
//! | file | ops |
//! | --- | --- |
//! | `unary.rs` | neg, square, sqrt, exp, log, log1p, abs, relu, sigmoid, tanh, softplus |
//! | `scalar.rs` | `x + c`, `x * c`, `c - x`, `c / x`, `x / c`, pow, clip |
//! | `binary.rs` | add, sub, mul, div, maximum, minimum (numpy broadcasting), operators |
//! | `reduce.rs` | sum, mean, max (all or along an axis, keepdim), logsumexp |
//! | `softmax.rs` | softmax, log_softmax |
//! | `linalg.rs` | matmul, transpose |
//! | `shape.rs` | reshape, broadcast_to, concat, gather, one_hot, where |
//! | `scatter.rs` | scatter_add (the adjoint of gather) |
//!
//! `higher_order.rs` writes every derivative again as recorded ops, so a gradient can itself be
//! differentiated (`Var::grad`).

mod binary;
// Kernels waiting for their op units (the open-core rewrite); wired as `Var` methods next.
#[allow(dead_code)]
mod conv;
mod higher_order;
pub(crate) mod linalg;
#[allow(dead_code)]
mod pool;
mod reduce;
mod scalar;
mod scatter;
mod shape;
mod softmax;
mod unary;

pub(crate) use binary::{for_each_broadcast, Binary};
pub(crate) use linalg::gemm;
pub(crate) use reduce::reduce_forward;
pub(crate) use reduce::Reduce;
pub(crate) use scalar::ScalarOp;
pub(crate) use unary::{sigmoid, Unary};

use crate::tape::Back;
use crate::tensor::Float;
use smallvec::{smallvec, SmallVec};

/// A recorded operation and the node indices of its inputs.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Op<T: Float> {
    /// A tracked input (a parameter or a value to differentiate with respect to).
    Leaf,
    /// An untracked input, or a value made under `no_grad` or by `detach`.
    Constant,
    Unary(Unary, u32),
    Scalar(ScalarOp, T, u32),
    Clip { lo: T, hi: T, x: u32 },
    Binary(Binary, u32, u32),
    Reduce { kind: Reduce, x: u32, axis: Option<u32> },
    LogSumExp { x: u32, axis: u32 },
    Softmax { x: u32, axis: u32 },
    LogSoftmax { x: u32, axis: u32 },
    Matmul(u32, u32),
    Transpose(u32),
    Reshape(u32),
    BroadcastTo(u32),
    /// Inputs listed in the tape's aux data at `start..start + len`.
    Concat { axis: u32, start: u32, len: u32 },
    /// Indices listed in the tape's aux data at `start..start + len`.
    Gather { x: u32, axis: u32, start: u32, len: u32 },
    Where { mask: u32, a: u32, b: u32 },
    /// Indices listed in the tape's aux data at `start..start + len`.
    Scatter { x: u32, axis: u32, start: u32, len: u32 },
}

impl<T: Float> Op<T> {
    /// The op's name as the inspector and error messages print it.
    pub fn name(&self) -> &'static str {
        match self {
            Op::Leaf => "leaf",
            Op::Constant => "constant",
            Op::Unary(u, _) => u.name(),
            Op::Scalar(s, _, _) => s.name(),
            Op::Clip { .. } => "clip",
            Op::Binary(b, _, _) => b.name(),
            Op::Reduce { kind, .. } => kind.name(),
            Op::LogSumExp { .. } => "logsumexp",
            Op::Softmax { .. } => "softmax",
            Op::LogSoftmax { .. } => "log_softmax",
            Op::Matmul(..) => "matmul",
            Op::Transpose(_) => "transpose",
            Op::Reshape(_) => "reshape",
            Op::BroadcastTo(_) => "broadcast_to",
            Op::Concat { .. } => "concat",
            Op::Gather { .. } => "gather",
            Op::Where { .. } => "where",
            Op::Scatter { .. } => "scatter_add",
        }
    }

    /// Whether the op has inputs a gradient could flow to.
    #[inline]
    pub fn has_inputs(&self) -> bool {
        !matches!(self, Op::Leaf | Op::Constant)
    }

    /// The node indices the op reads.
    pub fn inputs(&self, aux: &[usize]) -> SmallVec<[u32; 4]> {
        match *self {
            Op::Leaf | Op::Constant => SmallVec::new(),
            Op::Unary(_, x)
            | Op::Scalar(_, _, x)
            | Op::Clip { x, .. }
            | Op::Reduce { x, .. }
            | Op::LogSumExp { x, .. }
            | Op::Softmax { x, .. }
            | Op::LogSoftmax { x, .. }
            | Op::Transpose(x)
            | Op::Reshape(x)
            | Op::BroadcastTo(x)
            | Op::Gather { x, .. }
            | Op::Scatter { x, .. } => smallvec![x],
            Op::Binary(_, a, b) | Op::Matmul(a, b) => smallvec![a, b],
            Op::Where { mask, a, b } => smallvec![mask, a, b],
            Op::Concat { start, len, .. } => aux[start as usize..(start + len) as usize].iter().map(|&i| i as u32).collect(),
        }
    }
}

/// Dispatches one node's backward rule to its family.
#[inline]
pub(crate) fn backward<T: Float>(op: &Op<T>, b: &mut Back<'_, T>) {
    match *op {
        Op::Leaf | Op::Constant => {}
        Op::Unary(kind, x) => unary::backward(kind, x, b),
        Op::Scalar(kind, c, x) => scalar::backward(kind, c, x, b),
        Op::Clip { lo, hi, x } => scalar::backward_clip(lo, hi, x, b),
        Op::Binary(kind, l, r) => binary::backward(kind, l, r, b),
        Op::Reduce { kind, x, axis } => reduce::backward(kind, x, axis, b),
        Op::LogSumExp { x, axis } => reduce::backward_logsumexp(x, axis, b),
        Op::Softmax { x, axis } => softmax::backward_softmax(x, axis, b),
        Op::LogSoftmax { x, axis } => softmax::backward_log_softmax(x, axis, b),
        Op::Matmul(l, r) => linalg::backward_matmul(l, r, b),
        Op::Transpose(x) => linalg::backward_transpose(x, b),
        Op::Reshape(x) => shape::backward_reshape(x, b),
        Op::BroadcastTo(x) => shape::backward_broadcast_to(x, b),
        Op::Concat { axis, start, len } => shape::backward_concat(axis, start, len, b),
        Op::Gather { x, axis, start, len } => shape::backward_gather(x, axis, start, len, b),
        Op::Where { mask, a, b: r } => shape::backward_where(mask, a, r, b),
        Op::Scatter { x, axis, start, len } => scatter::backward_scatter(x, axis, start, len, b),
    }
}
