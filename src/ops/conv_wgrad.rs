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
#[cfg(target_arch = "x86_64")]
use crate::tensor::kernels::simd;

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
pub(super) fn transpose_rows<'a, T: Float>(n: usize, len: usize, row: impl Fn(usize) -> &'a [T], dst: &mut [T]) {
    const B: usize = 8;
    debug_assert_eq!(dst.len(), n * len);
    let (nb, lb) = (n / B * B, len / B * B);
    // The AVX tile kernel for f32, on a CPU whose SIMD level (`simd::level`, which requires
    // AVX2) has AVX.
    #[cfg(target_arch = "x86_64")]
    let avx = std::any::TypeId::of::<T>() == std::any::TypeId::of::<f32>() && simd::level() != simd::Level::Portable;
    for k0 in (0..nb).step_by(B) {
        let rows: [&[T]; B] = std::array::from_fn(|kk| row(k0 + kk));
        for t0 in (0..lb).step_by(B) {
            #[cfg(target_arch = "x86_64")]
            if avx {
                let d = &mut dst[t0 * n + k0..(t0 + B - 1) * n + k0 + B];
                let src: [&[T]; B] = std::array::from_fn(|kk| &rows[kk][t0..t0 + B]);
                // SAFETY: T is f32 (checked above), so the casts keep the element type; every
                // source holds 8 elements and `d` holds 8 rows of 8 at stride `n`; AVX is present.
                unsafe {
                    let src = src.map(|r| r.as_ptr().cast::<f32>());
                    avx::transpose8x8(src, d.as_mut_ptr().cast::<f32>(), n);
                }
                continue;
            }
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

#[cfg(target_arch = "x86_64")]
mod avx {
    use std::arch::x86_64::*;

    /// Writes the 8 x 8 block whose rows start at `src[k]` transposed: column `t` to `dst + t·ld`.
    ///
    /// # Safety
    /// AVX must be available, each `src[k]` must point at 8 readable floats and `dst + t·ld` at 8
    /// writable ones for every `t < 8`.
    #[target_feature(enable = "avx")]
    pub(super) unsafe fn transpose8x8(src: [*const f32; 8], dst: *mut f32, ld: usize) {
        let r = src.map(|p| _mm256_loadu_ps(p));
        // Pairs of rows interleaved, then quadruples: column t's rows 0-3 and 4-7 end up in the
        // low or high 128-bit halves, which the last step joins.
        let t = [
            _mm256_unpacklo_ps(r[0], r[1]), _mm256_unpackhi_ps(r[0], r[1]),
            _mm256_unpacklo_ps(r[2], r[3]), _mm256_unpackhi_ps(r[2], r[3]),
            _mm256_unpacklo_ps(r[4], r[5]), _mm256_unpackhi_ps(r[4], r[5]),
            _mm256_unpacklo_ps(r[6], r[7]), _mm256_unpackhi_ps(r[6], r[7]),
        ];
        let u = [
            _mm256_shuffle_ps::<0x44>(t[0], t[2]), _mm256_shuffle_ps::<0xEE>(t[0], t[2]),
            _mm256_shuffle_ps::<0x44>(t[1], t[3]), _mm256_shuffle_ps::<0xEE>(t[1], t[3]),
            _mm256_shuffle_ps::<0x44>(t[4], t[6]), _mm256_shuffle_ps::<0xEE>(t[4], t[6]),
            _mm256_shuffle_ps::<0x44>(t[5], t[7]), _mm256_shuffle_ps::<0xEE>(t[5], t[7]),
        ];
        for c in 0..4 {
            _mm256_storeu_ps(dst.add(c * ld), _mm256_permute2f128_ps::<0x20>(u[c], u[c + 4]));
            _mm256_storeu_ps(dst.add((c + 4) * ld), _mm256_permute2f128_ps::<0x31>(u[c], u[c + 4]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::transpose_rows;

    /// The f32 path (AVX tiles where present) and the f64 path (portable tiles) agree with the
    /// definition, on sizes with and without edges.
    #[test]
    fn transpose_rows_interleaves() {
        for (n, len) in [(32, 28), (8, 8), (13, 21), (3, 5)] {
            let src: Vec<f32> = (0..n * len).map(|i| i as f32).collect();
            let mut dst = vec![-1.0f32; n * len];
            transpose_rows(n, len, |k| &src[k * len..(k + 1) * len], &mut dst);
            let src64: Vec<f64> = src.iter().map(|&v| v as f64).collect();
            let mut dst64 = vec![-1.0f64; n * len];
            transpose_rows(n, len, |k| &src64[k * len..(k + 1) * len], &mut dst64);
            for k in 0..n {
                for t in 0..len {
                    assert_eq!(dst[t * n + k], src[k * len + t], "{n}x{len} at ({k}, {t})");
                    assert_eq!(dst64[t * n + k], src64[k * len + t], "{n}x{len} at ({k}, {t})");
                }
            }
        }
    }
}
