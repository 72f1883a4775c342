//! The im2col lowering of a convolution and its adjoint col2im, on one image: `col` has a row per
//! kernel tap `(c, i, j)` (`C_in·KH·KW` rows) and a column per output position (`OH·OW`), zero
//! where a tap reads padding. Stride-1 convolutions whose output is as large as the input (such as
//! `padding="same"`) copy whole shifted planes instead of row by row.

use super::conv::ConvGeom;
use crate::tensor::Float;

/// The output positions `o < out_len` whose tap at `offset` (`o·stride + offset - pad`) falls inside
/// an input of `in_len`, as the range `lo..hi`.
#[inline]
fn valid_range(out_len: usize, stride: usize, pad: usize, offset: usize, in_len: usize) -> (usize, usize) {
    let lo = if offset >= pad { 0 } else { (pad - offset).div_ceil(stride) }.min(out_len);
    let hi = if in_len + pad > offset { (in_len + pad - offset).div_ceil(stride) } else { 0 };
    (lo, hi.clamp(lo, out_len))
}

/// The walk im2col and col2im share: for every row `row` of `col` (tap `(c, i, j)`, in order) and
/// every output row `y`, `f(row, y, taps)` with `taps` = `Some((start, lo, hi))` when output
/// columns `lo..hi` read image elements `start, start + stride, ...` (the other columns read
/// padding), or `None` when the whole output row reads padding.
#[inline]
fn for_each_tap_row(g: &ConvGeom, channels: usize, mut f: impl FnMut(usize, usize, Option<(usize, usize, usize)>)) {
    let ([h, w], [kh, kw], [oh, ow]) = (g.in_hw, g.k, g.out_hw);
    let ([sh, sw], [dh, dw], [ph, pw]) = (g.stride, g.dilation, g.pad);
    let mut row = 0;
    for c in 0..channels {
        for i in 0..kh {
            for j in 0..kw {
                let (lo, hi) = valid_range(ow, sw, pw, j * dw, w);
                for y in 0..oh {
                    let ih = y * sh + i * dh;
                    let inside = ih >= ph && ih - ph < h && lo < hi;
                    f(row, y, inside.then(|| (c * h * w + (ih - ph) * w + lo * sw + j * dw - pw, lo, hi)));
                }
                row += 1;
            }
        }
    }
}

/// Lowers one image (`C_in·H·W`) to `col` (`C_in·KH·KW` rows of `OH·OW`), zeros where a tap reads
/// padding.
pub(super) fn im2col<T: Float>(g: &ConvGeom, x: &[T], col: &mut [T]) {
    if g.rows_are_shifted_planes() {
        return im2col_shifted(g, x, col);
    }
    let ([h, w], [oh, ow], [_, sw]) = (g.in_hw, g.out_hw, g.stride);
    for_each_tap_row(g, x.len() / (h * w), |row, y, taps| {
        let r = &mut col[(row * oh + y) * ow..][..ow];
        let Some((start, lo, hi)) = taps else {
            r.fill(T::ZERO);
            return;
        };
        r[..lo].fill(T::ZERO);
        r[hi..].fill(T::ZERO);
        if sw == 1 {
            r[lo..hi].copy_from_slice(&x[start..start + hi - lo]);
        } else {
            for (t, v) in r[lo..hi].iter_mut().enumerate() {
                *v = x[start + t * sw];
            }
        }
    });
}

/// The adjoint of [`im2col`]: adds each entry of `col` to the input element its tap reads.
pub(super) fn col2im_add<T: Float>(g: &ConvGeom, col: &mut [T], dx: &mut [T]) {
    if g.rows_are_shifted_planes() {
        return col2im_shifted(g, col, dx);
    }
    let ([h, w], [oh, ow], [_, sw]) = (g.in_hw, g.out_hw, g.stride);
    for_each_tap_row(g, dx.len() / (h * w), |row, y, taps| {
        let Some((start, lo, hi)) = taps else { return };
        let r = &col[(row * oh + y) * ow..][..ow];
        if sw == 1 {
            dx[start..start + hi - lo].iter_mut().zip(&r[lo..hi]).for_each(|(d, &v)| *d += v);
        } else {
            for (t, &v) in r[lo..hi].iter().enumerate() {
                dx[start + t * sw] += v;
            }
        }
    });
}

/// For each kernel tap `(c, i, j)`, the rows `y` whose tap falls inside the input (`lo..hi`), the
/// columns likewise, and the offset in the plane of output position 0's tap (possibly negative).
#[inline]
fn tap_ranges(g: &ConvGeom, i: usize, j: usize) -> ((usize, usize), (usize, usize), isize) {
    let ([h, w], [oh, ow], [dh, dw], [ph, pw]) = (g.in_hw, g.out_hw, g.dilation, g.pad);
    let rows = valid_range(oh, 1, ph, i * dh, h);
    let cols = valid_range(ow, 1, pw, j * dw, w);
    (rows, cols, (i * dh) as isize * w as isize - (ph * w) as isize + (j * dw) as isize - pw as isize)
}

/// [`im2col`] when [`rows_are_shifted_planes`](ConvGeom::rows_are_shifted_planes): each row of
/// `col` is the plane shifted by the tap's offset, so one block copy fills it and the taps that
/// fall on padding (rows above and below, columns at the edges, which the copy filled with
/// neighbouring elements) are zeroed after.
fn im2col_shifted<T: Float>(g: &ConvGeom, x: &[T], col: &mut [T]) {
    let ([h, w], [kh, kw]) = (g.in_hw, g.k);
    let mut rows = col.chunks_exact_mut(h * w);
    for plane in x.chunks_exact(h * w) {
        for i in 0..kh {
            for j in 0..kw {
                let row = rows.next().expect("im2col: col has C_in·KH·KW rows");
                let ((ylo, yhi), (lo, hi), off) = tap_ranges(g, i, j);
                if ylo == yhi || lo == hi {
                    row.fill(T::ZERO);
                    continue;
                }
                let (a, b) = (ylo * w + lo, (yhi - 1) * w + hi);
                let src = (a as isize + off) as usize;
                row[a..b].copy_from_slice(&plane[src..src + b - a]);
                row[..a].fill(T::ZERO);
                row[b..].fill(T::ZERO);
                if lo > 0 || hi < w {
                    for r in row[ylo * w..yhi * w].chunks_exact_mut(w) {
                        r[..lo].fill(T::ZERO);
                        r[hi..].fill(T::ZERO);
                    }
                }
            }
        }
    }
}

/// [`col2im_add`] when rows are shifted planes: the padding taps of `col` (scratch) are zeroed, then
/// each row is added to the plane as one shifted block.
fn col2im_shifted<T: Float>(g: &ConvGeom, col: &mut [T], dx: &mut [T]) {
    let ([h, w], [kh, kw]) = (g.in_hw, g.k);
    let mut rows = col.chunks_exact_mut(h * w);
    for plane in dx.chunks_exact_mut(h * w) {
        for i in 0..kh {
            for j in 0..kw {
                let row = rows.next().expect("col2im: col has C_in·KH·KW rows");
                let ((ylo, yhi), (lo, hi), off) = tap_ranges(g, i, j);
                if ylo == yhi || lo == hi {
                    continue;
                }
                if lo > 0 || hi < w {
                    for r in row[ylo * w..yhi * w].chunks_exact_mut(w) {
                        r[..lo].fill(T::ZERO);
                        r[hi..].fill(T::ZERO);
                    }
                }
                let (a, b) = (ylo * w + lo, (yhi - 1) * w + hi);
                let dst = (a as isize + off) as usize;
                plane[dst..dst + b - a].iter_mut().zip(&row[a..b]).for_each(|(d, &v)| *d += v);
            }
        }
    }
}

