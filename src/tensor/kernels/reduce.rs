//! The reduction kernels shared by the tape's ops and `Tensor`'s: sum, mean and max over all
//! elements or along one axis, and a stable log-sum-exp of one line.

use crate::tensor::kernels::simd;
use crate::tensor::shape::split_at_axis;
use crate::tensor::Float;

/// The reduction kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Reduce {
    Sum,
    Mean,
    Max,
}

impl Reduce {
    pub fn name(self) -> &'static str {
        match self {
            Reduce::Sum => "sum",
            Reduce::Mean => "mean",
            Reduce::Max => "max",
        }
    }
}

/// The `(outer, len, inner)` view of a value of `shape` for a reduction along `axis` (`None`:
/// everything at once).
#[inline]
pub(crate) fn view(shape: &[usize], axis: Option<u32>) -> (usize, usize, usize) {
    match axis {
        Some(a) => split_at_axis(shape, a as usize),
        None => (1, shape.iter().product(), 1),
    }
}

/// The forward kernel of sum, mean and max: reduces `xv` (of `shape`) along `axis` (`None`: all
/// elements) into `out`, which holds one element per line. Shared by the tape ops and `Tensor`'s.
///
/// Two memory orders: a reduction over contiguous lines (`inner == 1`: all elements, or the last
/// axis) reads each line once with [`LANES`] independent accumulators ([`MAX_LANES`] for max); any other axis adds whole
/// rows of `inner` elements into the output row, in the order of the axis (so each output element
/// sums its line in order). Both loops vectorise; a line walked element by element with one
/// accumulator runs at the latency of one addition per element (measured: 7% of the bandwidth
/// of a copy on 1M `f32`, `benches/bandwidth.rs`).
///
/// The loops run compiled for the CPU's widest vectors ([`simd::dispatch`]); the lanes, and so
/// the order of the additions, are the same at every width, so the result is the same bits.
pub(crate) fn reduce_forward<T: Float>(kind: Reduce, xv: &[T], shape: &[usize], axis: Option<u32>, out: &mut [T]) {
    simd::dispatch_for(xv.len(), #[inline(always)] || reduce_lines(kind, xv, shape, axis, out))
}

/// [`reduce_forward`]'s loops, inlined into each instruction set's copy.
#[inline(always)]
fn reduce_lines<T: Float>(kind: Reduce, xv: &[T], shape: &[usize], axis: Option<u32>, out: &mut [T]) {
    let (_, len, inner) = view(shape, axis);
    if out.is_empty() {
        return;
    }
    if len == 0 {
        // Only sum and mean reach here (max of an empty axis is refused by the caller).
        let v = if kind == Reduce::Sum { T::ZERO } else { T::from_f64(f64::NAN) };
        out.iter_mut().for_each(|o| *o = v);
        return;
    }
    if inner == 1 {
        for (o, line) in out.iter_mut().zip(xv.chunks_exact(len)) {
            *o = match kind {
                // y = sum_i x_i
                Reduce::Sum => sum_line(line),
                // y = (1/n) sum_i x_i
                Reduce::Mean => sum_line(line) / T::from_f64(len as f64),
                // y = max_i x_i (NaN propagates)
                Reduce::Max => max_line(line),
            };
        }
        return;
    }
    for (orow, block) in out.chunks_exact_mut(inner).zip(xv.chunks_exact(len * inner)) {
        orow.copy_from_slice(&block[..inner]);
        for row in block[inner..].chunks_exact(inner) {
            match kind {
                Reduce::Sum | Reduce::Mean => orow.iter_mut().zip(row).for_each(|(o, &v)| *o += v),
                Reduce::Max => orow.iter_mut().zip(row).for_each(|(o, &v)| *o = max_pick(*o, v)),
            }
        }
        if kind == Reduce::Mean {
            let n = T::from_f64(len as f64);
            orow.iter_mut().for_each(|o| *o /= n);
        }
    }
}

/// Independent accumulators of a contiguous sum: two blocks of [`BLOCK`]. The lanes fix the
/// order of the additions, so the sum is the same bits whatever the vector width it runs at
/// ([`simd::dispatch`]): 8 SSE2 registers, 4 AVX2 or 2 AVX-512 ones. Measured on 1M `f32`
/// (`benches/bandwidth.rs`): 16 lanes, one AVX-512 register, ran at the latency of its
/// additions (about half a copy's bandwidth).
const LANES: usize = 2 * BLOCK;

/// Lanes held in one array: a loop over 16 is unrolled whole and its array kept in registers,
/// where one loop over 64 lanes was vectorised as a loop of its own with the accumulators in
/// memory (seen in the generated code; an earlier single loop over 32 lanes measured 20%
/// slower than 16).
const BLOCK: usize = 16;

/// Running maxima of a contiguous max (exact in any number: 16 measured fastest).
const MAX_LANES: usize = 16;

/// Lines shorter than this are summed in order with one accumulator (bit for bit the sum of
/// the elements from the first), as are all lines of the per-class ops (softmax, losses).
const LANES_FROM: usize = 64;

/// `m` or `v`, whichever is larger; a NaN wins and stays (so NaN propagates through a max).
#[inline(always)]
fn max_pick<T: Float>(m: T, v: T) -> T {
    if v > m || v.is_nan() {
        v
    } else {
        m
    }
}

/// The sum of a contiguous line: [`LANES`] partial sums (lane `j` adds elements `j`,
/// `j + LANES`, ...), added pairwise (lane `j` takes lane `j + LANES/2`, and so on), then the tail.
#[inline(always)]
fn sum_line<T: Float>(x: &[T]) -> T {
    /// `acc[j] += v[j]` over one block.
    #[inline(always)]
    fn add<T: Float>(acc: &mut [T; BLOCK], v: &[T]) {
        for (a, &v) in acc.iter_mut().zip(v) {
            *a += v;
        }
    }
    if x.len() < LANES_FROM {
        return x.iter().fold(T::ZERO, |s, &v| s + v);
    }
    // Lanes 0..16 and 16..32, in two arrays so that each is unrolled and kept in registers.
    let (mut lo, mut hi) = ([T::ZERO; BLOCK], [T::ZERO; BLOCK]);
    let chunks = x.chunks_exact(LANES);
    let tail = chunks.remainder();
    for c in chunks {
        let (a, b) = c.split_at(BLOCK);
        add(&mut lo, a);
        add(&mut hi, b);
    }
    tail.iter().fold(pairwise(lo, hi), |s, &v| s + v)
}

/// The pairwise sum of the lanes of [`sum_line`]: lane `j` takes lane `j + 16` (`hi[j]`), then
/// `j + 8`, `j + 4`, ... Kept out of line on purpose: inlined, its pattern of pairs led the
/// compiler to vectorise the main loop two lanes at a time (16 registers of 2 lanes instead of
/// 2 AVX-512 registers of 16; measured 63 us instead of 35 us on 1M `f32`).
#[inline(never)]
fn pairwise<T: Float>(mut lo: [T; BLOCK], hi: [T; BLOCK]) -> T {
    for (l, h) in lo.iter_mut().zip(hi) {
        *l += h;
    }
    let mut w = BLOCK;
    while w > 1 {
        w /= 2;
        for j in 0..w {
            lo[j] += lo[j + w];
        }
    }
    lo[0]
}

/// The largest element of a contiguous line, with [`MAX_LANES`] running maxima and, beside them, a
/// NaN flag per lane: `if v > m { v } else { m }` and `v != v` are one `maxps` and one
/// `cmpunordps` per vector, where the NaN-propagating select of [`max_pick`] is not vectorised.
/// A line holding a NaN gives its first NaN, as the element-by-element fold does.
#[inline(always)]
fn max_line<T: Float>(x: &[T]) -> T {
    if x.len() < LANES_FROM {
        return x.iter().fold(x[0], |m, &v| max_pick(m, v));
    }
    let chunks = x.chunks_exact(MAX_LANES);
    let tail = chunks.remainder();
    let mut acc = [x[0]; MAX_LANES];
    let mut nan = [false; MAX_LANES];
    for c in chunks {
        for ((a, n), &v) in acc.iter_mut().zip(nan.iter_mut()).zip(c) {
            *a = if v > *a { v } else { *a };
            *n |= v.is_nan();
        }
    }
    if nan.contains(&true) || tail.iter().any(|v| v.is_nan()) {
        return x.iter().copied().find(|v| v.is_nan()).unwrap_or(acc[0]);
    }
    let m = acc.iter().fold(acc[0], |m, &v| if v > m { v } else { m });
    tail.iter().fold(m, |m, &v| if v > m { v } else { m })
}

/// `m + log(sum_i exp(x_i - m))` over one line; `-inf` for a line of `-inf`s.
#[inline]
pub(crate) fn logsumexp_line<T: Float>(len: usize, at: impl Fn(usize) -> T) -> T {
    let m = (0..len).map(&at).fold(T::from_f64(f64::NEG_INFINITY), |m, v| m.max(v));
    if !m.is_finite() {
        return m;
    }
    m + (0..len).map(|i| (at(i) - m).exp_nonpositive()).sum::<T>().ln()
}


#[cfg(test)]
mod tests {
    use super::*;

    /// Every element visited in order with one accumulator: the reference the kernels are held to.
    fn by_hand(kind: Reduce, x: &[f64], shape: &[usize], axis: Option<u32>) -> Vec<f64> {
        let (outer, len, inner) = view(shape, axis);
        let mut out = Vec::new();
        for o in 0..outer {
            for n in 0..inner {
                let line: Vec<f64> = (0..len).map(|i| x[(o * len + i) * inner + n]).collect();
                out.push(match kind {
                    Reduce::Sum => line.iter().sum(),
                    Reduce::Mean => line.iter().sum::<f64>() / len as f64,
                    Reduce::Max => line.iter().fold(line[0], |m, &v| if v > m || v.is_nan() { v } else { m }),
                });
            }
        }
        out
    }

    #[test]
    fn lanes_and_rows_agree_with_the_element_by_element_reduction() {
        // Lines shorter and longer than LANES_FROM, lengths not multiples of LANES, every axis.
        for shape in [vec![1000], vec![3, 200], vec![200, 3], vec![2, 67, 5], vec![5, 63], vec![7]] {
            let n: usize = shape.iter().product();
            let x: Vec<f64> = (0..n).map(|i| ((i * 7919 % 1013) as f64 - 500.0) * 0.37).collect();
            let axes = (0..shape.len() as u32).map(Some).chain([None]);
            for axis in axes {
                for kind in [Reduce::Sum, Reduce::Mean, Reduce::Max] {
                    let want = by_hand(kind, &x, &shape, axis);
                    let mut got = vec![0.0; want.len()];
                    reduce_forward(kind, &x, &shape, axis, &mut got);
                    for (g, w) in got.iter().zip(&want) {
                        assert!((g - w).abs() <= 1e-12 * (1.0 + w.abs()), "{kind:?} of {shape:?} along {axis:?}: {g} vs {w}");
                    }
                    // Short lines and the row-wise order keep the exact element-by-element sum.
                    let (_, len, inner) = view(&shape, axis);
                    if kind == Reduce::Max || len < LANES_FROM || inner > 1 {
                        assert_eq!(got, want, "{kind:?} of {shape:?} along {axis:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn a_nan_anywhere_in_a_long_line_wins_the_max() {
        for at in [0, 5, 16, 500, 999] {
            let mut x: Vec<f32> = (0..1000).map(|i| i as f32).collect();
            x[at] = f32::NAN;
            let mut out = [0.0f32];
            reduce_forward(Reduce::Max, &x, &[1000], None, &mut out);
            assert!(out[0].is_nan(), "NaN at {at}: max gave {}", out[0]);
        }
        let x: Vec<f32> = (0..1000).map(|i| -(i as f32) - 0.5).collect();
        let mut out = [0.0f32];
        reduce_forward(Reduce::Max, &x, &[1000], None, &mut out);
        assert_eq!(out[0], -0.5);
    }

    #[test]
    fn empty_lines_and_outputs() {
        let mut out = [1.0f64; 2];
        reduce_forward(Reduce::Sum, &[], &[2, 0], Some(1), &mut out);
        assert_eq!(out, [0.0, 0.0]);
        reduce_forward(Reduce::Mean, &[], &[2, 0], Some(1), &mut out);
        assert!(out.iter().all(|v| v.is_nan()));
        let mut none: [f64; 0] = [];
        reduce_forward(Reduce::Sum, &[], &[0, 3], Some(1), &mut none);
    }
}
