//! The matrix-product kernel every 2-D product runs through: small products in direct loops,
//! larger ones through matrixmultiply's sgemm/dgemm.

use crate::tensor::Float;

/// Up to this many multiply-adds a direct loop beats matrixmultiply, whose packing buffers are
/// allocated and filled on every call (and whose threads wake up for it).
const SMALL_GEMM: usize = 32 * 32 * 32;

/// `C <- A B + beta C` for an `m x k` matrix `A` and a `k x n` matrix `B`, each read through its own
/// `(row, column)` strides in elements; `C` is contiguous row-major `m x n`. This is the one matrix
/// product of tapegrad: `matmul`, its gradients and `Tensor::matmul` all run it. A transposed
/// operand is the same buffer with its strides swapped.
///
/// ```
/// use tapegrad::tensor::gemm;
/// let a = [1.0, 2.0, 3.0, 4.0];      // [[1, 2], [3, 4]]
/// let b = [5.0, 6.0];                // a column
/// let mut c = [0.0; 2];
/// gemm(2, 2, 1, &a, (2, 1), &b, (1, 1), 0.0, &mut c);
/// assert_eq!(c, [17.0, 39.0]);
/// gemm(2, 2, 1, &a, (1, 2), &b, (1, 1), 0.0, &mut c); // Aᵀ b
/// assert_eq!(c, [23.0, 34.0]);
/// ```
#[allow(clippy::too_many_arguments)]
pub fn gemm<T: Float>(
    m: usize, k: usize, n: usize,
    a: &[T], (rsa, csa): (usize, usize),
    b: &[T], (rsb, csb): (usize, usize),
    beta: T, c: &mut [T],
) {
    assert!(c.len() == m * n, "gemm: C holds {} elements, not {m} x {n}", c.len());
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        scale(c, beta);
        return;
    }
    assert!(a.len() > (m - 1) * rsa + (k - 1) * csa, "gemm: A is too short for {m} x {k}");
    assert!(b.len() > (k - 1) * rsb + (n - 1) * csb, "gemm: B is too short for {k} x {n}");
    if m * n * k <= SMALL_GEMM || n == 1 {
        small_gemm(m, k, n, a, (rsa, csa), b, (rsb, csb), beta, c);
        return;
    }
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

/// `c <- beta c` (0 overwrites, so NaN in old contents does not survive, as BLAS does).
#[inline]
fn scale<T: Float>(c: &mut [T], beta: T) {
    if beta == T::ZERO {
        c.fill(T::ZERO);
    } else if beta != T::ONE {
        c.iter_mut().for_each(|v| *v = beta * *v);
    }
}

/// The direct kernel for small products, in the loop order that keeps the inner loop contiguous:
/// a column of `C` built from columns of `A`, dot products of `A`'s rows with `B`'s columns, rows
/// of `C` built from rows of `B`, or (for other strides) a plain triple loop.
#[allow(clippy::too_many_arguments)]
fn small_gemm<T: Float>(
    m: usize, k: usize, n: usize,
    a: &[T], (rsa, csa): (usize, usize),
    b: &[T], (rsb, csb): (usize, usize),
    beta: T, c: &mut [T],
) {
    if n == 1 && rsa == 1 && csa != 1 {
        // c = beta c + sum_p B[p] A[:, p], each column of A contiguous.
        scale(c, beta);
        for p in 0..k {
            let bp = b[p * rsb];
            c.iter_mut().zip(&a[p * csa..p * csa + m]).for_each(|(cv, &av)| *cv += bp * av);
        }
    } else if n <= 4 && !(csa == 1 && rsb == 1 && k >= 8) {
        match n {
            1 => narrow::<T, 1>(m, k, a, (rsa, csa), b, (rsb, csb), beta, c),
            2 => narrow::<T, 2>(m, k, a, (rsa, csa), b, (rsb, csb), beta, c),
            3 => narrow::<T, 3>(m, k, a, (rsa, csa), b, (rsb, csb), beta, c),
            _ => narrow::<T, 4>(m, k, a, (rsa, csa), b, (rsb, csb), beta, c),
        }
    } else if csa == 1 && rsb == 1 && (k >= 8 || csb != 1) {
        // C[i, j] = beta C[i, j] + A[i, :] . B[:, j], both contiguous.
        for (i, crow) in c.chunks_exact_mut(n).enumerate() {
            let arow = &a[i * rsa..i * rsa + k];
            for (j, cv) in crow.iter_mut().enumerate() {
                let s = dot(arow, &b[j * csb..j * csb + k]);
                *cv = if beta == T::ZERO { s } else { beta * *cv + s };
            }
        }
    } else if csb == 1 {
        // C[i, :] = beta C[i, :] + sum_p A[i, p] B[p, :], each row of B contiguous.
        for (i, crow) in c.chunks_exact_mut(n).enumerate() {
            scale(crow, beta);
            for p in 0..k {
                let aip = a[i * rsa + p * csa];
                crow.iter_mut().zip(&b[p * rsb..p * rsb + n]).for_each(|(cv, &bv)| *cv += aip * bv);
            }
        }
    } else {
        for (i, crow) in c.chunks_exact_mut(n).enumerate() {
            for (j, cv) in crow.iter_mut().enumerate() {
                let mut s = T::ZERO;
                for p in 0..k {
                    s += a[i * rsa + p * csa] * b[p * rsb + j * csb];
                }
                *cv = if beta == T::ZERO { s } else { beta * *cv + s };
            }
        }
    }
}

/// A product with `N <= 4` columns: rows of `C` are summed in registers over `k`, four rows at a
/// time so that four independent chains of additions overlap, then stored once (a row updated in
/// memory would wait on its own store every step).
#[inline]
#[allow(clippy::too_many_arguments)]
fn narrow<T: Float, const N: usize>(
    m: usize, k: usize,
    a: &[T], (rsa, csa): (usize, usize),
    b: &[T], (rsb, csb): (usize, usize),
    beta: T, c: &mut [T],
) {
    const R: usize = 4;
    let store = |crow: &mut [T], acc: &[T; N]| {
        for (cv, &s) in crow.iter_mut().zip(acc) {
            *cv = if beta == T::ZERO { s } else { beta * *cv + s };
        }
    };
    let full = m / R * R;
    for i0 in (0..full).step_by(R) {
        let mut acc = [[T::ZERO; N]; R];
        for p in 0..k {
            let mut bp = [T::ZERO; N];
            for (j, v) in bp.iter_mut().enumerate() {
                *v = b[p * rsb + j * csb];
            }
            for (r, row) in acc.iter_mut().enumerate() {
                let aip = a[(i0 + r) * rsa + p * csa];
                for (s, &bv) in row.iter_mut().zip(&bp) {
                    *s += aip * bv;
                }
            }
        }
        for (r, row) in acc.iter().enumerate() {
            store(&mut c[(i0 + r) * N..(i0 + r + 1) * N], row);
        }
    }
    for i in full..m {
        let mut acc = [T::ZERO; N];
        for p in 0..k {
            let aip = a[i * rsa + p * csa];
            for (j, s) in acc.iter_mut().enumerate() {
                *s += aip * b[p * rsb + j * csb];
            }
        }
        store(&mut c[i * N..(i + 1) * N], &acc);
    }
}

/// `x . y` with eight partial sums, so the compiler can keep them in one vector register.
#[inline]
fn dot<T: Float>(x: &[T], y: &[T]) -> T {
    let mut acc = [T::ZERO; 8];
    let (xc, yc) = (x.chunks_exact(8), y.chunks_exact(8));
    let tail: T = xc.remainder().iter().zip(yc.remainder()).fold(T::ZERO, |s, (&u, &v)| s + u * v);
    for (u, v) in xc.zip(yc) {
        for l in 0..8 {
            acc[l] += u[l] * v[l];
        }
    }
    acc.iter().fold(tail, |s, &v| s + v)
}

#[cfg(test)]
mod tests {
    use super::gemm;

    /// Every kernel path (column, dot, row, strided, matrixmultiply) against the textbook sum, for
    /// both layouts of each operand and three values of beta.
    #[test]
    fn gemm_matches_the_definition_for_every_layout() {
        let shapes = [(1, 1, 1), (3, 1, 5), (4, 9, 1), (1, 7, 6), (5, 3, 2), (32, 50, 1), (32, 1, 50), (50, 32, 1), (7, 13, 11), (32, 50, 3), (50, 32, 3), (3, 2, 4), (32, 3, 50), (6, 4, 7), (200, 9, 3), (9, 200, 3), (40, 40, 40)];
        for &(m, k, n) in &shapes {
            let av: Vec<f64> = (0..m * k).map(|i| ((i * 7 % 11) as f64 - 5.0) * 0.3).collect();
            let bv: Vec<f64> = (0..k * n).map(|i| ((i * 5 % 13) as f64 - 6.0) * 0.2).collect();
            let a_at = |i: usize, p: usize| av[i * k + p];
            let b_at = |p: usize, j: usize| bv[p * n + j];
            // Each operand stored row-major or column-major (the transpose), read through strides.
            let a_col: Vec<f64> = (0..k * m).map(|t| a_at(t % m, t / m)).collect();
            let b_col: Vec<f64> = (0..n * k).map(|t| b_at(t % k, t / k)).collect();
            for (a, sa) in [(&av, (k, 1)), (&a_col, (1, m))] {
                for (b, sb) in [(&bv, (n, 1)), (&b_col, (1, k))] {
                    for beta in [0.0, 1.0, 0.5] {
                        let c0: Vec<f64> = (0..m * n).map(|i| i as f64 * 0.1).collect();
                        let mut c = c0.clone();
                        gemm(m, k, n, a, sa, b, sb, beta, &mut c);
                        for i in 0..m {
                            for j in 0..n {
                                let want = beta * c0[i * n + j] + (0..k).map(|p| a_at(i, p) * b_at(p, j)).sum::<f64>();
                                let got = c[i * n + j];
                                assert!((got - want).abs() < 1e-9, "{m}x{k}x{n} strides {sa:?} {sb:?} beta {beta}: C[{i},{j}] = {got}, want {want}");
                            }
                        }
                    }
                }
            }
        }
    }
}
