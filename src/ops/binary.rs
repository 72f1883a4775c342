//! Elementwise ops of two tensors with numpy broadcasting: one op unit per table row, holding the
//! forward rule and both partial derivatives as vector-Jacobian products (`g * dy/da`,
//! `g * dy/db`) over [`Elem`](crate::ops::elem::Elem). As in `unary.rs`, those two derivatives
//! serve the reverse sweep, the recorded rule and forward mode. On the reverse sweep a broadcast
//! operand's gradient is summed back to its shape in [`accumulate`]; the recorded rule does the
//! same with `Var::sum_to_shape`.

use crate::ops::{Contribs, Op};
use crate::tape::{Back, Jvp, Var};
use crate::tensor::kernels::{for_each_broadcast, map2, maximum, minimum, Layout};
use crate::tensor::shape::broadcast_shapes;
use crate::tensor::Float;
use std::ops::{Add, Div, Mul, Neg, Sub};

macro_rules! binary_table {
    ($( $variant:ident, $name:literal: y = |$a:ident, $b:ident| $fwd:expr,
        vjp_a = |$aa:ident, $ab:ident, $ag:ident| $da:expr, vjp_b = |$ba:ident, $bb:ident, $bg:ident| $db:expr; )*) => {
        /// The elementwise binary ops.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub(crate) enum Binary { $($variant),* }

        impl Binary {
            pub fn name(self) -> &'static str {
                match self { $(Binary::$variant => $name),* }
            }
            /// The forward rule over whole operands; one loop per op, chosen once.
            #[inline]
            pub(crate) fn map<T: Float>(self, sa: &[usize], sb: &[usize], so: &[usize], av: &[T], bv: &[T], out: &mut [T]) {
                match self { $(Binary::$variant => map2(sa, sb, so, av, bv, out, |$a: T, $b: T| $fwd)),* }
            }
            /// `g * dy/da` (side A) or `g * dy/db` (side B) at `(a, b)`, over numbers or recorded values.
            #[inline(always)]
            #[allow(unused_variables)]
            fn vjp<T: Float, E: crate::ops::elem::Elem<T>>(self, side: Side, a: E, b: E, g: E) -> E {
                match (self, side) {
                    $(
                        (Binary::$variant, Side::A) => { let ($aa, $ab, $ag) = (a, b, g); $da }
                        (Binary::$variant, Side::B) => { let ($ba, $bb, $bg) = (a, b, g); $db }
                    )*
                }
            }
            /// The reverse rule of one operand over whole buffers, summed over its broadcast copies;
            /// one loop per op and side.
            #[inline]
            #[allow(clippy::too_many_arguments)]
            fn accumulate<T: Float>(self, side: Side, layout: Layout, sa: &[usize], sb: &[usize], so: &[usize], av: &[T], bv: &[T], g: &[T], gx: &mut [T]) {
                match (self, side) {
                    $(
                        (Binary::$variant, Side::A) => accumulate(side, layout, sa, sb, so, av, bv, g, gx, |a: T, b: T, g: T| Binary::$variant.vjp(Side::A, a, b, g)),
                        (Binary::$variant, Side::B) => accumulate(side, layout, sa, sb, so, av, bv, g, gx, |a: T, b: T, g: T| Binary::$variant.vjp(Side::B, a, b, g)),
                    )*
                }
            }
        }
    };
}

binary_table! {
    Add, "add":  y = |a, b| a + b, vjp_a = |a, b, g| g,       vjp_b = |a, b, g| g;
    Sub, "sub":  y = |a, b| a - b, vjp_a = |a, b, g| g,       vjp_b = |a, b, g| -g;
    Mul, "mul":  y = |a, b| a * b, vjp_a = |a, b, g| g * b,   vjp_b = |a, b, g| g * a;
    // d(a / b) = da / b - a db / b^2.
    Div, "div":  y = |a, b| a / b, vjp_a = |a, b, g| g / b,   vjp_b = |a, b, g| -(g * a) / b.square();
    // A tie sends the whole gradient to the first argument: TensorFlow's convention, which tapegrad
    // follows (PyTorch splits a tie's gradient 0.5 / 0.5).
    Maximum, "maximum": y = |a, b| maximum(a, b),
        vjp_a = |a, b, g| g * a.ge(b), vjp_b = |a, b, g| g * a.ge(b).rsub(T::ONE);
    Minimum, "minimum": y = |a, b| minimum(a, b),
        vjp_a = |a, b, g| g * b.ge(a), vjp_b = |a, b, g| g * b.ge(a).rsub(T::ONE);
    // d(a^b) = b a^(b-1) da + a^b ln(a) db, with PyTorch's conventions at a = 0 (see `Var::pow`):
    // the base `a + mask` is 1 exactly where the mask is 1 (there a = 0), so the masked terms are
    // 0 (times 1 or ln 1), not 0 * inf, and the masks, constants of the tape, leave the second
    // derivative elsewhere as it is.
    Pow, "pow": y = |a, b| a.powf(b),
        vjp_a = |a, b, g| g * b * (a + a.is_zero() * b.is_zero()).pow(b - T::ONE),
        vjp_b = |a, b, g| g * a.pow(b) * (a + a.is_zero() * (b.step() + b.is_zero())).ln();
}

/// Which operand a gradient goes to.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    A,
    B,
}

/// `gx[ix] += rule(a[ia], b[ib], g[i])` for operand `side`, summing over its broadcast copies: the
/// one place a broadcast gradient is reduced back to its operand's shape. The general case walks
/// the broadcast index; a scalar, a repeated row (a bias) and a per-row column take direct loops,
/// which the training step's bias and per-row ops measurably need.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn accumulate<T: Float>(
    side: Side, layout: Layout, a: &[usize], b: &[usize], o: &[usize], av: &[T], bv: &[T], g: &[T], gx: &mut [T],
    d: impl Fn(T, T, T) -> T,
) {
    let sum = |it: &mut dyn Iterator<Item = T>| it.fold(T::ZERO, |s, v| s + v);
    match (layout, side) {
        (Layout::Same, _) => {
            gx.iter_mut().zip(g.iter().zip(av.iter().zip(bv))).for_each(|(y, (&gi, (&x, &z)))| *y += d(x, z, gi));
        }
        (Layout::ScalarB, Side::A) => gx.iter_mut().zip(g.iter().zip(av)).for_each(|(y, (&gi, &x))| *y += d(x, bv[0], gi)),
        (Layout::ScalarB, Side::B) => gx[0] += sum(&mut g.iter().zip(av).map(|(&gi, &x)| d(x, bv[0], gi))),
        (Layout::ScalarA, Side::A) => gx[0] += sum(&mut g.iter().zip(bv).map(|(&gi, &z)| d(av[0], z, gi))),
        (Layout::ScalarA, Side::B) => gx.iter_mut().zip(g.iter().zip(bv)).for_each(|(y, (&gi, &z))| *y += d(av[0], z, gi)),
        (Layout::RowB(w), side) => row_accumulate(side == Side::A, w, av, bv, g, gx, d),
        (Layout::RowA(w), side) => row_accumulate(side == Side::B, w, bv, av, g, gx, |z, x, gi| d(x, z, gi)),
        (Layout::ColB(w), side) => col_accumulate(side == Side::A, w, av, bv, g, gx, d),
        (Layout::ColA(w), side) => col_accumulate(side == Side::B, w, bv, av, g, gx, |z, x, gi| d(x, z, gi)),
        (Layout::General, Side::A) => for_each_broadcast(a, b, o, |i, ia, ib| gx[ia] += d(av[ia], bv[ib], g[i])),
        (Layout::General, Side::B) => for_each_broadcast(a, b, o, |i, ia, ib| gx[ib] += d(av[ia], bv[ib], g[i])),
    }
}

/// Gradients when one operand (`full`) has every element and the other (`row`) is a row of width
/// `w` repeated. With `to_full` the gradient goes to the full operand element by element;
/// otherwise it is summed over the rows into the row's gradient.
#[inline(always)]
fn row_accumulate<T: Float>(to_full: bool, w: usize, full: &[T], row: &[T], g: &[T], gx: &mut [T], d: impl Fn(T, T, T) -> T) {
    let rows = g.chunks_exact(w).zip(full.chunks_exact(w));
    if to_full {
        for ((grow, frow), gxr) in rows.zip(gx.chunks_exact_mut(w)) {
            for (((y, &gi), &f), &r) in gxr.iter_mut().zip(grow).zip(frow).zip(row) {
                *y += d(f, r, gi);
            }
        }
    } else {
        for (grow, frow) in rows {
            for (((y, &gi), &f), &r) in gx.iter_mut().zip(grow).zip(frow).zip(row) {
                *y += d(f, r, gi);
            }
        }
    }
}

/// As [`row_accumulate`] for an operand `col` with one element per row of width `w` of `full`.
#[inline(always)]
fn col_accumulate<T: Float>(to_full: bool, w: usize, full: &[T], col: &[T], g: &[T], gx: &mut [T], d: impl Fn(T, T, T) -> T) {
    let rows = g.chunks_exact(w).zip(full.chunks_exact(w)).zip(col);
    if to_full {
        for (((grow, frow), &c), gxr) in rows.zip(gx.chunks_exact_mut(w)) {
            for ((y, &gi), &f) in gxr.iter_mut().zip(grow).zip(frow) {
                *y += d(f, c, gi);
            }
        }
    } else {
        for (((grow, frow), &c), y) in rows.zip(gx.iter_mut()) {
            *y += grow.iter().zip(frow).fold(T::ZERO, |s, (&gi, &f)| s + d(f, c, gi));
        }
    }
}

impl<'t, T: Float> Var<'t, T> {
    #[track_caller]
    #[inline]
    pub(crate) fn binary(self, kind: Binary, other: Var<'t, T>) -> Var<'t, T> {
        self.same_tape(&other, kind.name());
        let (sa, sb) = (self.shape(), other.shape());
        let Some(out_shape) = broadcast_shapes(&sa, &sb) else {
            panic!("{}: shapes {:?} and {:?} cannot be broadcast together", kind.name(), &sa[..], &sb[..]);
        };
        let (a, b) = (self.id(), other.id());
        let rg = self.requires_grad() || other.requires_grad();
        let os = out_shape.clone();
        self.tape().record(Op::Binary(kind, a, b), out_shape, rg, |f, out| {
            kind.map(&sa, &sb, &os, f.x(a), f.x(b), out);
        })
    }

    /// `self ^ exponent` elementwise with numpy broadcasting both ways (`torch.pow(x, y)` for two
    /// tensors; [`powf`](Self::powf) takes a constant exponent).
    ///
    /// Derivatives `∂/∂x = y x^(y-1)` and `∂/∂y = x^y ln x`, with PyTorch's conventions (checked
    /// against PyTorch 2.15) where these are not finite numbers:
    /// - where `y == 0` the gradient with respect to `x` is 0, also at `x = 0`;
    /// - where `x == 0` and `y >= 0` the gradient with respect to `y` is 0 (at `x = 0`, `y < 0` it
    ///   is `-inf`, the limit of `x^y ln x`; at `x = 0`, `0 < y < 1` the one with respect to `x`
    ///   is `inf`);
    /// - a negative `x` has a real power only for an integer `y` (else NaN, as IEEE `pow`); its
    ///   gradient with respect to `x` is then `y x^(y-1)` as usual, and the one with respect to
    ///   `y` is NaN (`ln x` is not real). An exponent that needs no gradient (a constant) gets
    ///   none computed, so that NaN appears only where the exponent's gradient is asked for.
    ///
    /// ```
    /// use tapegrad::{Tape, Tensor};
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(Tensor::from_vec(vec![0.0, 0.0, 2.0, -2.0], &[4]));
    /// let y = tape.var(Tensor::from_vec(vec![0.0, 2.0, 0.5, 3.0], &[4]));
    /// let z = x.pow(y);
    /// assert_eq!(z.value().data(), &[1.0, 0.0, 2f64.powf(0.5), -8.0]);
    /// let g = z.sum().backward();
    /// assert_eq!(&g[x][..2], &[0.0, 0.0]);
    /// assert!((g[x][2] - 0.5 / 2f64.sqrt()).abs() < 1e-15);
    /// assert_eq!(g[x][3], 12.0);
    /// assert_eq!(&g[y][..2], &[0.0, 0.0]);          // x = 0, y >= 0: PyTorch's 0
    /// assert!(g[y][3].is_nan());                     // ln(-2)
    /// ```
    #[track_caller]
    pub fn pow(self, exponent: Var<'t, T>) -> Var<'t, T> {
        self.binary(Binary::Pow, exponent)
    }

    /// Elementwise maximum with broadcasting. A tie's gradient goes to `self`, as in TensorFlow
    /// (PyTorch splits it 0.5 / 0.5).
    #[track_caller]
    pub fn maximum(self, other: Var<'t, T>) -> Var<'t, T> {
        self.binary(Binary::Maximum, other)
    }

    /// Elementwise minimum with broadcasting. A tie's gradient goes to `self`, as in TensorFlow
    /// (PyTorch splits it 0.5 / 0.5).
    #[track_caller]
    pub fn minimum(self, other: Var<'t, T>) -> Var<'t, T> {
        self.binary(Binary::Minimum, other)
    }
}

/// Reverse sweep: `da += g * dy/da` and `db += g * dy/db`, summed over broadcast copies.
pub(crate) fn vjp<T: Float>(kind: Binary, a: u32, b: u32, bk: &mut Back<'_, T>) {
    let (av, bv, g) = (bk.x(a), bk.x(b), bk.g);
    let (sa, sb, so) = (bk.shape_of(a), bk.shape_of(b), bk.shape);
    let layout = Layout::of(sa, sb, so);
    for (side, id) in [(Side::A, a), (Side::B, b)] {
        if bk.wants(id) {
            kind.accumulate(side, layout, sa, sb, so, av, bv, g, bk.grad(id));
        }
    }
}

/// Recorded rule: the same derivatives on `Var`s, each summed back to its operand's shape.
/// An operand that needs no gradient gets none recorded.
pub(crate) fn vjp_recorded<'t, T: Float>(kind: Binary, a: Var<'t, T>, b: Var<'t, T>, g: Var<'t, T>, out: &mut Contribs<'t, T>) {
    if a.requires_grad() {
        out.push((a.id(), kind.vjp(Side::A, a, b, g).sum_to_shape(&a.shape())));
    }
    if b.requires_grad() {
        out.push((b.id(), kind.vjp(Side::B, a, b, g).sum_to_shape(&b.shape())));
    }
}

/// Forward mode: `ty = ta * dy/da + tb * dy/db`, each operand read through the broadcast. An
/// operand without a tangent adds no term (so `0 * dy/db` cannot turn a non-finite partial, such
/// as pow's `ln a` at a negative base, into NaN).
pub(crate) fn jvp<T: Float>(kind: Binary, a: u32, b: u32, j: &Jvp<'_, T>, d: usize, out: &mut [T]) {
    let (av, bv, ta, tb) = (j.x(a), j.x(b), j.t(a, d), j.t(b, d));
    let (sa, sb) = (j.shape_of(a), j.shape_of(b));
    match (j.has(a), j.has(b)) {
        (true, false) => for_each_broadcast(sa, sb, j.shape, |i, ia, ib| out[i] = kind.vjp(Side::A, av[ia], bv[ib], ta[ia])),
        (false, true) => for_each_broadcast(sa, sb, j.shape, |i, ia, ib| out[i] = kind.vjp(Side::B, av[ia], bv[ib], tb[ib])),
        _ => for_each_broadcast(sa, sb, j.shape, |i, ia, ib| {
            out[i] = kind.vjp(Side::A, av[ia], bv[ib], ta[ia]) + kind.vjp(Side::B, av[ia], bv[ib], tb[ib]);
        }),
    }
}

macro_rules! operator {
    ($trait:ident, $method:ident, $kind:ident) => {
        impl<'t, T: Float> $trait<Var<'t, T>> for Var<'t, T> {
            type Output = Var<'t, T>;
            #[track_caller]
            fn $method(self, other: Var<'t, T>) -> Var<'t, T> {
                self.binary(Binary::$kind, other)
            }
        }
    };
}
operator!(Add, add, Add);
operator!(Sub, sub, Sub);
operator!(Mul, mul, Mul);
operator!(Div, div, Div);

impl<'t, T: Float> Neg for Var<'t, T> {
    type Output = Var<'t, T>;
    #[track_caller]
    fn neg(self) -> Var<'t, T> {
        self.neg()
    }
}
