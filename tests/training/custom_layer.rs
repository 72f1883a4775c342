//! A layer written outside the crate, with only the public API: trained with `fit`, saved,
//! loaded through a registry, summarised; its non-trainable state is updated and saved.

use std::collections::BTreeMap;
use tapegrad::io::{model_from_bytes_with, model_to_bytes};
use tapegrad::nn::{Builder, Ctx, Dense, Init, IntoLayer, Layer, LayerRegistry, Sequential};
use tapegrad::optim::Adam;
use tapegrad::tape::{Param, Var};
use tapegrad::train::{FitConfig, LossFn, Verbose};
use tapegrad::{Float, Tape, Tensor};

/// Parametric ReLU, `max(x, 0) + alpha * min(x, 0)` with one learned `alpha` per feature, that
/// also keeps the mean of the last training batch's inputs as non-trainable state.
#[derive(Clone, Debug)]
struct PRelu {
    alpha_init: f64,
    alpha: Option<Param>,
    seen_mean: Option<Param>,
}

impl PRelu {
    fn new(alpha_init: f64) -> Self {
        PRelu { alpha_init, alpha: None, seen_mean: None }
    }
}

impl<T: Float> Layer<T> for PRelu {
    fn class_name(&self) -> &'static str {
        "PRelu"
    }
    fn build(&mut self, input_shape: &[usize], b: &mut Builder<'_, T>) -> Result<Vec<usize>, String> {
        self.alpha = Some(b.add_weight("alpha", input_shape, Init::Constant(self.alpha_init), true));
        self.seen_mean = Some(b.add_weight("seen_mean", &[], Init::Zeros, false));
        Ok(input_shape.to_vec())
    }
    fn forward<'t>(&self, x: Var<'t, T>, ctx: &mut Ctx<'_, 't, T>) -> Var<'t, T> {
        ctx.assign(self.seen_mean.unwrap(), x.mean());
        let alpha = ctx.param(self.alpha.unwrap());
        x.relu() - alpha * (-x).relu()
    }
    fn config(&self) -> serde_json::Value {
        serde_json::json!({ "alpha_init": self.alpha_init })
    }
}

fn registry() -> LayerRegistry<f64> {
    let mut r = LayerRegistry::new();
    r.register("PRelu", |c| {
        let a = c.get("alpha_init").and_then(serde_json::Value::as_f64).ok_or("PRelu needs a number \"alpha_init\"")?;
        Ok(PRelu::new(a).into_layer())
    });
    r
}

fn data() -> (Tensor<f64>, Tensor<f64>) {
    let x = Tensor::from_vec((0..64).map(|i| ((i * 13 % 31) as f64 - 15.0) / 10.0).collect(), &[32, 2]);
    let y = Tensor::from_vec(x.data().chunks(2).map(|r| (r[0] - 0.5 * r[1]).abs()).collect(), &[32, 1]);
    (x, y)
}

fn net() -> Sequential<f64> {
    Sequential::with_seed(2, vec![Dense::new(8).into(), PRelu::new(0.25).into_layer(), Dense::new(1).into()], 3)
}

#[test]
fn a_layer_from_outside_trains_saves_loads_and_summarises() {
    let (x, y) = data();
    let n = net();
    assert_eq!(n.layer_names().collect::<Vec<_>>(), ["dense", "p_relu", "dense_1"]);
    let names: Vec<&str> = n.store().infos().iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, ["dense/kernel", "dense/bias", "p_relu/alpha", "p_relu/seen_mean", "dense_1/kernel", "dense_1/bias"]);
    let table = n.summary();
    assert!(table.contains("p_relu (PRelu)"), "{table}");
    assert!(table.contains("Trainable params: 41"), "{table}");
    assert!(table.contains("Non-trainable params: 1 "), "{table}");

    let mut model = n.compile(LossFn::named("mse").unwrap(), Adam::new(0.02), &[]);
    let h = model.fit(&x, &y, FitConfig::new(60).batch_size(32).seed(1).verbose(Verbose::Silent)).unwrap();
    assert!(h.loss()[59] < 0.3 * h.loss()[0], "{:?}", h.loss());
    // alpha trained; the state holds the last batch's mean of the PRelu's input, and it was not
    // touched by the optimizer (Adam would have moved it off that exact value).
    let alpha = model.net().parameter("p_relu/alpha").unwrap();
    assert!(alpha.data().iter().all(|&a| a != 0.25), "{alpha:?}");
    let tape = Tape::new();
    let hidden = Sequential::with_seed(2, vec![Dense::new(8)], 0);
    let mut first = hidden.clone();
    first.set_parameters(&model.net().parameters()[..2]);
    let want = first.forward(&tape, tape.constant(x.clone())).mean().item();
    let seen = model.net().parameter("p_relu/seen_mean").unwrap().data()[0];
    // The state is the mean before the last update, the weights are after it: close, not equal.
    assert!((seen - want).abs() < 0.05, "{seen} vs {want}");

    // Saved, refused without the registry, loaded with it: same weights, same predictions.
    let bytes = model_to_bytes(model.net(), &BTreeMap::new()).unwrap();
    let e = tapegrad::io::model_from_bytes::<f64>(bytes.clone()).unwrap_err().to_string();
    assert!(e.contains("unknown layer class \"PRelu\""), "{e}");
    let loaded = model_from_bytes_with(bytes, &registry()).unwrap().model;
    assert_eq!(loaded.named_parameters(), model.net().named_parameters());
    let t2 = Tape::new();
    let a = model.net().forward(&t2, t2.constant(x.clone())).value();
    let b = loaded.forward(&t2, t2.constant(x.clone())).value();
    assert_eq!(a, b);
    assert_eq!(loaded.summary(), model.net().summary());
}
