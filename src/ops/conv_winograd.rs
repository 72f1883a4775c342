//! A 3x3 convolution with stride 1 by Winograd's minimal filtering F(2x2, 3x3) (Lavin and Gray,
//! 2016): the same GEMMs through matrixmultiply, on 2.25 times fewer multiply-adds than im2col.
//!
//! The output is cut into 2x2 tiles; each reads a 4x4 patch `d` of the zero-padded input. With
//! `V = Bᵀ d B` per input channel and `U = G g Gᵀ` per kernel `g` (both 4x4), a tile's output is
//! `Y = Aᵀ (Σ_c U_c ⊙ V_c) A`. For each of the 16 positions `ξ` of the 4x4 transform the sum over
//! channels is one matrix product, `M_ξ[o, t] = Σ_c U_ξ[o, c] V_ξ[c, t]` over the tiles `t`, so a
//! convolution is 16 GEMMs of depth `C_in` (im2col's one GEMM has depth `9·C_in` and 4 times as
//! many columns). The transforms only add and halve: `B`, `G` and `A` hold 0, ±1 and ±1/2.
//!
//! The two backward products are the same machinery: the input gradient of a stride-1 convolution
//! is a forward convolution of the output gradient with the kernel flipped and its channel axes
//! swapped (padding `2 - p`), and the weight gradient is the adjoint of the forward product:
//! `dU_ξ = dM_ξ V_ξᵀ` with `dM = A dY Aᵀ` per tile, then `dg = Gᵀ dU G`.
//!
//! Rounding differs from im2col's (sums of transformed values; in f32 the results stay within
//! 1e-5 of the terms' scale of the exact values, checked in `conv_winograd_tests.rs`), so the
//! dispatch in `conv.rs` sends f32 convolutions here and keeps f64 on the exact-order im2col route
//! that the PyTorch fixtures check at 1e-10. The functions are generic: the tests run them in f64
//! against im2col. A non-finite input spreads to the whole tile it is in (`inf - inf` in a
//! transform gives NaN where the direct sum could give `inf`).

use super::conv::{ConvGeom, GEMM_THREADED};
use super::conv_scratch::Scratch;
use super::conv_wgrad::transpose_rows;
use crate::tensor::kernels::simd;
use crate::tensor::parallel::{cores, join, join_summed};
use crate::tensor::{gemm, Float};

/// Tiles per block of images: the block's 16 transformed matrices (`16 · C · tiles` values) stay
/// near the L2 cache while its GEMMs read them.
const BLOCK_TILES: usize = 512;

/// Whether the Winograd route serves this geometry: a 3x3 kernel, stride 1, dilation 1, one group,
/// padding of at most 2 on each side (so the input gradient's padding `2 - p` exists), output at
/// least 4 wide and high and 64 pixels, and at least 8 channels in and out (smaller planes or
/// fewer channels leave too little work per transform: the digits CNN's 4x4 planes ran 14% slower).
pub(super) fn applies(g: &ConvGeom) -> bool {
    let after = |d: usize| g.out_hw[d] + 2 - g.in_hw[d] - g.pad[d];
    g.dims == 2
        && g.k == [3, 3]
        && g.stride == [1, 1]
        && g.dilation == [1, 1]
        && g.groups == 1
        && g.pad.iter().all(|&p| p <= 2)
        && (0..2).all(|d| g.out_hw[d] + 2 >= g.in_hw[d] + g.pad[d] && after(d) <= 2)
        && g.out_hw.iter().all(|&s| s >= 4)
        && g.out_hw[0] * g.out_hw[1] >= 64
        && g.c_in >= 8
        && g.c_out >= 8
}

/// One Winograd convolution over a batch: `C_in` planes of `in_hw` per image, `pad` zeros before
/// each dimension, `C_out` planes of `out_hw` out, with the transformed kernel `u` (`[16][C_out][C_in]`).
#[derive(Clone, Copy, Debug)]
struct Plan {
    c_in: usize,
    c_out: usize,
    in_hw: [usize; 2],
    out_hw: [usize; 2],
    pad: [usize; 2],
    /// Tiles per image, down and across.
    tiles: [usize; 2],
}

impl Plan {
    fn new(c_in: usize, c_out: usize, in_hw: [usize; 2], out_hw: [usize; 2], pad: [usize; 2]) -> Self {
        Plan { c_in, c_out, in_hw, out_hw, pad, tiles: [out_hw[0].div_ceil(2), out_hw[1].div_ceil(2)] }
    }

    /// Tile slots per image: the tile rows are `tiles[1] + 1` slots apart (see [`transform_input`]),
    /// the last slot of each row a spare that the output transforms skip.
    fn per_image(&self) -> usize {
        self.tiles[0] * (self.tiles[1] + 1)
    }

    /// Images per block (at least one): up to [`BLOCK_TILES`] slots, and few enough that
    /// matrixmultiply runs the block's GEMMs on one thread (the batch's halves already run on two).
    fn block(&self) -> usize {
        let one_thread = (GEMM_THREADED - 1).saturating_sub(self.c_in * self.c_out) / (self.c_in + self.c_out);
        (BLOCK_TILES.min(one_thread) / self.per_image()).max(1)
    }

    /// Whether the batch runs in two halves on two threads: when there are two images, two cores,
    /// and one image's GEMMs are too small for matrixmultiply to thread them (it would put four
    /// threads on two cores).
    fn split(&self, n: usize) -> bool {
        let slots = self.block() * self.per_image();
        n >= 2 && cores() >= 2 && (self.c_in + self.c_out) * slots + self.c_in * self.c_out < GEMM_THREADED
    }
}

/// `out (+)= conv(x, w) (+ bias)` for a geometry that [`applies`] (layouts as `conv_forward`).
pub(super) fn forward<T: Float>(g: &ConvGeom, x: &[T], w: &[T], bias: Option<&[T]>, out: &mut [T], add: bool) {
    let plan = Plan::new(g.c_in, g.c_out, g.in_hw, g.out_hw, g.pad);
    let u = transform_kernel(w, g.c_out, g.c_in, false);
    convolve(&plan, g.n, x, &u, bias, out, add);
}

/// `dx (+)= convᵀ(gout, w)`: a forward convolution of `gout` with the kernel flipped and its
/// channel axes swapped, padded `2 - p` before each dimension.
pub(super) fn backward_input<T: Float>(g: &ConvGeom, gout: &[T], w: &[T], dx: &mut [T], overwrite: bool) {
    let pad = [2 - g.pad[0], 2 - g.pad[1]];
    let plan = Plan::new(g.c_out, g.c_in, g.out_hw, g.in_hw, pad);
    let u = transform_kernel(w, g.c_out, g.c_in, true);
    convolve(&plan, g.n, gout, &u, None, dx, !overwrite);
}

/// The batch in two halves on two threads (each half's GEMMs are single-threaded: too small for
/// matrixmultiply to thread), then block by block.
fn convolve<T: Float>(p: &Plan, n: usize, x: &[T], u: &[T], bias: Option<&[T]>, out: &mut [T], add: bool) {
    let (xs, os) = (p.c_in * p.in_hw[0] * p.in_hw[1], p.c_out * p.out_hw[0] * p.out_hw[1]);
    let run = |x: &[T], out: &mut [T]| {
        let nb = p.block();
        let mut v = Scratch::<T>::take(16 * p.c_in * nb * p.per_image());
        let mut m = Scratch::<T>::take(16 * p.c_out * nb * p.per_image());
        for (xb, ob) in x.chunks(nb * xs).zip(out.chunks_mut(nb * os)) {
            let t = xb.len() / xs * p.per_image();
            transform_input(p, xb, &mut v[..16 * p.c_in * t]);
            for xi in 0..16 {
                let (vx, mx) = (&v[xi * p.c_in * t..], &mut m[xi * p.c_out * t..(xi + 1) * p.c_out * t]);
                gemm(p.c_out, p.c_in, t, &u[xi * p.c_out * p.c_in..], (p.c_in, 1), vx, (t, 1), T::ZERO, mx);
            }
            transform_output(p, &m[..16 * p.c_out * t], bias, ob, add);
        }
    };
    if !p.split(n) {
        return run(x, out);
    }
    let half = n / 2;
    let (x1, x2) = x.split_at(half * xs);
    let (o1, o2) = out.split_at_mut(half * os);
    join(|| run(x1, o1), || run(x2, o2));
}

/// `dw += Σ_n gout_n colᵀ(x_n)` for a geometry that [`applies`]: per block, `dU_ξ += dM_ξ V_ξᵀ`;
/// at the end `dw += Gᵀ dU G` per kernel.
pub(super) fn backward_weight<T: Float>(g: &ConvGeom, x: &[T], gout: &[T], dw: &mut [T]) {
    let p = Plan::new(g.c_in, g.c_out, g.in_hw, g.out_hw, g.pad);
    let (xs, os) = (p.c_in * p.in_hw[0] * p.in_hw[1], p.c_out * p.out_hw[0] * p.out_hw[1]);
    let run = |x: &[T], gout: &[T], du: &mut [T]| {
        let nb = p.block();
        let mut v = Scratch::<T>::take(16 * p.c_in * nb * p.per_image());
        let mut dm = Scratch::<T>::take(16 * p.c_out * nb * p.per_image());
        // One ξ's dM and V slot-major ([t][C]), the layout matrixmultiply packs by whole rows.
        let mut dmt = Scratch::<T>::take(p.c_out * nb * p.per_image());
        let mut vt = Scratch::<T>::take(p.c_in * nb * p.per_image());
        for (xb, gb) in x.chunks(nb * xs).zip(gout.chunks(nb * os)) {
            let t = xb.len() / xs * p.per_image();
            transform_input(&p, xb, &mut v[..16 * p.c_in * t]);
            output_adjoint(&p, gb, &mut dm[..16 * p.c_out * t]);
            for (xi, dux) in du.chunks_exact_mut(p.c_out * p.c_in).enumerate() {
                let (vx, mx) = (&v[xi * p.c_in * t..], &dm[xi * p.c_out * t..]);
                transpose_rows(p.c_out, t, |o| &mx[o * t..(o + 1) * t], &mut dmt[..p.c_out * t]);
                transpose_rows(p.c_in, t, |c| &vx[c * t..(c + 1) * t], &mut vt[..p.c_in * t]);
                // The spare slots (the last of each row of tiles) hold no tile.
                for spare in vt[p.tiles[1] * p.c_in..p.c_in * t].chunks_mut((p.tiles[1] + 1) * p.c_in) {
                    spare[..p.c_in].fill(T::ZERO);
                }
                gemm(p.c_out, t, p.c_in, &dmt, (1, p.c_out), &vt, (p.c_in, 1), T::ONE, dux);
            }
        }
    };
    let mut du = Scratch::<T>::zeroed(16 * p.c_out * p.c_in);
    if !p.split(g.n) {
        run(x, gout, &mut du);
    } else {
        let half = g.n / 2;
        let mut other = Scratch::<T>::zeroed(du.len());
        let ((x1, x2), (g1, g2)) = (x.split_at(half * xs), gout.split_at(half * os));
        join_summed(&mut du, &mut other, |d| run(x1, g1, d), |d| run(x2, g2, d));
    }
    kernel_adjoint(&du, p.c_out, p.c_in, dw);
}

/// `U_ξ[o][c] = (G g G^T)_ξ` for every kernel `g = w[o][c]` (`w` is `[co][ci][3][3]`). With `flip`
/// the kernel of the input gradient: `[ci][co]` from `w[o][c]` turned by 180 degrees.
fn transform_kernel<T: Float>(w: &[T], co: usize, ci: usize, flip: bool) -> Scratch<T> {
    let (rows, cols) = if flip { (ci, co) } else { (co, ci) };
    let mut u = Scratch::<T>::take(16 * co * ci);
    let half = T::from_f64(0.5);
    // G applied to a 3-vector: (g0, (g0 + g1 + g2)/2, (g0 - g1 + g2)/2, g2).
    let g4 = |a: T, b: T, c: T| [a, half * (a + b + c), half * (a - b + c), c];
    for o in 0..co {
        for c in 0..ci {
            let k = &w[(o * ci + c) * 9..(o * ci + c + 1) * 9];
            let at = |r: usize, s: usize| if flip { k[(2 - r) * 3 + 2 - s] } else { k[r * 3 + s] };
            // G g: 4 rows of 3, then (G g) G^T: 4 x 4.
            let gg: [[T; 3]; 4] = {
                let cols3: [[T; 4]; 3] = std::array::from_fn(|s| g4(at(0, s), at(1, s), at(2, s)));
                std::array::from_fn(|r| [cols3[0][r], cols3[1][r], cols3[2][r]])
            };
            let (row, col) = if flip { (c, o) } else { (o, c) };
            for (r, ggr) in gg.iter().enumerate() {
                for (s, val) in g4(ggr[0], ggr[1], ggr[2]).into_iter().enumerate() {
                    u[((r * 4 + s) * rows + row) * cols + col] = val;
                }
            }
        }
    }
    u
}

/// `dw[o][c] += G^T dU[o][c] G` (the adjoint of [`transform_kernel`] without flip); `du` is
/// `[16][co][ci]`.
fn kernel_adjoint<T: Float>(du: &[T], co: usize, ci: usize, dw: &mut [T]) {
    let half = T::from_f64(0.5);
    // G^T applied to a 4-vector: (u0 + (u1 + u2)/2, (u1 - u2)/2, (u1 + u2)/2 + u3).
    let gt = |u: [T; 4]| [u[0] + half * (u[1] + u[2]), half * (u[1] - u[2]), half * (u[1] + u[2]) + u[3]];
    for o in 0..co {
        for c in 0..ci {
            let at = |xi: usize| du[(xi * co + o) * ci + c];
            let rows: [[T; 4]; 3] = {
                let cols: [[T; 3]; 4] = std::array::from_fn(|s| gt(std::array::from_fn(|r| at(r * 4 + s))));
                std::array::from_fn(|r| std::array::from_fn(|s| cols[s][r]))
            };
            let k = &mut dw[(o * ci + c) * 9..(o * ci + c + 1) * 9];
            for (r, row) in rows.into_iter().enumerate() {
                for (s, val) in gt(row).into_iter().enumerate() {
                    k[r * 3 + s] += val;
                }
            }
        }
    }
}

/// A row of input that starts at padded column `x0` (0, 1 or 2), split into the padded row's even
/// and odd columns (`even[m]` is padded column `2m`); columns outside the row are left as they are.
#[inline(always)]
fn split_columns<T: Float>(row: &[T], x0: usize, even: &mut [T], odd: &mut [T]) {
    // The first input column on an even padded column, and where its pair lands.
    let (lead, m0) = if x0 % 2 == 1 { (1, x0.div_ceil(2)) } else { (0, x0 / 2) };
    if lead == 1 {
        if let (Some(&v), Some(d)) = (row.first(), odd.get_mut(x0 / 2)) {
            *d = v;
        }
    }
    let body = row.get(lead..).unwrap_or(&[]);
    let pairs = body.chunks_exact(2);
    let tail = pairs.remainder().first().copied();
    pairs.zip(even[m0..].iter_mut().zip(odd[m0..].iter_mut())).for_each(|(q, (e, o))| (*e, *o) = (q[0], q[1]));
    if let (Some(v), Some(e)) = (tail, even.get_mut(m0 + body.len() / 2)) {
        *e = v;
    }
}

/// `out[j] = f(a[j], b[j])`, a loop that vectorises.
#[inline(always)]
fn map2<T: Float>(out: &mut [T], a: &[T], b: &[T], f: impl Fn(T, T) -> T) {
    out.iter_mut().zip(a).zip(b).for_each(|((o, &x), &y)| *o = f(x, y));
}

/// `out[j] = f(a[j], b[j], c[j])`.
#[inline(always)]
fn map3<T: Float>(out: &mut [T], a: &[T], b: &[T], c: &[T], f: impl Fn(T, T, T) -> T) {
    out.iter_mut().zip(a).zip(b).zip(c).for_each(|(((o, &x), &y), &z)| *o = f(x, y, z));
}

/// The 2-to-4 transform `A y = (y0, y0 + y1, y0 - y1, -y1)` on four arrays at once.
#[inline(always)]
fn a4<T: Float>(out: [&mut [T]; 4], y0: &[T], y1: &[T]) {
    let [o0, o1, o2, o3] = out;
    o0.copy_from_slice(y0);
    map2(o1, y0, y1, |a, b| a + b);
    map2(o2, y0, y1, |a, b| a - b);
    map2(o3, y0, y1, |_, b| T::ZERO - b);
}

/// The `len` values of entries `xi` (increasing) of the matrices in `v` (`stride` apart), from
/// slot `base`: disjoint, so written at once (`stride = len`, `base = 0` gives consecutive
/// slices; `[s, 4 + s, 8 + s, 12 + s]`, one column of the 4x4 transform).
#[inline(always)]
fn entries<T, const N: usize>(v: &mut [T], stride: usize, base: usize, len: usize, xi: [usize; N]) -> [&mut [T]; N] {
    let mut rest = v;
    let mut at = 0;
    std::array::from_fn(|i| {
        let (_, tail) = std::mem::take(&mut rest).split_at_mut(xi[i] * stride + base - at);
        let (head, tail) = tail.split_at_mut(len);
        at = xi[i] * stride + base + len;
        rest = tail;
        head
    })
}

/// The two taps of each row of `Bᵀ` as `(first, second, subtract)`: `Bᵀ q = (q0 - q2, q1 + q2,
/// q2 - q1, q1 - q3)`.
const BT_TAPS: [(usize, usize, bool); 4] = [(0, 2, true), (1, 2, false), (2, 1, true), (1, 3, true)];

/// `out[j] = (p[j] ± q[j]) ± (r[j] ± s[j])`, the inner sign `-` with `inner_sub`, the outer with
/// `outer_sub`: one entry of `Bᵀ d B` over a plane of tiles (each sign chosen once, outside the loop).
#[inline(always)]
fn combine<T: Float>(out: &mut [T], [p, q, r, s]: [&[T]; 4], inner_sub: bool, outer_sub: bool) {
    let it = out.iter_mut().zip(p.iter().zip(q)).zip(r.iter().zip(s));
    match (inner_sub, outer_sub) {
        (false, false) => it.for_each(|((o, (&a, &b)), (&c, &d))| *o = (a + b) + (c + d)),
        (true, false) => it.for_each(|((o, (&a, &b)), (&c, &d))| *o = (a - b) + (c - d)),
        (false, true) => it.for_each(|((o, (&a, &b)), (&c, &d))| *o = (a + b) - (c + d)),
        (true, true) => it.for_each(|((o, (&a, &b)), (&c, &d))| *o = (a - b) - (c - d)),
    }
}

/// Columns 1 and 2 of [`combine`] at once (`Bᵀ`'s rows 1 and 2 read the same two taps):
/// `out1 = (p + q) ± (r + s)` and `out2 = (q - p) ± (s - r)`.
#[inline(always)]
fn combine_pair<T: Float>(out1: &mut [T], out2: &mut [T], [p, q, r, s]: [&[T]; 4], outer_sub: bool) {
    let it = out1.iter_mut().zip(out2.iter_mut()).zip(p.iter().zip(q)).zip(r.iter().zip(s));
    if outer_sub {
        it.for_each(|(((o1, o2), (&a, &b)), (&c, &d))| (*o1, *o2) = ((a + b) - (c + d), (b - a) - (d - c)));
    } else {
        it.for_each(|(((o1, o2), (&a, &b)), (&c, &d))| (*o1, *o2) = ((a + b) + (c + d), (b - a) + (d - c)));
    }
}

/// Rows 1 and 2 of [`combine`] at once for one column: with `P = p ∘ q` and `R = r ∘ s` (`∘` is
/// `-` with `inner_sub`), `out1 = P + R` and `out2 = R - P`.
#[inline(always)]
fn combine_rows_pair<T: Float>(out1: &mut [T], out2: &mut [T], [p, q, r, s]: [&[T]; 4], inner_sub: bool) {
    let it = out1.iter_mut().zip(out2.iter_mut()).zip(p.iter().zip(q)).zip(r.iter().zip(s));
    if inner_sub {
        it.for_each(|(((o1, o2), (&a, &b)), (&c, &d))| (*o1, *o2) = ((a - b) + (c - d), (c - d) - (a - b)));
    } else {
        it.for_each(|(((o1, o2), (&a, &b)), (&c, &d))| (*o1, *o2) = ((a + b) + (c + d), (c + d) - (a + b)));
    }
}

/// Rows 1 and 2 by columns 1 and 2 of [`combine`] in one pass, entries 5, 6, 9 and 10:
/// `(p + q) + (r + s)`, `(q - p) + (s - r)`, `(r + s) - (p + q)` and `(s - r) - (q - p)`.
#[inline(always)]
fn combine_quad<T: Float>([o5, o6, o9, o10]: [&mut [T]; 4], [p, q, r, s]: [&[T]; 4]) {
    let outs = o5.iter_mut().zip(o6.iter_mut()).zip(o9.iter_mut().zip(o10.iter_mut()));
    outs.zip(p.iter().zip(q)).zip(r.iter().zip(s)).for_each(|((((e5, e6), (e9, e10)), (&a, &b)), (&c, &d))| {
        (*e5, *e6) = ((a + b) + (c + d), (b - a) + (d - c));
        (*e9, *e10) = ((c + d) - (a + b), (d - c) - (b - a));
    });
}

/// Splits the first `used[0]` rows and `used[1]` columns of a plane `w` wide into `quarters`
/// (four of `qlen`, by row and column parity `[yp][xp]`, each row `half` long) as pixels of a
/// plane padded by `pad = [y0, x0]` before each dimension; places no value touches are left as
/// they are. `columns` is scratch of the plane's size.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn split_plane<T: Float>(plane: &[T], w: usize, used: [usize; 2], pad: [usize; 2], half: usize, quarters: &mut [T], qlen: usize, columns: &mut [T]) {
    let ([hh, ww], [y0, x0]) = (used, pad);
    // The even- and odd-column quarter rows that input row `y` goes to.
    fn quarter_row<T>(quarters: &mut [T], y: usize, y0: usize, half: usize, qlen: usize) -> (&mut [T], &mut [T]) {
        let (yp, at) = ((y + y0) % 2, (y + y0) / 2 * half);
        let (even, odd) = quarters[2 * yp * qlen..(2 * yp + 2) * qlen].split_at_mut(qlen);
        (&mut even[at..at + half], &mut odd[at..at + half])
    }
    if w % 2 == 1 || ww < w {
        for (y, row) in plane.chunks_exact(w).take(hh).enumerate() {
            let (even, odd) = quarter_row(quarters, y, y0, half, qlen);
            split_columns(&row[..ww], x0, even, odd);
        }
        return;
    }
    // An even width read whole: the plane's even and odd columns split in one long loop (a row
    // alone is too short to vectorise), then each row's two halves copied into place.
    let (ev, od) = columns[..plane.len()].split_at_mut(plane.len() / 2);
    plane.chunks_exact(2).zip(ev.iter_mut().zip(od.iter_mut())).for_each(|(q, (e, o))| (*e, *o) = (q[0], q[1]));
    // Input column `2m` lands on padded column `2m + x0`: in the even quarter for an even `x0`,
    // the odd one for an odd `x0`.
    let (ev, od) = if x0 % 2 == 0 { (&*ev, &*od) } else { (&*od, &*ev) };
    let (e0, o0, n) = (x0.div_ceil(2), x0 / 2, w / 2);
    for (y, (er, or)) in ev.chunks_exact(n).zip(od.chunks_exact(n)).take(hh).enumerate() {
        let (even, odd) = quarter_row(quarters, y, y0, half, qlen);
        even[e0..e0 + n].copy_from_slice(er);
        odd[o0..o0 + n].copy_from_slice(or);
    }
}

/// `V_ξ[c][t] = (B^T d B)_ξ` for every channel `c` and tile slot `t` of the block's images (`v`
/// is `[16][C_in][slots]`, see [`Plan::per_image`]).
fn transform_input<T: Float>(p: &Plan, x: &[T], v: &mut [T]) {
    simd::dispatch(#[inline(always)] || transform_input_loops(p, x, v))
}

/// The loops of [`transform_input`], inlined into each instruction set's copy.
///
/// Each zero-padded plane is split into four quarter planes by the parity of its rows and
/// columns, each `(th + 1) x (tw + 1)`. Tile `(i, j)` reads padded pixel `(2i + k, 2j + s)`, which
/// is element `(i + k/2)·(tw + 1) + j + s/2` of quarter `(k % 2, s % 2)`: with the tiles of a row
/// `tw + 1` slots apart, the 16 inputs of every tile of the plane are 16 shifted slices of the
/// quarters, and each step of the transform is one long loop over the whole plane (a row of tiles
/// alone is too short to vectorise). The spare slot at the end of each row is computed from the
/// next row's pixels and left so: the output transforms skip it, and the weight gradient zeroes
/// it in its slot-major copy (a non-finite pixel there would otherwise meet its zero gradient).
#[inline(always)]
fn transform_input_loops<T: Float>(p: &Plan, x: &[T], v: &mut [T]) {
    let ([h, w], [th, tw]) = (p.in_hw, p.tiles);
    let (half, len) = (tw + 1, p.per_image());
    let t_all = v.len() / (16 * p.c_in);
    let stride = p.c_in * t_all;
    // Quarter planes [row parity][column parity], one spare zero at the end of each.
    let qlen = (th + 1) * half + 1;
    let mut quarters = Scratch::<T>::zeroed(4 * qlen);
    let (y0, x0) = (p.pad[0], p.pad[1]);
    let (hh, ww) = (h.min(2 * th + 2 - y0), w.min(2 * half - x0));
    let mut columns = Scratch::<T>::take(h * w);
    for (img, xn) in x.chunks_exact(p.c_in * h * w).enumerate() {
        for (c, xc) in xn.chunks_exact(h * w).enumerate() {
            split_plane(xc, w, [hh, ww], [y0, x0], half, &mut quarters, qlen, &mut columns);
            let d = |k: usize, s: usize| {
                let q = &quarters[(2 * (k % 2) + s % 2) * qlen..];
                let from = k / 2 * half + s / 2;
                &q[from..from + len]
            };
            let base = c * t_all + img * len;
            // Entry ξ = 4a + s of every tile's Bᵀ d B in one pass over the plane: the row taps of
            // `a` and the column taps of `s` pick four shifted slices, combined as (row k1's pair)
            // ± (row k2's pair), the order of a transform along the rows and then down.
            for (a, (k1, k2, outer_sub)) in [(0, BT_TAPS[0]), (3, BT_TAPS[3])] {
                for s in [0, 3] {
                    let (l1, l2, inner_sub) = BT_TAPS[s];
                    let xi = 4 * a + s;
                    let out = &mut v[xi * stride + base..xi * stride + base + len];
                    combine(out, [d(k1, l1), d(k1, l2), d(k2, l1), d(k2, l2)], inner_sub, outer_sub);
                }
                // Columns 1 and 2 read the same four slices: both in one pass.
                let [out1, out2] = entries(v, stride, base, len, [4 * a + 1, 4 * a + 2]);
                combine_pair(out1, out2, [d(k1, 1), d(k1, 2), d(k2, 1), d(k2, 2)], outer_sub);
            }
            // Rows 1 and 2 read the same rows of the patch: their entries in pairs, and all four
            // of columns 1 and 2 in one pass.
            for s in [0, 3] {
                let (l1, l2, inner_sub) = BT_TAPS[s];
                let [out1, out2] = entries(v, stride, base, len, [4 + s, 8 + s]);
                combine_rows_pair(out1, out2, [d(1, l1), d(1, l2), d(2, l1), d(2, l2)], inner_sub);
            }
            let [o5, o6, o9, o10] = entries(v, stride, base, len, [5, 6, 9, 10]);
            combine_quad([o5, o6, o9, o10], [d(1, 1), d(1, 2), d(2, 1), d(2, 2)]);
        }
    }
}

/// `out[o] (+)= A^T M A (+ bias[o])` for every tile; `m` is `[16][C_out][slots]`. Tiles that
/// overhang the output (odd sizes) drop their extra row or column.
fn transform_output<T: Float>(p: &Plan, m: &[T], bias: Option<&[T]>, out: &mut [T], add: bool) {
    simd::dispatch(#[inline(always)] || transform_output_loops(p, m, bias, out, add))
}

/// The loops of [`transform_output`]: over a whole plane of tile slots at once, down (`A^T ·`) and
/// then along (`· A`) into four quarter outputs (the tiles' pixels by row and column parity), then
/// interleaved into the output rows.
#[inline(always)]
fn transform_output_loops<T: Float>(p: &Plan, m: &[T], bias: Option<&[T]>, out: &mut [T], add: bool) {
    let ([oh, ow], [_, tw]) = (p.out_hw, p.tiles);
    let (half, len) = (tw + 1, p.per_image());
    let t_all = m.len() / (16 * p.c_out);
    let stride = p.c_out * t_all;
    // A^T M: [r][s][slot]; then the quarter outputs [r][column parity][slot].
    let mut am = Scratch::<T>::take(8 * len);
    let mut yq = Scratch::<T>::take(4 * len);
    let mut columns = Scratch::<T>::take(oh * ow);
    let pairs = ow / 2;
    for (img, on) in out.chunks_exact_mut(p.c_out * oh * ow).enumerate() {
        for (o, oc) in on.chunks_exact_mut(oh * ow).enumerate() {
            let b = bias.map_or(T::ZERO, |b| b[o]);
            let base = o * t_all + img * len;
            let mx = |xi: usize| &m[xi * stride + base..xi * stride + base + len];
            let (top, bottom) = am.split_at_mut(4 * len);
            for s in 0..4 {
                // Down each column: (m0 + m1 + m2, m1 - m2 - m3).
                let (m0, m1, m2, m3) = (mx(s), mx(4 + s), mx(8 + s), mx(12 + s));
                map3(&mut top[s * len..(s + 1) * len], m0, m1, m2, |a, b, c| a + b + c);
                map3(&mut bottom[s * len..(s + 1) * len], m1, m2, m3, |a, b, c| a - b - c);
            }
            for (ar, yr) in am.chunks_exact(4 * len).zip(yq.chunks_exact_mut(2 * len)) {
                let [a0, a1, a2, a3]: [&[T]; 4] = std::array::from_fn(|s| &ar[s * len..(s + 1) * len]);
                let (y0, y1) = yr.split_at_mut(len);
                // Along: (a0 + a1 + a2, a1 - a2 - a3), plus the bias.
                map3(y0, a0, a1, a2, |a, c, d| a + c + d + b);
                map3(y1, a1, a2, a3, |a, c, d| a - c - d + b);
            }
            // The quarter outputs' rows, at row `y` of the plane: its even and odd columns.
            let quarter_rows = |y: usize, n: usize| {
                let (at, yr) = ((y / 2) * half, &yq[(y % 2) * 2 * len..]);
                (&yr[at..at + n], &yr[len + at..len + at + n])
            };
            if ow % 2 == 0 {
                // An even width: the rows' halves gathered plane by plane, then interleaved into
                // the output in one long loop (a row alone is too short to vectorise).
                let (ev, od) = columns.split_at_mut(oh * pairs);
                for (y, (er, or)) in ev.chunks_exact_mut(pairs).zip(od.chunks_exact_mut(pairs)).enumerate() {
                    let (e, o) = quarter_rows(y, pairs);
                    er.copy_from_slice(e);
                    or.copy_from_slice(o);
                }
                interleave(oc, ev, od, add);
                continue;
            }
            for (y, row) in oc.chunks_exact_mut(ow).enumerate() {
                let (e, od) = quarter_rows(y, tw);
                interleave(&mut row[..ow - 1], e, od, add);
                // An odd width: the last tile's first column only.
                row[ow - 1] = if add { row[ow - 1] + e[pairs] } else { e[pairs] };
            }
        }
    }
}

/// `out[2i] (+)= even[i]` and `out[2i + 1] (+)= odd[i]` over the pairs of `out`.
#[inline(always)]
fn interleave<T: Float>(out: &mut [T], even: &[T], odd: &[T], add: bool) {
    let cols = out.chunks_exact_mut(2).zip(even.iter().zip(odd));
    if add {
        cols.for_each(|(q, (&a, &c))| (q[0], q[1]) = (q[0] + a, q[1] + c));
    } else {
        cols.for_each(|(q, (&a, &c))| (q[0], q[1]) = (a, c));
    }
}

/// `dM = A dY A^T` per tile (the adjoint of [`transform_output`]): `dm` is `[16][C_out][slots]`;
/// an overhanging tile's missing outputs, and the spare slots, count as zero gradient.
fn output_adjoint<T: Float>(p: &Plan, gout: &[T], dm: &mut [T]) {
    simd::dispatch(#[inline(always)] || output_adjoint_loops(p, gout, dm))
}

/// The loops of [`output_adjoint`]: the gradient split into quarter planes (as the output's
/// pixels by row and column parity, in tile slots), then along (`dY A^T`) and down (`A ·`) over the
/// whole plane at once.
#[inline(always)]
fn output_adjoint_loops<T: Float>(p: &Plan, gout: &[T], dm: &mut [T]) {
    let ([oh, ow], [_, tw]) = (p.out_hw, p.tiles);
    let (half, len) = (tw + 1, p.per_image());
    let t_all = dm.len() / (16 * p.c_out);
    let stride = p.c_out * t_all;
    // dY by [row parity][column parity][slot], zero where no output is (filled once: the same
    // slots are written for every plane).
    let mut dy = Scratch::<T>::zeroed(4 * len);
    let mut columns = Scratch::<T>::take(oh * ow);
    // dY A^T: [r][s][slot].
    let mut ya = Scratch::<T>::take(8 * len);
    for (img, gn) in gout.chunks_exact(p.c_out * oh * ow).enumerate() {
        for (o, gc) in gn.chunks_exact(oh * ow).enumerate() {
            split_plane(gc, ow, [oh, ow], [0, 0], half, &mut dy, len, &mut columns);
            for (r, yr) in ya.chunks_exact_mut(4 * len).enumerate() {
                let (y0, y1) = (&dy[2 * r * len..(2 * r + 1) * len], &dy[(2 * r + 1) * len..(2 * r + 2) * len]);
                // Along, per tile.
                a4(entries(yr, len, 0, len, [0, 1, 2, 3]), y0, y1);
            }
            let base = o * t_all + img * len;
            for s in 0..4 {
                // Down, from the two rows.
                let (e0, e1) = (&ya[s * len..(s + 1) * len], &ya[(4 + s) * len..(5 + s) * len]);
                a4(entries(dm, stride, base, len, [s, 4 + s, 8 + s, 12 + s]), e0, e1);
            }
        }
    }
}

#[cfg(test)]
#[path = "conv_winograd_tests.rs"]
mod tests;
