//! [`Elem`]: the arithmetic an elementwise derivative is written in.
//!
//! Each elementwise op states its derivative once, as a vector-Jacobian product `g * dy/dx`
//! written over `Elem`. Two types implement it:
//! - the element type `T` (`f32`, `f64`): the reverse sweep and forward mode evaluate the rule on
//!   numbers, element by element, inlined into the loop;
//! - [`Var`]: `Var::grad` evaluates the very same rule as ops recorded on the tape, so a gradient
//!   can be differentiated again.
//!
//! Because an elementwise derivative is linear in `g`, the same rule with a tangent in place of
//! `g` is the op's JVP (forward mode): one line of math serves all three uses.
//!
//! Kinks use [`Elem::step`], [`Elem::sign`] and [`Elem::ge`]: masks that are constants of the
//! tape (no gradient flows through them), so a second derivative across a kink is 0.

use crate::tape::Var;
use crate::tensor::Float;
use std::ops::{Add, Div, Mul, Neg, Sub};

/// Numbers or recorded values: what a derivative rule computes with.
pub trait Elem<T: Float>:
    Copy
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + Add<T, Output = Self>
    + Sub<T, Output = Self>
    + Mul<T, Output = Self>
    + Div<T, Output = Self>
{
    /// `e^x`.
    fn exp(self) -> Self;
    /// Natural logarithm.
    fn ln(self) -> Self;
    /// Square root.
    fn sqrt(self) -> Self;
    /// `x^2`.
    fn square(self) -> Self;
    /// `1 / x`.
    fn recip(self) -> Self;
    /// `c - x`.
    fn rsub(self, c: T) -> Self;
    /// `x^p` for a constant `p`.
    fn powf(self, p: T) -> Self;
    /// `x^e` elementwise (broadcasting), for an exponent that is itself a value.
    fn pow(self, e: Self) -> Self;
    /// Logistic function.
    fn sigmoid(self) -> Self;
    /// Hyperbolic tangent.
    fn tanh(self) -> Self;
    /// Sine.
    fn sin(self) -> Self;
    /// Cosine.
    fn cos(self) -> Self;
    /// The error function.
    fn erf(self) -> Self;
    /// Heaviside step: 1 where `x > 0`, else 0 (0 at the kink). No gradient.
    fn step(self) -> Self;
    /// -1, 0 or 1 (0 at 0). No gradient.
    fn sign(self) -> Self;
    /// 1 where `self >= other`, else 0 (broadcasting). No gradient.
    fn ge(self, other: Self) -> Self;
    /// 1 where `lo <= x <= hi` (the closed interval), else 0. No gradient.
    fn inside(self, lo: T, hi: T) -> Self;
    /// 1 where `x == 0`, else 0. No gradient.
    fn is_zero(self) -> Self;
}

/// Logistic function, computed without overflow on either side: `1 / (1 + e)` for `x >= 0` and
/// `e / (1 + e)` below, with `e = exp(-|x|)`. The side is a select, not a branch: on inputs of
/// mixed signs a branch is mispredicted about every other element (this measured twice as slow
/// on 1M `f32`, `benches/bandwidth.rs`). The values are those of the two-branch form, bit for bit.
#[inline(always)]
pub(crate) fn sigmoid<T: Float>(x: T) -> T {
    let e = (-x.abs()).exp_nonpositive();
    let num = if x >= T::ZERO { T::ONE } else { e };
    num / (T::ONE + e)
}

/// -1, 0 or 1 by the sign of `x` (0 at 0 and for NaN).
#[inline(always)]
pub(crate) fn sign<T: Float>(x: T) -> T {
    if x > T::ZERO {
        T::ONE
    } else if x < T::ZERO {
        -T::ONE
    } else {
        T::ZERO
    }
}

#[inline(always)]
fn flag<T: Float>(b: bool) -> T {
    if b {
        T::ONE
    } else {
        T::ZERO
    }
}

impl<T: Float> Elem<T> for T {
    #[inline(always)]
    fn exp(self) -> T {
        Float::exp(self)
    }
    #[inline(always)]
    fn ln(self) -> T {
        Float::ln(self)
    }
    #[inline(always)]
    fn sqrt(self) -> T {
        Float::sqrt(self)
    }
    #[inline(always)]
    fn square(self) -> T {
        self * self
    }
    #[inline(always)]
    fn recip(self) -> T {
        T::ONE / self
    }
    #[inline(always)]
    fn rsub(self, c: T) -> T {
        c - self
    }
    #[inline(always)]
    fn powf(self, p: T) -> T {
        Float::powf(self, p)
    }
    #[inline(always)]
    fn pow(self, e: T) -> T {
        Float::powf(self, e)
    }
    #[inline(always)]
    fn sigmoid(self) -> T {
        sigmoid(self)
    }
    #[inline(always)]
    fn sin(self) -> T {
        Float::sin(self)
    }
    #[inline(always)]
    fn cos(self) -> T {
        Float::cos(self)
    }
    #[inline(always)]
    fn erf(self) -> T {
        Float::erf(self)
    }
    #[inline(always)]
    fn tanh(self) -> T {
        Float::tanh(self)
    }
    #[inline(always)]
    fn step(self) -> T {
        flag(self > T::ZERO)
    }
    #[inline(always)]
    fn sign(self) -> T {
        sign(self)
    }
    #[inline(always)]
    fn ge(self, other: T) -> T {
        flag(self >= other)
    }
    #[inline(always)]
    fn inside(self, lo: T, hi: T) -> T {
        flag(self >= lo && self <= hi)
    }
    #[inline(always)]
    fn is_zero(self) -> T {
        flag(self == T::ZERO)
    }
}

impl<'t, T: Float> Elem<T> for Var<'t, T> {
    fn exp(self) -> Self {
        Var::exp(self)
    }
    fn ln(self) -> Self {
        self.log()
    }
    fn sqrt(self) -> Self {
        Var::sqrt(self)
    }
    fn square(self) -> Self {
        Var::square(self)
    }
    fn recip(self) -> Self {
        Var::recip(self)
    }
    fn rsub(self, c: T) -> Self {
        Var::rsub(self, c)
    }
    fn powf(self, p: T) -> Self {
        Var::powf(self, p)
    }
    fn pow(self, e: Self) -> Self {
        Var::pow(self, e)
    }
    fn sigmoid(self) -> Self {
        Var::sigmoid(self)
    }
    fn tanh(self) -> Self {
        Var::tanh(self)
    }
    fn sin(self) -> Self {
        Var::sin(self)
    }
    fn cos(self) -> Self {
        Var::cos(self)
    }
    fn erf(self) -> Self {
        Var::erf(self)
    }
    fn step(self) -> Self {
        self.gt(self.tape().scalar(T::ZERO))
    }
    fn sign(self) -> Self {
        Var::sign(self)
    }
    fn ge(self, other: Self) -> Self {
        Var::ge(self, other)
    }
    fn inside(self, lo: T, hi: T) -> Self {
        let tape = self.tape();
        self.ge(tape.scalar(lo)) * self.le(tape.scalar(hi))
    }
    fn is_zero(self) -> Self {
        self.eq(self.tape().scalar(T::ZERO))
    }
}
