//! Runtime choice of the instruction set for the hot loops: the one place that decides it.
//!
//! The crate is built for the baseline target (on x86-64, SSE2: 4 `f32` lanes), so that it runs
//! on any machine. [`dispatch`] runs a loop compiled a second time for a wider instruction set
//! (AVX-512: 16 lanes, or AVX2: 8) when the CPU has one, detected once per process and cached.
//! The loop is written once, as portable Rust; the compiler vectorises each copy for its own
//! target. Used by the elementwise unary ops (their forward and derivative loops) and the
//! reductions; the convolution's weight-gradient transposes read [`level`] to choose their AVX
//! tile kernel (`ops/conv_wgrad.rs`); everything else runs the portable build.
//!
//! The same loop gives the same bits at every level: the copies differ only in vector width,
//! which Rust's floating-point semantics cannot observe (no reassociation, and no fused
//! multiply-add unless the source asks for one with `mul_add`, which is correctly rounded on
//! every path). A sum's order of additions is fixed by the source (the lanes of
//! `reduce.rs`), not by the vector width.

#[cfg(target_arch = "x86_64")]
use std::sync::atomic::{AtomicU8, Ordering};

/// An instruction-set level a loop can be compiled for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Level {
    /// The build's target (SSE2 on x86-64); every CPU that runs the build has it.
    Portable,
    /// AVX2 and FMA (x86-64): 256-bit vectors.
    #[cfg(target_arch = "x86_64")]
    Avx2,
    /// AVX-512 (F, BW, DQ, VL) as well: 512-bit vectors.
    #[cfg(target_arch = "x86_64")]
    Avx512,
}

/// The detected level, cached: `0` not yet detected, else `1 + ` its index in [`LEVELS`].
#[cfg(target_arch = "x86_64")]
static DETECTED: AtomicU8 = AtomicU8::new(0);

#[cfg(target_arch = "x86_64")]
const LEVELS: [Level; 3] = [Level::Portable, Level::Avx2, Level::Avx512];

/// The widest level this CPU supports (detected on the first call, then read from a cache).
#[inline]
pub(crate) fn level() -> Level {
    #[cfg(target_arch = "x86_64")]
    {
        let cached = DETECTED.load(Ordering::Relaxed);
        if cached != 0 {
            return LEVELS[cached as usize - 1];
        }
        let found = if std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512bw")
            && std::arch::is_x86_feature_detected!("avx512dq")
            && std::arch::is_x86_feature_detected!("avx512vl")
            && std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("fma")
        {
            Level::Avx512
        } else if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
            Level::Avx2
        } else {
            Level::Portable
        };
        // Racing first calls store the same value.
        let index = LEVELS.iter().position(|&l| l == found).unwrap_or(0);
        DETECTED.store(index as u8 + 1, Ordering::Relaxed);
        found
    }
    #[cfg(not(target_arch = "x86_64"))]
    Level::Portable
}

/// Every level this CPU supports, from the portable one up (for tests that compare them).
#[cfg(test)]
pub(crate) fn supported() -> Vec<Level> {
    #[cfg(target_arch = "x86_64")]
    {
        let top = level();
        LEVELS.iter().copied().take_while(|&l| l != top).chain([top]).collect()
    }
    #[cfg(not(target_arch = "x86_64"))]
    vec![Level::Portable]
}

/// Runs `f`, a loop written as portable Rust, compiled for the widest instruction set the CPU
/// has: `f` is inlined into a copy of the runner built for that set, so the loop it contains is
/// vectorised for it. `f` should be an `#[inline(always)] || ...` closure: a closure the
/// compiler sees called from three runners is otherwise kept out of line (compiled once, for
/// the baseline), and so should anything it calls in the loop (`#[inline]` or generic code
/// usually is inlined; a call that stays a call runs at the baseline).
#[inline(always)]
pub(crate) fn dispatch<R>(f: impl FnOnce() -> R) -> R {
    // SAFETY: `level()` is the CPU's own level.
    unsafe { run_unchecked(level(), f) }
}

/// Below this many elements a loop runs at the baseline, inlined where it is called: the
/// detour through a `#[target_feature]` function (a call that cannot be inlined, the cached
/// level's load) cost a chain of one-element ops about 2 ns of its 37 per op.
pub(crate) const DISPATCH_MIN: usize = 64;

/// [`dispatch`] for a loop over `len` elements: `f()` directly when `len` is below
/// [`DISPATCH_MIN`]. Same bits either way (the widths compute the same operations).
#[inline(always)]
pub(crate) fn dispatch_for<R>(len: usize, f: impl FnOnce() -> R) -> R {
    if len < DISPATCH_MIN {
        f()
    } else {
        dispatch(f)
    }
}

/// Runs `f` compiled for `level`, which must be one of [`supported`].
#[cfg(test)]
pub(crate) fn run_at<R>(level: Level, f: impl FnOnce() -> R) -> R {
    assert!(supported().contains(&level), "{level:?} asked for on a CPU without it");
    // SAFETY: checked just above.
    unsafe { run_unchecked(level, f) }
}

/// Runs `f` compiled for `level`.
///
/// # Safety
/// The CPU must support `level` (any level up to [`level()`]).
#[inline(always)]
unsafe fn run_unchecked<R>(level: Level, f: impl FnOnce() -> R) -> R {
    match level {
        Level::Portable => f(),
        // SAFETY (both arms): the only requirement of a `#[target_feature]` function is that
        // the CPU has the features it enables (else it may execute instructions the CPU does
        // not have). The caller guarantees that the CPU supports `level`, and `level()` reports
        // AVX2 only once `is_x86_feature_detected!` found avx2 and fma, AVX-512 only once it
        // found avx512f, bw, dq and vl as well.
        #[cfg(target_arch = "x86_64")]
        Level::Avx2 => unsafe { avx2(f) },
        #[cfg(target_arch = "x86_64")]
        Level::Avx512 => unsafe { avx512(f) },
    }
}

/// `f()` compiled with AVX2 and FMA.
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn avx2<R>(f: impl FnOnce() -> R) -> R {
    f()
}

/// `f()` compiled with AVX-512 (F, BW, DQ, VL), AVX2 and FMA.
///
/// # Safety
/// The CPU must support all of these.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")]
#[inline]
unsafe fn avx512<R>(f: impl FnOnce() -> R) -> R {
    f()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::kernels::exp_f32;

    #[test]
    fn the_level_is_cached_and_the_portable_one_is_always_there() {
        assert_eq!(level(), level());
        assert_eq!(supported()[0], Level::Portable);
        assert_eq!(*supported().last().unwrap(), level());
    }

    /// The vectorised `exp` gives the same bits at every level (no fused multiply-add anywhere).
    #[test]
    fn exp_gives_the_same_bits_at_every_level() {
        let x: Vec<f32> = (0..100_003).map(|i| (i as f32 - 50_000.0) * 0.002_1).chain([f32::NAN, f32::INFINITY, -f32::INFINITY, -95.0, 88.7]).collect();
        let run = |level| {
            let mut out = vec![0.0f32; x.len()];
            run_at(level, #[inline(always)] || out.iter_mut().zip(&x).for_each(|(o, &v)| *o = exp_f32(v)));
            // NaN payloads are not specified by Rust: compare NaN as NaN.
            out.iter().map(|v| if v.is_nan() { u32::MAX } else { v.to_bits() }).collect::<Vec<_>>()
        };
        let portable = run(Level::Portable);
        for level in supported() {
            assert_eq!(run(level), portable, "{level:?}");
        }
    }
}
