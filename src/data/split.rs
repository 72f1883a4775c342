//! Train/test splits and one-hot labels.

use super::numpy_rng::NumpyRng;
use crate::{Float, Tensor};

/// A data set cut into a training part and a test part, rows kept aligned between `x` and `y`.
#[derive(Clone, Debug, PartialEq)]
pub struct Split<T: Float> {
    /// Training inputs.
    pub x_train: Tensor<T>,
    /// Test inputs.
    pub x_test: Tensor<T>,
    /// Training targets.
    pub y_train: Tensor<T>,
    /// Test targets.
    pub y_test: Tensor<T>,
}

/// Number of rows (length of the first axis); panics naming `op` for a scalar.
#[track_caller]
fn rows<T: Float>(t: &Tensor<T>, op: &str, name: &str) -> usize {
    match t.shape().first() {
        Some(&n) => n,
        None => panic!("{op}: {name} must have at least one axis, got a scalar"),
    }
}

#[track_caller]
fn aligned_rows<T: Float>(x: &Tensor<T>, y: &Tensor<T>, op: &str) -> usize {
    let (nx, ny) = (rows(x, op, "x"), rows(y, op, "y"));
    assert!(nx == ny, "{op}: x has {nx} rows but y has {ny} (shapes {:?} and {:?})", x.shape(), y.shape());
    nx
}

/// The first `n_train` rows for training and the rest for testing, as the tutorial slices its data
/// (`x[:n_train]`, `x[n_train:]`).
///
/// # Panics
/// When `x` and `y` have different numbers of rows or `n_train` exceeds them.
///
/// ```
/// use tapegrad::{data::split_at, Tensor};
/// let x = Tensor::from_vec((0..10).map(f64::from).collect(), &[5, 2]);
/// let y = Tensor::from_vec(vec![0.0, 1.0, 2.0, 3.0, 4.0], &[5]);
/// let s = split_at(&x, &y, 3);
/// assert_eq!(s.y_train.data(), &[0.0, 1.0, 2.0]);
/// assert_eq!(s.x_test.shape(), &[2, 2]);
/// ```
#[track_caller]
pub fn split_at<T: Float>(x: &Tensor<T>, y: &Tensor<T>, n_train: usize) -> Split<T> {
    let n = aligned_rows(x, y, "split_at");
    assert!(n_train <= n, "split_at: n_train = {n_train} but there are only {n} rows");
    Split {
        x_train: x.slice_rows(0, n_train),
        x_test: x.slice_rows(n_train, n),
        y_train: y.slice_rows(0, n_train),
        y_test: y.slice_rows(n_train, n),
    }
}

/// A shuffled split with `ceil(test_size * n)` test rows, as scikit-learn's
/// `train_test_split(x, y, test_size=test_size, random_state=seed)`: the same seed picks the same rows
/// (the first `n_test` entries of a numpy permutation are the test rows, the rest the training rows,
/// both in permutation order).
///
/// # Panics
/// When `test_size` is not strictly between 0 and 1, either part would be empty, or `x` and `y`
/// have different numbers of rows.
///
/// ```
/// use tapegrad::{data::train_test_split, Tensor};
/// let x = Tensor::from_vec((0..20).map(f64::from).collect(), &[10, 2]);
/// let y = Tensor::from_vec((0..10).map(f64::from).collect(), &[10]);
/// let s = train_test_split(&x, &y, 0.3, 1);
/// assert_eq!(s.y_test.data(), &[2.0, 9.0, 6.0]);
/// assert_eq!(s.x_train.shape(), &[7, 2]);
/// ```
#[track_caller]
pub fn train_test_split<T: Float>(x: &Tensor<T>, y: &Tensor<T>, test_size: f64, seed: u32) -> Split<T> {
    let n = aligned_rows(x, y, "train_test_split");
    assert!(test_size > 0.0 && test_size < 1.0, "train_test_split: test_size must be in (0, 1), got {test_size}");
    let n_test = (test_size * n as f64).ceil() as usize;
    assert!(
        n_test < n,
        "train_test_split: test_size = {test_size} of {n} rows leaves no training rows"
    );
    let order = NumpyRng::new(seed).permutation(n);
    let (test, train) = order.split_at(n_test);
    Split {
        x_train: x.select_rows(train),
        x_test: x.select_rows(test),
        y_train: y.select_rows(train),
        y_test: y.select_rows(test),
    }
}

/// One-hot rows `[labels.len(), num_classes]`, as Keras' `to_categorical`; `num_classes` defaults to
/// the largest label plus one.
///
/// # Panics
/// When a label is not below `num_classes`.
///
/// ```
/// use tapegrad::{data::to_categorical, Tensor};
/// let t: Tensor<f32> = to_categorical(&[2, 0], None);
/// assert_eq!(t.data(), &[0.0, 0.0, 1.0, 1.0, 0.0, 0.0]);
/// ```
#[track_caller]
pub fn to_categorical<T: Float>(labels: &[usize], num_classes: Option<usize>) -> Tensor<T> {
    let k = num_classes.unwrap_or_else(|| labels.iter().max().map_or(0, |m| m + 1));
    let mut out = Tensor::zeros(&[labels.len(), k]);
    let data = out.data_mut();
    for (i, &l) in labels.iter().enumerate() {
        assert!(l < k, "to_categorical: label {l} at position {i} is not below num_classes = {k}");
        data[i * k + l] = T::ONE;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> (Tensor<f64>, Tensor<f64>) {
        let x = Tensor::from_vec((0..12).map(f64::from).collect(), &[6, 2]);
        let y = Tensor::from_vec((0..6).map(|v| f64::from(v) * 10.0).collect(), &[6]);
        (x, y)
    }

    #[test]
    fn shuffled_split_keeps_rows_aligned_and_covers_all() {
        let (x, y) = data();
        let s = train_test_split(&x, &y, 0.5, 7);
        assert_eq!(s.x_test.shape(), &[3, 2]);
        let mut seen: Vec<f64> = s.y_train.data().iter().chain(s.y_test.data()).copied().collect();
        for (xr, yv) in s.x_train.data().chunks(2).zip(s.y_train.data()) {
            assert_eq!(xr[0] * 5.0, *yv);
        }
        seen.sort_by(f64::total_cmp);
        assert_eq!(seen, y.data());
    }

    #[test]
    fn test_size_rounds_up() {
        let (x, y) = data();
        assert_eq!(train_test_split(&x, &y, 0.2, 0).y_test.shape(), &[2]);
    }

    #[test]
    #[should_panic(expected = "x has 6 rows but y has 5")]
    fn split_checks_alignment() {
        let (x, _) = data();
        split_at(&x, &Tensor::zeros(&[5]), 2);
    }

    #[test]
    #[should_panic(expected = "label 3 at position 1 is not below num_classes = 3")]
    fn categorical_rejects_large_labels() {
        to_categorical::<f64>(&[0, 3], Some(3));
    }
}
