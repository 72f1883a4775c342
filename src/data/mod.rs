//! Data: numpy-compatible randomness, scikit-learn's synthetic data sets, scaling, splitting,
//! batching and CSV loading.
//!
//! With the same `random_state`, [`make_regression`], [`make_circles`] and [`make_blobs`] return the
//! arrays scikit-learn returns, so a tapegrad experiment and a Keras one can run on identical data.
//!
//! ```
//! use tapegrad::data::{make_circles, train_test_split, CirclesParams};
//! let d = make_circles(&CirclesParams { n_samples: 100, noise: Some(0.1), random_state: Some(1), ..Default::default() });
//! let s = train_test_split(&d.x, &d.y, 0.25, 0);
//! assert_eq!(s.x_train.shape(), &[75, 2]);
//! assert_eq!(s.y_test.shape(), &[25]);
//! ```

mod batches;
mod bundled;
mod csv;
mod datasets;
mod numpy_rng;
mod scaler;
mod split;
mod stratified;
mod tabular;

pub use batches::{batch_ranges, BatchSampler, Batches};
pub use bundled::{dataset, Dataset, DATASETS};
pub use csv::{
    parse_csv, parse_features_csv, parse_table, read_csv, read_csv_from, read_features_csv, read_table, CsvError, CsvOptions, Table,
};
pub use datasets::{
    make_blobs, make_circles, make_regression, Blobs, BlobsParams, Centers, CirclesParams, ClusterStd, Labeled,
    Regression, RegressionParams,
};
pub use numpy_rng::{shuffle, NumpyRng};
pub use scaler::StandardScaler;
pub use split::{split_at, to_categorical, train_test_split, Split};
pub use stratified::{shuffle_split_indices, stratified_split_indices, SplitError, SplitIndices};
pub use tabular::{ColumnKind, FeatureColumn, Prepared, Preprocessing, TabularError, TabularOptions, Task, MAX_INFERRED_CLASSES};
