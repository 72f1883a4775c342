//! Regression with mean squared error, mean squared logarithmic error and mean absolute error:
//! the tutorial's first case study written directly with the library.
//!
//! `cargo run --release --example regression_losses`

use tapegrad::data::{make_regression, split_at, RegressionParams, StandardScaler};
use tapegrad::metrics::Metric;
use tapegrad::nn::{Activation, Dense, Init, Sequential};
use tapegrad::optim::Sgd;
use tapegrad::train::{FitConfig, LossFn};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // 1000 samples of 20 features; the same arrays scikit-learn makes with random_state=1.
    let data = make_regression(&RegressionParams { n_samples: 1000, n_features: 20, noise: 0.1, random_state: Some(1), ..Default::default() });
    // Standardise inputs and targets on all rows, as the tutorial does, then split in halves.
    let (_, x) = StandardScaler::fit_transform(&data.x);
    let (_, y) = StandardScaler::fit_transform(&data.y.reshape(&[1000, 1]));
    let split = split_at(&x.to_f32(), &y.to_f32(), 500);

    for loss in ["mean_squared_error", "mean_squared_logarithmic_error", "mean_absolute_error"] {
        // 20 inputs -> 25 relu units -> 1 linear output.
        let net = Sequential::<f32>::with_seed(
            20,
            vec![
                Dense::new(25).activation(Activation::Relu).kernel_initializer(Init::HeUniform),
                Dense::new(1).activation(Activation::Linear),
            ],
            1,
        );
        // Whatever the training loss, report mean squared error so the three can be compared.
        let mut model = net.compile(LossFn::named(loss)?, Sgd::new(0.01).momentum(0.9), &[Metric::Mse]);
        let config = FitConfig::new(100).validation_data(&split.x_test, &split.y_test).seed(1);
        let history = model.fit(&split.x_train, &split.y_train, config)?;
        let train = model.evaluate(&split.x_train, &split.y_train, 32)?["mse"];
        let test = model.evaluate(&split.x_test, &split.y_test, 32)?["mse"];
        let last_loss = history.loss().last().copied().unwrap_or(f64::NAN);
        println!("{loss:<32} final loss {last_loss:.4}   MSE Train: {train:.3}, Test: {test:.3}");
    }
    Ok(())
}
