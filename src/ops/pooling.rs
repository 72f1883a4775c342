//! The pooling op units: `max_pool1d/2d`, `avg_pool1d/2d` (PyTorch's names and semantics, channels
//! first) and `global_avg_pool1d/2d` (Keras' `GlobalAveragePooling1D/2D` with
//! `data_format="channels_first"`: `[N, C, ...] -> [N, C]`), with the kernels of `pool.rs`.
//!
//! Both pools are linear maps once max pooling's choice is fixed, so each is stated as a map and
//! its adjoint, two node kinds whose derivatives are each other:
//! - max pooling records the input index each output took (ties to the first maximum in row-major
//!   window order, a NaN winning its window: PyTorch's CPU convention). Its node *selects* those
//!   elements; the adjoint *scatters* back to them (summing where windows overlap). Away from ties
//!   this is the exact derivative, and the second derivative is zero, as for `max`.
//! - average pooling's node averages each window; the adjoint spreads each value evenly over it.
//!
//! Global average pooling is a mean over the spatial positions, recorded as `reshape` and `mean`.

use super::pool::{
    avg_pool_backward, avg_pool_forward, avg_pool_forward_add, gather_argmax, gather_argmax_add, global_pool_sizes,
    max_pool_backward, max_pool_forward, pool_geometry, PoolGeom, PoolOptions, POOL_AUX,
};
use crate::ops::{Contribs, Op};
use crate::tape::{Back, Jvp, Var};
use crate::tensor::Float;

/// Which linear map a pooling node computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PoolKind {
    /// Max pooling: `y[i] = x[argmax[i]]`, output-shaped.
    MaxSelect,
    /// Its adjoint: `y[argmax[i]] += x[i]`, input-shaped.
    MaxScatter,
    /// Average pooling, output-shaped.
    Avg,
    /// Its adjoint, input-shaped.
    AvgAdjoint,
}

impl PoolKind {
    /// The op's name in messages and the inspector.
    pub fn name(self) -> &'static str {
        match self {
            PoolKind::MaxSelect => "max_pool",
            PoolKind::MaxScatter => "max_pool_backward",
            PoolKind::Avg => "avg_pool",
            PoolKind::AvgAdjoint => "avg_pool_backward",
        }
    }

    /// The kind whose map is this one's adjoint (its derivative).
    fn adjoint(self) -> PoolKind {
        match self {
            PoolKind::MaxSelect => PoolKind::MaxScatter,
            PoolKind::MaxScatter => PoolKind::MaxSelect,
            PoolKind::Avg => PoolKind::AvgAdjoint,
            PoolKind::AvgAdjoint => PoolKind::Avg,
        }
    }
}

impl<'t, T: Float> Var<'t, T> {
    /// 1-D max pooling of `[N, C, L]`: PyTorch's `F.max_pool1d(x, kernel_size, stride, padding)`
    /// (`ceil_mode=False`, dilation 1). The gradient goes to each window's maximum, summed where
    /// windows overlap; a tie sends it to the first maximum in the window (PyTorch's CPU rule).
    ///
    /// ```
    /// use tapegrad::{PoolOptions, Tape, Tensor};
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(Tensor::from_vec(vec![1.0, 3.0, 2.0, 0.0, 5.0], &[1, 1, 5]));
    /// let y = x.max_pool1d(PoolOptions { stride: [1], ..PoolOptions::new([2]) });
    /// assert_eq!(y.value().data(), &[3.0, 3.0, 2.0, 5.0]);
    /// assert_eq!(&y.sum().backward()[x], &[0.0, 2.0, 1.0, 0.0, 1.0]);
    /// ```
    #[track_caller]
    pub fn max_pool1d(self, options: PoolOptions<1>) -> Var<'t, T> {
        max_pool("max_pool1d", self, &options)
    }

    /// 2-D max pooling of `[N, C, H, W]`: PyTorch's `F.max_pool2d` (see [`max_pool1d`](Self::max_pool1d)).
    ///
    /// ```
    /// use tapegrad::{PoolOptions, Tape, Tensor};
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(Tensor::from_vec((0..16).map(f64::from).collect(), &[1, 1, 4, 4]));
    /// assert_eq!(x.max_pool2d(PoolOptions::new([2, 2])).value().data(), &[5.0, 7.0, 13.0, 15.0]);
    /// ```
    #[track_caller]
    pub fn max_pool2d(self, options: PoolOptions<2>) -> Var<'t, T> {
        max_pool("max_pool2d", self, &options)
    }

    /// 1-D average pooling of `[N, C, L]`: PyTorch's `F.avg_pool1d(x, kernel_size, stride, padding,
    /// ceil_mode=False, count_include_pad)`.
    ///
    /// ```
    /// use tapegrad::{PoolOptions, Tape, Tensor};
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(Tensor::from_vec(vec![2.0, 4.0, 6.0], &[1, 1, 3]));
    /// let o = PoolOptions { padding: [1], ..PoolOptions::new([2]) };
    /// assert_eq!(x.avg_pool1d(o).value().data(), &[1.0, 5.0]); // padded zeros counted
    /// let o = PoolOptions { count_include_pad: false, ..o };
    /// assert_eq!(x.avg_pool1d(o).value().data(), &[2.0, 5.0]);
    /// ```
    #[track_caller]
    pub fn avg_pool1d(self, options: PoolOptions<1>) -> Var<'t, T> {
        avg_pool("avg_pool1d", self, &options)
    }

    /// 2-D average pooling of `[N, C, H, W]`: PyTorch's `F.avg_pool2d` (see [`avg_pool1d`](Self::avg_pool1d)).
    ///
    /// ```
    /// use tapegrad::{PoolOptions, Tape, Tensor};
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(Tensor::from_vec((0..16).map(f64::from).collect(), &[1, 1, 4, 4]));
    /// assert_eq!(x.avg_pool2d(PoolOptions::new([2, 2])).value().data(), &[2.5, 4.5, 10.5, 12.5]);
    /// ```
    #[track_caller]
    pub fn avg_pool2d(self, options: PoolOptions<2>) -> Var<'t, T> {
        avg_pool("avg_pool2d", self, &options)
    }

    /// Global average pooling of `[N, C, L]` to `[N, C]`: Keras' `GlobalAveragePooling1D` on
    /// channels-first data (PyTorch: `x.mean(-1)`).
    ///
    /// ```
    /// use tapegrad::{Tape, Tensor};
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(Tensor::from_vec(vec![1.0, 2.0, 3.0, 5.0], &[1, 2, 2]));
    /// assert_eq!(x.global_avg_pool1d().value().data(), &[1.5, 4.0]);
    /// ```
    #[track_caller]
    pub fn global_avg_pool1d(self) -> Var<'t, T> {
        global_avg_pool("global_avg_pool1d", self, 1)
    }

    /// Global average pooling of `[N, C, H, W]` to `[N, C]`: Keras' `GlobalAveragePooling2D` on
    /// channels-first data (PyTorch: `F.adaptive_avg_pool2d(x, 1).flatten(1)`).
    ///
    /// ```
    /// use tapegrad::{Tape, Tensor};
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(Tensor::from_vec((0..8).map(f64::from).collect(), &[1, 2, 2, 2]));
    /// assert_eq!(x.global_avg_pool2d().value().data(), &[1.5, 5.5]);
    /// ```
    #[track_caller]
    pub fn global_avg_pool2d(self) -> Var<'t, T> {
        global_avg_pool("global_avg_pool2d", self, 2)
    }
}

#[track_caller]
fn max_pool<'t, T: Float, const D: usize>(op: &str, x: Var<'t, T>, o: &PoolOptions<D>) -> Var<'t, T> {
    let g = match pool_geometry(op, &x.shape(), o) {
        Ok(g) => g,
        Err(e) => panic!("{e}"),
    };
    let mut argmax = vec![0; g.out_len()];
    x.with_data(|xv| {
        let mut out = vec![T::ZERO; g.out_len()];
        max_pool_forward(&g, xv, &mut out, &mut argmax);
    });
    let (start, _) = x.tape().push_aux(g.to_aux().into_iter().chain(argmax));
    record(PoolKind::MaxSelect, &g, x, start)
}

#[track_caller]
fn avg_pool<'t, T: Float, const D: usize>(op: &str, x: Var<'t, T>, o: &PoolOptions<D>) -> Var<'t, T> {
    let g = match pool_geometry(op, &x.shape(), o) {
        Ok(g) => g,
        Err(e) => panic!("{e}"),
    };
    let (start, _) = x.tape().push_aux(g.to_aux());
    record(PoolKind::Avg, &g, x, start)
}

#[track_caller]
fn global_avg_pool<'t, T: Float>(op: &str, x: Var<'t, T>, dims: usize) -> Var<'t, T> {
    let (n, c, area) = match global_pool_sizes(op, &x.shape(), dims) {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    };
    x.reshape(&[n, c, area]).mean_axis(2, false)
}

/// Records a pooling node of `kind` reading `x`, its geometry (and argmax) in aux at `start`.
#[track_caller]
fn record<'t, T: Float>(kind: PoolKind, g: &PoolGeom, x: Var<'t, T>, start: u32) -> Var<'t, T> {
    let shape = match kind {
        PoolKind::MaxSelect | PoolKind::Avg => g.out_shape(),
        PoolKind::MaxScatter | PoolKind::AvgAdjoint => g.in_shape(),
    };
    let (xi, g) = (x.id(), *g);
    x.tape().record(Op::Pool { kind, x: xi, start }, shape.into_iter().collect(), x.requires_grad(), move |f, out| {
        apply(kind, &g, argmax_at(kind, f.aux, start, &g), f.x(xi), out);
    })
}

/// `out = map(x)` for the node kind (overwriting).
fn apply<T: Float>(kind: PoolKind, g: &PoolGeom, argmax: &[usize], x: &[T], out: &mut [T]) {
    match kind {
        PoolKind::MaxSelect => gather_argmax(argmax, x, out),
        PoolKind::Avg => avg_pool_forward(g, x, out),
        PoolKind::MaxScatter => {
            out.fill(T::ZERO);
            max_pool_backward(argmax, x, out);
        }
        PoolKind::AvgAdjoint => {
            out.fill(T::ZERO);
            avg_pool_backward(g, x, out);
        }
    }
}

/// `dx += adjoint(h)` for the node kind.
fn apply_adjoint_add<T: Float>(kind: PoolKind, g: &PoolGeom, argmax: &[usize], h: &[T], dx: &mut [T]) {
    match kind {
        PoolKind::MaxSelect => max_pool_backward(argmax, h, dx),
        PoolKind::Avg => avg_pool_backward(g, h, dx),
        PoolKind::MaxScatter => gather_argmax_add(argmax, h, dx),
        PoolKind::AvgAdjoint => avg_pool_forward_add(g, h, dx),
    }
}

fn geom_at(aux: &[usize], start: u32) -> PoolGeom {
    PoolGeom::from_aux(&aux[start as usize..start as usize + POOL_AUX])
}

/// The argmax list after the geometry (max pooling's kinds; empty for average pooling's).
fn argmax_at<'a>(kind: PoolKind, aux: &'a [usize], start: u32, g: &PoolGeom) -> &'a [usize] {
    let s = start as usize + POOL_AUX;
    match kind {
        PoolKind::MaxSelect | PoolKind::MaxScatter => &aux[s..s + g.out_len()],
        PoolKind::Avg | PoolKind::AvgAdjoint => &[],
    }
}

/// The reverse sweep's rule: the adjoint map, added into the input's gradient.
pub(crate) fn vjp<T: Float>(kind: PoolKind, x: u32, start: u32, bk: &mut Back<'_, T>) {
    if !bk.wants(x) {
        return;
    }
    let g = geom_at(bk.aux, start);
    let (argmax, h) = (argmax_at(kind, bk.aux, start, &g), bk.g);
    apply_adjoint_add(kind, &g, argmax, h, bk.grad(x));
}

/// The recorded rule: the adjoint node, reading the same geometry and argmax.
pub(crate) fn vjp_recorded<'t, T: Float>(kind: PoolKind, x: Var<'t, T>, start: u32, h: Var<'t, T>, out: &mut Contribs<'t, T>) {
    let g = geom_at(&h.tape().arena.borrow().aux, start);
    out.push((x.id(), record(kind.adjoint(), &g, h, start)));
}

/// Forward mode: the map is linear, so the tangent is the map of the input's tangent.
pub(crate) fn jvp<T: Float>(kind: PoolKind, x: u32, start: u32, j: &Jvp<'_, T>, d: usize, out: &mut [T]) {
    let g = geom_at(j.aux, start);
    apply(kind, &g, argmax_at(kind, j.aux, start, &g), j.t(x, d), out);
}
