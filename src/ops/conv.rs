//! Convolution kernels, 1-D and 2-D, channels first (NCL / NCHW) as PyTorch's `conv1d`/`conv2d`:
//! cross-correlation (the kernel is not flipped), stride, zero padding (per side, or `"same"`),
//! dilation, groups and an optional bias.
//!
//! Both ranks share one lowering: a 1-D convolution is a 2-D one of height 1. Each image is lowered
//! by im2col (`conv_lower.rs`) to a matrix `col` of `C_in·KH·KW` rows and `OH·OW` columns, so that
//! output block `g` (its `C_out / groups` channels) is the product `W_g col_g` of the group's weight
//! rows and column rows, computed by [`gemm`] (matrixmultiply). The backward products are the same
//! GEMMs transposed: `dcol_g = W_gᵀ G_g` folded back by col2im for the input, `dW_g += G_g col_gᵀ`
//! for the weight, and row sums of `G` for the bias; the weight gradient of a stride-1,
//! dilation-1, one-group convolution reads a channels-last view of the input instead
//! (`conv_wgrad.rs`). A 1x1 kernel with stride 1 and no padding needs no lowering: `col` is the
//! image itself. In f32, a 3x3 stride-1 convolution with enough channels takes Winograd's F(2x2,
//! 3x3) route instead (`conv_winograd.rs`: 2.25 times fewer multiply-adds, the same GEMMs);
//! f64 stays on im2col. Lowering buffers come from a per-thread pool (`conv_scratch.rs`). A large batch
//! of small images is cut in two halves that run on two threads (this one and the persistent
//! helper of `tensor::parallel`), so one half's lowering overlaps the other's GEMMs; larger
//! images' GEMMs are threaded by matrixmultiply instead (not both: two cores).
//!
//! Everything here works on flat slices and shapes; [`conv_geometry`] checks the arguments and
//! returns a message naming the op, the argument and the shapes.

use super::conv_lower::{col2im_add, im2col};
use super::conv_scratch::Scratch;
use super::{conv_wgrad, conv_winograd};
use crate::tensor::gemm;
use crate::tensor::parallel::{cores, join, join_summed};
use crate::tensor::Float;

/// Zero padding of a convolution along its `D` spatial dimensions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Padding<const D: usize> {
    /// `[before, after]` zeros along each spatial dimension (PyTorch's int or tuple `padding` is the
    /// symmetric case: [`Padding::symmetric`]).
    Explicit([[usize; 2]; D]),
    /// PyTorch's `padding="same"` (stride 1 only): the output has the input's length. The total,
    /// `dilation·(k - 1)` per dimension, is split `total / 2` before (rounded down) and the rest
    /// after, so an even kernel puts its extra zero at the end (right, bottom), as PyTorch does.
    Same,
}

impl<const D: usize> Padding<D> {
    /// `p[d]` zeros on both sides of dimension `d` (PyTorch's `padding=p`).
    pub fn symmetric(p: [usize; D]) -> Self {
        Padding::Explicit(p.map(|v| [v, v]))
    }

    /// No padding (PyTorch's `padding=0`, `"valid"`).
    pub fn valid() -> Self {
        Padding::Explicit([[0, 0]; D])
    }
}

/// The arguments of a `D`-dimensional convolution besides its tensors, with PyTorch's names and
/// defaults (stride 1, no padding, dilation 1, one group).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvOptions<const D: usize> {
    /// Step between windows along each spatial dimension.
    pub stride: [usize; D],
    /// Zeros added around the input.
    pub padding: Padding<D>,
    /// Step between kernel taps along each spatial dimension.
    pub dilation: [usize; D],
    /// Input and output channels fall into this many consecutive blocks; output block `i` reads
    /// input block `i` only.
    pub groups: usize,
}

impl<const D: usize> Default for ConvOptions<D> {
    fn default() -> Self {
        ConvOptions { stride: [1; D], padding: Padding::valid(), dilation: [1; D], groups: 1 }
    }
}

/// Integers [`ConvGeom::to_aux`] writes.
pub(crate) const CONV_AUX: usize = 17;

impl<const D: usize> ConvOptions<D> {
    /// The same options with this stride.
    pub fn stride(self, stride: [usize; D]) -> Self {
        ConvOptions { stride, ..self }
    }

    /// The same options with this padding.
    pub fn padding(self, padding: Padding<D>) -> Self {
        ConvOptions { padding, ..self }
    }

    /// The same options with this dilation.
    pub fn dilation(self, dilation: [usize; D]) -> Self {
        ConvOptions { dilation, ..self }
    }

    /// The same options with this many groups.
    pub fn groups(self, groups: usize) -> Self {
        ConvOptions { groups, ..self }
    }
}

/// A checked convolution, every size resolved; 1-D convolutions are held as 2-D ones of height 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ConvGeom {
    /// 1 or 2: the rank the caller asked for (it decides the output shape).
    pub dims: usize,
    pub n: usize,
    pub c_in: usize,
    pub c_out: usize,
    pub groups: usize,
    pub in_hw: [usize; 2],
    pub k: [usize; 2],
    pub out_hw: [usize; 2],
    pub stride: [usize; 2],
    pub dilation: [usize; 2],
    /// Zeros before each dimension (those after only shorten or lengthen the output).
    pub pad: [usize; 2],
}

impl ConvGeom {
    /// The output's shape: `[N, C_out, L_out]` or `[N, C_out, H_out, W_out]`.
    pub fn out_shape(&self) -> Vec<usize> {
        let mut s = vec![self.n, self.c_out];
        s.extend_from_slice(&self.out_hw[2 - self.dims..]);
        s
    }

    /// The input's shape: `[N, C_in, L]` or `[N, C_in, H, W]`.
    pub fn in_shape(&self) -> Vec<usize> {
        let mut s = vec![self.n, self.c_in];
        s.extend_from_slice(&self.in_hw[2 - self.dims..]);
        s
    }

    /// The weight's shape: `[C_out, C_in / groups, K]` or `[C_out, C_in / groups, KH, KW]`.
    pub fn weight_shape(&self) -> Vec<usize> {
        let mut s = vec![self.c_out, self.c_in / self.groups];
        s.extend_from_slice(&self.k[2 - self.dims..]);
        s
    }

    /// The geometry as integers, for a tape's side data ([`from_aux`](Self::from_aux) reads it back).
    pub fn to_aux(self) -> [usize; CONV_AUX] {
        let ([h, w], [kh, kw], [oh, ow]) = (self.in_hw, self.k, self.out_hw);
        let ([sh, sw], [dh, dw], [ph, pw]) = (self.stride, self.dilation, self.pad);
        [self.dims, self.n, self.c_in, self.c_out, self.groups, h, w, kh, kw, oh, ow, sh, sw, dh, dw, ph, pw]
    }

    /// The geometry [`to_aux`](Self::to_aux) wrote at the start of `a`.
    pub fn from_aux(a: &[usize]) -> Self {
        ConvGeom {
            dims: a[0], n: a[1], c_in: a[2], c_out: a[3], groups: a[4],
            in_hw: [a[5], a[6]], k: [a[7], a[8]], out_hw: [a[9], a[10]],
            stride: [a[11], a[12]], dilation: [a[13], a[14]], pad: [a[15], a[16]],
        }
    }

    /// Elements of one input image, one output image, and the output positions of one channel.
    fn sizes(&self) -> (usize, usize, usize) {
        let p = self.out_hw[0] * self.out_hw[1];
        (self.c_in * self.in_hw[0] * self.in_hw[1], self.c_out * p, p)
    }

    /// Rows of a group's block of `col` (its weight rows' length), and output channels per group.
    fn group_sizes(&self) -> (usize, usize) {
        (self.c_in / self.groups * self.k[0] * self.k[1], self.c_out / self.groups)
    }

    /// Whether every row of `col` is its input plane shifted (stride 1 and an output as wide as
    /// the input, as with `padding="same"`): rows of `col` and of the plane then advance together.
    pub(super) fn rows_are_shifted_planes(&self) -> bool {
        self.stride == [1, 1] && self.out_hw[1] == self.in_hw[1] && self.out_hw[0] == self.in_hw[0]
    }

    /// Whether `col` is the image itself (1x1 kernel, stride 1, no padding).
    fn identity_lowering(&self) -> bool {
        self.k == [1, 1] && self.stride == [1, 1] && self.pad == [0, 0] && self.out_hw == self.in_hw
    }
}

/// Checks a convolution's shapes and arguments against PyTorch's rules and resolves its geometry.
///
/// `op` names the op in messages (`"conv1d"`, `"conv2d"`); `x` is `[N, C_in, spatial..]`, `w` is
/// `[C_out, C_in / groups, kernel..]`, `bias` (if any) `[C_out]`.
pub(crate) fn conv_geometry<const D: usize>(
    op: &str, x: &[usize], w: &[usize], bias: Option<&[usize]>, o: &ConvOptions<D>,
) -> Result<ConvGeom, String> {
    let rank = D + 2;
    let layout = if D == 1 { "[N, C_in, L]" } else { "[N, C_in, H, W]" };
    if x.len() != rank {
        return Err(format!("{op}: input x must be {rank}-D {layout}, got shape {x:?}"));
    }
    if w.len() != rank {
        let wl = if D == 1 { "[C_out, C_in / groups, K]" } else { "[C_out, C_in / groups, KH, KW]" };
        return Err(format!("{op}: weight must be {rank}-D {wl}, got shape {w:?}"));
    }
    let (c_in, c_out, g) = (x[1], w[0], o.groups);
    if g == 0 {
        return Err(format!("{op}: groups must be positive, got 0"));
    }
    if c_in % g != 0 || c_out % g != 0 {
        return Err(format!(
            "{op}: groups={g} must divide both the input channels ({c_in}, x shape {x:?}) and the output channels ({c_out}, weight shape {w:?})"
        ));
    }
    if w[1] * g != c_in {
        return Err(format!(
            "{op}: weight shape {w:?} with groups={g} expects {} input channels (weight.shape[1] * groups), but x has shape {x:?}",
            w[1] * g
        ));
    }
    if let Some(b) = bias {
        if b != [c_out] {
            return Err(format!("{op}: bias must have shape [{c_out}] (the weight's C_out, weight shape {w:?}), got {b:?}"));
        }
    }
    for (name, v) in [("stride", &o.stride), ("dilation", &o.dilation)] {
        if v.contains(&0) {
            return Err(format!("{op}: {name} must be positive, got {v:?}"));
        }
    }
    if w[2..].contains(&0) {
        return Err(format!("{op}: the kernel must not be empty, weight shape {w:?}"));
    }
    let pads: [[usize; 2]; D] = match o.padding {
        Padding::Explicit(p) => p,
        Padding::Same => {
            if o.stride != [1; D] {
                return Err(format!("{op}: padding=\"same\" needs stride 1, got stride {:?}", o.stride));
            }
            std::array::from_fn(|d| {
                let total = o.dilation[d] * (w[2 + d] - 1);
                [total / 2, total - total / 2]
            })
        }
    };
    // Lift to two spatial dimensions: a 1-D convolution has height 1 everywhere.
    let lift = |v: &[usize], one: usize| -> [usize; 2] { if D == 1 { [one, v[0]] } else { [v[0], v[1]] } };
    let (in_hw, k) = (lift(&x[2..], 1), lift(&w[2..], 1));
    let (stride, dilation) = (lift(&o.stride, 1), lift(&o.dilation, 1));
    let pad_lr: [[usize; 2]; 2] = if D == 1 { [[0, 0], pads[0]] } else { [pads[0], pads[D - 1]] };
    let mut out_hw = [0; 2];
    for d in 0..2 {
        let padded = in_hw[d] + pad_lr[d][0] + pad_lr[d][1];
        let span = dilation[d] * (k[d] - 1) + 1;
        if padded < span {
            return Err(format!(
                "{op}: the kernel spans {span} (dilation {:?}, weight shape {w:?}) but the padded input is only {padded} long (x shape {x:?}, padding {:?})",
                o.dilation, o.padding
            ));
        }
        out_hw[d] = (padded - span) / stride[d] + 1;
    }
    let pad = [pad_lr[0][0], pad_lr[1][0]];
    Ok(ConvGeom { dims: D, n: x[0], c_in, c_out, groups: g, in_hw, k, out_hw, stride, dilation, pad })
}

/// Checks the flat lengths of a convolution's buffers against its geometry.
fn check_lens(g: &ConvGeom, what: &str, x: usize, w: usize, out: usize) {
    let (xs, os, _) = g.sizes();
    let (kg, _) = g.group_sizes();
    assert!(
        x == g.n * xs && w == g.c_out * kg && out == g.n * os,
        "{what}: buffers of {x}, {w}, {out} elements do not fit {g:?}"
    );
}

/// `out = conv(x, w) + bias` (overwritten): `x` is `[N, C_in, H, W]`, `w` `[C_out, C_in/groups, KH,
/// KW]`, `out` `[N, C_out, OH, OW]`, all flat row-major.
pub(crate) fn conv_forward<T: Float>(g: &ConvGeom, x: &[T], w: &[T], bias: Option<&[T]>, out: &mut [T]) {
    forward_into(g, x, w, bias, out, false);
}

/// `out += conv(x, w)`: the forward product added to what `out` holds (gradients and tangents
/// accumulate).
pub(crate) fn conv_forward_add<T: Float>(g: &ConvGeom, x: &[T], w: &[T], out: &mut [T]) {
    forward_into(g, x, w, None, out, true);
}

/// `out[:, c, ...] += bias[c]`.
pub(crate) fn add_bias<T: Float>(g: &ConvGeom, bias: &[T], out: &mut [T]) {
    let (_, os, p) = g.sizes();
    for on in out.chunks_exact_mut(os) {
        on.chunks_exact_mut(p).zip(bias).for_each(|(row, &bv)| row.iter_mut().for_each(|v| *v += bv));
    }
}

/// The forward product on one thread (see [`forward_into`]).
fn forward_serial<T: Float>(g: &ConvGeom, x: &[T], w: &[T], bias: Option<&[T]>, out: &mut [T], add: bool) {
    check_lens(g, "conv_forward", x.len(), w.len(), out.len());
    let (xs, os, p) = g.sizes();
    let (kg, cog) = g.group_sizes();
    let mut col = Scratch::take(if g.identity_lowering() { 0 } else { g.c_in * g.k[0] * g.k[1] * p });
    // The weight transposed, `[C_in/groups·KH·KW][C_out]`: matrixmultiply packs a left operand
    // fastest when its columns are contiguous.
    let mut wt = Scratch::take(w.len());
    for (r, wr) in w.chunks_exact(kg).enumerate() {
        wr.iter().enumerate().for_each(|(c, &v)| wt[c * g.c_out + r] = v);
    }
    for (xn, on) in x.chunks_exact(xs).zip(out.chunks_exact_mut(os)) {
        let col: &[T] = if col.is_empty() {
            xn
        } else {
            im2col(g, xn, &mut col);
            &col
        };
        let beta = match bias {
            _ if add => T::ONE,
            Some(b) => {
                on.chunks_exact_mut(p).zip(b).for_each(|(row, &bv)| row.fill(bv));
                T::ONE
            }
            None => T::ZERO,
        };
        for gi in 0..g.groups {
            let wg = &wt[gi * cog..];
            let cg = &col[gi * kg * p..(gi + 1) * kg * p];
            gemm(cog, kg, p, wg, (1, g.c_out), cg, (p, 1), beta, &mut on[gi * cog * p..(gi + 1) * cog * p]);
        }
    }
}

/// Whether the products go the Winograd route (`conv_winograd.rs`): f32 only, where its 2.25
/// times fewer multiply-adds pay; f64 keeps im2col's exact summation order.
fn winograd<T: Float>(g: &ConvGeom) -> bool {
    std::any::TypeId::of::<T>() == std::any::TypeId::of::<f32>() && conv_winograd::applies(g)
}

/// Multiply-adds from which a batch is split over two threads: each half lowers its own images
/// while the other's GEMMs run (the lowering alone would leave a core idle).
const PARALLEL_MACS: usize = 1 << 22;

/// `m·k + k·n` from which matrixmultiply runs one product on two threads (its heuristic: one
/// thread per 2^14 of it).
pub(super) const GEMM_THREADED: usize = 1 << 15;

/// The batch cut in two halves when the work is large enough, two cores are there, and the
/// per-image products are too small for matrixmultiply to thread them itself: splitting the batch
/// over threaded products would put four threads on two cores (measured on the conv2d bench's
/// shapes, batch 64 of 32x28x28: 52-57 ms split against 40-42 ms unsplit, the products threaded).
fn halves(g: &ConvGeom) -> Option<(ConvGeom, ConvGeom)> {
    let (kg, cog) = g.group_sizes();
    let p = g.sizes().2;
    let macs = g.n * g.c_out * p * kg;
    if g.n < 2 || macs < PARALLEL_MACS || cores() < 2 || cog * kg + kg * p >= GEMM_THREADED {
        return None;
    }
    let first = ConvGeom { n: g.n / 2, ..*g };
    Some((first, ConvGeom { n: g.n - g.n / 2, ..*g }))
}

/// `out (+)= conv(x, w) (+ bias)`, the batch split over two threads when large.
fn forward_into<T: Float>(g: &ConvGeom, x: &[T], w: &[T], bias: Option<&[T]>, out: &mut [T], add: bool) {
    check_lens(g, "conv_forward", x.len(), w.len(), out.len());
    if winograd::<T>(g) {
        return conv_winograd::forward(g, x, w, bias, out, add);
    }
    let Some((g1, g2)) = halves(g) else { return forward_serial(g, x, w, bias, out, add) };
    let (xs, os, _) = g.sizes();
    let (x1, x2) = x.split_at(g1.n * xs);
    let (o1, o2) = out.split_at_mut(g1.n * os);
    join(|| forward_serial(&g2, x2, w, bias, o2, add), || forward_serial(&g1, x1, w, bias, o1, add));
}

/// [`conv_backward_input_into`] on one thread.
fn backward_input_serial<T: Float>(g: &ConvGeom, gout: &[T], w: &[T], dx: &mut [T], overwrite: bool) {
    check_lens(g, "conv_backward_input", dx.len(), w.len(), gout.len());
    let (xs, os, p) = g.sizes();
    let (kg, cog) = g.group_sizes();
    let identity = g.identity_lowering();
    let mut dcol = Scratch::take(if identity { 0 } else { g.c_in * g.k[0] * g.k[1] * p });
    for (gn, dxn) in gout.chunks_exact(os).zip(dx.chunks_exact_mut(xs)) {
        // With an identity lowering dcol is dx's image itself, accumulated in place (beta 1).
        let (dst, beta) = match identity {
            true => (&mut *dxn, if overwrite { T::ZERO } else { T::ONE }),
            false => (&mut dcol[..], T::ZERO),
        };
        for gi in 0..g.groups {
            let wg = &w[gi * cog * kg..(gi + 1) * cog * kg];
            let gg = &gn[gi * cog * p..(gi + 1) * cog * p];
            gemm(kg, cog, p, wg, (1, kg), gg, (p, 1), beta, &mut dst[gi * kg * p..(gi + 1) * kg * p]);
        }
        if !identity {
            if overwrite {
                // Cleared image by image, just before it is added to (in cache), rather than
                // the whole gradient in a pass of its own.
                dxn.fill(T::ZERO);
            }
            col2im_add(g, &mut dcol, dxn);
        }
    }
}

/// `dx += convᵀ(gout, w)`: the gradient of `sum(out * gout)` with respect to the input (linear in
/// `gout` and in `w`).
pub(crate) fn conv_backward_input<T: Float>(g: &ConvGeom, gout: &[T], w: &[T], dx: &mut [T]) {
    conv_backward_input_into(g, gout, w, dx, false);
}

/// `dx = convᵀ(gout, w)`, or `dx += ...` when not `overwrite` (what `dx` held is then kept).
pub(crate) fn conv_backward_input_into<T: Float>(g: &ConvGeom, gout: &[T], w: &[T], dx: &mut [T], overwrite: bool) {
    check_lens(g, "conv_backward_input", dx.len(), w.len(), gout.len());
    if winograd::<T>(g) {
        return conv_winograd::backward_input(g, gout, w, dx, overwrite);
    }
    let Some((g1, g2)) = halves(g) else { return backward_input_serial(g, gout, w, dx, overwrite) };
    let (xs, os, _) = g.sizes();
    let (go1, go2) = gout.split_at(g1.n * os);
    let (d1, d2) = dx.split_at_mut(g1.n * xs);
    join(|| backward_input_serial(&g2, go2, w, d2, overwrite), || backward_input_serial(&g1, go1, w, d1, overwrite));
}

/// [`conv_backward_weight`] on one thread.
fn backward_weight_serial<T: Float>(g: &ConvGeom, x: &[T], gout: &[T], dw: &mut [T]) {
    check_lens(g, "conv_backward_weight", x.len(), dw.len(), gout.len());
    if conv_wgrad::applies(g) {
        return conv_wgrad::backward_weight(g, x, gout, dw);
    }
    backward_weight_im2col(g, x, gout, dw);
}

/// [`conv_backward_weight`] on one thread through im2col, for any geometry.
fn backward_weight_im2col<T: Float>(g: &ConvGeom, x: &[T], gout: &[T], dw: &mut [T]) {
    let (xs, os, p) = g.sizes();
    let (kg, cog) = g.group_sizes();
    let mut col = Scratch::take(if g.identity_lowering() { 0 } else { g.c_in * g.k[0] * g.k[1] * p });
    for (xn, gn) in x.chunks_exact(xs).zip(gout.chunks_exact(os)) {
        let col: &[T] = if col.is_empty() {
            xn
        } else {
            im2col(g, xn, &mut col);
            &col
        };
        for gi in 0..g.groups {
            let gg = &gn[gi * cog * p..(gi + 1) * cog * p];
            let cg = &col[gi * kg * p..(gi + 1) * kg * p];
            gemm(cog, p, kg, gg, (p, 1), cg, (1, p), T::ONE, &mut dw[gi * cog * kg..(gi + 1) * cog * kg]);
        }
    }
}

/// `dw += Σ_n gout_n colᵀ(x_n)`: the gradient of `sum(out * gout)` with respect to the weight
/// (linear in `x` and in `gout`).
pub(crate) fn conv_backward_weight<T: Float>(g: &ConvGeom, x: &[T], gout: &[T], dw: &mut [T]) {
    check_lens(g, "conv_backward_weight", x.len(), dw.len(), gout.len());
    if winograd::<T>(g) {
        return conv_winograd::backward_weight(g, x, gout, dw);
    }
    let Some((g1, g2)) = halves(g) else { return backward_weight_serial(g, x, gout, dw) };
    let (xs, os, _) = g.sizes();
    let (x1, x2) = x.split_at(g1.n * xs);
    let (go1, go2) = gout.split_at(g1.n * os);
    let mut other = Scratch::zeroed(dw.len());
    join_summed(dw, &mut other, |d| backward_weight_serial(&g1, x1, go1, d), |d| backward_weight_serial(&g2, x2, go2, d));
}

/// `db[c] += Σ gout[:, c, ...]`: the gradient with respect to the bias.
pub(crate) fn conv_backward_bias<T: Float>(g: &ConvGeom, gout: &[T], db: &mut [T]) {
    let (_, os, p) = g.sizes();
    assert!(gout.len() == g.n * os && db.len() == g.c_out, "conv_backward_bias: buffers do not fit {g:?}");
    for gn in gout.chunks_exact(os) {
        for (d, row) in db.iter_mut().zip(gn.chunks_exact(p)) {
            // Eight running sums (vectorised; one chain of adds would wait on each add's latency).
            let mut acc = [T::ZERO; 8];
            let mut blocks = row.chunks_exact(8);
            for b in &mut blocks {
                acc.iter_mut().zip(b).for_each(|(a, &v)| *a += v);
            }
            *d += acc.iter().copied().sum::<T>() + blocks.remainder().iter().copied().sum::<T>();
        }
    }
}

#[cfg(test)]
#[path = "conv_tests.rs"]
pub(super) mod tests;
