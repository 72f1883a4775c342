//! Matrix product and transpose (2-D). The backward rules read transposed operands through strides,
//! never copying them: `dA = G Bᵀ` and `dB = Aᵀ G`, accumulated straight into the gradient buffers.

use crate::ops::{Contribs, Op};
use crate::tape::{Back, Jvp, Var};
use crate::tensor::kernels::gemm;
use crate::tensor::Float;

impl<'t, T: Float> Var<'t, T> {
    /// Matrix product of `[m, k]` and `[k, n]` (C = A B), through matrixmultiply's sgemm/dgemm.
    #[track_caller]
    pub fn matmul(self, other: Var<'t, T>) -> Var<'t, T> {
        self.same_tape(&other, "matmul");
        let (sa, sb) = (self.shape(), other.shape());
        if sa.len() != 2 || sb.len() != 2 || sa[1] != sb[0] {
            panic!(
                "matmul: shapes {:?} and {:?} are incompatible (need [m, k] and [k, n])",
                &sa[..],
                &sb[..]
            );
        }
        let (m, k, n) = (sa[0], sa[1], sb[1]);
        let (a, b) = (self.id(), other.id());
        let rg = self.requires_grad() || other.requires_grad();
        self.tape().record(Op::Matmul(a, b), smallvec::smallvec![m, n], rg, |f, out| {
            gemm(m, k, n, f.x(a), (k, 1), f.x(b), (n, 1), T::ZERO, out);
        })
    }

    /// Transpose of a 2-D value (`x.T`).
    #[track_caller]
    pub fn t(self) -> Var<'t, T> {
        let s = self.shape();
        assert!(s.len() == 2, "transpose: needs a 2-D value, got shape {:?}", &s[..]);
        let (r, c) = (s[0], s[1]);
        let x = self.id();
        self.tape().record(Op::Transpose(x), smallvec::smallvec![c, r], self.requires_grad(), |f, out| {
            transpose_into(r, c, f.x(x), out, false);
        })
    }

    /// Same as [`t`](Self::t).
    #[track_caller]
    pub fn transpose(self) -> Var<'t, T> {
        self.t()
    }
}

/// matmul, reverse sweep: `dA += G Bᵀ` (B read with swapped strides), `dB += Aᵀ G` (A read with
/// swapped strides). A gradient buffer the sweep reaches here first is overwritten by the GEMM
/// (beta = 0) instead of being cleared and added to: the one place outside the sweep that knows
/// about buffer reuse, because a cleared 1024 x 1024 buffer costs a measurable share of an MLP step.
pub(crate) fn vjp_matmul<T: Float>(a: u32, b: u32, bk: &mut Back<'_, T>) {
    let (av, bv, g) = (bk.x(a), bk.x(b), bk.g);
    let (m, k) = (bk.shape_of(a)[0], bk.shape_of(a)[1]);
    let n = bk.shape_of(b)[1];
    if bk.wants(a) {
        let (ga, beta) = bk.grad_or_overwrite(a);
        gemm(m, n, k, g, (n, 1), bv, (1, n), beta, ga);
    }
    if bk.wants(b) {
        let (gb, beta) = bk.grad_or_overwrite(b);
        gemm(k, m, n, av, (1, k), g, (n, 1), beta, gb);
    }
}

/// matmul, recorded rule: `dA = G Bᵀ`, `dB = Aᵀ G` as recorded products.
pub(crate) fn vjp_recorded_matmul<'t, T: Float>(a: Var<'t, T>, b: Var<'t, T>, g: Var<'t, T>, out: &mut Contribs<'t, T>) {
    out.push((a.id(), g.matmul(b.t())));
    out.push((b.id(), a.t().matmul(g)));
}

/// matmul, forward mode: `t(AB) = tA B + A tB`, skipping an operand whose tangent is zero (a data
/// batch, or weights when differentiating with respect to the input).
pub(crate) fn jvp_matmul<T: Float>(a: u32, b: u32, j: &Jvp<'_, T>, d: usize, out: &mut [T]) {
    let (m, k) = (j.shape_of(a)[0], j.shape_of(a)[1]);
    let n = j.shape_of(b)[1];
    let mut beta = T::ZERO;
    if j.has(a) {
        gemm(m, k, n, j.t(a, d), (k, 1), j.x(b), (n, 1), beta, out);
        beta = T::ONE;
    }
    if j.has(b) {
        gemm(m, k, n, j.x(a), (k, 1), j.t(b, d), (n, 1), beta, out);
    }
}

/// `out[j, i] (+)= x[i, j]` for an `r x c` matrix `x`: transpose's forward rule, and (as the
/// transpose is its own adjoint) its reverse and forward-mode rules too.
#[inline]
fn transpose_into<T: Float>(r: usize, c: usize, x: &[T], out: &mut [T], add: bool) {
    for i in 0..r {
        for j in 0..c {
            let v = x[i * c + j];
            if add {
                out[j * r + i] += v;
            } else {
                out[j * r + i] = v;
            }
        }
    }
}

/// transpose, reverse sweep: `dx += gᵀ`.
pub(crate) fn vjp_transpose<T: Float>(x: u32, bk: &mut Back<'_, T>) {
    let (g, s) = (bk.g, bk.shape);
    transpose_into(s[0], s[1], g, bk.grad(x), true);
}

/// transpose, recorded rule.
pub(crate) fn vjp_recorded_transpose<'t, T: Float>(x: Var<'t, T>, g: Var<'t, T>, out: &mut Contribs<'t, T>) {
    out.push((x.id(), g.t()));
}

/// transpose, forward mode.
pub(crate) fn jvp_transpose<T: Float>(x: u32, j: &Jvp<'_, T>, d: usize, out: &mut [T]) {
    let s = j.shape_of(x);
    transpose_into(s[0], s[1], j.t(x, d), out, false);
}
