//! Binary classification on two circles: cross-entropy against the two hinge losses, the
//! tutorial's second case study written directly with the library.
//!
//! `cargo run --release --example binary_losses`

use tapegrad::data::{make_circles, split_at, CirclesParams};
use tapegrad::metrics::Metric;
use tapegrad::nn::{Activation, Dense, Init, Sequential};
use tapegrad::optim::Sgd;
use tapegrad::train::{FitConfig, LossFn};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // 1000 points on two noisy circles, the same arrays scikit-learn makes with random_state=1.
    let circles = make_circles(&CirclesParams { n_samples: 1000, noise: Some(0.1), random_state: Some(1), ..Default::default() });
    let (x, y) = (circles.x.to_f32(), circles.y.to_f32());

    // Cross-entropy wants a sigmoid output and targets in {0, 1}; the hinge losses want a tanh
    // output and targets in {-1, 1}.
    let signed = y.map(|t| 2.0 * t - 1.0);
    let runs = [
        ("binary_crossentropy", Activation::Sigmoid, &y),
        ("hinge", Activation::Tanh, &signed),
        ("squared_hinge", Activation::Tanh, &signed),
    ];
    for (loss, output, targets) in runs {
        let data = split_at(&x, targets, 500); // first half trains, second half tests
        let net = Sequential::<f32>::with_seed(
            2,
            vec![
                Dense::new(50).activation(Activation::Relu).kernel_initializer(Init::HeUniform),
                Dense::new(1).activation(output),
            ],
            1,
        );
        let mut model = net.compile(LossFn::named(loss)?, Sgd::new(0.01).momentum(0.9), &[Metric::Accuracy]);
        let config = FitConfig::new(200).validation_data(&data.x_test, &data.y_test).seed(1);
        model.fit(&data.x_train, &data.y_train, config)?;
        // "accuracy" is resolved from the output: above 0.5 for sigmoid, by sign for tanh.
        let train = model.evaluate(&data.x_train, &data.y_train, 32)?["accuracy"];
        let test = model.evaluate(&data.x_test, &data.y_test, 32)?["accuracy"];
        println!("{loss:<20} Train: {train:.3}, Test: {test:.3}");
    }
    Ok(())
}
