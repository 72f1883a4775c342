//! Matrix product and transpose (2-D). The backward rules read transposed operands through strides,
//! never copying them: `dA = G Bᵀ` and `dB = Aᵀ G`, accumulated straight into the gradient buffers.

use crate::ops::Op;
use crate::tape::{Back, Var};
use crate::tensor::Float;

/// Below this many multiply-adds a direct loop beats packing for the GEMM kernel.
const SMALL_GEMM: usize = 4096;

/// `C <- A B + beta C` for an `m x k` matrix `A` and a `k x n` matrix `B`, each read through its own
/// row and column strides; `C` is contiguous row-major `m x n`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn gemm<T: Float>(
    m: usize, k: usize, n: usize,
    a: &[T], (rsa, csa): (usize, usize),
    b: &[T], (rsb, csb): (usize, usize),
    beta: T, c: &mut [T],
) {
    debug_assert!(c.len() == m * n);
    if m == 0 || n == 0 {
        return;
    }
    if m * n * k <= SMALL_GEMM {
        for i in 0..m {
            for j in 0..n {
                let mut s = T::ZERO;
                for p in 0..k {
                    s += a[i * rsa + p * csa] * b[p * rsb + j * csb];
                }
                let cij = &mut c[i * n + j];
                *cij = if beta == T::ZERO { s } else { beta * *cij + s };
            }
        }
        return;
    }
    assert!(a.len() > (m - 1) * rsa + k.saturating_sub(1) * csa || k == 0);
    assert!(b.len() > k.saturating_sub(1) * rsb + (n - 1) * csb || k == 0);
    // SAFETY: the asserts above bound every element the kernel reads; c holds m * n elements.
    unsafe {
        T::gemm(
            m, k, n, T::ONE,
            a.as_ptr(), rsa as isize, csa as isize,
            b.as_ptr(), rsb as isize, csb as isize,
            beta, c.as_mut_ptr(), n as isize, 1,
        );
    }
}

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
            let xv = f.x(x);
            for i in 0..r {
                for j in 0..c {
                    // y[j, i] = x[i, j]
                    out[j * r + i] = xv[i * c + j];
                }
            }
        })
    }

    /// Same as [`t`](Self::t).
    #[track_caller]
    pub fn transpose(self) -> Var<'t, T> {
        self.t()
    }
}

/// C = A B: dA += G Bᵀ (B read with swapped strides), dB += Aᵀ G (A read with swapped strides).
pub(crate) fn backward_matmul<T: Float>(a: u32, b: u32, bk: &mut Back<'_, T>) {
    let (av, bv, g) = (bk.x(a), bk.x(b), bk.g);
    let (m, k) = (bk.shape_of(a)[0], bk.shape_of(a)[1]);
    let n = bk.shape_of(b)[1];
    if bk.wants(a) {
        gemm(m, n, k, g, (n, 1), bv, (1, n), T::ONE, bk.grad(a));
    }
    if bk.wants(b) {
        gemm(k, m, n, av, (1, k), g, (n, 1), T::ONE, bk.grad(b));
    }
}

/// y = xᵀ: dx[i, j] += g[j, i].
pub(crate) fn backward_transpose<T: Float>(x: u32, bk: &mut Back<'_, T>) {
    let g = bk.g;
    let (r, c) = (bk.shape_of(x)[0], bk.shape_of(x)[1]);
    let gx = bk.grad(x);
    for i in 0..r {
        for j in 0..c {
            gx[i * c + j] += g[j * r + i];
        }
    }
}
