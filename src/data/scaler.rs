//! Standardisation to zero mean and unit variance, as scikit-learn's `StandardScaler`.

use crate::{Float, Tensor};

/// Per-feature standardisation: `(x - mean) / scale`, with scikit-learn's conventions.
///
/// The variance is the population one (divided by `n`, not `n - 1`), and a feature that is constant
/// (to within rounding) gets scale 1 so it maps to zero instead of dividing by zero. A rank-1 tensor is
/// treated as one feature column, so the same type scales targets.
///
/// ```
/// use tapegrad::{data::StandardScaler, Tensor};
/// let x = Tensor::from_vec(vec![1.0, 5.0, 3.0, 5.0], &[2, 2]);
/// let scaler = StandardScaler::fit(&x);
/// assert_eq!(scaler.mean(), &[2.0, 5.0]);
/// assert_eq!(scaler.scale(), &[1.0, 1.0]); // the constant second column keeps scale 1
/// let z = scaler.transform(&x);
/// assert_eq!(z.data(), &[-1.0, 0.0, 1.0, 0.0]);
/// assert_eq!(scaler.inverse_transform(&z), x);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct StandardScaler {
    mean: Vec<f64>,
    var: Vec<f64>,
    scale: Vec<f64>,
    n_samples_seen: usize,
}

/// `(rows, features)` of a rank-1 or rank-2 tensor; panics naming `op` otherwise.
#[track_caller]
fn layout<T: Float>(x: &Tensor<T>, op: &str) -> (usize, usize) {
    match *x.shape() {
        [n] => (n, 1),
        [n, f] => (n, f),
        ref s => panic!("StandardScaler::{op}: expected a tensor of rank 1 or 2, got shape {s:?}"),
    }
}

impl StandardScaler {
    /// Learns each feature's mean and population standard deviation from the rows of `x`.
    ///
    /// # Panics
    /// When `x` has no rows or is not of rank 1 or 2.
    #[track_caller]
    pub fn fit<T: Float>(x: &Tensor<T>) -> Self {
        let (n, f) = layout(x, "fit");
        assert!(n > 0, "StandardScaler::fit: no rows to fit on (shape {:?})", x.shape());
        let data = x.data();
        let mut mean = vec![0.0; f];
        for row in data.chunks_exact(f.max(1)) {
            for (m, v) in mean.iter_mut().zip(row) {
                *m += v.to_f64();
            }
        }
        let count = n as f64;
        mean.iter_mut().for_each(|m| *m /= count);
        // Two-pass variance with the rounding correction sum(d)^2 / n, as scikit-learn computes it.
        let mut sq = vec![0.0; f];
        let mut lin = vec![0.0; f];
        for row in data.chunks_exact(f.max(1)) {
            for j in 0..f {
                let d = row[j].to_f64() - mean[j];
                sq[j] += d * d;
                lin[j] += d;
            }
        }
        let var: Vec<f64> = sq.iter().zip(&lin).map(|(s, l)| ((s - l * l / count) / count).max(0.0)).collect();
        let scale = var
            .iter()
            .zip(&mean)
            .map(|(&v, &m)| {
                // scikit-learn's test for a constant feature: the variance is below its rounding error.
                let bound = count * f64::EPSILON * v + (count * m * f64::EPSILON).powi(2);
                if v <= bound {
                    1.0
                } else {
                    v.sqrt()
                }
            })
            .collect();
        StandardScaler { mean, var, scale, n_samples_seen: n }
    }

    /// Fits on `x` and returns the scaler with `x` transformed.
    #[track_caller]
    pub fn fit_transform<T: Float>(x: &Tensor<T>) -> (Self, Tensor<T>) {
        let s = Self::fit(x);
        let z = s.transform(x);
        (s, z)
    }

    /// Per-feature means (`mean_` in scikit-learn).
    pub fn mean(&self) -> &[f64] {
        &self.mean
    }

    /// Per-feature population variances (`var_`).
    pub fn var(&self) -> &[f64] {
        &self.var
    }

    /// Per-feature divisors: standard deviations, 1 for constant features (`scale_`).
    pub fn scale(&self) -> &[f64] {
        &self.scale
    }

    /// Number of rows the scaler was fitted on (`n_samples_seen_`).
    pub fn n_samples_seen(&self) -> usize {
        self.n_samples_seen
    }

    #[track_caller]
    fn apply<T: Float>(&self, x: &Tensor<T>, op: &str, f: impl Fn(f64, f64, f64) -> f64) -> Tensor<T> {
        let (_, cols) = layout(x, op);
        assert!(
            cols == self.mean.len(),
            "StandardScaler::{op}: fitted on {} features, got shape {:?}",
            self.mean.len(),
            x.shape()
        );
        let mut out = x.clone();
        for row in out.data_mut().chunks_exact_mut(cols.max(1)) {
            for ((v, &m), &s) in row.iter_mut().zip(&self.mean).zip(&self.scale) {
                *v = T::from_f64(f(v.to_f64(), m, s));
            }
        }
        out
    }

    /// `(x - mean) / scale` per feature.
    ///
    /// # Panics
    /// When `x` has another number of features than the scaler was fitted on.
    #[track_caller]
    pub fn transform<T: Float>(&self, x: &Tensor<T>) -> Tensor<T> {
        self.apply(x, "transform", |v, m, s| (v - m) / s)
    }

    /// `z * scale + mean` per feature: undoes [`transform`](Self::transform).
    ///
    /// # Panics
    /// When `z` has another number of features than the scaler was fitted on.
    #[track_caller]
    pub fn inverse_transform<T: Float>(&self, z: &Tensor<T>) -> Tensor<T> {
        self.apply(z, "inverse_transform", |v, m, s| v * s + m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn population_statistics() {
        let x = Tensor::from_vec(vec![1.0f64, 2.0, 3.0, 4.0], &[4]);
        let s = StandardScaler::fit(&x);
        assert_eq!(s.mean(), &[2.5]);
        assert!((s.var()[0] - 1.25).abs() < 1e-15);
        assert!((s.scale()[0] - 1.25f64.sqrt()).abs() < 1e-15);
        let z = s.transform(&x);
        assert_eq!(z.shape(), &[4]);
        assert!(z.mean_all().abs() < 1e-15);
    }

    #[test]
    fn round_trip_in_f32() {
        let x = Tensor::from_vec(vec![1.0f32, -2.0, 3.5, 4.0, 0.25, 9.0], &[3, 2]);
        let (s, z) = StandardScaler::fit_transform(&x);
        let back = s.inverse_transform(&z);
        for (a, b) in back.data().iter().zip(x.data()) {
            assert!((a - b).abs() < 1e-5);
        }
    }

    #[test]
    #[should_panic(expected = "fitted on 2 features, got shape [3, 3]")]
    fn transform_checks_feature_count() {
        let s = StandardScaler::fit(&Tensor::<f64>::zeros(&[2, 2]));
        s.transform(&Tensor::<f64>::zeros(&[3, 3]));
    }
}
