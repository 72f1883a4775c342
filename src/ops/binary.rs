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
            /// `dy/da`.
            #[inline(always)]
            #[allow(unused_variables)]
            pub fn da<T: Float>(self, a: T, b: T) -> T {
                match self { $(Binary::$variant => { let $da_a = a; let $da_b = b; $da }),* }
            }
            /// `dy/db`.
            #[inline(always)]
            #[allow(unused_variables)]
            pub fn db<T: Float>(self, a: T, b: T) -> T {
                match self { $(Binary::$variant => { let $db_a = a; let $db_b = b; $db }),* }
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
/// operand elements it reads. Same shapes and scalar operands take direct loops.
#[inline(always)]
pub(crate) fn for_each_broadcast(a: &[usize], b: &[usize], out: &[usize], mut f: impl FnMut(usize, usize, usize)) {
    let n: usize = out.iter().product();
    let (na, nb): (usize, usize) = (a.iter().product(), b.iter().product());
    if na == n && nb == n {
        (0..n).for_each(|i| f(i, i, i));
    } else if na == n && nb == 1 {
        (0..n).for_each(|i| f(i, i, 0));
    } else if na == 1 && nb == n {
        (0..n).for_each(|i| f(i, 0, i));
    } else if na == n && b.iter().rev().take_while(|&&d| d != 1).count() == b.len() && out.ends_with(b) {
        // b repeats along leading dimensions (a bias row): ib cycles through b.
        (0..n).for_each(|i| f(i, i, i % nb));
    } else {
        let ia = BroadcastIndex::new(a, out);
        let ib = BroadcastIndex::new(b, out);
        for (i, (ia, ib)) in ia.zip(ib).enumerate() {
            f(i, ia, ib);
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
            let (av, bv) = (f.x(a), f.x(b));
            for_each_broadcast(&sa, &sb, &os, |i, ia, ib| out[i] = kind.forward(av[ia], bv[ib]));
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
        let ga = bk.grad(a);
        for_each_broadcast(sa, sb, so, |i, ia, ib| ga[ia] += g[i] * kind.da(av[ia], bv[ib]));
    }
    if bk.wants(b) {
        let gb = bk.grad(b);
        for_each_broadcast(sa, sb, so, |i, ia, ib| gb[ib] += g[i] * kind.db(av[ia], bv[ib]));
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
