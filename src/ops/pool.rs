//! Pooling kernels, 1-D and 2-D, channels first (NCL / NCHW) as PyTorch's `max_pool1d/2d` and
//! `avg_pool1d/2d` (kernel, stride, padding, `count_include_pad`; `ceil_mode=False`), and the
//! argument check of global average pooling (a mean over the spatial positions, recorded as such).
//!
//! As for convolutions, a 1-D pool is a 2-D one of height 1. Max pooling records, for each output,
//! the flat index of the input element it took; its backward adds each output's gradient there
//! (summed where windows overlap, 0 for elements no window reaches), and its forward-mode
//! derivative reads the tangent there. Ties go to the first maximum in row-major window order and a
//! NaN in a window wins, as PyTorch's CPU kernel does.

use crate::tensor::Float;

/// The arguments of a `D`-dimensional pool, with PyTorch's names; `stride` defaults to the kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolOptions<const D: usize> {
    /// Window size along each spatial dimension.
    pub kernel_size: [usize; D],
    /// Step between windows.
    pub stride: [usize; D],
    /// Implicit padding on both sides: minus infinity for max pools, zeros for average pools; at
    /// most half the kernel, so that every window holds an input element.
    pub padding: [usize; D],
    /// Average pools only: divide by the whole window, padded zeros included (PyTorch's default,
    /// `true`), or by the number of the window's elements inside the input (`false`).
    pub count_include_pad: bool,
}

impl<const D: usize> PoolOptions<D> {
    /// A pool with this kernel, stride = kernel, no padding (PyTorch's defaults).
    pub fn new(kernel_size: [usize; D]) -> Self {
        PoolOptions { kernel_size, stride: kernel_size, padding: [0; D], count_include_pad: true }
    }
}

/// A checked pool, every size resolved; 1-D pools are held as 2-D ones of height 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PoolGeom {
    pub dims: usize,
    pub n: usize,
    pub c: usize,
    pub in_hw: [usize; 2],
    pub k: [usize; 2],
    pub stride: [usize; 2],
    pub pad: [usize; 2],
    pub out_hw: [usize; 2],
    pub count_include_pad: bool,
}

impl PoolGeom {
    /// The output's shape: `[N, C, L_out]` or `[N, C, H_out, W_out]`.
    pub fn out_shape(&self) -> Vec<usize> {
        let mut s = vec![self.n, self.c];
        s.extend_from_slice(&self.out_hw[2 - self.dims..]);
        s
    }

    /// The window of output `(y, z)`: its rows and columns inside the input, and the number of
    /// positions it covers inside the padded input (PyTorch's `pool_size`).
    #[inline]
    fn window(&self, y: usize, z: usize) -> ([usize; 2], [usize; 2], usize) {
        let mut lo = [0; 2];
        let mut hi = [0; 2];
        let mut padded = 1;
        for (d, o) in [y, z].into_iter().enumerate() {
            // Start and end in padded coordinates; the end never passes the far padding.
            let start = o * self.stride[d];
            let end = (start + self.k[d]).min(self.in_hw[d] + 2 * self.pad[d]);
            padded *= end - start;
            lo[d] = start.saturating_sub(self.pad[d]);
            hi[d] = (end - self.pad[d].min(end)).min(self.in_hw[d]);
        }
        (lo, hi, padded)
    }
}

/// Integers [`PoolGeom::to_aux`] writes.
pub(crate) const POOL_AUX: usize = 14;

impl PoolGeom {
    /// The input's shape: `[N, C, L]` or `[N, C, H, W]`.
    pub fn in_shape(&self) -> Vec<usize> {
        let mut s = vec![self.n, self.c];
        s.extend_from_slice(&self.in_hw[2 - self.dims..]);
        s
    }

    /// The geometry as integers, for a tape's side data ([`from_aux`](Self::from_aux) reads it back).
    pub fn to_aux(self) -> [usize; POOL_AUX] {
        let ([h, w], [kh, kw], [sh, sw], [ph, pw], [oh, ow]) = (self.in_hw, self.k, self.stride, self.pad, self.out_hw);
        [self.dims, self.n, self.c, h, w, kh, kw, sh, sw, ph, pw, oh, ow, self.count_include_pad as usize]
    }

    /// The geometry [`to_aux`](Self::to_aux) wrote at the start of `a`.
    pub fn from_aux(a: &[usize]) -> Self {
        PoolGeom {
            dims: a[0], n: a[1], c: a[2], in_hw: [a[3], a[4]], k: [a[5], a[6]], stride: [a[7], a[8]],
            pad: [a[9], a[10]], out_hw: [a[11], a[12]], count_include_pad: a[13] != 0,
        }
    }

    /// Elements of the output.
    pub fn out_len(&self) -> usize {
        self.n * self.c * self.out_hw[0] * self.out_hw[1]
    }
}

/// Checks a pool's shape and arguments against PyTorch's rules and resolves its geometry; `op`
/// names the op in messages (`"max_pool2d"`, ...), `x` is `[N, C, spatial..]`.
pub(crate) fn pool_geometry<const D: usize>(op: &str, x: &[usize], o: &PoolOptions<D>) -> Result<PoolGeom, String> {
    let rank = D + 2;
    if x.len() != rank {
        let layout = if D == 1 { "[N, C, L]" } else { "[N, C, H, W]" };
        return Err(format!("{op}: input x must be {rank}-D {layout}, got shape {x:?}"));
    }
    for (name, v) in [("kernel_size", &o.kernel_size), ("stride", &o.stride)] {
        if v.contains(&0) {
            return Err(format!("{op}: {name} must be positive, got {v:?}"));
        }
    }
    if (0..D).any(|d| 2 * o.padding[d] > o.kernel_size[d]) {
        return Err(format!(
            "{op}: padding {:?} must be at most half of kernel_size {:?} (as PyTorch requires)",
            o.padding, o.kernel_size
        ));
    }
    let lift = |v: &[usize], one: usize| -> [usize; 2] { if D == 1 { [one, v[0]] } else { [v[0], v[1]] } };
    let (in_hw, k, stride, pad) = (lift(&x[2..], 1), lift(&o.kernel_size, 1), lift(&o.stride, 1), lift(&o.padding, 0));
    let mut out_hw = [0; 2];
    for d in 0..2 {
        let padded = in_hw[d] + 2 * pad[d];
        if padded < k[d] {
            return Err(format!(
                "{op}: kernel_size {:?} is larger than the padded input (x shape {x:?}, padding {:?})",
                o.kernel_size, o.padding
            ));
        }
        out_hw[d] = (padded - k[d]) / stride[d] + 1;
    }
    Ok(PoolGeom { dims: D, n: x[0], c: x[1], in_hw, k, stride, pad, out_hw, count_include_pad: o.count_include_pad })
}

fn check_lens(g: &PoolGeom, what: &str, x: usize, out: usize) {
    let planes = g.n * g.c;
    assert!(
        x == planes * g.in_hw[0] * g.in_hw[1] && out == planes * g.out_hw[0] * g.out_hw[1],
        "{what}: buffers of {x} and {out} elements do not fit {g:?}"
    );
}

/// `out` = each window's maximum; `argmax` = the flat index in `x` of the element it took.
pub(crate) fn max_pool_forward<T: Float>(g: &PoolGeom, x: &[T], out: &mut [T], argmax: &mut [usize]) {
    check_lens(g, "max_pool_forward", x.len(), out.len());
    assert_eq!(argmax.len(), out.len(), "max_pool_forward: one argmax per output");
    let ([_, w], [oh, ow]) = (g.in_hw, g.out_hw);
    let (plane, oplane) = (g.in_hw[0] * w, oh * ow);
    for (pi, (o, am)) in out.chunks_exact_mut(oplane).zip(argmax.chunks_exact_mut(oplane)).enumerate() {
        let base = pi * plane;
        let xp = &x[base..base + plane];
        for y in 0..oh {
            for z in 0..ow {
                let (lo, hi, _) = g.window(y, z);
                let mut best_i = lo[0] * w + lo[1];
                let mut best = T::from_f64(f64::NEG_INFINITY);
                for r in lo[0]..hi[0] {
                    for (cix, &v) in xp[r * w + lo[1]..r * w + hi[1]].iter().enumerate() {
                        if v > best || v.is_nan() {
                            best = v;
                            best_i = r * w + lo[1] + cix;
                        }
                    }
                }
                o[y * ow + z] = best;
                am[y * ow + z] = base + best_i;
            }
        }
    }
}

/// `dx[argmax[i]] += gout[i]`: max pooling's backward (linear in `gout`).
pub(crate) fn max_pool_backward<T: Float>(argmax: &[usize], gout: &[T], dx: &mut [T]) {
    assert_eq!(argmax.len(), gout.len(), "max_pool_backward: one argmax per output");
    for (&i, &gv) in argmax.iter().zip(gout) {
        dx[i] += gv;
    }
}

/// `dx[i] += src[argmax[i]]`: the reverse rule of a node that scatters by `argmax`.
pub(crate) fn gather_argmax_add<T: Float>(argmax: &[usize], src: &[T], dx: &mut [T]) {
    assert_eq!(argmax.len(), dx.len(), "gather_argmax_add: one argmax per output");
    for (o, &i) in dx.iter_mut().zip(argmax) {
        *o += src[i];
    }
}

/// `out[i] = src[argmax[i]]`: max pooling's forward-mode derivative (of a tangent `src` of `x`),
/// and the adjoint of [`max_pool_backward`] (the gradient of a gradient).
pub(crate) fn gather_argmax<T: Float>(argmax: &[usize], src: &[T], out: &mut [T]) {
    assert_eq!(argmax.len(), out.len(), "gather_argmax: one argmax per output");
    for (o, &i) in out.iter_mut().zip(argmax) {
        *o = src[i];
    }
}

/// The divisor of window `(y, z)`: the padded window's size or the count inside the input.
#[inline]
fn divisor(g: &PoolGeom, lo: [usize; 2], hi: [usize; 2], padded: usize) -> usize {
    if g.count_include_pad { padded } else { (hi[0] - lo[0]) * (hi[1] - lo[1]) }
}

/// `out` = each window's mean (average pooling; linear in `x`).
pub(crate) fn avg_pool_forward<T: Float>(g: &PoolGeom, x: &[T], out: &mut [T]) {
    avg_pool_into(g, x, out, false);
}

/// `out +=` each window's mean (the adjoint of [`avg_pool_backward`], accumulating).
pub(crate) fn avg_pool_forward_add<T: Float>(g: &PoolGeom, x: &[T], out: &mut [T]) {
    avg_pool_into(g, x, out, true);
}

fn avg_pool_into<T: Float>(g: &PoolGeom, x: &[T], out: &mut [T], add: bool) {
    check_lens(g, "avg_pool_forward", x.len(), out.len());
    let ([_, w], [oh, ow]) = (g.in_hw, g.out_hw);
    for (xp, o) in x.chunks_exact(g.in_hw[0] * w).zip(out.chunks_exact_mut(oh * ow)) {
        for y in 0..oh {
            for z in 0..ow {
                let (lo, hi, padded) = g.window(y, z);
                let mut s = T::ZERO;
                for r in lo[0]..hi[0] {
                    s += xp[r * w + lo[1]..r * w + hi[1]].iter().copied().sum::<T>();
                }
                let mean = s / T::from_f64(divisor(g, lo, hi, padded) as f64);
                if add {
                    o[y * ow + z] += mean;
                } else {
                    o[y * ow + z] = mean;
                }
            }
        }
    }
}

/// `dx += avg_poolᵀ(gout)`: each output's gradient spread evenly over its window.
pub(crate) fn avg_pool_backward<T: Float>(g: &PoolGeom, gout: &[T], dx: &mut [T]) {
    check_lens(g, "avg_pool_backward", dx.len(), gout.len());
    let ([_, w], [oh, ow]) = (g.in_hw, g.out_hw);
    for (dp, gp) in dx.chunks_exact_mut(g.in_hw[0] * w).zip(gout.chunks_exact(oh * ow)) {
        for y in 0..oh {
            for z in 0..ow {
                let (lo, hi, padded) = g.window(y, z);
                let share = gp[y * ow + z] / T::from_f64(divisor(g, lo, hi, padded) as f64);
                for r in lo[0]..hi[0] {
                    dp[r * w + lo[1]..r * w + hi[1]].iter_mut().for_each(|d| *d += share);
                }
            }
        }
    }
}

/// Checks global average pooling's input (`[N, C, L]` for `dims` 1, `[N, C, H, W]` for 2, no empty
/// spatial dimension) and returns `(N, C, positions per plane)`.
pub(crate) fn global_pool_sizes(op: &str, x: &[usize], dims: usize) -> Result<(usize, usize, usize), String> {
    if x.len() != dims + 2 {
        let layout = if dims == 1 { "[N, C, L]" } else { "[N, C, H, W]" };
        return Err(format!("{op}: input x must be {}-D {layout}, got shape {x:?}", dims + 2));
    }
    let area: usize = x[2..].iter().product();
    if area == 0 {
        return Err(format!("{op}: the spatial dimensions must not be empty, got shape {x:?}"));
    }
    Ok((x[0], x[1], area))
}

#[cfg(test)]
#[path = "pool_tests.rs"]
mod tests;
