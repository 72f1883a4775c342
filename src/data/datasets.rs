//! scikit-learn's synthetic data sets, rebuilt draw for draw on [`NumpyRng`].
//!
//! Each generator takes a parameter struct whose fields and defaults are scikit-learn's, and makes its
//! random draws in scikit-learn's order, so the same `random_state` gives the same arrays.

use super::numpy_rng::NumpyRng;
use crate::Tensor;

/// The generator for a `random_state`: seeded as numpy seeds an integer, or from entropy for `None`
/// (scikit-learn then uses numpy's global state, which is just as unpredictable).
fn generator(random_state: Option<u32>) -> NumpyRng {
    NumpyRng::new(random_state.unwrap_or_else(rand::random))
}

/// scikit-learn's `utils.shuffle(x, labels)`: one numpy permutation of `0..n` picks the rows of both.
fn shuffle_labeled(rng: &mut NumpyRng, x: &Tensor<f64>, labels: &[usize]) -> (Tensor<f64>, Vec<usize>) {
    let rows = rng.permutation(labels.len());
    (x.select_rows(&rows), rows.iter().map(|&r| labels[r]).collect())
}

/// Labels as a float tensor of shape `[n]`.
fn label_tensor(labels: &[usize]) -> Tensor<f64> {
    Tensor::from_vec(labels.iter().map(|&l| l as f64).collect(), &[labels.len()])
}

/// Parameters of [`make_regression`], named and defaulted as in scikit-learn
/// (`effective_rank` is not supported: features are always independent standard normals).
#[derive(Clone, Debug, PartialEq)]
pub struct RegressionParams {
    /// Number of rows (default 100).
    pub n_samples: usize,
    /// Number of features (default 100).
    pub n_features: usize,
    /// How many features the target depends on (default 10; capped at `n_features`).
    pub n_informative: usize,
    /// Number of targets per row (default 1).
    pub n_targets: usize,
    /// Added to every target (default 0).
    pub bias: f64,
    /// Standard deviation of the Gaussian noise added to the targets (default 0).
    pub noise: f64,
    /// Shuffle the rows and the features (default true).
    pub shuffle: bool,
    /// Seed; `None` draws a fresh one.
    pub random_state: Option<u32>,
}

impl Default for RegressionParams {
    fn default() -> Self {
        RegressionParams {
            n_samples: 100,
            n_features: 100,
            n_informative: 10,
            n_targets: 1,
            bias: 0.0,
            noise: 0.0,
            shuffle: true,
            random_state: None,
        }
    }
}

/// The output of [`make_regression`].
#[derive(Clone, Debug)]
pub struct Regression {
    /// Inputs, `[n_samples, n_features]`.
    pub x: Tensor<f64>,
    /// Targets, `[n_samples]` (or `[n_samples, n_targets]` when `n_targets > 1`).
    pub y: Tensor<f64>,
    /// The true linear coefficients (scikit-learn's `coef=True` output), `[n_features]` (or
    /// `[n_features, n_targets]`); zero for the uninformative features.
    pub coef: Tensor<f64>,
}

/// A random linear regression problem, as `sklearn.datasets.make_regression`.
///
/// ```
/// use tapegrad::data::{make_regression, RegressionParams};
/// let d = make_regression(&RegressionParams {
///     n_samples: 50, n_features: 4, noise: 0.1, random_state: Some(1), ..Default::default()
/// });
/// assert_eq!(d.x.shape(), &[50, 4]);
/// assert_eq!(d.y.shape(), &[50]);
/// ```
pub fn make_regression(p: &RegressionParams) -> Regression {
    let (n, f, t) = (p.n_samples, p.n_features, p.n_targets);
    let informative = p.n_informative.min(f);
    let mut rng = generator(p.random_state);

    let mut x = Vec::with_capacity(n * f);
    x.extend((0..n * f).map(|_| rng.standard_normal()));
    let mut coef = vec![0.0; f * t];
    for c in coef.iter_mut().take(informative * t) {
        *c = 100.0 * rng.uniform(0.0, 1.0);
    }

    let mut y = vec![0.0; n * t];
    for (i, out) in y.chunks_exact_mut(t.max(1)).enumerate() {
        let row = &x[i * f..(i + 1) * f];
        for (k, o) in out.iter_mut().enumerate() {
            let dot: f64 = row.iter().take(informative).enumerate().map(|(j, &v)| v * coef[j * t + k]).sum();
            *o = dot + p.bias;
        }
    }
    if p.noise > 0.0 {
        for v in &mut y {
            *v += rng.normal(0.0, p.noise);
        }
    }

    let mut x = Tensor::from_vec(x, &[n, f]);
    let mut y = Tensor::from_vec(y, &[n, t]);
    let mut coef = Tensor::from_vec(coef, &[f, t]);
    if p.shuffle {
        let rows = rng.permutation(n);
        x = x.select_rows(&rows);
        y = y.select_rows(&rows);
        let cols = rng.permutation(f);
        let mut permuted = vec![0.0; n * f];
        for (src, dst) in x.data().chunks_exact(f.max(1)).zip(permuted.chunks_exact_mut(f.max(1))) {
            for (d, &c) in dst.iter_mut().zip(&cols) {
                *d = src[c];
            }
        }
        x = Tensor::from_vec(permuted, &[n, f]);
        coef = coef.select_rows(&cols);
    }
    if t == 1 {
        y = y.reshape(&[n]);
        coef = coef.reshape(&[f]);
    }
    Regression { x, y, coef }
}

/// Parameters of [`make_circles`], named and defaulted as in scikit-learn.
#[derive(Clone, Debug, PartialEq)]
pub struct CirclesParams {
    /// Total number of points; the outer circle gets `n_samples / 2`, the inner one the rest (default 100).
    pub n_samples: usize,
    /// Shuffle the points (default true).
    pub shuffle: bool,
    /// Standard deviation of Gaussian noise added to the coordinates; `None` for none (default).
    pub noise: Option<f64>,
    /// Inner radius over outer radius, in `[0, 1)` (default 0.8).
    pub factor: f64,
    /// Seed; `None` draws a fresh one.
    pub random_state: Option<u32>,
}

impl Default for CirclesParams {
    fn default() -> Self {
        CirclesParams { n_samples: 100, shuffle: true, noise: None, factor: 0.8, random_state: None }
    }
}

/// A labelled data set: points and their integer classes.
#[derive(Clone, Debug)]
pub struct Labeled {
    /// Inputs, `[n_samples, n_features]`.
    pub x: Tensor<f64>,
    /// The labels as floats, `[n_samples]`.
    pub y: Tensor<f64>,
    /// The labels as class indices.
    pub labels: Vec<usize>,
}

/// Angles `i * 2π / num` for `i < num`, as `numpy.linspace(0, 2π, num, endpoint=False)` computes them.
fn circle_angles(num: usize) -> impl Iterator<Item = f64> {
    let step = 2.0 * std::f64::consts::PI / num as f64;
    (0..num).map(move |i| i as f64 * step)
}

/// Two concentric circles, the outer labelled 0 and the inner 1, as `sklearn.datasets.make_circles`.
///
/// # Panics
/// When `factor` is outside `[0, 1)` or `noise` is negative.
///
/// ```
/// use tapegrad::data::{make_circles, CirclesParams};
/// let d = make_circles(&CirclesParams { n_samples: 10, noise: Some(0.1), random_state: Some(1), ..Default::default() });
/// assert_eq!(d.x.shape(), &[10, 2]);
/// assert_eq!(d.labels.iter().filter(|&&l| l == 1).count(), 5);
/// ```
#[track_caller]
pub fn make_circles(p: &CirclesParams) -> Labeled {
    assert!((0.0..1.0).contains(&p.factor), "make_circles: factor must be in [0, 1), got {}", p.factor);
    if let Some(noise) = p.noise {
        assert!(noise >= 0.0, "make_circles: noise must be non-negative, got {noise}");
    }
    let n_out = p.n_samples / 2;
    let n_in = p.n_samples - n_out;
    let mut rng = generator(p.random_state);

    let mut x = Vec::with_capacity(2 * p.n_samples);
    for a in circle_angles(n_out) {
        x.extend_from_slice(&[a.cos(), a.sin()]);
    }
    for a in circle_angles(n_in) {
        x.extend_from_slice(&[a.cos() * p.factor, a.sin() * p.factor]);
    }
    let mut labels: Vec<usize> = (0..p.n_samples).map(|i| usize::from(i >= n_out)).collect();
    let mut x = Tensor::from_vec(x, &[p.n_samples, 2]);
    if p.shuffle {
        (x, labels) = shuffle_labeled(&mut rng, &x, &labels);
    }
    if let Some(noise) = p.noise {
        for v in x.data_mut() {
            *v += rng.normal(0.0, noise);
        }
    }
    Labeled { y: label_tensor(&labels), x, labels }
}

/// Where the blob centres come from in [`make_blobs`].
#[derive(Clone, Debug, PartialEq)]
pub enum Centers {
    /// This many centres, drawn uniformly from `center_box` in every feature.
    Count(usize),
    /// These coordinates, one row per centre (they set the number of features).
    Coords(Vec<Vec<f64>>),
}

/// The spread of each blob in [`make_blobs`].
#[derive(Clone, Debug, PartialEq)]
pub enum ClusterStd {
    /// One standard deviation for every blob.
    Same(f64),
    /// One standard deviation per centre.
    PerCenter(Vec<f64>),
}

/// Parameters of [`make_blobs`], named and defaulted as in scikit-learn.
#[derive(Clone, Debug, PartialEq)]
pub struct BlobsParams {
    /// Total number of points, split evenly over the centres (default 100).
    pub n_samples: usize,
    /// Number of features when the centres are drawn (default 2).
    pub n_features: usize,
    /// The centres: a count to draw (default 3) or coordinates.
    pub centers: Centers,
    /// Standard deviation of each blob (default 1).
    pub cluster_std: ClusterStd,
    /// Bounds `(low, high)` for drawn centres (default (-10, 10)).
    pub center_box: (f64, f64),
    /// Shuffle the points (default true).
    pub shuffle: bool,
    /// Seed; `None` draws a fresh one.
    pub random_state: Option<u32>,
}

impl Default for BlobsParams {
    fn default() -> Self {
        BlobsParams {
            n_samples: 100,
            n_features: 2,
            centers: Centers::Count(3),
            cluster_std: ClusterStd::Same(1.0),
            center_box: (-10.0, 10.0),
            shuffle: true,
            random_state: None,
        }
    }
}

/// The output of [`make_blobs`].
#[derive(Clone, Debug)]
pub struct Blobs {
    /// Inputs, `[n_samples, n_features]`.
    pub x: Tensor<f64>,
    /// The blob of each point as floats, `[n_samples]`.
    pub y: Tensor<f64>,
    /// The blob of each point.
    pub labels: Vec<usize>,
    /// The centres, `[n_centers, n_features]` (scikit-learn's `return_centers=True` output).
    pub centers: Tensor<f64>,
}

/// Gaussian blobs around random or given centres, as `sklearn.datasets.make_blobs`.
///
/// # Panics
/// When there are no centres, the coordinate rows differ in length, `cluster_std` has the wrong
/// length, or a standard deviation is negative.
///
/// ```
/// use tapegrad::data::{make_blobs, BlobsParams, ClusterStd};
/// let d = make_blobs(&BlobsParams { n_samples: 10, cluster_std: ClusterStd::Same(2.0), random_state: Some(2), ..Default::default() });
/// assert_eq!(d.x.shape(), &[10, 2]);
/// assert_eq!(d.centers.shape(), &[3, 2]);
/// assert_eq!(d.labels.iter().filter(|&&l| l == 0).count(), 4);
/// ```
#[track_caller]
pub fn make_blobs(p: &BlobsParams) -> Blobs {
    let mut rng = generator(p.random_state);
    let (centers, n_centers, n_features) = match &p.centers {
        Centers::Count(k) => {
            let (lo, hi) = p.center_box;
            (rng.uniform_vec(k * p.n_features, lo, hi), *k, p.n_features)
        }
        Centers::Coords(rows) => {
            let f = rows.first().map_or(0, Vec::len);
            assert!(
                rows.iter().all(|r| r.len() == f),
                "make_blobs: every centre needs the same number of coordinates ({f} in the first)"
            );
            (rows.concat(), rows.len(), f)
        }
    };
    assert!(n_centers > 0, "make_blobs: need at least one centre");
    let stds = match &p.cluster_std {
        ClusterStd::Same(s) => vec![*s; n_centers],
        ClusterStd::PerCenter(v) => {
            assert!(
                v.len() == n_centers,
                "make_blobs: cluster_std has {} values for {n_centers} centres",
                v.len()
            );
            v.clone()
        }
    };
    assert!(stds.iter().all(|&s| s >= 0.0), "make_blobs: cluster_std must be non-negative, got {stds:?}");

    let mut x = Vec::with_capacity(p.n_samples * n_features);
    let mut labels = Vec::with_capacity(p.n_samples);
    for (i, &std) in stds.iter().enumerate() {
        let count = p.n_samples / n_centers + usize::from(i < p.n_samples % n_centers);
        let center = &centers[i * n_features..(i + 1) * n_features];
        for _ in 0..count {
            x.extend(center.iter().map(|&c| rng.normal(c, std)));
            labels.push(i);
        }
    }
    let mut x = Tensor::from_vec(x, &[p.n_samples, n_features]);
    if p.shuffle {
        (x, labels) = shuffle_labeled(&mut rng, &x, &labels);
    }
    Blobs { y: label_tensor(&labels), x, labels, centers: Tensor::from_vec(centers, &[n_centers, n_features]) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regression_targets_follow_the_coefficients() {
        let d = make_regression(&RegressionParams {
            n_samples: 30,
            n_features: 6,
            n_informative: 3,
            n_targets: 2,
            bias: 1.5,
            random_state: Some(4),
            ..Default::default()
        });
        assert_eq!(d.y.shape(), &[30, 2]);
        assert_eq!(d.coef.shape(), &[6, 2]);
        assert_eq!(d.coef.data().iter().filter(|&&c| c == 0.0).count(), 6);
        for i in 0..30 {
            for k in 0..2 {
                let pred: f64 = (0..6).map(|j| d.x.get(&[i, j]) * d.coef.get(&[j, k])).sum::<f64>() + 1.5;
                assert!((pred - d.y.get(&[i, k])).abs() < 1e-9);
            }
        }
    }

    #[test]
    fn same_seed_same_data_other_seed_other_data() {
        let p = CirclesParams { noise: Some(0.05), random_state: Some(3), ..Default::default() };
        assert_eq!(make_circles(&p).x, make_circles(&p).x);
        let q = CirclesParams { random_state: Some(4), ..p.clone() };
        assert_ne!(make_circles(&p).x, make_circles(&q).x);
    }

    #[test]
    fn unshuffled_circles_keep_radius_and_order() {
        let d = make_circles(&CirclesParams { n_samples: 9, shuffle: false, factor: 0.5, ..Default::default() });
        assert_eq!(d.labels, [0, 0, 0, 0, 1, 1, 1, 1, 1]);
        for i in 0..9 {
            let r = d.x.get(&[i, 0]).hypot(d.x.get(&[i, 1]));
            let want = if i < 4 { 1.0 } else { 0.5 };
            assert!((r - want).abs() < 1e-12);
        }
    }

    #[test]
    fn blobs_with_given_centres_and_spreads() {
        let d = make_blobs(&BlobsParams {
            n_samples: 7,
            centers: Centers::Coords(vec![vec![0.0, 0.0, 0.0], vec![100.0, 100.0, 100.0]]),
            cluster_std: ClusterStd::PerCenter(vec![0.0, 1.0]),
            shuffle: false,
            random_state: Some(0),
            ..Default::default()
        });
        assert_eq!(d.x.shape(), &[7, 3]);
        assert_eq!(d.labels, [0, 0, 0, 0, 1, 1, 1]);
        assert!(d.x.data()[..12].iter().all(|&v| v == 0.0));
        assert!(d.x.data()[12..].iter().all(|&v| (v - 100.0).abs() < 10.0));
    }

    #[test]
    #[should_panic(expected = "cluster_std has 1 values for 3 centres")]
    fn blobs_reject_mismatched_spreads() {
        make_blobs(&BlobsParams { cluster_std: ClusterStd::PerCenter(vec![1.0]), ..Default::default() });
    }

    #[test]
    #[should_panic(expected = "factor must be in [0, 1)")]
    fn circles_reject_bad_factor() {
        make_circles(&CirclesParams { factor: 1.0, ..Default::default() });
    }
}
