//! Elementwise ops of two tensors with numpy broadcasting. Each row gives the forward rule and both
//! partial derivatives, `dy/da` and `dy/db`, side by side. Gradients of a broadcast operand are summed
//! back to its shape by [`for_each_broadcast`], the one place that maps output elements to operands.

use crate::ops::Op;
use crate::tape::{Back, Var};
use crate::tensor::shape::{broadcast_shapes, BroadcastIndex};
use crate::tensor::Float;
use std::ops::{Add, Div, Mul, Neg, Sub};

macro_rules! binary_ops {
    ($( $variant:ident, $name:literal: |$a:ident, $b:ident| $fwd:expr,
        d/da |$da_a:ident, $da_b:ident| $da:expr, d/db |$db_a:ident, $db_b:ident| $db:expr; )*) => {
        /// The elementwise binary ops.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub(crate) enum Binary { $($variant),* }

        impl Binary {
            pub fn name(self) -> &'static str {
                match self { $(Binary::$variant => $name),* }
            }
            /// `y = f(a, b)`.
            #[inline(always)]
            pub fn forward<T: Float>(self, a: T, b: T) -> T {
                match self { $(Binary::$variant => { let $a = a; let $b = b; $fwd }),* }
            }
            /// The forward rule over whole operands; one loop per op, chosen once.
            #[inline]
            pub(crate) fn map<T: Float>(self, sa: &[usize], sb: &[usize], so: &[usize], av: &[T], bv: &[T], out: &mut [T]) {
                match self { $(Binary::$variant => map2(sa, sb, so, av, bv, out, |$a: T, $b: T| $fwd)),* }
            }
            /// The gradient of one operand over whole buffers; one loop per op and side.
            #[inline]
            #[allow(unused_variables, clippy::too_many_arguments)]
            fn accumulate<T: Float>(self, side: Side, sa: &[usize], sb: &[usize], so: &[usize], av: &[T], bv: &[T], g: &[T], gx: &mut [T], fresh: bool) {
                match (self, side) {
                    $(
                        (Binary::$variant, Side::A) => accumulate(side, sa, sb, so, av, bv, g, gx, fresh, |$da_a: T, $da_b: T| $da),
                        (Binary::$variant, Side::B) => accumulate(side, sa, sb, so, av, bv, g, gx, fresh, |$db_a: T, $db_b: T| $db),
                    )*
                }
            }
        }
    };
}

binary_ops! {
    Add, "add":  |a, b| a + b, d/da |a, b| T::ONE,      d/db |a, b| T::ONE;
    Sub, "sub":  |a, b| a - b, d/da |a, b| T::ONE,      d/db |a, b| -T::ONE;
    Mul, "mul":  |a, b| a * b, d/da |a, b| b,           d/db |a, b| a;
    Div, "div":  |a, b| a / b, d/da |a, b| T::ONE / b,  d/db |a, b| -a / (b * b);
    // A tie sends the whole gradient to the first argument (PyTorch and TensorFlow agree).
    Maximum, "maximum": |a, b| if a >= b { a } else { b },
        d/da |a, b| if a >= b { T::ONE } else { T::ZERO }, d/db |a, b| if a >= b { T::ZERO } else { T::ONE };
    Minimum, "minimum": |a, b| if a <= b { a } else { b },
        d/da |a, b| if a <= b { T::ONE } else { T::ZERO }, d/db |a, b| if a <= b { T::ZERO } else { T::ONE };
}

/// Calls `f(i, ia, ib)` for every element `i` of the broadcast output, with the offsets of the
/// operand elements it reads. Same shapes, scalar operands and a repeated row take direct loops.
#[inline(always)]
pub(crate) fn for_each_broadcast(a: &[usize], b: &[usize], out: &[usize], mut f: impl FnMut(usize, usize, usize)) {
    let n: usize = out.iter().product();
    match Layout::of(a, b, out) {
        Layout::Same => (0..n).for_each(|i| f(i, i, i)),
        Layout::ScalarB => (0..n).for_each(|i| f(i, i, 0)),
        Layout::ScalarA => (0..n).for_each(|i| f(i, 0, i)),
        Layout::RowB(w) => {
            for r in (0..n).step_by(w) {
                (0..w).for_each(|j| f(r + j, r + j, j));
            }
        }
        Layout::RowA(w) => {
            for r in (0..n).step_by(w) {
                (0..w).for_each(|j| f(r + j, j, r + j));
            }
        }
        Layout::ColB(w) => {
            for (row, r) in (0..n).step_by(w).enumerate() {
                (0..w).for_each(|j| f(r + j, r + j, row));
            }
        }
        Layout::ColA(w) => {
            for (row, r) in (0..n).step_by(w).enumerate() {
                (0..w).for_each(|j| f(r + j, row, r + j));
            }
        }
        Layout::General => {
            let ia = BroadcastIndex::new(a, out);
            let ib = BroadcastIndex::new(b, out);
            for (i, (ia, ib)) in ia.zip(ib).enumerate() {
                f(i, ia, ib);
            }
        }
    }
}

/// How two operands map onto their broadcast output, from the cheapest case to the general one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Layout {
    /// Both have every element of the output.
    Same,
    /// `b` is one element.
    ScalarB,
    /// `a` is one element.
    ScalarA,
    /// `a` is full and `b` is a row of this width repeated along the leading dimensions (a bias).
    RowB(usize),
    /// `b` is full and `a` is a repeated row.
    RowA(usize),
    /// `a` is full and `b` has one element per row of this width (shape `[.., 1]`), repeated
    /// along the row (a per-row scale or sum).
    ColB(usize),
    /// `b` is full and `a` has one element per row.
    ColA(usize),
    /// Anything else: index through strides.
    General,
}

impl Layout {
    #[inline]
    pub(crate) fn of(a: &[usize], b: &[usize], out: &[usize]) -> Layout {
        let n: usize = out.iter().product();
        let (na, nb): (usize, usize) = (a.iter().product(), b.iter().product());
        // A row: no size-1 dimension of its own and the output's trailing dimensions.
        let is_row = |s: &[usize], ns: usize| ns > 0 && !s.contains(&1) && out.ends_with(s);
        // A column: the output's shape with the last dimension (of at least 1 element) set to 1.
        let is_col = |s: &[usize]| {
            n > 0 && s.len() == out.len() && s.last() == Some(&1) && s[..s.len() - 1] == out[..out.len() - 1]
        };
        if na == n && nb == n {
            Layout::Same
        } else if na == n && nb == 1 {
            Layout::ScalarB
        } else if na == 1 && nb == n {
            Layout::ScalarA
        } else if na == n && is_row(b, nb) {
            Layout::RowB(nb)
        } else if nb == n && is_row(a, na) {
            Layout::RowA(na)
        } else if na == n && is_col(b) {
            Layout::ColB(out[out.len() - 1])
        } else if nb == n && is_col(a) {
            Layout::ColA(out[out.len() - 1])
        } else {
            Layout::General
        }
    }
}

/// `out[i] = f(a[ia], b[ib])` over the broadcast output, in loops the compiler can vectorize.
#[inline(always)]
fn map2<T: Float>(a: &[usize], b: &[usize], o: &[usize], av: &[T], bv: &[T], out: &mut [T], f: impl Fn(T, T) -> T) {
    match Layout::of(a, b, o) {
        Layout::Same => out.iter_mut().zip(av.iter().zip(bv)).for_each(|(y, (&x, &z))| *y = f(x, z)),
        Layout::ScalarB => out.iter_mut().zip(av).for_each(|(y, &x)| *y = f(x, bv[0])),
        Layout::ScalarA => out.iter_mut().zip(bv).for_each(|(y, &z)| *y = f(av[0], z)),
        Layout::RowB(w) => {
            for (orow, arow) in out.chunks_exact_mut(w).zip(av.chunks_exact(w)) {
                orow.iter_mut().zip(arow.iter().zip(bv)).for_each(|(y, (&x, &z))| *y = f(x, z));
            }
        }
        Layout::RowA(w) => {
            for (orow, brow) in out.chunks_exact_mut(w).zip(bv.chunks_exact(w)) {
                orow.iter_mut().zip(av.iter().zip(brow)).for_each(|(y, (&x, &z))| *y = f(x, z));
            }
        }
        Layout::ColB(w) => {
            for ((orow, arow), &z) in out.chunks_exact_mut(w).zip(av.chunks_exact(w)).zip(bv) {
                orow.iter_mut().zip(arow).for_each(|(y, &x)| *y = f(x, z));
            }
        }
        Layout::ColA(w) => {
            for ((orow, brow), &x) in out.chunks_exact_mut(w).zip(bv.chunks_exact(w)).zip(av) {
                orow.iter_mut().zip(brow).for_each(|(y, &z)| *y = f(x, z));
            }
        }
        Layout::General => for_each_broadcast(a, b, o, |i, ia, ib| out[i] = f(av[ia], bv[ib])),
    }
}

/// Which operand a gradient goes to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    A,
    B,
}

/// `gx[ix] += g[i] * d(a[ia], b[ib])` for operand `side`, summing over its broadcast copies.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn accumulate<T: Float>(
    side: Side, a: &[usize], b: &[usize], o: &[usize], av: &[T], bv: &[T], g: &[T], gx: &mut [T], fresh: bool,
    d: impl Fn(T, T) -> T,
) {
    let sum = |it: &mut dyn Iterator<Item = T>| it.fold(T::ZERO, |s, v| s + v);
    let layout = Layout::of(a, b, o);
    // Element-for-element gradients write a fresh buffer outright; the others sum into it.
    let one_to_one = matches!(
        (layout, side),
        (Layout::Same, _) | (Layout::RowB(_) | Layout::ColB(_), Side::A) | (Layout::RowA(_) | Layout::ColA(_), Side::B)
    );
    if fresh && !one_to_one {
        gx.fill(T::ZERO);
    }
    match (layout, side) {
        (Layout::Same, _) if fresh => {
            gx.iter_mut().zip(g.iter().zip(av.iter().zip(bv))).for_each(|(y, (&gi, (&x, &z)))| *y = T::ZERO + gi * d(x, z));
        }
        (Layout::Same, _) => {
            gx.iter_mut().zip(g.iter().zip(av.iter().zip(bv))).for_each(|(y, (&gi, (&x, &z)))| *y += gi * d(x, z));
        }
        (Layout::ScalarB, Side::A) => gx.iter_mut().zip(g.iter().zip(av)).for_each(|(y, (&gi, &x))| *y += gi * d(x, bv[0])),
        (Layout::ScalarB, Side::B) => gx[0] += sum(&mut g.iter().zip(av).map(|(&gi, &x)| gi * d(x, bv[0]))),
        (Layout::ScalarA, Side::A) => gx[0] += sum(&mut g.iter().zip(bv).map(|(&gi, &z)| gi * d(av[0], z))),
        (Layout::ScalarA, Side::B) => gx.iter_mut().zip(g.iter().zip(bv)).for_each(|(y, (&gi, &z))| *y += gi * d(av[0], z)),
        (Layout::RowB(w), side) => row_accumulate(side == Side::A, fresh, w, av, bv, g, gx, d),
        (Layout::RowA(w), side) => row_accumulate(side == Side::B, fresh, w, bv, av, g, gx, |z, x| d(x, z)),
        (Layout::ColB(w), side) => col_accumulate(side == Side::A, fresh, w, av, bv, g, gx, d),
        (Layout::ColA(w), side) => col_accumulate(side == Side::B, fresh, w, bv, av, g, gx, |z, x| d(x, z)),
        (Layout::General, Side::A) => for_each_broadcast(a, b, o, |i, ia, ib| gx[ia] += g[i] * d(av[ia], bv[ib])),
        (Layout::General, Side::B) => for_each_broadcast(a, b, o, |i, ia, ib| gx[ib] += g[i] * d(av[ia], bv[ib])),
    }
}

/// Gradients when one operand (`full`) has every element and the other (`row`) is a row of width
/// `w` repeated: `d(full, row)` is the local derivative. With `to_full` the gradient goes to the
/// full operand element by element (overwriting a `fresh` buffer); otherwise it is summed over the
/// rows into the row's gradient.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn row_accumulate<T: Float>(to_full: bool, fresh: bool, w: usize, full: &[T], row: &[T], g: &[T], gx: &mut [T], d: impl Fn(T, T) -> T) {
    let rows = g.chunks_exact(w).zip(full.chunks_exact(w));
    if to_full && fresh {
        for ((grow, frow), gxr) in rows.zip(gx.chunks_exact_mut(w)) {
            for (((y, &gi), &f), &r) in gxr.iter_mut().zip(grow).zip(frow).zip(row) {
                *y = T::ZERO + gi * d(f, r);
            }
        }
    } else if to_full {
        for ((grow, frow), gxr) in rows.zip(gx.chunks_exact_mut(w)) {
            for (((y, &gi), &f), &r) in gxr.iter_mut().zip(grow).zip(frow).zip(row) {
                *y += gi * d(f, r);
            }
        }
    } else {
        for (grow, frow) in rows {
            for (((y, &gi), &f), &r) in gx.iter_mut().zip(grow).zip(frow).zip(row) {
                *y += gi * d(f, r);
            }
        }
    }
}

/// As [`row_accumulate`] for an operand `col` with one element per row of width `w` of `full`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn col_accumulate<T: Float>(to_full: bool, fresh: bool, w: usize, full: &[T], col: &[T], g: &[T], gx: &mut [T], d: impl Fn(T, T) -> T) {
    let rows = g.chunks_exact(w).zip(full.chunks_exact(w)).zip(col);
    if to_full && fresh {
        for (((grow, frow), &c), gxr) in rows.zip(gx.chunks_exact_mut(w)) {
            for ((y, &gi), &f) in gxr.iter_mut().zip(grow).zip(frow) {
                *y = T::ZERO + gi * d(f, c);
            }
        }
    } else if to_full {
        for (((grow, frow), &c), gxr) in rows.zip(gx.chunks_exact_mut(w)) {
            for ((y, &gi), &f) in gxr.iter_mut().zip(grow).zip(frow) {
                *y += gi * d(f, c);
            }
        }
    } else {
        for (((grow, frow), &c), y) in rows.zip(gx.iter_mut()) {
            *y += grow.iter().zip(frow).fold(T::ZERO, |s, (&gi, &f)| s + gi * d(f, c));
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
        self.tape().record_full(Op::Binary(kind, a, b), out_shape, rg, |f, out| {
            kind.map(&sa, &sb, &os, f.x(a), f.x(b), out);
        })
    }

    /// Elementwise maximum with broadcasting; a tie's gradient goes to `self`.
    #[track_caller]
    pub fn maximum(self, other: Var<'t, T>) -> Var<'t, T> {
        self.binary(Binary::Maximum, other)
    }

    /// Elementwise minimum with broadcasting; a tie's gradient goes to `self`.
    #[track_caller]
    pub fn minimum(self, other: Var<'t, T>) -> Var<'t, T> {
        self.binary(Binary::Minimum, other)
    }
}

/// `dL/da += dL/dy * dy/da` and `dL/db += dL/dy * dy/db`, summed over broadcast copies.
pub(crate) fn backward<T: Float>(kind: Binary, a: u32, b: u32, bk: &mut Back<'_, T>) {
    let (av, bv, g) = (bk.x(a), bk.x(b), bk.g);
    let (sa, sb, so) = (bk.shape_of(a), bk.shape_of(b), bk.shape);
    if bk.wants(a) {
        let (ga, fresh) = bk.grad_for_write(a);
        kind.accumulate(Side::A, sa, sb, so, av, bv, g, ga, fresh);
    }
    if bk.wants(b) {
        let (gb, fresh) = bk.grad_for_write(b);
        kind.accumulate(Side::B, sa, sb, so, av, bv, g, gb, fresh);
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
