//! Numeric kernels the tensor layer owns and the tape's ops run too, so a value computed on a
//! plain [`Tensor`](crate::Tensor) and one recorded on a tape agree bit for bit.

mod broadcast;
mod exp;
pub(crate) mod gemm;
mod reduce;
pub(crate) mod simd;

pub(crate) use broadcast::{for_each_broadcast, map2, Layout};
pub(crate) use exp::{exp_f32, exp_f32_nonpositive};
pub use gemm::gemm;
pub(crate) use reduce::{logsumexp_line, reduce_forward, view, Reduce};

use crate::tensor::Float;

/// `max(a, b)`, taking `a` on a tie (and when `b` is NaN), as the `maximum` op does.
#[inline(always)]
pub(crate) fn maximum<T: Float>(a: T, b: T) -> T {
    if a >= b {
        a
    } else {
        b
    }
}

/// `min(a, b)`, taking `a` on a tie, as the `minimum` op does.
#[inline(always)]
pub(crate) fn minimum<T: Float>(a: T, b: T) -> T {
    if a <= b {
        a
    } else {
        b
    }
}
