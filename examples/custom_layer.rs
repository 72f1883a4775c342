//! A layer of your own, outside the crate: parametric ReLU with one learned slope per feature.
//! It trains with `fit`, saves to a safetensors file, loads back through a `LayerRegistry` that
//! knows its class name, and shows in the summary like a built-in layer.
//!
//! Run: `cargo run --example custom_layer`

use std::collections::BTreeMap;
use tapegrad::io::{load_model_with, save_model};
use tapegrad::nn::{Builder, Ctx, Dense, Init, IntoLayer, Layer, LayerRegistry, Sequential};
use tapegrad::optim::Adam;
use tapegrad::tape::{Param, Var};
use tapegrad::train::{FitConfig, LossFn, Verbose};
use tapegrad::{Float, Tape, Tensor};

/// `max(x, 0) + alpha * min(x, 0)`, `alpha` learned per feature (PyTorch's `PReLU`).
#[derive(Clone, Debug)]
struct PRelu {
    alpha_init: f64,
    alpha: Option<Param>,
}

impl<T: Float> Layer<T> for PRelu {
    fn class_name(&self) -> &'static str {
        "PRelu"
    }
    /// One weight, shaped like a sample; the output has the input's shape.
    fn build(&mut self, input_shape: &[usize], b: &mut Builder<'_, T>) -> Result<Vec<usize>, String> {
        self.alpha = Some(b.add_weight("alpha", input_shape, Init::Constant(self.alpha_init), true));
        Ok(input_shape.to_vec())
    }
    /// Plain tape ops: the gradient with respect to `x` and `alpha` comes for free.
    fn forward<'t>(&self, x: Var<'t, T>, ctx: &mut Ctx<'_, 't, T>) -> Var<'t, T> {
        let alpha = ctx.param(self.alpha.expect("built"));
        x.relu() - alpha * (-x).relu()
    }
    fn config(&self) -> serde_json::Value {
        serde_json::json!({ "alpha_init": self.alpha_init })
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // y = |x0 - x1| from 64 points: a kink PReLU can learn.
    let x = Tensor::from_vec((0..128).map(|i| ((i * 37 % 61) as f64 - 30.0) / 15.0).collect(), &[64, 2]);
    let y = Tensor::from_vec(x.data().chunks(2).map(|r| (r[0] - r[1]).abs()).collect(), &[64, 1]);

    let prelu = PRelu { alpha_init: 0.25, alpha: None };
    let net = Sequential::<f64>::with_seed(2, vec![Dense::new(8).into(), prelu.into_layer(), Dense::new(1).into()], 0);
    println!("{}", net.summary());

    let mut model = net.compile(LossFn::named("mse")?, Adam::new(0.02), &[]);
    let history = model.fit(&x, &y, FitConfig::new(200).batch_size(16).seed(0).verbose(Verbose::Silent))?;
    println!("loss: epoch 1 {:.4}, epoch 200 {:.4}", history.loss()[0], history.loss()[199]);
    println!("learned slopes: {:?}", model.net().parameter("p_relu/alpha").expect("named").data());

    let path = std::env::temp_dir().join("tapegrad-custom-layer.safetensors");
    save_model(&path, model.net(), &BTreeMap::new())?;
    let mut registry = LayerRegistry::new();
    registry.register("PRelu", |config| {
        let alpha_init = config["alpha_init"].as_f64().ok_or("PRelu needs a number \"alpha_init\"")?;
        Ok(PRelu { alpha_init, alpha: None }.into_layer())
    });
    let loaded = load_model_with::<f64>(&path, &registry)?.model;
    let tape = Tape::new();
    let a = model.net().forward(&tape, tape.constant(x.clone())).value();
    let b = loaded.forward(&tape, tape.constant(x)).value();
    println!("loaded model predicts the same: {}", a == b);
    std::fs::remove_file(&path)?;
    Ok(())
}
