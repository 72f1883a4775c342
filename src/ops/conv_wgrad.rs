//! The weight gradient of a stride-1, dilation-1, one-group convolution without im2col: the
//! lowering is a view of the input in channels-last (HWC) order.
//!
//! With the input zero-padded to `Hp x Wp` (exactly the padded extent of a stride-1 convolution)
//! and stored channels last, the `KW·C_in` taps of kernel row `i` for the output position `(y, x)`
//! are contiguous: they start at pixel `(y + i)·Wp + x`. Counting output positions on the padded
//! width (`q = y·Wp + x`, `x < Wp`, the `Wp - OW` extra columns given a zero gradient), the taps of
//! row `i` at position `q` start at pixel `i·Wp + q`, so the lowered matrix of kernel row `i` is a
//! strided view of the padded input: rows `q` one pixel (`C_in` elements) apart, columns `(j, c)`
//! adjacent. Then per kernel row one GEMM, `dW_i[o, (j, c)] += Σ_q G[o, q] X_i[q, (j, c)]`, reads
//! both operands along their contiguous dimension, which is how matrixmultiply packs fastest; the
//! im2col route instead copied `C_in·KH·KW·OH·OW` elements per image and packed its transpose one
//! element at a time.

use super::conv::ConvGeom;
use super::conv_scratch::Scratch;
use crate::tensor::{gemm, Float};

/// Whether [`backward_weight`] handles this geometry: stride 1, dilation 1 and one group.
pub(super) fn applies(g: &ConvGeom) -> bool {
    g.stride == [1, 1] && g.dilation == [1, 1] && g.groups == 1
}

/// `dw += Σ_n gout_n colᵀ(x_n)` for a geometry that [`applies`], with the same layouts as
/// `conv_backward_weight`.
pub(super) fn backward_weight<T: Float>(g: &ConvGeom, x: &[T], gout: &[T], dw: &mut [T]) {
    debug_assert!(applies(g));
    let ([h, w], [kh, kw], [oh, ow], [ph, pw]) = (g.in_hw, g.k, g.out_hw, g.pad);
    let (ci, co) = (g.c_in, g.c_out);
    let (hp, wp) = (oh + kh - 1, ow + kw - 1);
    // The padded input, channels last, with `kw - 1` pixels more: the view of the last kernel row
    // reads that far past the last output position (into zero gradient columns).
    let mut xp = Scratch::<T>::zeroed((hp * wp + kw - 1) * ci);
    // The output gradient, channels last, on the padded width (zero in columns `ow..wp`).
    let depth = oh * wp;
    let mut gt = Scratch::<T>::zeroed(depth * co);
    // dW per kernel row: [kh][co][kw·ci].
    let row = kw * ci;
    let mut dwp = Scratch::<T>::zeroed(kh * co * row);
    let (xs, os) = (ci * h * w, co * oh * ow);
    for (xn, gn) in x.chunks_exact(xs).zip(gout.chunks_exact(os)) {
        // Only the interiors are written: the borders stay zero from above.
        for y in 0..h {
            let base = ((y + ph) * wp + pw) * ci;
            let plane_row = |c: usize| &xn[c * h * w + y * w..c * h * w + (y + 1) * w];
            transpose_rows(ci, w, plane_row, &mut xp[base..base + w * ci]);
        }
        for y in 0..oh {
            let base = y * wp * co;
            let plane_row = |o: usize| &gn[o * oh * ow + y * ow..o * oh * ow + (y + 1) * ow];
            transpose_rows(co, ow, plane_row, &mut gt[base..base + ow * co]);
        }
        for (i, dwi) in dwp.chunks_exact_mut(co * row).enumerate() {
            gemm(co, depth, row, &gt, (1, co), &xp[i * wp * ci..], (ci, 1), T::ONE, dwi);
        }
    }
    // dw[o][c][i][j] += dwp[i][o][j][c]
    for (o, dwo) in dw.chunks_exact_mut(ci * kh * kw).enumerate() {
        for (c, dwc) in dwo.chunks_exact_mut(kh * kw).enumerate() {
            for (t, d) in dwc.iter_mut().enumerate() {
                let (i, j) = (t / kw, t % kw);
                *d += dwp[(i * co + o) * row + j * ci + c];
            }
        }
    }
}

/// Interleaves `n` rows of `len` (`row(k)` gives row `k`) into `dst` as `len` groups of `n`:
/// `dst[t·n + k] = row(k)[t]`, by 8 x 8 tiles (contiguous reads and writes of 8; the compiler
/// turns a tile's transpose into register shuffles) and element by element at the edges.
#[inline]
fn transpose_rows<'a, T: Float>(n: usize, len: usize, row: impl Fn(usize) -> &'a [T], dst: &mut [T]) {
    const B: usize = 8;
    debug_assert_eq!(dst.len(), n * len);
    let (nb, lb) = (n / B * B, len / B * B);
    for k0 in (0..nb).step_by(B) {
        let rows: [&[T]; B] = std::array::from_fn(|kk| row(k0 + kk));
        for t0 in (0..lb).step_by(B) {
            let tile: [[T; B]; B] = std::array::from_fn(|kk| rows[kk][t0..t0 + B].try_into().expect("8 elements"));
            for tt in 0..B {
                let d = &mut dst[(t0 + tt) * n + k0..(t0 + tt) * n + k0 + B];
                for kk in 0..B {
                    d[kk] = tile[kk][tt];
                }
            }
        }
        for t in lb..len {
            for kk in 0..B {
                dst[t * n + k0 + kk] = rows[kk][t];
            }
        }
    }
    for k in nb..n {
        for (d, &v) in dst[k..].iter_mut().step_by(n).zip(row(k)) {
            *d = v;
        }
    }
}
