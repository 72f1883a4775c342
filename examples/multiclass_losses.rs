//! Three-class classification of blobs with categorical cross-entropy, its sparse form and the
//! Kullback-Leibler divergence: the tutorial's third case study written directly with the library.
//!
//! `cargo run --release --example multiclass_losses`

use tapegrad::data::{make_blobs, split_at, to_categorical, BlobsParams, Centers, ClusterStd};
use tapegrad::metrics::Metric;
use tapegrad::nn::{Activation, Dense, Init, Sequential};
use tapegrad::optim::Sgd;
use tapegrad::train::{FitConfig, LossFn};
use tapegrad::Tensor;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // 1000 points around 3 centres with standard deviation 2 (scikit-learn's arrays, random_state=2).
    let blobs = make_blobs(&BlobsParams {
        n_samples: 1000,
        centers: Centers::Count(3),
        cluster_std: ClusterStd::Same(2.0),
        random_state: Some(2),
        ..Default::default()
    });
    let x = blobs.x.to_f32();
    // Categorical losses compare against one-hot rows; the sparse one reads class ids directly.
    let one_hot: Tensor<f32> = to_categorical(&blobs.labels, Some(3));
    let ids = blobs.y.to_f32();

    for (loss, targets) in [
        ("categorical_crossentropy", &one_hot),
        ("sparse_categorical_crossentropy", &ids),
        ("kl_divergence", &one_hot),
    ] {
        let data = split_at(&x, targets, 500);
        // 2 inputs -> 50 relu units -> 3 softmax outputs.
        let net = Sequential::<f32>::with_seed(
            2,
            vec![
                Dense::new(50).activation(Activation::Relu).kernel_initializer(Init::HeUniform),
                Dense::new(3).activation(Activation::Softmax),
            ],
            1,
        );
        let mut model = net.compile(LossFn::named(loss)?, Sgd::new(0.01).momentum(0.9), &[Metric::Accuracy]);
        model.fit(&data.x_train, &data.y_train, FitConfig::new(100).validation_data(&data.x_test, &data.y_test).seed(1))?;
        // "accuracy" becomes argmax against one-hot rows, or against ids for the sparse loss.
        let train = model.evaluate(&data.x_train, &data.y_train, 32)?["accuracy"];
        let test = model.evaluate(&data.x_test, &data.y_test, 32)?["accuracy"];
        println!("{loss:<32} Train: {train:.3}, Test: {test:.3}");
    }
    Ok(())
}
