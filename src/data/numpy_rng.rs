//! A random generator that replays numpy's legacy `RandomState` draw for draw.
//!
//! numpy's `RandomState` is a 32-bit Mersenne Twister (MT19937) with a few fixed recipes on top: doubles
//! take 53 bits from two 32-bit words, normals come from the polar method with the second value kept for
//! the next call, and bounded integers use masked rejection. Following the same recipes in the same
//! order gives the same numbers, which is what lets tapegrad rebuild scikit-learn's data sets exactly.

use rand::RngCore;

/// Words of MT19937 state.
const N: usize = 624;
/// The twist offset.
const M: usize = 397;
const MATRIX_A: u32 = 0x9908_b0df;
const UPPER_MASK: u32 = 0x8000_0000;
const LOWER_MASK: u32 = 0x7fff_ffff;

/// numpy's legacy `RandomState`: MT19937 plus numpy's recipes for doubles, normals and bounded integers.
///
/// `NumpyRng::new(seed)` behaves like `numpy.random.RandomState(seed)`; every method names the numpy
/// method it reproduces. It also implements [`rand::RngCore`], so it can drive anything that takes a
/// `rand` generator (those callers use `rand`'s own recipes, not numpy's).
///
/// ```
/// use tapegrad::data::NumpyRng;
/// let mut rng = NumpyRng::new(1);
/// assert_eq!(rng.random_sample(), 0.417022004702574);
/// let mut rng = NumpyRng::new(1);
/// assert_eq!(rng.standard_normal(), 1.6243453636632417);
/// assert_eq!(NumpyRng::new(1).permutation(10), vec![2, 9, 6, 4, 0, 3, 1, 7, 8, 5]);
/// ```
#[derive(Clone)]
pub struct NumpyRng {
    state: [u32; N],
    pos: usize,
    /// The second normal of the last polar-method pair, waiting to be returned.
    cached_gauss: Option<f64>,
}

impl std::fmt::Debug for NumpyRng {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NumpyRng").field("pos", &self.pos).field("cached_gauss", &self.cached_gauss).finish_non_exhaustive()
    }
}

impl NumpyRng {
    /// Seeded as `numpy.random.RandomState(seed)` seeds an integer: MT19937's `init_genrand`.
    pub fn new(seed: u32) -> Self {
        let mut state = [0u32; N];
        state[0] = seed;
        for i in 1..N {
            let prev = state[i - 1];
            state[i] = 1_812_433_253u32.wrapping_mul(prev ^ (prev >> 30)).wrapping_add(i as u32);
        }
        NumpyRng { state, pos: N, cached_gauss: None }
    }

    /// Seeded as `numpy.random.RandomState(key)` seeds an array of integers: MT19937's `init_by_array`.
    ///
    /// An empty key is treated as `[0]`, as numpy does for an empty array.
    pub fn from_key(key: &[u32]) -> Self {
        let key: &[u32] = if key.is_empty() { &[0] } else { key };
        let mut rng = NumpyRng::new(19_650_218);
        let mt = &mut rng.state;
        let (mut i, mut j) = (1usize, 0usize);
        for _ in 0..N.max(key.len()) {
            let prev = mt[i - 1];
            mt[i] = (mt[i] ^ (prev ^ (prev >> 30)).wrapping_mul(1_664_525)).wrapping_add(key[j]).wrapping_add(j as u32);
            i += 1;
            j += 1;
            if i >= N {
                mt[0] = mt[N - 1];
                i = 1;
            }
            if j >= key.len() {
                j = 0;
            }
        }
        for _ in 0..N - 1 {
            let prev = mt[i - 1];
            mt[i] = (mt[i] ^ (prev ^ (prev >> 30)).wrapping_mul(1_566_083_941)).wrapping_sub(i as u32);
            i += 1;
            if i >= N {
                mt[0] = mt[N - 1];
                i = 1;
            }
        }
        mt[0] = 0x8000_0000;
        rng
    }

    /// Regenerates all 624 words of state.
    fn twist(&mut self) {
        let mt = &mut self.state;
        for k in 0..N {
            let y = (mt[k] & UPPER_MASK) | (mt[(k + 1) % N] & LOWER_MASK);
            let mag = if y & 1 == 1 { MATRIX_A } else { 0 };
            mt[k] = mt[(k + M) % N] ^ (y >> 1) ^ mag;
        }
        self.pos = 0;
    }

    /// The next tempered 32-bit word (numpy's `randint(2**32, dtype=uint32)` building block).
    pub fn next_u32_raw(&mut self) -> u32 {
        if self.pos >= N {
            self.twist();
        }
        let mut y = self.state[self.pos];
        self.pos += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^ (y >> 18)
    }

    /// A 64-bit word from two 32-bit draws, the first as the high half (numpy's `next_uint64`).
    pub fn next_u64_raw(&mut self) -> u64 {
        let hi = u64::from(self.next_u32_raw());
        (hi << 32) | u64::from(self.next_u32_raw())
    }

    /// A double in `[0, 1)` from 27 + 26 bits of two draws, as `RandomState.random_sample()`.
    pub fn random_sample(&mut self) -> f64 {
        let a = self.next_u32_raw() >> 5;
        let b = self.next_u32_raw() >> 6;
        (f64::from(a) * 67_108_864.0 + f64::from(b)) / 9_007_199_254_740_992.0
    }

    /// A uniform double in `[low, high)`: `low + (high - low) * random_sample()`, as `RandomState.uniform`.
    pub fn uniform(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * self.random_sample()
    }

    /// A standard normal from the polar method, pairs cached as `RandomState.standard_normal()` does.
    pub fn standard_normal(&mut self) -> f64 {
        if let Some(g) = self.cached_gauss.take() {
            return g;
        }
        loop {
            let x1 = 2.0 * self.random_sample() - 1.0;
            let x2 = 2.0 * self.random_sample() - 1.0;
            let r2 = x1 * x1 + x2 * x2;
            if r2 < 1.0 && r2 != 0.0 {
                let f = (-2.0 * r2.ln() / r2).sqrt();
                self.cached_gauss = Some(f * x1);
                return f * x2;
            }
        }
    }

    /// `loc + scale * standard_normal()`, as `RandomState.normal(loc, scale)`.
    pub fn normal(&mut self, loc: f64, scale: f64) -> f64 {
        loc + scale * self.standard_normal()
    }

    /// `n` values of [`random_sample`](Self::random_sample).
    pub fn random_sample_vec(&mut self, n: usize) -> Vec<f64> {
        (0..n).map(|_| self.random_sample()).collect()
    }

    /// `n` values of [`uniform`](Self::uniform) in `[low, high)`.
    pub fn uniform_vec(&mut self, n: usize, low: f64, high: f64) -> Vec<f64> {
        (0..n).map(|_| self.uniform(low, high)).collect()
    }

    /// `n` values of [`normal`](Self::normal), in numpy's (row-major) order.
    pub fn normal_vec(&mut self, n: usize, loc: f64, scale: f64) -> Vec<f64> {
        (0..n).map(|_| self.normal(loc, scale)).collect()
    }

    /// An integer in `[0, max]` (inclusive) by masked rejection, numpy's legacy `random_interval`.
    pub fn random_interval(&mut self, max: u64) -> u64 {
        random_interval(self, max)
    }

    /// An integer in `[low, high)` as `RandomState.randint(low, high)`; panics when the range is empty.
    #[track_caller]
    pub fn randint(&mut self, low: i64, high: i64) -> i64 {
        assert!(low < high, "NumpyRng::randint: low ({low}) must be below high ({high})");
        let span = high.wrapping_sub(low) as u64 - 1;
        // Legacy `randint` draws the offset exactly as `random_interval` does (masked rejection).
        low.wrapping_add(random_interval(self, span) as i64)
    }

    /// Shuffles a slice in place as `RandomState.shuffle` does for a 1-D array.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        shuffle(self, items);
    }

    /// `0..n` in a random order, as `RandomState.permutation(n)`.
    pub fn permutation(&mut self, n: usize) -> Vec<usize> {
        let mut idx: Vec<usize> = (0..n).collect();
        self.shuffle(&mut idx);
        idx
    }
}

/// A value in `[0, max]` from masked 32-bit (or, for large `max`, 64-bit) draws, numpy's `random_interval`.
fn random_interval<R: RngCore + ?Sized>(rng: &mut R, max: u64) -> u64 {
    if max == 0 {
        return 0;
    }
    let mask = smear(max);
    if max <= u64::from(u32::MAX) {
        loop {
            let v = u64::from(rng.next_u32()) & mask;
            if v <= max {
                return v;
            }
        }
    }
    loop {
        let v = rng.next_u64() & mask;
        if v <= max {
            return v;
        }
    }
}

/// The smallest all-ones bit mask covering `x`.
fn smear(mut x: u64) -> u64 {
    x |= x >> 1;
    x |= x >> 2;
    x |= x >> 4;
    x |= x >> 8;
    x |= x >> 16;
    x |= x >> 32;
    x
}

/// Fisher-Yates from the last position down, each partner drawn with numpy's masked rejection.
///
/// With a [`NumpyRng`] this is `RandomState.shuffle`; any other `rand` generator gives a fair
/// shuffle of its own.
///
/// ```
/// use tapegrad::data::{shuffle, NumpyRng};
/// let mut v: Vec<u32> = (0..10).collect();
/// shuffle(&mut NumpyRng::new(2), &mut v);
/// assert_eq!(v, [4, 1, 5, 0, 7, 2, 3, 6, 9, 8]);
/// ```
pub fn shuffle<R: RngCore + ?Sized, T>(rng: &mut R, items: &mut [T]) {
    for i in (1..items.len()).rev() {
        let j = random_interval(rng, i as u64) as usize;
        items.swap(i, j);
    }
}

impl RngCore for NumpyRng {
    fn next_u32(&mut self) -> u32 {
        self.next_u32_raw()
    }

    fn next_u64(&mut self) -> u64 {
        self.next_u64_raw()
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for chunk in dest.chunks_mut(4) {
            let word = self.next_u32_raw().to_le_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // numpy 2.4, each column from a freshly seeded RandomState (table in shared/README.md).
    #[test]
    fn first_u32_matches_numpy() {
        assert_eq!(NumpyRng::new(1).next_u32_raw(), 1_791_095_845);
        assert_eq!(NumpyRng::new(2).next_u32_raw(), 1_872_583_848);
    }

    #[test]
    fn random_sample_matches_numpy() {
        let mut r = NumpyRng::new(1);
        assert_eq!([r.random_sample(), r.random_sample()], [0.417022004702574, 0.7203244934421581]);
        let mut r = NumpyRng::new(2);
        assert_eq!([r.random_sample(), r.random_sample()], [0.43599490214200376, 0.025926231827891333]);
    }

    #[test]
    fn standard_normal_matches_numpy() {
        let mut r = NumpyRng::new(1);
        assert_eq!([r.standard_normal(), r.standard_normal()], [1.6243453636632417, -0.6117564136500754]);
        let mut r = NumpyRng::new(2);
        assert_eq!([r.standard_normal(), r.standard_normal()], [-0.4167578474054706, -0.056266827226329474]);
    }

    #[test]
    fn permutation_matches_numpy() {
        assert_eq!(NumpyRng::new(1).permutation(10), vec![2, 9, 6, 4, 0, 3, 1, 7, 8, 5]);
        assert_eq!(NumpyRng::new(2).permutation(10), vec![4, 1, 5, 0, 7, 2, 3, 6, 9, 8]);
    }

    #[test]
    fn normal_caches_the_second_value_of_a_pair() {
        let mut a = NumpyRng::new(7);
        let first = a.standard_normal();
        let words_after_pair = a.clone().next_u32_raw();
        let second = a.standard_normal();
        // The second normal consumes no new words.
        assert_eq!(a.next_u32_raw(), words_after_pair);
        assert_ne!(first, second);
        assert_eq!(NumpyRng::new(7).normal(3.0, 2.0), 3.0 + 2.0 * first);
    }

    #[test]
    fn mt19937_reference_key_sequence() {
        // The reference output of mt19937ar.c, seeded with init_by_array({0x123, 0x234, 0x345, 0x456}).
        let mut r = NumpyRng::from_key(&[0x123, 0x234, 0x345, 0x456]);
        let first: Vec<u32> = (0..5).map(|_| r.next_u32_raw()).collect();
        assert_eq!(first, [1_067_595_299, 955_945_823, 477_289_528, 4_107_218_783, 4_228_976_476]);
    }

    #[test]
    fn random_interval_stays_in_range_and_covers_it() {
        let mut r = NumpyRng::new(3);
        let mut seen = [false; 6];
        for _ in 0..200 {
            let v = r.random_interval(5) as usize;
            assert!(v <= 5);
            seen[v] = true;
        }
        assert!(seen.iter().all(|&s| s));
        assert_eq!(r.random_interval(0), 0);
        let big = (1u64 << 40) + 3;
        assert!((0..50).all(|_| r.random_interval(big) <= big));
    }

    #[test]
    fn randint_respects_bounds() {
        let mut r = NumpyRng::new(5);
        for _ in 0..100 {
            let v = r.randint(-3, 4);
            assert!((-3..4).contains(&v));
        }
    }

    #[test]
    fn uniform_scales_random_sample() {
        let u = NumpyRng::new(1).uniform(-10.0, 10.0);
        assert_eq!(u, -10.0 + 20.0 * 0.417022004702574);
    }

    #[test]
    fn fill_bytes_uses_little_endian_words() {
        let mut buf = [0u8; 6];
        NumpyRng::new(1).fill_bytes(&mut buf);
        let mut r = NumpyRng::new(1);
        let w0 = r.next_u32_raw().to_le_bytes();
        let w1 = r.next_u32_raw().to_le_bytes();
        assert_eq!(buf[..4], w0);
        assert_eq!(buf[4..], w1[..2]);
    }
}
