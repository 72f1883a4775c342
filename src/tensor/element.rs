//! The element trait: what a tensor may hold (`f32` and `f64`).

use std::fmt::{Debug, Display};
use std::iter::Sum;
use std::ops::{Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Sub, SubAssign};

/// A floating-point element type of a [`Tensor`](crate::Tensor): implemented for `f32` and `f64`.
///
/// It gathers the arithmetic, the transcendental functions the ops need, and the matching GEMM kernel.
pub trait Float:
    Copy
    + Debug
    + Display
    + Default
    + PartialOrd
    + PartialEq
    + Send
    + Sync
    + Sum
    + 'static
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + AddAssign
    + SubAssign
    + MulAssign
    + DivAssign
{
    /// Additive identity.
    const ZERO: Self;
    /// Multiplicative identity.
    const ONE: Self;
    /// Machine epsilon of the type (`f32::EPSILON` or `f64::EPSILON`).
    const EPSILON: Self;
    /// Name of the type as numpy writes it (`"float32"`, `"float64"`).
    const DTYPE: &'static str;
    /// Converts from `f64` (rounding for `f32`).
    fn from_f64(v: f64) -> Self;
    /// Converts to `f64` (exact).
    fn to_f64(self) -> f64;
    /// `e^x`: for `f64` the standard library's; for `f32` the crate's own, within 1 ulp of the
    /// correctly rounded value and vectorisable in a loop (`tensor/kernels/exp.rs`).
    fn exp(self) -> Self;
    /// `e^x` for `x <= 0` (or NaN), the same value as [`exp`](Float::exp) there, computed in
    /// fewer steps for `f32` (`tensor/kernels/exp.rs`); a positive `x` gives a meaningless value.
    fn exp_nonpositive(self) -> Self;
    /// Natural logarithm.
    fn ln(self) -> Self;
    /// `ln(1 + x)`, accurate near 0.
    fn ln_1p(self) -> Self;
    /// Square root.
    fn sqrt(self) -> Self;
    /// Absolute value.
    fn abs(self) -> Self;
    /// Hyperbolic tangent.
    fn tanh(self) -> Self;
    /// `x^p` for a real exponent.
    fn powf(self, p: Self) -> Self;
    /// Sine (radians).
    fn sin(self) -> Self;
    /// Cosine (radians).
    fn cos(self) -> Self;
    /// Tangent (radians).
    fn tan(self) -> Self;
    /// The error function `erf(x) = 2/sqrt(pi) * integral_0^x e^(-t^2) dt`, to the type's full
    /// accuracy (`libm`'s `erf`/`erff`, ported from FreeBSD's msun: under 1 ulp).
    ///
    /// ```
    /// use tapegrad::Float;
    /// assert!((Float::erf(0.5_f64) - 0.520_499_877_813_046_5).abs() < 1e-16);
    /// assert_eq!(Float::erf(-f32::INFINITY), -1.0);
    /// ```
    fn erf(self) -> Self;
    /// `true` unless NaN or infinite.
    fn is_finite(self) -> bool;
    /// `true` for NaN.
    fn is_nan(self) -> bool;
    /// Larger of two values (NaN-ignoring like `f64::max`).
    fn max(self, other: Self) -> Self;
    /// Smaller of two values (NaN-ignoring like `f64::min`).
    fn min(self, other: Self) -> Self;
    /// `C <- alpha * A B + beta * C` with arbitrary row and column strides (in elements).
    ///
    /// # Safety
    /// The pointers must be valid for the extents implied by the dimensions and strides.
    #[allow(clippy::too_many_arguments)]
    unsafe fn gemm(
        m: usize, k: usize, n: usize,
        alpha: Self, a: *const Self, rsa: isize, csa: isize,
        b: *const Self, rsb: isize, csb: isize,
        beta: Self, c: *mut Self, rsc: isize, csc: isize,
    );
}

macro_rules! impl_float {
    ($t:ident, $name:literal, $gemm:path, $erf:path, $exp:path, $expneg:path) => {
        impl Float for $t {
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            const EPSILON: Self = $t::EPSILON;
            const DTYPE: &'static str = $name;
            #[inline(always)]
            fn from_f64(v: f64) -> Self { v as $t }
            #[inline(always)]
            fn to_f64(self) -> f64 { self as f64 }
            #[inline(always)]
            fn exp(self) -> Self { $exp(self) }
            #[inline(always)]
            fn exp_nonpositive(self) -> Self { $expneg(self) }
            #[inline(always)]
            fn ln(self) -> Self { $t::ln(self) }
            #[inline(always)]
            fn ln_1p(self) -> Self { $t::ln_1p(self) }
            #[inline(always)]
            fn sqrt(self) -> Self { $t::sqrt(self) }
            #[inline(always)]
            fn abs(self) -> Self { $t::abs(self) }
            #[inline(always)]
            fn tanh(self) -> Self { $t::tanh(self) }
            #[inline(always)]
            fn powf(self, p: Self) -> Self { $t::powf(self, p) }
            #[inline(always)]
            fn sin(self) -> Self { $t::sin(self) }
            #[inline(always)]
            fn cos(self) -> Self { $t::cos(self) }
            #[inline(always)]
            fn tan(self) -> Self { $t::tan(self) }
            #[inline(always)]
            fn erf(self) -> Self { $erf(self) }
            #[inline(always)]
            fn is_finite(self) -> bool { $t::is_finite(self) }
            #[inline(always)]
            fn is_nan(self) -> bool { $t::is_nan(self) }
            #[inline(always)]
            fn max(self, other: Self) -> Self { $t::max(self, other) }
            #[inline(always)]
            fn min(self, other: Self) -> Self { $t::min(self, other) }
            #[inline]
            unsafe fn gemm(
                m: usize, k: usize, n: usize,
                alpha: Self, a: *const Self, rsa: isize, csa: isize,
                b: *const Self, rsb: isize, csb: isize,
                beta: Self, c: *mut Self, rsc: isize, csc: isize,
            ) {
                $gemm(m, k, n, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc)
            }
        }
    };
}

impl_float!(f32, "float32", matrixmultiply::sgemm, libm::erff, crate::tensor::kernels::exp_f32, crate::tensor::kernels::exp_f32_nonpositive);
impl_float!(f64, "float64", matrixmultiply::dgemm, libm::erf, f64::exp, f64::exp);

#[cfg(test)]
mod tests {
    use super::Float;

    /// erf at points spanning its regimes (tiny argument, the rational fits either side of
    /// 0.84375 and 1.25, the exponential tail), against the f64 nearest the true value (mpmath, 50 digits), within one ulp.
    #[test]
    fn erf_is_accurate_to_the_last_bit() {
        let known: [(f64, f64); 9] = [
            (1e-10, 1.128_379_167_095_512_6e-10),
            (0.1, 0.112_462_916_018_284_9),
            (0.5, 0.520_499_877_813_046_5),
            (1.0, 0.842_700_792_949_714_9),
            (2.0, 0.995_322_265_018_952_7),
            (3.0, 0.999_977_909_503_001_4),
            (-1.5, -0.966_105_146_475_310_8),
            (4.5, 0.999_999_999_803_383_9),
            (0.0, 0.0),
        ];
        for (x, want) in known {
            let got = Float::erf(x);
            assert!((got - want).abs() <= f64::EPSILON * want.abs(), "erf({x}) = {got:e}, want {want:e}");
            let got32 = Float::erf(x as f32);
            let want32 = want as f32;
            assert!((got32 - want32).abs() <= f32::EPSILON * want32.abs(), "erff({x}) = {got32:e}, want {want32:e}");
        }
        // Odd, saturating, NaN in NaN out.
        assert_eq!(Float::erf(-2.0_f64), -Float::erf(2.0_f64));
        assert_eq!(Float::erf(7.0_f64), 1.0);
        assert_eq!(Float::erf(f64::NEG_INFINITY), -1.0);
        assert!(Float::erf(f64::NAN).is_nan() && Float::erf(f32::NAN).is_nan());
    }
}
