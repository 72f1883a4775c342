//! Mini-batch iteration: contiguous ranges, or row indices reshuffled every epoch.

use super::numpy_rng::shuffle;
use rand::RngCore;

/// `(start, end)` of consecutive batches covering `0..n`; the last one may be shorter.
///
/// # Panics
/// When `batch_size` is 0.
///
/// ```
/// use tapegrad::data::batch_ranges;
/// let b: Vec<_> = batch_ranges(5, 2).collect();
/// assert_eq!(b, [(0, 2), (2, 4), (4, 5)]);
/// ```
#[track_caller]
pub fn batch_ranges(n: usize, batch_size: usize) -> impl Iterator<Item = (usize, usize)> {
    assert!(batch_size > 0, "batch_ranges: batch_size must be positive");
    (0..n).step_by(batch_size).map(move |s| (s, (s + batch_size).min(n)))
}

/// Row indices for mini-batches, reshuffled in place at each epoch (no allocation after creation).
///
/// ```
/// use tapegrad::data::{BatchSampler, NumpyRng};
/// let mut sampler = BatchSampler::new(5, 2);
/// let mut rng = NumpyRng::new(0);
/// let mut seen: Vec<usize> = sampler.epoch(Some(&mut rng)).flatten().copied().collect();
/// seen.sort();
/// assert_eq!(seen, [0, 1, 2, 3, 4]);
/// // Without an RNG the order is 0..n.
/// assert_eq!(sampler.epoch(None::<&mut NumpyRng>).next(), Some(&[0, 1][..]));
/// ```
#[derive(Clone, Debug)]
pub struct BatchSampler {
    order: Vec<usize>,
    batch_size: usize,
}

impl BatchSampler {
    /// A sampler over rows `0..n` in batches of `batch_size`.
    ///
    /// # Panics
    /// When `batch_size` is 0.
    #[track_caller]
    pub fn new(n: usize, batch_size: usize) -> Self {
        assert!(batch_size > 0, "BatchSampler::new: batch_size must be positive");
        BatchSampler { order: (0..n).collect(), batch_size }
    }

    /// The batches of one epoch. With `Some(rng)` the rows are first shuffled (Fisher-Yates, numpy's
    /// recipe, so a [`NumpyRng`](super::NumpyRng) shuffles as `RandomState.shuffle`); with `None` they
    /// come in order `0..n`.
    pub fn epoch<R: RngCore + ?Sized>(&mut self, rng: Option<&mut R>) -> Batches<'_> {
        match rng {
            Some(r) => shuffle(r, &mut self.order),
            None => self.order.iter_mut().enumerate().for_each(|(i, v)| *v = i),
        }
        Batches { order: &self.order, batch_size: self.batch_size, pos: 0 }
    }

    /// Number of batches per epoch.
    pub fn num_batches(&self) -> usize {
        self.order.len().div_ceil(self.batch_size)
    }
}

/// The batches of one epoch: slices of row indices, the last one possibly shorter.
#[derive(Clone, Debug)]
pub struct Batches<'a> {
    order: &'a [usize],
    batch_size: usize,
    pos: usize,
}

impl<'a> Iterator for Batches<'a> {
    type Item = &'a [usize];

    fn next(&mut self) -> Option<&'a [usize]> {
        if self.pos >= self.order.len() {
            return None;
        }
        let end = (self.pos + self.batch_size).min(self.order.len());
        let batch = &self.order[self.pos..end];
        self.pos = end;
        Some(batch)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = (self.order.len() - self.pos).div_ceil(self.batch_size);
        (left, Some(left))
    }
}

impl ExactSizeIterator for Batches<'_> {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::NumpyRng;

    #[test]
    fn shuffled_epochs_match_numpy_permutations() {
        let mut s = BatchSampler::new(10, 4);
        assert_eq!(s.num_batches(), 3);
        let mut rng = NumpyRng::new(1);
        let batches: Vec<&[usize]> = s.epoch(Some(&mut rng)).collect();
        assert_eq!(batches, [&[2, 9, 6, 4][..], &[0, 3, 1, 7], &[8, 5]]);
        let again: Vec<usize> = s.epoch(Some(&mut rng)).flatten().copied().collect();
        assert_ne!(again, [2, 9, 6, 4, 0, 3, 1, 7, 8, 5]);
    }

    #[test]
    fn empty_and_exact_sizes() {
        assert_eq!(batch_ranges(0, 3).count(), 0);
        assert_eq!(batch_ranges(6, 3).collect::<Vec<_>>(), [(0, 3), (3, 6)]);
        assert_eq!(BatchSampler::new(6, 3).epoch(None::<&mut NumpyRng>).len(), 2);
    }
}
