//! `fit` clips gradients exactly as the optimizer's own `step` does (clipnorm and clipvalue per
//! variable, global_clipnorm over every trainable variable of the step), for SGD with momentum
//! and Adam; and penalties or constraints written as bare enum variants with a bad value are
//! refused when the model is built.

use tapegrad::nn::{Activation, Constraint, Dense, Regularizer, Sequential};
use tapegrad::optim::{Adam, Optimizer, Sgd};
use tapegrad::train::LossFn;
use tapegrad::{Tape, Tensor};

fn data() -> (Tensor<f64>, Tensor<f64>) {
    let x = Tensor::from_vec((0..36).map(|i| ((i * 5 % 11) as f64 - 5.0) * 0.4).collect(), &[12, 3]);
    // Targets far from the initial predictions: the gradients are large, so clipping acts.
    let y = Tensor::from_vec(x.data().chunks(3).map(|r| 20.0 * (r[0] - r[1]) + 15.0 * r[2].abs()).collect(), &[12, 1]);
    (x, y)
}

fn net() -> Sequential<f64> {
    Sequential::with_seed(3, vec![Dense::new(5).activation(Activation::Tanh), Dense::new(1)], 4)
}

/// `steps` full-batch steps by hand: the tape's gradients of the mean squared error, handed to
/// `Optimizer::step` with every parameter (all trainable here) in the model's order.
fn by_hand(opt: &mut dyn Optimizer<f64>, steps: usize) -> Vec<Tensor<f64>> {
    let (x, y) = data();
    let mut net = net();
    let loss = LossFn::<f64>::named("mse").unwrap();
    for _ in 0..steps {
        let tape = Tape::new();
        let params = net.record_parameters(&tape);
        let out = net.call(&params, tape.constant(x.clone()), true, None).output;
        let grads = loss.call(tape.constant(y.clone()), out).backward();
        let g: Vec<Tensor<f64>> = params.iter().map(|&p| grads.wrt(p)).collect();
        let mut values = net.parameters();
        let mut refs: Vec<&mut [f64]> = values.iter_mut().map(Tensor::data_mut).collect();
        let g_refs: Vec<&[f64]> = g.iter().map(Tensor::data).collect();
        opt.step(&mut refs, &g_refs);
        net.set_parameters(&values);
    }
    net.parameters()
}

/// The same steps through `train_on_batch` (fit's training step).
fn by_fit(opt: Box<dyn Optimizer<f64>>, steps: usize) -> Vec<Tensor<f64>> {
    let (x, y) = data();
    let mut model = net().compile_boxed(LossFn::named("mse").unwrap(), opt, &[]);
    for _ in 0..steps {
        model.train_on_batch(&x, &y).unwrap();
    }
    model.net().parameters()
}

#[test]
fn fit_clips_as_the_optimizers_step_does() {
    type Make = fn() -> Box<dyn Optimizer<f64>>;
    let cases: [(&str, Make, Make); 6] = [
        ("sgd clipnorm", || Box::new(Sgd::new(0.01).momentum(0.9).clipnorm(0.5)), || Box::new(Sgd::new(0.01).momentum(0.9))),
        ("sgd clipvalue", || Box::new(Sgd::new(0.01).momentum(0.9).clipvalue(0.1)), || Box::new(Sgd::new(0.01).momentum(0.9))),
        ("sgd global_clipnorm", || Box::new(Sgd::new(0.01).momentum(0.9).global_clipnorm(0.5)), || Box::new(Sgd::new(0.01).momentum(0.9))),
        ("adam clipnorm", || Box::new(Adam::new(0.05).clipnorm(0.5)), || Box::new(Adam::new(0.05))),
        ("adam clipvalue", || Box::new(Adam::new(0.05).clipvalue(0.1)), || Box::new(Adam::new(0.05))),
        ("adam global_clipnorm", || Box::new(Adam::new(0.05).global_clipnorm(0.5)), || Box::new(Adam::new(0.05))),
    ];
    for (label, clipped, plain) in cases {
        let fitted = by_fit(clipped(), 4);
        assert_eq!(fitted, by_hand(&mut *clipped(), 4), "{label}: fit's step differs from Optimizer::step");
        // The clipping acted: without it the weights end elsewhere.
        assert_ne!(fitted, by_fit(plain(), 4), "{label}: clipping changed nothing");
    }
    // global_clipnorm is not clipnorm: one factor for all the variables, not one each.
    let global = by_fit(Box::new(Sgd::new(0.01).momentum(0.9).global_clipnorm(0.5)), 4);
    let each = by_fit(Box::new(Sgd::new(0.01).momentum(0.9).clipnorm(0.5)), 4);
    assert_ne!(global, each);
}

/// `Regularizer` and `Constraint` are enums whose variants can be written directly; a bad value
/// written so is refused when the model is built (the error names the option, the argument and
/// the value), never a silent negative penalty or an inverted constraint.
#[test]
fn bad_penalties_and_constraints_written_as_variants_are_refused_at_build() {
    let cases: Vec<(Dense, [&str; 3])> = vec![
        (Dense::new(2).kernel_regularizer(Regularizer::L2(-0.5)), ["kernel_regularizer", "'l2'", "-0.5"]),
        (Dense::new(2).bias_regularizer(Regularizer::L1(f64::NAN)), ["bias_regularizer", "'l1'", "NaN"]),
        (Dense::new(2).activity_regularizer(Regularizer::L1L2 { l1: 0.1, l2: -2.0 }), ["activity_regularizer", "'l2'", "-2"]),
        (Dense::new(2).kernel_constraint(Constraint::MaxNorm { max_value: -1.0, axis: vec![0] }), ["kernel_constraint", "'max_value'", "-1"]),
        (
            Dense::new(2).bias_constraint(Constraint::MinMaxNorm { min_value: 0.0, max_value: 1.0, rate: 1.5, axis: vec![0] }),
            ["bias_constraint", "'rate'", "1.5"],
        ),
        (Dense::new(2).kernel_constraint(Constraint::UnitNorm { axis: vec![] }), ["kernel_constraint", "'axis'", "[]"]),
    ];
    for (dense, words) in cases {
        let e = Sequential::<f64>::try_with_seed(3, vec![dense], 0).unwrap_err();
        for w in words {
            assert!(e.contains(w), "{e:?} does not name {w:?}");
        }
    }
    // Good values written as variants build as before.
    let ok = Dense::new(2).kernel_regularizer(Regularizer::L2(0.01)).kernel_constraint(Constraint::MaxNorm { max_value: 2.0, axis: vec![0] });
    assert!(Sequential::<f64>::try_with_seed(3, vec![ok], 0).is_ok());
}
