//! Embedding takes Keras' `embeddings_regularizer`, `activity_regularizer` and
//! `embeddings_constraint`: the penalties join the training loss (the whole table, and the
//! output over the batch size), the constraint projects the table after every update, the
//! options save and load under Keras' names, and bad ones are errors naming them.

use std::collections::BTreeMap;
use tapegrad::io::{model_from_bytes, model_to_bytes};
use tapegrad::layers;
use tapegrad::nn::{Constraint, Dense, Embedding, Flatten, LayerRegistry, Regularizer, Sequential};
use tapegrad::optim::{Adam, Sgd};
use tapegrad::train::LossFn;
use tapegrad::Tensor;

use super::conv_penalties::{configs, penalties};

fn ids() -> (Tensor<f64>, Tensor<f64>) {
    let x = Tensor::from_vec(vec![0.0, 3.0, 3.0, 1.0, 4.0, 2.0, 1.0, 1.0], &[4, 2]);
    let y = Tensor::from_vec(vec![0.5, -1.0, 0.25, 2.0], &[4, 1]);
    (x, y)
}

fn net(embedding: Embedding) -> Sequential<f64> {
    Sequential::<f64>::with_input_shape(&[2], layers![embedding, Flatten::new(), Dense::new(1)], 5)
}

/// The training loss is the data loss plus L2 of the whole table (rows never looked up too) and
/// L1 of the looked-up vectors over the batch size, each factor rounded through float32 as Keras.
#[test]
fn embedding_penalties_are_added_to_the_loss_as_keras() {
    let (x, y) = ids();
    let (e2, a1) = (0.03, 0.002);
    let penalised = net(Embedding::new(6, 3).embeddings_regularizer(Regularizer::l2(e2).unwrap()).activity_regularizer(Regularizer::l1(a1).unwrap()));
    let plain = net(Embedding::new(6, 3));
    assert_eq!(penalised.parameters(), plain.parameters());
    let table = penalised.parameter("embedding/embeddings").unwrap();
    let looked_up: f64 = x.data().iter().map(|&id| table.data()[id as usize * 3..id as usize * 3 + 3].iter().map(|v| v.abs()).sum::<f64>()).sum();
    let f32r = |v: f64| v as f32 as f64;
    let penalty = f32r(e2) * table.data().iter().map(|v| v * v).sum::<f64>() + f32r(a1) * looked_up / 4.0;
    let mut a = penalised.compile(LossFn::named("mse").unwrap(), Sgd::new(0.0), &[]);
    let mut b = plain.compile(LossFn::named("mse").unwrap(), Sgd::new(0.0), &[]);
    let (with, without) = (a.train_on_batch(&x, &y).unwrap(), b.train_on_batch(&x, &y).unwrap());
    assert!(penalty > 1e-5, "{penalty}");
    assert!((with - (without + penalty)).abs() < 1e-12, "{with} vs {without} + {penalty}");
    assert!((a.evaluate(&x, &y, 4).unwrap()["loss"] - with).abs() < 1e-12, "evaluate counts the penalties too");
}

/// NonNeg on the table holds after every update, not before the first, and inference projects
/// nothing.
#[test]
fn embedding_constraint_projects_after_each_update() {
    let (x, y) = ids();
    let mut model = net(Embedding::new(6, 3).embeddings_constraint(Constraint::non_neg())).compile(LossFn::named("mse").unwrap(), Adam::new(0.05), &[]);
    let initial = model.net().parameter("embedding/embeddings").unwrap();
    assert!(initial.data().iter().any(|&v| v < 0.0), "the initial table has negative values");
    model.predict(&x).unwrap();
    assert_eq!(model.net().parameter("embedding/embeddings").unwrap(), initial, "inference projects nothing");
    for _ in 0..3 {
        model.train_on_batch(&x, &y).unwrap();
        assert!(model.net().parameter("embedding/embeddings").unwrap().data().iter().all(|&v| v >= 0.0));
    }
}

/// The options save and load under Keras' names (and no bias options appear); a bad one in a
/// file, or one that cannot take the table, is an error naming it.
#[test]
fn embedding_options_save_load_and_refuse_bad_values() {
    let original = net(Embedding::new(6, 3)
        .embeddings_regularizer(Regularizer::l1_l2(0.01, 0.02).unwrap())
        .activity_regularizer(Regularizer::l2(0.001).unwrap())
        .embeddings_constraint(Constraint::unit_norm(&[1]).unwrap()));
    let back = model_from_bytes::<f64>(model_to_bytes(&original, &BTreeMap::new()).unwrap()).unwrap().model;
    assert_eq!(configs(&back), configs(&original));
    let config = back.layers().next().unwrap().config();
    assert_eq!(config["embeddings_constraint"]["class"], "UnitNorm");
    assert_eq!(config["embeddings_regularizer"]["class"], "L1L2");
    assert!(config.get("bias_regularizer").is_none() && config.get("kernel_regularizer").is_none(), "{config}");
    let (x, _) = ids();
    assert_eq!(penalties(&back, &x).len(), 2);
    assert_eq!(penalties(&back, &x), penalties(&original, &x));

    let registry = LayerRegistry::<f64>::new();
    let bad = serde_json::json!({"input_dim": 6, "output_dim": 3, "embeddings_regularizer": {"class": "L2", "args": {"l2": -0.5}}});
    let e = registry.from_config("Embedding", &bad).unwrap_err();
    assert!(e.contains("embeddings_regularizer") && e.contains("-0.5"), "{e}");
    let bad = serde_json::json!({"input_dim": 6, "output_dim": 3, "kernel_regularizer": {"class": "L2", "args": {"l2": 0.5}}});
    assert!(registry.from_config("Embedding", &bad).unwrap_err().contains("kernel_regularizer"), "Dense's name is not Embedding's");
    let e = Sequential::<f64>::try_with_input_shape(&[2], vec![Embedding::new(6, 3).embeddings_constraint(Constraint::max_norm(1.0, &[2]).unwrap())], 0).unwrap_err();
    assert!(e.contains("embeddings_constraint") && e.contains("axis 2"), "{e}");
}
