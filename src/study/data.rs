//! The tutorial's three data sets, prepared as its experiments use them.

use crate::data::{
    make_blobs, make_circles, make_regression, split_at, to_categorical, BlobsParams, Centers, CirclesParams, ClusterStd,
    RegressionParams, Split, StandardScaler,
};
use crate::report::ScatterData;
use crate::tensor::Tensor;

/// Rows used for training; the rest are the test set (the tutorial slices, it does not shuffle).
pub const N_TRAIN: usize = 500;

/// The three data sets, generated once per study.
pub struct StudyData {
    /// `make_regression(1000, 20 features, noise 0.1, random_state 1)`, X and y standardised on all rows.
    pub regression: Split<f32>,
    /// `make_circles(1000, noise 0.1, random_state 1)`, targets in {0, 1}.
    pub circles: Split<f32>,
    /// `make_blobs(1000, 3 centers, 2 features, cluster_std 2, random_state 2)`, class ids.
    pub blobs: Split<f32>,
    /// The blobs' class ids, to make one-hot targets.
    pub blob_labels: Vec<usize>,
    /// Points and labels for the scatter plots.
    pub scatter: Vec<ScatterData>,
}

impl StudyData {
    /// Generates the data exactly as scikit-learn does for the tutorial's seeds.
    pub fn generate() -> Self {
        let reg = make_regression(&RegressionParams {
            n_samples: 1000,
            n_features: 20,
            noise: 0.1,
            random_state: Some(1),
            ..RegressionParams::default()
        });
        let (_, x) = StandardScaler::fit_transform(&reg.x);
        let y = reg.y.clone().reshape(&[1000, 1]);
        let (_, y) = StandardScaler::fit_transform(&y);
        let regression = split_at(&x.to_f32(), &y.to_f32(), N_TRAIN);

        let circ = make_circles(&CirclesParams { n_samples: 1000, noise: Some(0.1), random_state: Some(1), ..CirclesParams::default() });
        let circles = split_at(&circ.x.to_f32(), &circ.y.to_f32(), N_TRAIN);

        let blob = make_blobs(&BlobsParams {
            n_samples: 1000,
            n_features: 2,
            centers: Centers::Count(3),
            cluster_std: ClusterStd::Same(2.0),
            random_state: Some(2),
            ..BlobsParams::default()
        });
        let blobs = split_at(&blob.x.to_f32(), &blob.y.to_f32(), N_TRAIN);

        let points = |x: &Tensor<f64>| x.data().chunks_exact(2).map(|p| [p[0], p[1]]).collect::<Vec<_>>();
        let scatter = vec![
            ScatterData {
                name: "circles".into(),
                title: "make_circles (1000 points, noise 0.1)".into(),
                points: points(&circ.x),
                labels: circ.labels.clone(),
            },
            ScatterData {
                name: "blobs".into(),
                title: "make_blobs (1000 points, 3 centers, std 2)".into(),
                points: points(&blob.x),
                labels: blob.labels.clone(),
            },
        ];
        StudyData { regression, circles, blobs, blob_labels: blob.labels, scatter }
    }

    /// The blobs split with one-hot targets `[n, 3]`.
    pub fn blobs_one_hot(&self) -> Split<f32> {
        let onehot: Tensor<f32> = to_categorical(&self.blob_labels, Some(3));
        Split {
            x_train: self.blobs.x_train.clone(),
            x_test: self.blobs.x_test.clone(),
            y_train: onehot.slice_rows(0, N_TRAIN),
            y_test: onehot.slice_rows(N_TRAIN, onehot.shape()[0]),
        }
    }

    /// The circles split with targets mapped to {-1, 1} (for the hinge losses).
    pub fn circles_signed(&self) -> Split<f32> {
        let to_sign = |t: &Tensor<f32>| t.map(|v| 2.0 * v - 1.0);
        Split {
            x_train: self.circles.x_train.clone(),
            x_test: self.circles.x_test.clone(),
            y_train: to_sign(&self.circles.y_train),
            y_test: to_sign(&self.circles.y_test),
        }
    }
}
