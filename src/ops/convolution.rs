//! The convolution op units: `conv1d` and `conv2d` (PyTorch's names, arguments and semantics:
//! channels first, cross-correlation, `padding` per side or `"same"`, dilation, groups, optional
//! bias), with the kernels of `conv.rs`.
//!
//! A convolution is bilinear in its input and weight, so its derivative is stated once as three
//! products that share one geometry: the forward product `C(x, w)`, the input-gradient product
//! `Bx(g, w)` (with `<C(x, w), g> = <x, Bx(g, w)>`) and the weight-gradient product `Bw(x, g)`
//! (with `<C(x, w), g> = <w, Bw(x, g)>`). Each is a recorded op whose own derivatives are again the
//! three products, so gradients of gradients, to any order, stay within one node kind:
//!
//! | node | d/d(first) of `<y, h>` | d/d(second) of `<y, h>` | tangent |
//! | --- | --- | --- | --- |
//! | `y = C(x, w) + b` | `Bx(h, w)` | `Bw(x, h)` (bias: `Σ h`) | `C(tx, w) + C(x, tw) + tb` |
//! | `y = Bx(g, w)` | `C(h, w)` | `Bw(h, g)` | `Bx(tg, w) + Bx(g, tw)` |
//! | `y = Bw(x, g)` | `Bx(g, h)` | `C(x, h)` | `Bw(tx, g) + Bw(x, tg)` |

use super::conv::{
    add_bias, conv_backward_bias, conv_backward_input, conv_backward_input_into, conv_backward_weight, conv_forward,
    conv_forward_add,
    conv_geometry, ConvGeom, ConvOptions, CONV_AUX,
};
use crate::ops::{Contribs, Op};
use crate::tape::{Back, Jvp, Tape, Var};
use crate::tensor::Float;

/// Which of a convolution's three products a node computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ConvKind {
    /// `C(x, w) (+ b)`: inputs `x`, `w` (and the bias).
    Forward,
    /// `Bx(g, w)`, the input's gradient: inputs `g` (output-shaped), `w`.
    InputGrad,
    /// `Bw(x, g)`, the weight's gradient: inputs `x`, `g`.
    WeightGrad,
}

impl ConvKind {
    /// The op's name in messages and the inspector.
    pub fn name(self) -> &'static str {
        match self {
            ConvKind::Forward => "conv",
            ConvKind::InputGrad => "conv_input_grad",
            ConvKind::WeightGrad => "conv_weight_grad",
        }
    }
}

/// The bias slot of a node without bias.
pub(crate) const NO_BIAS: u32 = u32::MAX;

impl<'t, T: Float> Var<'t, T> {
    /// 1-D convolution of `self` (`[N, C_in, L]`) with `weight` (`[C_out, C_in / groups, K]`) plus
    /// an optional `bias` (`[C_out]`), giving `[N, C_out, L_out]`: PyTorch's
    /// `F.conv1d(input, weight, bias, stride, padding, dilation, groups)`, cross-correlation as there.
    ///
    /// ```
    /// use tapegrad::{ConvOptions, Padding, Tape, Tensor};
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[1, 1, 4]));
    /// let w = tape.var(Tensor::from_vec(vec![1.0, 0.0, -1.0], &[1, 1, 3]));
    /// let y = x.conv1d(w, None, ConvOptions::default().padding(Padding::Same));
    /// assert_eq!(y.value().data(), &[-2.0, -2.0, -2.0, 3.0]);
    /// ```
    #[track_caller]
    pub fn conv1d(self, weight: Var<'t, T>, bias: Option<Var<'t, T>>, options: ConvOptions<1>) -> Var<'t, T> {
        conv_nd("conv1d", self, weight, bias, &options)
    }

    /// 2-D convolution of `self` (`[N, C_in, H, W]`) with `weight` (`[C_out, C_in / groups, KH, KW]`)
    /// plus an optional `bias` (`[C_out]`), giving `[N, C_out, H_out, W_out]`: PyTorch's
    /// `F.conv2d`, through im2col and GEMM.
    ///
    /// ```
    /// use tapegrad::{ConvOptions, Tape, Tensor};
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(Tensor::from_vec((0..16).map(f64::from).collect(), &[1, 1, 4, 4]));
    /// let w = tape.var(Tensor::from_vec(vec![1.0; 4], &[1, 1, 2, 2]));
    /// let b = tape.var(Tensor::from_vec(vec![0.5], &[1]));
    /// let y = x.conv2d(w, Some(b), ConvOptions::default().stride([2, 2]));
    /// assert_eq!(y.value().data(), &[10.5, 18.5, 42.5, 50.5]);
    /// let grads = y.sum().backward();
    /// assert_eq!(&grads[b], &[4.0]);
    /// ```
    #[track_caller]
    pub fn conv2d(self, weight: Var<'t, T>, bias: Option<Var<'t, T>>, options: ConvOptions<2>) -> Var<'t, T> {
        conv_nd("conv2d", self, weight, bias, &options)
    }
}

#[track_caller]
fn conv_nd<'t, T: Float, const D: usize>(
    op: &str, x: Var<'t, T>, w: Var<'t, T>, bias: Option<Var<'t, T>>, o: &ConvOptions<D>,
) -> Var<'t, T> {
    x.same_tape(&w, op);
    if let Some(b) = &bias {
        x.same_tape(b, op);
    }
    let bias_shape = bias.map(|b| b.shape());
    // A panic here, not in a closure, so that `#[track_caller]` names the caller's line.
    let geom = match conv_geometry(op, &x.shape(), &w.shape(), bias_shape.as_deref(), o) {
        Ok(g) => g,
        Err(e) => panic!("{e}"),
    };
    product(x.tape(), ConvKind::Forward, &geom, x, w, bias)
}

/// Records one of the three products.
#[track_caller]
fn product<'t, T: Float>(
    tape: &'t Tape<T>, kind: ConvKind, geom: &ConvGeom, a: Var<'t, T>, b: Var<'t, T>, bias: Option<Var<'t, T>>,
) -> Var<'t, T> {
    let (start, _) = tape.push_aux(geom.to_aux());
    let shape = match kind {
        ConvKind::Forward => geom.out_shape(),
        ConvKind::InputGrad => geom.in_shape(),
        ConvKind::WeightGrad => geom.weight_shape(),
    };
    let rg = a.requires_grad() || b.requires_grad() || bias.is_some_and(|v| v.requires_grad());
    let (ai, bi, ci) = (a.id(), b.id(), bias.map_or(NO_BIAS, |v| v.id()));
    let g = *geom;
    tape.record(Op::Conv { kind, a: ai, b: bi, bias: ci, start }, shape.into_iter().collect(), rg, move |f, out| match kind {
        ConvKind::Forward => conv_forward(&g, f.x(ai), f.x(bi), (ci != NO_BIAS).then(|| f.x(ci)), out),
        ConvKind::InputGrad => conv_backward_input_into(&g, f.x(ai), f.x(bi), out, true),
        ConvKind::WeightGrad => {
            out.fill(T::ZERO);
            conv_backward_weight(&g, f.x(ai), f.x(bi), out);
        }
    })
}

fn geom_at(aux: &[usize], start: u32) -> ConvGeom {
    ConvGeom::from_aux(&aux[start as usize..start as usize + CONV_AUX])
}

/// The reverse sweep's rule of the three products (table above), adding into the inputs' gradients.
pub(crate) fn vjp<T: Float>(kind: ConvKind, a: u32, b: u32, bias: u32, start: u32, bk: &mut Back<'_, T>) {
    let g = geom_at(bk.aux, start);
    let (av, bv, h) = (bk.x(a), bk.x(b), bk.g);
    match kind {
        ConvKind::Forward => {
            if bk.wants(a) {
                // Reached first, the input's gradient is written, not cleared and added to.
                let (dx, beta) = bk.grad_or_overwrite(a);
                conv_backward_input_into(&g, h, bv, dx, beta == T::ZERO);
            }
            if bk.wants(b) {
                conv_backward_weight(&g, av, h, bk.grad(b));
            }
            if bias != NO_BIAS && bk.wants(bias) {
                conv_backward_bias(&g, h, bk.grad(bias));
            }
        }
        ConvKind::InputGrad => {
            if bk.wants(a) {
                conv_forward_add(&g, h, bv, bk.grad(a));
            }
            if bk.wants(b) {
                conv_backward_weight(&g, h, av, bk.grad(b));
            }
        }
        ConvKind::WeightGrad => {
            if bk.wants(a) {
                conv_backward_input(&g, bv, h, bk.grad(a));
            }
            if bk.wants(b) {
                conv_forward_add(&g, av, h, bk.grad(b));
            }
        }
    }
}

/// The recorded rule: the same table with recorded products, so it can be differentiated again.
pub(crate) fn vjp_recorded<'t, T: Float>(
    kind: ConvKind, a: Var<'t, T>, b: Var<'t, T>, bias: Option<Var<'t, T>>, start: u32, h: Var<'t, T>, out: &mut Contribs<'t, T>,
) {
    let tape = h.tape();
    let g = geom_at(&tape.arena.borrow().aux, start);
    let (want_a, want_b) = (a.requires_grad(), b.requires_grad());
    match kind {
        ConvKind::Forward => {
            if want_a {
                out.push((a.id(), product(tape, ConvKind::InputGrad, &g, h, b, None)));
            }
            if want_b {
                out.push((b.id(), product(tape, ConvKind::WeightGrad, &g, a, h, None)));
            }
            if let Some(bias) = bias.filter(|v| v.requires_grad()) {
                let p = g.out_hw[0] * g.out_hw[1];
                out.push((bias.id(), h.reshape(&[g.n, g.c_out, p]).sum_axis(2, false).sum_axis(0, false)));
            }
        }
        ConvKind::InputGrad => {
            if want_a {
                out.push((a.id(), product(tape, ConvKind::Forward, &g, h, b, None)));
            }
            if want_b {
                out.push((b.id(), product(tape, ConvKind::WeightGrad, &g, h, a, None)));
            }
        }
        ConvKind::WeightGrad => {
            if want_a {
                out.push((a.id(), product(tape, ConvKind::InputGrad, &g, b, h, None)));
            }
            if want_b {
                out.push((b.id(), product(tape, ConvKind::Forward, &g, a, h, None)));
            }
        }
    }
}

/// Forward mode: each product is bilinear, so its tangent is the product with one tangent in
/// each slot in turn (skipping inputs without a tangent), plus the bias' tangent.
#[allow(clippy::too_many_arguments)]
pub(crate) fn jvp<T: Float>(kind: ConvKind, a: u32, b: u32, bias: u32, start: u32, j: &Jvp<'_, T>, d: usize, out: &mut [T]) {
    let g = geom_at(j.aux, start);
    out.fill(T::ZERO);
    let apply = |x: &[T], y: &[T], out: &mut [T]| match kind {
        ConvKind::Forward => conv_forward_add(&g, x, y, out),
        ConvKind::InputGrad => conv_backward_input(&g, x, y, out),
        ConvKind::WeightGrad => conv_backward_weight(&g, x, y, out),
    };
    if j.has(a) {
        apply(j.t(a, d), j.x(b), out);
    }
    if j.has(b) {
        apply(j.x(a), j.t(b, d), out);
    }
    if bias != NO_BIAS && j.has(bias) {
        add_bias(&g, j.t(bias, d), out);
    }
}
