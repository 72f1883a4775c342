//! `e^x` for `f32` without a library call: branch-free straight-line arithmetic that the compiler
//! vectorises inside a loop (the platform's `expf` is one call per element, which no loop can
//! vectorise: about 1.4 ns per element, 5% of a copy's bandwidth on 1M `f32`).
//!
//! The method (the usual one for a table-free `exp`):
//! 1. `n = round(x log2 e)`, by adding and subtracting `1.5 * 2^23`: at that magnitude an `f32`
//!    has no fraction bits, so the addition rounds to an integer (to nearest, ties to even),
//!    and the low bits of the sum are `n` itself.
//! 2. `r = x - n ln 2`, with `ln 2` in two parts (Cody and Waite): the high part has 9 significant
//!    bits, so `n * LN2_HI` is exact for `|n| <= 150` and `x - n * LN2_HI` is exact as well
//!    (Sterbenz: the two are within a factor 2 of each other); only the small low-part product
//!    rounds. `|r| <= ln(2)/2` (and a hair more, as `x log2 e` rounds first).
//! 3. `e^r = 1 + r + r^2 P(r)`, with `P` of degree 4: the minimax fit of `(e^r - 1 - r)/r^2`
//!    weighted for the relative error of `e^r` on `[-ln(2)/2, ln(2)/2]` (a Remez exchange in
//!    double precision; with the coefficients rounded to `f32` the fit is within 3.9e-9, a
//!    sixteenth of an `f32` ulp). The sum is formed as `1 + (r + r^2 P)`, the small part first.
//! 4. `e^x = e^r 2^n`, with `2^n` made from exponent bits in two factors `2^(n - n/2)` and
//!    `2^(n/2)`, each a normal `f32` over the whole clamped range: the first product is exact,
//!    the second rounds once, so results in the subnormal range are rounded correctly from `e^r`
//!    and results beyond `f32::MAX` become `inf`.
//!
//! The input is first clamped to `[-104, 89]` (`e^-104` rounds to 0, `e^89` overflows), which
//! also makes `+inf` give `inf` and `-inf` give 0; the clamp is written as two selects that a
//! NaN passes (`NaN > 89` and `NaN < -104` are false), and a NaN then propagates through the
//! arithmetic. The integer steps wrap (a NaN's bits give a meaningless `n`, and the result is
//! NaN whatever the scale).
//!
//! Accuracy: within 1 ulp of `e^x` rounded to `f32` over all `f32` inputs (measured against the
//! `f64` `exp` rounded to `f32`: the tests sweep every 97th bit pattern, an `#[ignore]`d test all
//! of them). Only `+`, `-`, `*` and bit moves are used, never a fused multiply-add, so the value
//! is the same bits whatever instruction set the loop is compiled for.

/// `log2(e)`.
const LOG2E: f32 = std::f32::consts::LOG2_E;
/// `1.5 * 2^23`: adding it rounds an `f32` of magnitude below `2^22` to an integer.
const ROUND: f32 = 12_582_912.0;
/// `ln 2`, high part: 355/512, 9 significant bits.
const LN2_HI: f32 = 355.0 / 512.0;
/// `ln 2 - LN2_HI`, rounded to `f32`.
const LN2_LO: f32 = -2.121_944_4e-4;
/// Below this `e^x` rounds to 0 (`e^-103.98` is half the smallest subnormal).
const X_MIN: f32 = -104.0;
/// Above this `e^x` overflows (`ln(f32::MAX)` is 88.72).
const X_MAX: f32 = 89.0;
/// `P(r) = P0 + P1 r + P2 r^2 + P3 r^3 + P4 r^4`, close to 1/2, 1/6, 1/24, 1/120, 1/720.
const P0: f32 = 0.499_999_94;
const P1: f32 = 0.166_665_21;
const P2: f32 = 0.041_668_39;
const P3: f32 = 0.008_368_71;
const P4: f32 = 0.001_381_461_3;

/// `e^x` for `f32`, within 1 ulp of the correctly rounded value (see the module notes); NaN in,
/// NaN out; `exp(-inf) = 0`, `exp(inf) = inf`. Inlined so that a loop over a slice vectorises.
///
/// ```
/// use tapegrad::Float;
/// assert_eq!(Float::exp(0.0_f32), 1.0);
/// assert_eq!(Float::exp(f32::NEG_INFINITY), 0.0);
/// assert!((Float::exp(1.0_f32) - std::f32::consts::E).abs() <= f32::EPSILON * 2.0);
/// ```
#[inline(always)]
pub fn exp_f32(x: f32) -> f32 {
    // Clamp; a NaN passes both selects.
    let x = if x > X_MAX { X_MAX } else { x };
    let x = if x < X_MIN { X_MIN } else { x };
    // n = round(x log2 e), as a float and as an integer (the low bits of the rounded sum).
    let t = x * LOG2E + ROUND;
    let nf = t - ROUND;
    let n = (t.to_bits() as i32).wrapping_sub(ROUND.to_bits() as i32);
    // r = x - n ln 2.
    let r = x - nf * LN2_HI;
    let r = r - nf * LN2_LO;
    // e^r = 1 + r + r^2 P(r), P in Estrin's form (P0 + P1 r) + r^2 ((P2 + P3 r) + r^2 P4): the
    // same operations as Horner's but a shorter chain of dependent ones (in a loop the chain's
    // latency, not only the count of operations, bounds the speed: measured 5-10% faster).
    let r2 = r * r;
    let p = (P0 + P1 * r) + r2 * ((P2 + P3 * r) + r2 * P4);
    let er = 1.0 + (r + r2 * p);
    // e^r 2^n1 2^n2 with n1 + n2 = n, each factor a normal number.
    let n1 = n >> 1;
    let n2 = n.wrapping_sub(n1);
    let s1 = f32::from_bits((n1.wrapping_add(127) << 23) as u32);
    let s2 = f32::from_bits((n2.wrapping_add(127) << 23) as u32);
    er * s1 * s2
}

/// `2^-64`, the fixed second factor of [`exp_f32_nonpositive`]'s scale.
const TWO_POW_M64: f32 = f32::from_bits((127 - 64) << 23);

/// `e^x` for `x <= 0` (or NaN): the same bits as [`exp_f32`], in 25 operations instead of 31.
/// For such `x`, `n` lies in `[-150, 0]`, so one factor `2^(n + 64)` is a normal number and
/// `e^r 2^(n + 64)` is exact; the product with `2^-64` then rounds once, as `exp_f32`'s second
/// factor does, to the same correctly rounded `e^r 2^n`. The factor's bits come straight from the
/// rounded sum `t` (its bits are `0x4B40_0000 + n`, and a shift left by 23 drops the constant),
/// and the upper clamp is not needed. For the `e^-|x|` of the sigmoid and softplus and the
/// `e^(x - max)` of log-sum-exp. A positive `x` gives a meaningless value.
#[inline(always)]
pub fn exp_f32_nonpositive(x: f32) -> f32 {
    let x = if x < X_MIN { X_MIN } else { x };
    let t = x * LOG2E + ROUND;
    let nf = t - ROUND;
    let r = x - nf * LN2_HI;
    let r = r - nf * LN2_LO;
    let r2 = r * r;
    let p = (P0 + P1 * r) + r2 * ((P2 + P3 * r) + r2 * P4);
    let er = 1.0 + (r + r2 * p);
    let s = f32::from_bits((t.to_bits() << 23).wrapping_add((127 + 64) << 23));
    er * s * TWO_POW_M64
}

#[cfg(test)]
mod tests {
    use super::{exp_f32, exp_f32_nonpositive};

    /// The distance in ulps between two `f32`s of the same sign (their bit patterns as integers;
    /// `inf` is one ulp above `f32::MAX`).
    fn ulps(a: f32, b: f32) -> u32 {
        let key = |v: f32| {
            let b = v.to_bits() as i64;
            if b & 0x8000_0000 != 0 { -(b & 0x7fff_ffff) } else { b }
        };
        (key(a) - key(b)).unsigned_abs() as u32
    }

    /// `e^x` rounded to `f32` from `f64`'s `exp` (within 1 ulp of `e^x` in `f64`, so the rounding
    /// to `f32` is correct except in vanishingly rare double-rounding cases).
    fn reference(x: f32) -> f32 {
        (x as f64).exp() as f32
    }

    /// The largest ulp error of `exp_f32` over the bit patterns `start, start + step, ...`, and
    /// where it occurs.
    fn worst(step: usize) -> (u32, f32) {
        let mut worst = (0, 0.0);
        for bits in (0..=u32::MAX).step_by(step) {
            let x = f32::from_bits(bits);
            if x.is_nan() {
                continue;
            }
            let (got, want) = (exp_f32(x), reference(x));
            let d = ulps(got, want);
            if d > worst.0 {
                worst = (d, x);
            }
        }
        worst
    }

    #[test]
    fn within_one_ulp_over_every_97th_bit_pattern() {
        let (d, x) = worst(97);
        assert!(d <= 1, "exp_f32({x:e}) = {:e}, want {:e} ({d} ulps)", exp_f32(x), reference(x));
    }

    /// Every `f32` (about 4 * 10^9 inputs; a minute or so in a release build:
    /// `cargo test --release --lib exp_f32_every -- --ignored`).
    #[test]
    #[ignore]
    fn exp_f32_everywhere_within_one_ulp() {
        let (d, x) = worst(1);
        assert!(d <= 1, "exp_f32({x:e}) = {:e}, want {:e} ({d} ulps)", exp_f32(x), reference(x));
    }

    /// The shortcut for `x <= 0` gives `exp_f32`'s bits: every 7th bit pattern of a negative
    /// `f32` (all of `[-inf, -0]` in steps of 7 ulps), zero and NaN.
    #[test]
    fn nonpositive_shortcut_gives_the_same_bits() {
        let same = |x: f32| {
            let (a, b) = (exp_f32_nonpositive(x), exp_f32(x));
            assert!(a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()), "e^{x:e}: {a:e} against {b:e}");
        };
        for bits in (0x8000_0000u32..=0xff80_0000).step_by(7) {
            same(f32::from_bits(bits));
        }
        for x in [0.0, -0.0, f32::NEG_INFINITY, f32::NAN, -104.0, -103.9, -87.33, -0.346_6, -1e-30] {
            same(x);
        }
    }

    #[test]
    fn edges_are_exact() {
        assert_eq!(exp_f32(0.0).to_bits(), 1.0f32.to_bits());
        assert_eq!(exp_f32(-0.0).to_bits(), 1.0f32.to_bits());
        assert_eq!(exp_f32(f32::INFINITY), f32::INFINITY);
        assert_eq!(exp_f32(f32::NEG_INFINITY).to_bits(), 0.0f32.to_bits());
        assert!(exp_f32(f32::NAN).is_nan());
        assert!(exp_f32(-f32::NAN).is_nan());
        assert!(exp_f32(f32::from_bits(0x7f80_0001)).is_nan(), "a signalling NaN");
        assert_eq!(exp_f32(f32::MAX), f32::INFINITY);
        assert_eq!(exp_f32(f32::MIN).to_bits(), 0.0f32.to_bits());
        // Tiny arguments: 1, or the float just below 1 for a negative one beyond half its ulp.
        assert_eq!(exp_f32(1e-30), 1.0);
        assert_eq!(exp_f32(f32::from_bits(1)), 1.0);
        assert_eq!(exp_f32(-4e-8), 1.0 - f32::EPSILON / 2.0);
        // Near the overflow threshold ln(f32::MAX) = 88.7228391: every float from 88.5 up to
        // the first that overflows, and a stretch beyond, against the reference (exact there:
        // finite values within 1 ulp, inf exactly where the reference overflows).
        let mut x = 88.5f32;
        while x < 89.5 {
            let (got, want) = (exp_f32(x), reference(x));
            assert_eq!(got.is_infinite(), want.is_infinite(), "exp_f32({x}) = {got:e}, want {want:e}");
            if want.is_finite() {
                assert!(ulps(got, want) <= 1, "exp_f32({x}) = {got:e}, want {want:e}");
            }
            x = f32::from_bits(x.to_bits() + 1);
        }
        // The subnormal results: every float from -87.3 (where e^x leaves the normal range)
        // down to -104 (where it rounds to 0), against the reference: within 1 subnormal ulp,
        // and zero exactly where the reference is.
        let mut x = -87.3f32;
        while x > -104.5 {
            let (got, want) = (exp_f32(x), reference(x));
            assert!(ulps(got, want) <= 1, "exp_f32({x}) = {got:e}, want {want:e}");
            assert_eq!(got == 0.0, want == 0.0, "exp_f32({x}) = {got:e}, want {want:e}");
            x = f32::from_bits(x.to_bits() + 1);
        }
        assert_eq!(exp_f32(-103.9), f32::from_bits(1), "the smallest subnormal");
        assert_eq!(exp_f32(-104.0).to_bits(), 0);
        // Integers: e^k within 1 ulp.
        for k in -103..=88 {
            let (got, want) = (exp_f32(k as f32), reference(k as f32));
            assert!(ulps(got, want) <= 1, "exp_f32({k}) = {got:e}, want {want:e}");
        }
    }
}
