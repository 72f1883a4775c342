//! Matrix product (2-D, and batched with `torch.matmul`'s rules) and transpose (2-D). The backward
//! rules read transposed operands through strides, never copying them: `dA = G Bᵀ` and
//! `dB = Aᵀ G`, accumulated straight into the gradient buffers.
//!
//! Three op units: `Matmul`, the 2-D product; `Addmm`, a bias row plus a 2-D product (a dense
//! layer's `x W + b` as one node: the bias is written first and the product added onto it, saving
//! the separate addition's passes over the output and its gradient); and `BatchMatmul`, a
//! GEMM per batch element with the batch dimensions broadcast (each operand's batch element read
//! at its broadcast offset; the backward GEMMs add into it, which sums the gradient over the
//! broadcast batch dimensions). 1-D operands are reshaped around them.

use crate::ops::{Contribs, Op};
use crate::tape::{Back, Jvp, Var};
use crate::tensor::kernels::{for_each_broadcast, gemm};
use crate::tensor::shape::{broadcast_shapes, normalize_axis, Shape};
use crate::tensor::Float;

/// Panics with `matmul`'s shape error, at the caller's line.
#[track_caller]
fn incompatible(sa: &[usize], sb: &[usize]) -> ! {
    panic!("matmul: shapes {sa:?} and {sb:?} are incompatible (need [..., m, k] and [..., k, n] with batch dimensions that broadcast, or 1-D operands)")
}

/// The geometry of a batched product of operand shapes `sa = [..ba, m, k]`, `sb = [..bb, k, n]`:
/// `(ba, bb, m, k, n)`.
#[inline]
fn batch_dims<'s>(sa: &'s [usize], sb: &'s [usize]) -> (&'s [usize], &'s [usize], usize, usize, usize) {
    let (ra, rb) = (sa.len(), sb.len());
    (&sa[..ra - 2], &sb[..rb - 2], sa[ra - 2], sa[ra - 1], sb[rb - 1])
}

/// The last two axes swapped (`.mT`): the 2-D transpose, or `swapaxes(-1, -2)` for a batch.
#[track_caller]
fn mt<T: Float>(v: Var<'_, T>) -> Var<'_, T> {
    if v.shape().len() == 2 {
        v.t()
    } else {
        v.swapaxes(-1, -2)
    }
}

impl<'t, T: Float> Var<'t, T> {
    /// Matrix product with `torch.matmul`'s rules, through matrixmultiply's sgemm/dgemm:
    /// - `[m, k]` and `[k, n]` give `[m, n]` (`C = A B`);
    /// - operands of rank 3 and more are batches of matrices, `[..., m, k]` and `[..., k, n]`,
    ///   whose leading (batch) dimensions broadcast as numpy's: `[b, 1, m, k]` times `[c, k, n]`
    ///   gives `[b, c, m, n]`; a broadcast operand's gradient is summed over the batch dimensions
    ///   it was repeated along;
    /// - a 1-D operand is promoted to a matrix, `[k]` to `[1, k]` on the left and to `[k, 1]` on the
    ///   right, and the added axis is removed from the result (two 1-D operands give their dot
    ///   product, rank 0).
    ///
    /// ```
    /// use tapegrad::{Tape, Tensor};
    /// let tape = Tape::<f64>::new();
    /// let a = tape.var(Tensor::from_vec((0..12).map(f64::from).collect(), &[2, 2, 3]));
    /// let b = tape.var(Tensor::from_vec(vec![1.0, 0.0, -1.0], &[3]));
    /// let c = a.matmul(b);                       // [2, 2, 3] @ [3] -> [2, 2]
    /// assert_eq!(c.value().data(), &[-2.0, -2.0, -2.0, -2.0]);
    /// let w = tape.var(Tensor::from_vec(vec![1.0; 6], &[1, 3, 2]));
    /// let d = a.matmul(w);                       // batch [2] and [1] broadcast: [2, 2, 2]
    /// assert_eq!(&d.shape()[..], &[2, 2, 2]);
    /// let g = d.sum().backward();
    /// assert_eq!(&g[w], &[18.0, 18.0, 22.0, 22.0, 26.0, 26.0]);   // summed over the batch
    /// ```
    #[track_caller]
    pub fn matmul(self, other: Var<'t, T>) -> Var<'t, T> {
        self.same_tape(&other, "matmul");
        let (sa, sb) = (self.shape(), other.shape());
        if sa.len() != 2 || sb.len() != 2 {
            return self.matmul_batched(other);
        }
        if sa[1] != sb[0] {
            incompatible(&sa, &sb);
        }
        let (m, k, n) = (sa[0], sa[1], sb[1]);
        let (a, b) = (self.id(), other.id());
        let rg = self.requires_grad() || other.requires_grad();
        self.tape().record(Op::Matmul(a, b), smallvec::smallvec![m, n], rg, |f, out| {
            gemm(m, k, n, f.x(a), (k, 1), f.x(b), (n, 1), T::ZERO, out);
        })
    }

    /// `self + a @ b` for a bias `self` of shape `(n,)`, `a` of shape `(m, k)` and `b` of shape
    /// `(k, n)`: PyTorch's `bias.addmm(a, b)`, a dense layer's `x W + b` recorded as one op. Any
    /// other shapes are `self + a.matmul(b)` with broadcasting.
    ///
    /// ```
    /// use tapegrad::Tape;
    /// let tape = Tape::<f64>::new();
    /// let x = tape.leaf(&[2, 2], &[1.0, 2.0, 3.0, 4.0], true);
    /// let w = tape.leaf(&[2, 1], &[1.0, 1.0], true);
    /// let b = tape.leaf(&[1], &[0.5], true);
    /// let y = b.addmm(x, w);
    /// assert_eq!(y.value().data(), &[3.5, 7.5]);
    /// let g = y.sum().backward();
    /// assert_eq!((&g[b], &g[w]), (&[2.0][..], &[4.0, 6.0][..]));
    /// ```
    #[track_caller]
    pub fn addmm(self, a: Var<'t, T>, b: Var<'t, T>) -> Var<'t, T> {
        self.same_tape(&a, "addmm");
        self.same_tape(&b, "addmm");
        let (sc, sa, sb) = (self.shape(), a.shape(), b.shape());
        if sa.len() != 2 || sb.len() != 2 || sc.len() != 1 || sc[0] != sb[1] {
            return self + a.matmul(b);
        }
        if sa[1] != sb[0] {
            incompatible(&sa, &sb);
        }
        let (m, k, n) = (sa[0], sa[1], sb[1]);
        let (c, ai, bi) = (self.id(), a.id(), b.id());
        let rg = self.requires_grad() || a.requires_grad() || b.requires_grad();
        self.tape().record(Op::Addmm { bias: c, a: ai, b: bi }, smallvec::smallvec![m, n], rg, |f, out| {
            let bias = f.x(c);
            out.chunks_exact_mut(n).for_each(|row| row.copy_from_slice(bias));
            gemm(m, k, n, f.x(ai), (k, 1), f.x(bi), (n, 1), T::ONE, out);
        })
    }

    /// [`matmul`](Self::matmul) for operands that are not both 2-D.
    #[track_caller]
    fn matmul_batched(self, other: Var<'t, T>) -> Var<'t, T> {
        let (sa, sb) = (self.shape(), other.shape());
        if sa.is_empty() || sb.is_empty() {
            panic!("matmul: both operands need at least one axis, got shapes {:?} and {:?}", &sa[..], &sb[..]);
        }
        let a = if sa.len() == 1 { self.reshape(&[1, sa[0]]) } else { self };
        let b = if sb.len() == 1 { other.reshape(&[sb[0], 1]) } else { other };
        let (pa, pb) = (a.shape(), b.shape());
        let (ba, bb, m, k, n) = batch_dims(&pa, &pb);
        if k != pb[pb.len() - 2] {
            incompatible(&sa, &sb);
        }
        let Some(batch) = broadcast_shapes(ba, bb) else { incompatible(&sa, &sb) };
        let mut out_shape: Shape = batch.clone();
        out_shape.extend_from_slice(&[m, n]);
        let out = if pb.len() == 2 {
            // A batch times one matrix is one GEMM: the batch rows are contiguous.
            let rows: usize = pa[..pa.len() - 1].iter().product();
            a.reshape(&[rows, k]).matmul(b).reshape(&out_shape)
        } else {
            let (ai, bi) = (a.id(), b.id());
            let (ba, bb) = (Shape::from(ba), Shape::from(bb));
            let rg = a.requires_grad() || b.requires_grad();
            self.tape().record(Op::BatchMatmul(ai, bi), out_shape.clone(), rg, |f, out| {
                let (av, bv) = (f.x(ai), f.x(bi));
                let (sa, sb, so) = (m * k, k * n, m * n);
                for_each_broadcast(&ba, &bb, &batch, |i, ia, ib| {
                    let (x, y) = (&av[ia * sa..(ia + 1) * sa], &bv[ib * sb..(ib + 1) * sb]);
                    gemm(m, k, n, x, (k, 1), y, (n, 1), T::ZERO, &mut out[i * so..(i + 1) * so]);
                });
            })
        };
        if sa.len() == 1 || sb.len() == 1 {
            let r = out_shape.len();
            if sb.len() == 1 {
                out_shape.remove(r - 1);
            }
            if sa.len() == 1 {
                out_shape.remove(r - 2);
            }
            return out.reshape(&out_shape);
        }
        out
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

    /// Axes `a` and `b` swapped (PyTorch's `transpose(a, b)`; negative axes count from the end).
    /// On a 2-D value `transpose(0, 1)` is [`t`](Self::t), one transpose op; in any other case a
    /// [`permute`](Self::permute). The same as [`swapaxes`](Self::swapaxes) (NumPy's name).
    ///
    /// ```
    /// use tapegrad::{Tape, Tensor};
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(Tensor::from_vec((0..24).map(f64::from).collect(), &[2, 3, 4]));
    /// let y = x.transpose(0, -1);
    /// assert_eq!(y.shape().as_slice(), &[4, 3, 2]);
    /// assert_eq!(y.value().get(&[3, 1, 0]), x.value().get(&[0, 1, 3]));
    /// ```
    #[track_caller]
    pub fn transpose(self, a: isize, b: isize) -> Var<'t, T> {
        let shape = self.shape();
        let r = shape.len();
        let (Some(a), Some(b)) = (normalize_axis(a, r), normalize_axis(b, r)) else {
            panic!("transpose: axes ({a}, {b}) are out of range for shape {:?}", &shape[..]);
        };
        if r == 2 && a != b {
            self.t()
        } else {
            let mut order: Vec<usize> = (0..r).collect();
            order.swap(a, b);
            self.permute(&order)
        }
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

/// addmm, reverse sweep: `dbias += column sums of G`, then matmul's rule for `a` and `b`.
pub(crate) fn vjp_addmm<T: Float>(bias: u32, a: u32, b: u32, bk: &mut Back<'_, T>) {
    if bk.wants(bias) {
        let g = bk.g;
        let n = bk.shape_of(b)[1];
        let gb = bk.grad(bias);
        for row in g.chunks_exact(n) {
            gb.iter_mut().zip(row).for_each(|(s, &v)| *s += v);
        }
    }
    vjp_matmul(a, b, bk);
}

/// addmm, recorded rule: `dbias = sum over rows of G`, then matmul's.
pub(crate) fn vjp_recorded_addmm<'t, T: Float>(bias: Var<'t, T>, a: Var<'t, T>, b: Var<'t, T>, g: Var<'t, T>, out: &mut Contribs<'t, T>) {
    out.push((bias.id(), g.sum_axis(0, false)));
    vjp_recorded_matmul(a, b, g, out);
}

/// addmm, forward mode: `t(bias + AB) = t_bias (each row) + tA B + A tB`.
pub(crate) fn jvp_addmm<T: Float>(bias: u32, a: u32, b: u32, j: &Jvp<'_, T>, d: usize, out: &mut [T]) {
    if j.has(a) || j.has(b) {
        jvp_matmul(a, b, j, d, out);
    } else {
        out.fill(T::ZERO);
    }
    if j.has(bias) {
        let tb = j.t(bias, d);
        for row in out.chunks_exact_mut(tb.len()) {
            row.iter_mut().zip(tb).for_each(|(o, &t)| *o += t);
        }
    }
}

/// batched matmul, reverse sweep: per output batch element `i` reading operand batch elements
/// `ia` and `ib`, `dA[ia] += G[i] B[ib]ᵀ` and `dB[ib] += A[ia]ᵀ G[i]` (GEMMs with beta = 1, so a
/// batch element read by several outputs sums their gradients).
pub(crate) fn vjp_batch_matmul<T: Float>(a: u32, b: u32, bk: &mut Back<'_, T>) {
    let (av, bv, g) = (bk.x(a), bk.x(b), bk.g);
    let (sa, sb, so) = (bk.shape_of(a), bk.shape_of(b), bk.shape);
    let (ba, bb, m, k, n) = batch_dims(sa, sb);
    let batch = &so[..so.len() - 2];
    let (la, lb, lo) = (m * k, k * n, m * n);
    if bk.wants(a) {
        let ga = bk.grad(a);
        for_each_broadcast(ba, bb, batch, |i, ia, ib| {
            let (gi, y) = (&g[i * lo..(i + 1) * lo], &bv[ib * lb..(ib + 1) * lb]);
            gemm(m, n, k, gi, (n, 1), y, (1, n), T::ONE, &mut ga[ia * la..(ia + 1) * la]);
        });
    }
    if bk.wants(b) {
        let gb = bk.grad(b);
        for_each_broadcast(ba, bb, batch, |i, ia, ib| {
            let (x, gi) = (&av[ia * la..(ia + 1) * la], &g[i * lo..(i + 1) * lo]);
            gemm(k, m, n, x, (1, k), gi, (n, 1), T::ONE, &mut gb[ib * lb..(ib + 1) * lb]);
        });
    }
}

/// batched matmul, recorded rule: `dA = G Bᵀ`, `dB = Aᵀ G` as recorded (batched) products, each
/// summed back to its operand's shape.
pub(crate) fn vjp_recorded_batch_matmul<'t, T: Float>(a: Var<'t, T>, b: Var<'t, T>, g: Var<'t, T>, out: &mut Contribs<'t, T>) {
    out.push((a.id(), g.matmul(mt(b)).sum_to_shape(&a.shape())));
    out.push((b.id(), mt(a).matmul(g).sum_to_shape(&b.shape())));
}

/// batched matmul, forward mode: `t(AB)[i] = tA[ia] B[ib] + A[ia] tB[ib]`, skipping an operand
/// whose tangent is zero.
pub(crate) fn jvp_batch_matmul<T: Float>(a: u32, b: u32, j: &Jvp<'_, T>, d: usize, out: &mut [T]) {
    let (sa, sb, so) = (j.shape_of(a), j.shape_of(b), j.shape);
    let (ba, bb, m, k, n) = batch_dims(sa, sb);
    let (la, lb, lo) = (m * k, k * n, m * n);
    let (av, bv, ta, tb) = (j.x(a), j.x(b), j.t(a, d), j.t(b, d));
    let (has_a, has_b) = (j.has(a), j.has(b));
    for_each_broadcast(ba, bb, &so[..so.len() - 2], |i, ia, ib| {
        let o = &mut out[i * lo..(i + 1) * lo];
        let mut beta = T::ZERO;
        if has_a {
            gemm(m, k, n, &ta[ia * la..(ia + 1) * la], (k, 1), &bv[ib * lb..(ib + 1) * lb], (n, 1), beta, o);
            beta = T::ONE;
        }
        if has_b {
            gemm(m, k, n, &av[ia * la..(ia + 1) * la], (k, 1), &tb[ib * lb..(ib + 1) * lb], (n, 1), beta, o);
        }
    });
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
