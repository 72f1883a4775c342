//! Every op the tape can record, grouped by family. Each family's file holds, for each of its
//! ops, one *op unit*: the forward rule (a method on [`Var`](crate::Var)), the derivative, and the
//! derivative's three uses side by side:
//! - `vjp`: the reverse sweep's rule on numbers, adding into each input's gradient;
//! - `vjp_recorded`: the same rule as recorded ops, so `Var::grad` gives differentiable gradients;
//! - `jvp`: forward mode, the tangent of the output from the tangents of the inputs.
//!
//! Elementwise ops write their derivative once over [`Elem`](elem::Elem), and the three uses are
//! that one expression evaluated on numbers or on `Var`s; the other families state each
//! derivative once as a weight, a kernel or an adjoint op, and call it from all three.
//!
//! | file | ops |
//! | --- | --- |
//! | `unary.rs` | neg, square, sqrt, exp, log, log1p, abs, relu, sigmoid, tanh, softplus, sign, sin, cos, tan, erf, gelu, gelu_tanh, silu |
//! | `scalar.rs` | `x + c`, `x * c`, `c - x`, `c / x`, `x / c`, pow, clip |
//! | `binary.rs` | add, sub, mul, div, maximum, minimum, pow (numpy broadcasting), operators |
//! | `compare.rs` | gt, ge, lt, le, eq, ne (masks, no gradient) |
//! | `reduce.rs` | sum, mean, max (all or along an axis, keepdim), logsumexp |
//! | `softmax.rs` | softmax, log_softmax |
//! | `linalg.rs` | matmul (2-D, and batched/1-D as `torch.matmul`), transpose |
//! | `shape.rs` | reshape, broadcast_to, concat, gather, one_hot, where |
//! | `scatter.rs` | scatter_add (the adjoint of gather) |
//! | `convolution.rs` | conv1d, conv2d (kernels: `conv.rs`) |
//! | `pooling.rs` | max_pool1d/2d, avg_pool1d/2d, global_avg_pool1d/2d (kernels: `pool.rs`) |
//! | `derived.rs` | leaky_relu, elu, softplus_with, clamp_min/max, min, min_axis, sum/mean/max/min_axes, var, std, sum/mean/max/min/var/std_keepdim, tile, argmax/argmin (expressions of the above) |
//! | `layout.rs` | permute, swapaxes, squeeze, unsqueeze, flatten, stack, slice, narrow, flip, index_select, embedding, cumsum, pad, repeat (expressions of reshape/gather/concat/matmul) |
//! | `scan.rs` | cumprod (exact at zeros), and the linear recurrence its derivatives are made of |
//! | `custom.rs` | ops defined outside the crate through [`CustomOp`](crate::CustomOp) |
//!
//! `grad.rs` runs the recorded rules backward (`Var::grad`); the tape's `backward.rs` runs the
//! numeric ones; the tape's recording step runs the JVP rules when forward mode is on.

mod binary;
mod compare;
pub(crate) mod conv;
mod conv_lower;
mod conv_scratch;
mod conv_wgrad;
mod conv_winograd;
mod convolution;
mod derived;
pub(crate) mod custom;
pub(crate) mod elem;
mod grad;
mod layout;
mod linalg;
pub(crate) mod pool;
mod pooling;
mod reduce;
mod scalar;
mod scan;
mod scatter;
mod shape;
mod softmax;
mod unary;

pub(crate) use binary::Binary;
pub(crate) use compare::Cmp;
pub(crate) use reduce::Reduce;
pub(crate) use scalar::ScalarOp;
pub(crate) use unary::Unary;

use crate::tape::{Back, Jvp, Var};
use crate::tensor::Float;
use smallvec::{smallvec, SmallVec};

/// The contributions `(input node, dL/dinput)` of one node's recorded rule.
pub(crate) type Contribs<'t, T> = SmallVec<[(u32, Var<'t, T>); 3]>;

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
    Compare(Cmp, u32, u32),
    Reduce { kind: Reduce, x: u32, axis: Option<u32> },
    LogSumExp { x: u32, axis: u32 },
    Softmax { x: u32, axis: u32 },
    LogSoftmax { x: u32, axis: u32 },
    Matmul(u32, u32),
    /// `bias + a @ b` with a bias row (see [`Var::addmm`]).
    Addmm {
        /// The bias row `(n,)`.
        bias: u32,
        /// The left operand `(m, k)`.
        a: u32,
        /// The right operand `(k, n)`.
        b: u32,
    },
    /// `torch.matmul` of operands `[..., m, k]` and `[..., k, n]` with broadcast batch dimensions.
    BatchMatmul(u32, u32),
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
    /// A convolution product (`convolution.rs`): inputs `a`, `b` and `bias` (or `NO_BIAS`),
    /// geometry in the tape's aux data at `start`.
    Conv { kind: convolution::ConvKind, a: u32, b: u32, bias: u32, start: u32 },
    /// A pooling map (`pooling.rs`): geometry (and max pooling's argmax) in aux data at `start`.
    Pool { kind: pooling::PoolKind, x: u32, start: u32 },
    /// Running products along `axis` (`scan.rs`).
    Cumprod { x: u32, axis: u32 },
    /// The linear recurrence `r_i = a_i r_prev + u_i` along `axis` (`scan.rs`).
    Scan { a: u32, u: u32, axis: u32, reverse: bool },
    /// A user's op: `index` into the tape's custom ops, inputs in aux data at `start..start + len`.
    Custom { index: u32, start: u32, len: u32 },
}

impl<T: Float> Op<T> {
    /// The op's name as the inspector and error messages print it (custom ops: see
    /// [`Tape::op_name`](crate::Tape)).
    pub fn name(&self) -> &'static str {
        match self {
            Op::Leaf => "leaf",
            Op::Constant => "constant",
            Op::Unary(u, _) => u.name(),
            Op::Scalar(s, _, _) => s.name(),
            Op::Clip { .. } => "clip",
            Op::Binary(b, _, _) => b.name(),
            Op::Compare(c, _, _) => c.name(),
            Op::Reduce { kind, .. } => kind.name(),
            Op::LogSumExp { .. } => "logsumexp",
            Op::Softmax { .. } => "softmax",
            Op::LogSoftmax { .. } => "log_softmax",
            Op::Matmul(..) | Op::BatchMatmul(..) => "matmul",
            Op::Addmm { .. } => "addmm",
            Op::Transpose(_) => "transpose",
            Op::Reshape(_) => "reshape",
            Op::BroadcastTo(_) => "broadcast_to",
            Op::Concat { .. } => "concat",
            Op::Gather { .. } => "gather",
            Op::Where { .. } => "where",
            Op::Scatter { .. } => "scatter_add",
            Op::Conv { kind, .. } => kind.name(),
            Op::Pool { kind, .. } => kind.name(),
            Op::Cumprod { .. } => "cumprod",
            Op::Scan { .. } => "scan",
            Op::Custom { .. } => "custom",
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
            | Op::Scatter { x, .. }
            | Op::Pool { x, .. }
            | Op::Cumprod { x, .. } => smallvec![x],
            Op::Conv { a, b, bias, .. } if bias == convolution::NO_BIAS => smallvec![a, b],
            Op::Conv { a, b, bias, .. } => smallvec![a, b, bias],
            Op::Binary(_, a, b) | Op::Compare(_, a, b) | Op::Matmul(a, b) | Op::BatchMatmul(a, b) | Op::Scan { a, u: b, .. } => smallvec![a, b],
            Op::Where { mask, a, b } => smallvec![mask, a, b],
            Op::Addmm { bias, a, b } => smallvec![bias, a, b],
            Op::Concat { start, len, .. } | Op::Custom { start, len, .. } => {
                aux[start as usize..(start + len) as usize].iter().map(|&i| i as u32).collect()
            }
        }
    }
}

/// The reverse sweep's rule of one node: adds `dL/dinput` into each input's gradient.
#[inline]
pub(crate) fn vjp<T: Float>(op: &Op<T>, b: &mut Back<'_, T>) {
    match *op {
        Op::Leaf | Op::Constant | Op::Compare(..) => {}
        Op::Unary(kind, x) => unary::vjp(kind, x, b),
        Op::Scalar(kind, c, x) => scalar::vjp(kind, c, x, b),
        Op::Clip { lo, hi, x } => scalar::vjp_clip(lo, hi, x, b),
        Op::Binary(kind, l, r) => binary::vjp(kind, l, r, b),
        Op::Reduce { kind, x, axis } => reduce::vjp(kind, x, axis, b),
        Op::LogSumExp { x, axis } => reduce::vjp_logsumexp(x, axis, b),
        Op::Softmax { x, axis } => softmax::vjp_softmax(x, axis, b),
        Op::LogSoftmax { x, axis } => softmax::vjp_log_softmax(x, axis, b),
        Op::Matmul(l, r) => linalg::vjp_matmul(l, r, b),
        Op::Addmm { bias, a, b: r } => linalg::vjp_addmm(bias, a, r, b),
        Op::BatchMatmul(l, r) => linalg::vjp_batch_matmul(l, r, b),
        Op::Transpose(x) => linalg::vjp_transpose(x, b),
        Op::Reshape(x) => shape::vjp_reshape(x, b),
        Op::BroadcastTo(x) => shape::vjp_broadcast_to(x, b),
        Op::Concat { axis, start, len } => shape::vjp_concat(axis, start, len, b),
        Op::Gather { x, axis, start, len } => shape::vjp_gather(x, axis, start, len, b),
        Op::Where { mask, a, b: r } => shape::vjp_where(mask, a, r, b),
        Op::Scatter { x, axis, start, len } => scatter::vjp_scatter(x, axis, start, len, b),
        Op::Conv { kind, a, b: w, bias, start } => convolution::vjp(kind, a, w, bias, start, b),
        Op::Pool { kind, x, start } => pooling::vjp(kind, x, start, b),
        Op::Cumprod { x, axis } => scan::vjp_cumprod(x, axis, b),
        Op::Scan { a, u, axis, reverse } => scan::vjp_scan(a, u, axis, reverse, b),
        Op::Custom { index, start, len } => custom::vjp(index, start, len, b),
    }
}

/// The recorded rule of one node: `(input, dL/dinput)` as values on the tape, given the node's
/// output `y` and its gradient `g`. `aux` is the node's integer side data (indices, input lists).
pub(crate) fn vjp_recorded<'t, T: Float>(op: Op<T>, y: Var<'t, T>, g: Var<'t, T>, aux: &[usize]) -> Contribs<'t, T> {
    let v = |id: u32| Var::new(y.tape(), id);
    let mut out = Contribs::new();
    match op {
        Op::Leaf | Op::Constant | Op::Compare(..) => {}
        Op::Unary(kind, x) => unary::vjp_recorded(kind, v(x), y, g, &mut out),
        Op::Scalar(kind, c, x) => scalar::vjp_recorded(kind, c, v(x), g, &mut out),
        Op::Clip { lo, hi, x } => scalar::vjp_recorded_clip(lo, hi, v(x), g, &mut out),
        Op::Binary(kind, a, b) => binary::vjp_recorded(kind, v(a), v(b), g, &mut out),
        Op::Reduce { kind, x, axis } => reduce::vjp_recorded(kind, v(x), axis, y, g, &mut out),
        Op::LogSumExp { x, axis } => reduce::vjp_recorded_logsumexp(v(x), axis, y, g, &mut out),
        Op::Softmax { x, axis } => softmax::vjp_recorded_softmax(v(x), axis, y, g, &mut out),
        Op::LogSoftmax { x, axis } => softmax::vjp_recorded_log_softmax(v(x), axis, y, g, &mut out),
        Op::Matmul(a, b) => linalg::vjp_recorded_matmul(v(a), v(b), g, &mut out),
        Op::Addmm { bias, a, b } => linalg::vjp_recorded_addmm(v(bias), v(a), v(b), g, &mut out),
        Op::BatchMatmul(a, b) => linalg::vjp_recorded_batch_matmul(v(a), v(b), g, &mut out),
        Op::Transpose(x) => linalg::vjp_recorded_transpose(v(x), g, &mut out),
        Op::Reshape(x) => shape::vjp_recorded_reshape(v(x), g, &mut out),
        Op::BroadcastTo(x) => shape::vjp_recorded_broadcast_to(v(x), g, &mut out),
        Op::Concat { axis, .. } => shape::vjp_recorded_concat(axis, aux, g, &mut out),
        Op::Gather { x, axis, .. } => shape::vjp_recorded_gather(v(x), axis, aux, g, &mut out),
        Op::Where { mask, a, b } => shape::vjp_recorded_where(v(mask), v(a), v(b), g, &mut out),
        Op::Scatter { x, axis, .. } => scatter::vjp_recorded_scatter(v(x), axis, aux, g, &mut out),
        Op::Conv { kind, a, b, bias, start } => {
            let bias = (bias != convolution::NO_BIAS).then(|| v(bias));
            convolution::vjp_recorded(kind, v(a), v(b), bias, start, g, &mut out)
        }
        Op::Pool { kind, x, start } => pooling::vjp_recorded(kind, v(x), start, g, &mut out),
        Op::Cumprod { x, axis } => scan::vjp_recorded_cumprod(v(x), axis, y, g, &mut out),
        Op::Scan { a, u, axis, reverse } => scan::vjp_recorded_scan(v(a), v(u), axis, reverse, y, g, &mut out),
        Op::Custom { index, .. } => custom::vjp_recorded(index, aux, y, g, &mut out),
    }
    out
}

/// The forward-mode rule of one node: writes the tangent of its output in direction `d`.
#[inline]
pub(crate) fn jvp<T: Float>(op: &Op<T>, j: &Jvp<'_, T>, d: usize, out: &mut [T]) {
    match *op {
        Op::Leaf | Op::Constant | Op::Compare(..) => out.fill(T::ZERO),
        Op::Unary(kind, x) => unary::jvp(kind, x, j, d, out),
        Op::Scalar(kind, c, x) => scalar::jvp(kind, c, x, j, d, out),
        Op::Clip { lo, hi, x } => scalar::jvp_clip(lo, hi, x, j, d, out),
        Op::Binary(kind, a, b) => binary::jvp(kind, a, b, j, d, out),
        Op::Reduce { kind, x, axis } => reduce::jvp(kind, x, axis, j, d, out),
        Op::LogSumExp { x, axis } => reduce::jvp_logsumexp(x, axis, j, d, out),
        Op::Softmax { x, axis } => softmax::jvp_softmax(x, axis, j, d, out),
        Op::LogSoftmax { x, axis } => softmax::jvp_log_softmax(x, axis, j, d, out),
        Op::Matmul(a, b) => linalg::jvp_matmul(a, b, j, d, out),
        Op::Addmm { bias, a, b } => linalg::jvp_addmm(bias, a, b, j, d, out),
        Op::BatchMatmul(a, b) => linalg::jvp_batch_matmul(a, b, j, d, out),
        Op::Transpose(x) => linalg::jvp_transpose(x, j, d, out),
        Op::Reshape(x) => shape::jvp_reshape(x, j, d, out),
        Op::BroadcastTo(x) => shape::jvp_broadcast_to(x, j, d, out),
        Op::Concat { axis, start, len } => shape::jvp_concat(axis, start, len, j, d, out),
        Op::Gather { x, axis, start, len } => shape::jvp_gather(x, axis, start, len, j, d, out),
        Op::Where { mask, a, b } => shape::jvp_where(mask, a, b, j, d, out),
        Op::Scatter { x, axis, start, len } => scatter::jvp_scatter(x, axis, start, len, j, d, out),
        Op::Conv { kind, a, b, bias, start } => convolution::jvp(kind, a, b, bias, start, j, d, out),
        Op::Pool { kind, x, start } => pooling::jvp(kind, x, start, j, d, out),
        Op::Cumprod { x, axis } => scan::jvp_cumprod(x, axis, j, d, out),
        Op::Scan { a, u, axis, reverse } => scan::jvp_scan(a, u, axis, reverse, j, d, out),
        Op::Custom { index, start, len } => custom::jvp(index, start, len, j, d, out),
    }
}
