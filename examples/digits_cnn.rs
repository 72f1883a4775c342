//! A small convolutional network on scikit-learn's 8x8 digits (bundled in `data/digits.csv`,
//! 1,797 images; see `data/README.md` for the source and licence), in the shape of Keras' MNIST
//! convnet example:
//!
//! `Conv2D(16, 3, same, relu) -> MaxPooling2D(2) -> Conv2D(32, 3, same, relu) -> Flatten ->
//! Dense(10, softmax)`, trained with Adam (learning rate 0.001) on sparse categorical cross-entropy,
//! batches of 32, in `f32`.
//!
//! The pixels are standardised per position (fitted on the training part), the split is a seeded
//! stratified 75/25 one (scikit-learn's `StratifiedShuffleSplit` draws), and each epoch prints its
//! time and the test accuracy. The run fails (exit code 1) below 97% test accuracy.
//!
//! Run: `cargo run --release --example digits_cnn` (options: `--epochs N`, default 30;
//! `--seed S`, default 0; `--quiet` prints only the per-epoch times, for the peer comparison in
//! `benches/peers/digits_cnn_torch.py`).

use std::process::ExitCode;
use std::time::Instant;
use tapegrad::data::{dataset, parse_csv, stratified_split_indices, StandardScaler};
use tapegrad::layers;
use tapegrad::metrics::Metric;
use tapegrad::nn::{Activation, Conv2D, Dense, Flatten, MaxPooling2D, PaddingMode, Sequential};
use tapegrad::optim::Adam;
use tapegrad::train::{FitConfig, LossFn, Verbose};
use tapegrad::Tensor;

/// Test accuracy the example must reach.
const TARGET: f64 = 0.97;

struct Args {
    epochs: usize,
    seed: u64,
    quiet: bool,
}

fn args() -> Result<Args, String> {
    let mut a = Args { epochs: 30, seed: 0, quiet: false };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut number = |name: &str| -> Result<u64, String> {
            it.next().and_then(|v| v.parse().ok()).ok_or_else(|| format!("{name} needs a non-negative integer"))
        };
        match flag.as_str() {
            "--epochs" => a.epochs = number("--epochs")? as usize,
            "--seed" => a.seed = number("--seed")?,
            "--quiet" => a.quiet = true,
            other => return Err(format!("unknown argument {other:?}; use --epochs N, --seed S, --quiet")),
        }
    }
    Ok(a)
}

fn main() -> Result<ExitCode, Box<dyn std::error::Error>> {
    let args = args()?;
    // 1,797 rows of 64 pixel counts (0..16), row-major per image, and the digit.
    let names: Vec<String> = (0..64).map(|i| format!("pixel_{}_{}", i / 8, i % 8)).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let (x, y) = parse_csv(dataset("digits")?.csv, &names, "digit")?;
    let labels: Vec<usize> = y.data().iter().map(|&v| v as usize).collect();
    let split = stratified_split_indices(&labels, 0.25, args.seed as u32)?;
    let (x_train, x_test) = (x.select_rows(&split.train), x.select_rows(&split.test));
    let (y_train, y_test) = (y.select_rows(&split.train).to_f32(), y.select_rows(&split.test).to_f32());
    let (scaler, x_train) = StandardScaler::fit_transform(&x_train);
    let images = |x: Tensor<f64>| {
        let n = x.shape()[0];
        x.to_f32().reshape(&[n, 8, 8, 1])
    };
    let (x_train, x_test) = (images(x_train), images(scaler.transform(&x_test)));

    let net = Sequential::<f32>::with_input_shape(
        &[8, 8, 1],
        layers![
            Conv2D::new(16, [3, 3]).padding(PaddingMode::Same).activation(Activation::Relu),
            MaxPooling2D::new([2, 2]),
            Conv2D::new(32, [3, 3]).padding(PaddingMode::Same).activation(Activation::Relu),
            Flatten::new(),
            Dense::new(10).activation(Activation::Softmax),
        ],
        args.seed,
    );
    if !args.quiet {
        println!("{}", net.summary());
        println!("{} training and {} test images", x_train.shape()[0], x_test.shape()[0]);
    }
    let mut model = net.compile(LossFn::named("sparse_categorical_crossentropy")?, Adam::new(0.001), &[Metric::Accuracy]);
    let mut accuracy = 0.0;
    for epoch in 1..=args.epochs {
        // One epoch per call: the optimizer's state carries over; the seed only starts the shuffling.
        let config = FitConfig::new(1).batch_size(32).verbose(Verbose::Silent);
        let config = if epoch == 1 { config.seed(args.seed) } else { config };
        let start = Instant::now();
        let history = model.fit(&x_train, &y_train, config)?;
        let seconds = start.elapsed().as_secs_f64();
        if args.quiet {
            println!("epoch_seconds {seconds:.6}");
            continue;
        }
        accuracy = model.evaluate(&x_test, &y_test, 256)?["accuracy"];
        let loss = history.loss()[0];
        println!("epoch {epoch:>2}: {:>6.1} ms, loss {loss:.4}, test accuracy {:.2}%", seconds * 1e3, accuracy * 100.0);
    }
    if args.quiet {
        return Ok(ExitCode::SUCCESS);
    }
    if accuracy < TARGET {
        eprintln!("test accuracy {:.2}% is below the target {:.0}%", accuracy * 100.0, TARGET * 100.0);
        return Ok(ExitCode::FAILURE);
    }
    println!("test accuracy {:.2}% (target {:.0}%)", accuracy * 100.0, TARGET * 100.0);
    Ok(ExitCode::SUCCESS)
}
