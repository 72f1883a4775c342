//! Learning-rate schedules and gradient clipping against Keras 3 (tests/fixtures/keras_training.json):
//! every schedule's rate at every step in both of Keras' precisions, to 1e-9 relative, and the
//! clipped optimizer trajectories to 1e-10.


use crate::keras_training_support::{array, assert_close, cases, fixture, num};
use serde_json::Value;
use tapegrad::optim::{
    from_keras_config, CosineDecay, CosineDecayRestarts, ExponentialDecay, InverseTimeDecay, LearningRate,
    LearningRateSchedule, Optimizer, PiecewiseConstantDecay, PolynomialDecay, Precision, Sgd,
};

fn arg_f(args: &Value, key: &str, default: Option<f64>) -> f64 {
    match args.get(key) {
        Some(v) if !v.is_null() => num(v, key),
        _ => default.unwrap_or_else(|| panic!("schedule args lack '{key}'")),
    }
}

fn arg_u(args: &Value, key: &str) -> u64 {
    args[key].as_u64().unwrap_or_else(|| panic!("'{key}' is not a step count: {}", args[key]))
}

/// Builds the schedule a fixture case names from Keras' constructor arguments.
fn schedule(name: &str, args: &Value) -> Box<dyn LearningRateSchedule> {
    let lr0 = || arg_f(args, "initial_learning_rate", None);
    let flag = |key: &str| args.get(key).and_then(Value::as_bool).unwrap_or(false);
    match name {
        "ExponentialDecay" => Box::new(
            ExponentialDecay::new(lr0(), arg_u(args, "decay_steps"), arg_f(args, "decay_rate", None)).unwrap().staircase(flag("staircase")),
        ),
        "InverseTimeDecay" => Box::new(
            InverseTimeDecay::new(lr0(), arg_u(args, "decay_steps"), arg_f(args, "decay_rate", None)).unwrap().staircase(flag("staircase")),
        ),
        "PiecewiseConstantDecay" => {
            let bounds: Vec<u64> = args["boundaries"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect();
            let (values, _) = array(&args["values"], "values");
            Box::new(PiecewiseConstantDecay::new(&bounds, &values).unwrap())
        }
        "PolynomialDecay" => Box::new(
            PolynomialDecay::new(lr0(), arg_u(args, "decay_steps"))
                .unwrap()
                .end_learning_rate(arg_f(args, "end_learning_rate", Some(0.0001)))
                .power(arg_f(args, "power", Some(1.0)))
                .cycle(flag("cycle")),
        ),
        "CosineDecay" => {
            let mut s = CosineDecay::new(lr0(), arg_u(args, "decay_steps")).unwrap().alpha(arg_f(args, "alpha", Some(0.0)));
            if let Some(t) = args.get("warmup_target").and_then(Value::as_f64) {
                s = s.warmup(t, arg_u(args, "warmup_steps")).unwrap();
            }
            Box::new(s)
        }
        "CosineDecayRestarts" => Box::new(
            CosineDecayRestarts::new(lr0(), arg_u(args, "first_decay_steps"))
                .unwrap()
                .t_mul(arg_f(args, "t_mul", Some(2.0)))
                .m_mul(arg_f(args, "m_mul", Some(1.0)))
                .alpha(arg_f(args, "alpha", Some(0.0))),
        ),
        other => panic!("unknown schedule '{other}'"),
    }
}

#[test]
fn every_schedule_matches_keras_in_both_precisions() {
    let root = fixture();
    let mut names = std::collections::BTreeSet::new();
    for (ci, case) in cases(&root, "schedules").iter().enumerate() {
        let name = case["schedule"].as_str().unwrap();
        names.insert(name.to_string());
        let s = schedule(name, &case["args"]);
        assert_eq!(s.name(), name);
        let steps: Vec<u64> = case["steps"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect();
        let (lr, _) = array(&case["lr"], "lr");
        let (lr32, _) = array(&case["lr_float32"], "lr_float32");
        let got: Vec<f64> = steps.iter().map(|&k| s.rate_f64(k)).collect();
        let got32: Vec<f64> = steps.iter().map(|&k| s.rate_f32(k) as f64).collect();
        let label = format!("case {ci} {name} {}", case["args"]);
        assert_close(&got, &lr, 1e-9, &format!("{label} lr"));
        assert_close(&got32, &lr32, 1e-9, &format!("{label} lr_float32"));
        // The default precision is Keras' float32 path.
        assert_eq!(s.precision(), Precision::Float32);
        assert_eq!(s.rate(steps[3]), got32[3]);
    }
    assert_eq!(names.len(), 6, "every schedule kind is covered: {names:?}");
}

/// An optimizer built with a schedule uses schedule(k) for update k (k from 0), as Keras.
#[test]
fn optimizer_asks_its_schedule_at_iterations_before_the_update() {
    let s = PiecewiseConstantDecay::new(&[1, 2], &[0.5, 0.25, 0.125]).unwrap().precision(Precision::Float64);
    let mut opt = Sgd::<f64>::new(s);
    assert!(opt.schedule().is_some());
    let mut w = vec![0.0];
    let mut seen = Vec::new();
    for _ in 0..4 {
        let before = w[0];
        opt.step(&mut [&mut w], &[&[-1.0]]);
        seen.push(w[0] - before);
        assert_eq!(opt.learning_rate(), *seen.last().unwrap());
    }
    assert_eq!(seen, vec![0.5, 0.5, 0.25, 0.125]);
    // A constant is a LearningRate too.
    let c: LearningRate = 0.3.into();
    assert_eq!(c.at(99), 0.3);
    assert!(Sgd::<f64>::new(0.3).schedule().is_none());
}

#[test]
fn bad_schedule_arguments_are_errors_naming_them() {
    let cases: Vec<(Result<(), tapegrad::optim::OptimError>, &str, &str)> = vec![
        (PiecewiseConstantDecay::new(&[10, 20], &[0.1, 0.01]).map(drop), "values", "0.01"),
        (PiecewiseConstantDecay::new(&[20, 10], &[0.1, 0.01, 0.001]).map(drop), "boundaries", "[20, 10]"),
        (PiecewiseConstantDecay::new(&[10], &[0.1, -0.01]).map(drop), "values", "-0.01"),
        (ExponentialDecay::new(-0.1, 10, 0.5).map(drop), "initial_learning_rate", "-0.1"),
        (ExponentialDecay::new(0.1, 0, 0.5).map(drop), "decay_steps", "0"),
        (InverseTimeDecay::new(0.1, 10, -0.5).map(drop), "decay_rate", "-0.5"),
        (PolynomialDecay::new(f64::NAN, 10).map(drop), "initial_learning_rate", "NaN"),
        (CosineDecay::new(0.1, 0).map(drop), "decay_steps", "0"),
        (CosineDecay::new(0.1, 10).and_then(|s| s.warmup(-1.0, 5)).map(drop), "warmup_target", "-1"),
        (CosineDecayRestarts::new(-1.0, 10).map(drop), "initial_learning_rate", "-1"),
    ];
    for (i, (r, arg, value)) in cases.into_iter().enumerate() {
        let e = r.expect_err(&format!("case {i} must fail")).to_string();
        assert!(e.contains(arg) && e.contains(value), "case {i}: '{e}' should name {arg} and {value}");
    }
}

/// Runs one clipping case: `variables` parameters, 6 steps, against Keras' weights after each.
fn run_clipping_case(ci: usize, case: &Value) -> usize {
    let name = case["optimizer"].as_str().unwrap();
    let config = case["config"].as_object().unwrap();
    let label = format!("clipping case {ci} ({name} {})", case["config"]);
    let mut opt = from_keras_config::<f64>(name, config).unwrap_or_else(|e| panic!("{label}: {e}"));
    let nvars = case.get("variables").and_then(Value::as_u64).unwrap_or(1) as usize;
    // Normalise to per-variable lists.
    let per_var = |v: &Value| -> Vec<Value> { if nvars == 1 { vec![v.clone()] } else { v.as_array().unwrap().clone() } };
    let mut ws: Vec<Vec<f64>> = per_var(&case["w0"]).iter().map(|v| array(v, "w0").0).collect();
    let grads: Vec<Vec<Value>> = per_var(&case["grads"]).iter().map(|v| v.as_array().unwrap().clone()).collect();
    let after: Vec<Vec<Value>> = per_var(&case["w_after_each_step"]).iter().map(|v| v.as_array().unwrap().clone()).collect();
    let steps = grads[0].len();
    assert_eq!(steps, 6, "{label}");
    let mut checked = 0;
    for step in 0..steps {
        let gs: Vec<Vec<f64>> = grads.iter().map(|g| array(&g[step], "grads").0).collect();
        let g_refs: Vec<&[f64]> = gs.iter().map(Vec::as_slice).collect();
        let mut p_refs: Vec<&mut [f64]> = ws.iter_mut().map(Vec::as_mut_slice).collect();
        opt.step(&mut p_refs, &g_refs);
        for (v, w) in ws.iter().enumerate() {
            let want = array(&after[v][step], "w_after_each_step").0;
            assert_close(w, &want, 1e-10, &format!("{label}: variable {v} after step {}", step + 1));
            checked += w.len();
        }
    }
    checked
}

#[test]
fn clipped_trajectories_match_keras() {
    let root = fixture();
    let mut kinds = std::collections::BTreeSet::new();
    let mut checked = 0;
    for (ci, case) in cases(&root, "clipping").iter().enumerate() {
        for k in ["clipnorm", "clipvalue", "global_clipnorm"] {
            if !case["config"][k].is_null() {
                kinds.insert(k);
            }
        }
        checked += run_clipping_case(ci, case);
    }
    assert_eq!(kinds.len(), 3);
    assert!(checked > 100);
}

/// Per-slot `update` clips by clipnorm and clipvalue exactly as `step` does; with global_clipnorm
/// it refuses (it cannot see the other gradients).
#[test]
fn update_clips_per_slot_and_refuses_global_clipnorm() {
    let g = [3.0, -4.0];
    for opt_of in [|| Sgd::<f64>::new(0.1).clipnorm(1.0), || Sgd::<f64>::new(0.1).clipvalue(0.5)] {
        let (mut a, mut b) = (opt_of(), opt_of());
        let (mut wa, mut wb) = (vec![1.0, 1.0], vec![1.0, 1.0]);
        a.begin_step();
        a.update(0, &mut wa, &g);
        b.step(&mut [&mut wb], &[&g]);
        assert_eq!(wa, wb);
        assert!((wa[0] - 1.0).abs() < 0.1 * 3.0 - 1e-9, "clipping acted: {wa:?}");
    }
    let r = std::panic::catch_unwind(|| {
        let mut o = Sgd::<f64>::new(0.1).global_clipnorm(1.0);
        o.begin_step();
        o.update(0, &mut [1.0], &[1.0]);
    });
    assert!(r.is_err());
}

#[test]
fn clipping_arguments_in_keras_configs() {
    let cfg = |j: Value| j.as_object().unwrap().clone();
    let both = cfg(serde_json::json!({"learning_rate": 0.1, "clipnorm": 1.0, "clipvalue": 0.5}));
    let e = from_keras_config::<f64>("sgd", &both).err().expect("two clippings must fail").to_string();
    assert!(e.contains("clipnorm=1") && e.contains("clipvalue=0.5"), "{e}");
    let neg = cfg(serde_json::json!({"learning_rate": 0.1, "global_clipnorm": -1.0}));
    let e = from_keras_config::<f64>("adam", &neg).err().expect("a negative bound must fail").to_string();
    assert!(e.contains("global_clipnorm") && e.contains("-1"), "{e}");
    let ok = cfg(serde_json::json!({"learning_rate": 0.1, "clipvalue": 0.25}));
    let opt = from_keras_config::<f64>("rmsprop", &ok).unwrap();
    assert_eq!(opt.clipping(), tapegrad::optim::Clipping::Value(0.25));
    let r = std::panic::catch_unwind(|| Sgd::<f64>::new(0.1).clipnorm(1.0).clipvalue(1.0));
    assert!(r.is_err(), "the builders refuse a second kind of clipping");
}

/// The serialized form (Keras' class name and constructor arguments) builds the same schedules,
/// alone and as an optimizer config's learning_rate.
#[test]
fn schedules_from_keras_configs_match_keras() {
    let root = fixture();
    for (ci, case) in cases(&root, "schedules").iter().enumerate() {
        let name = case["schedule"].as_str().unwrap();
        let args = case["args"].as_object().unwrap();
        let lr = tapegrad::optim::schedule_from_keras(name, args).unwrap_or_else(|e| panic!("case {ci}: {e}"));
        let steps: Vec<u64> = case["steps"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect();
        let got: Vec<f64> = steps.iter().map(|&k| lr.at(k)).collect();
        assert_close(&got, &array(&case["lr_float32"], "lr_float32").0, 1e-9, &format!("case {ci} {name} from config"));
        let cfg = serde_json::json!({"learning_rate": {"module": "keras.optimizers.schedules", "class_name": name,
                                      "config": case["args"], "registered_name": null}, "momentum": 0.0});
        let mut opt = from_keras_config::<f64>("sgd", cfg.as_object().unwrap()).unwrap();
        assert_eq!(opt.schedule().map(|s| s.name()), Some(name));
        let mut w = vec![0.0];
        for &k in &steps[..5] {
            let before = w[0];
            opt.step(&mut [&mut w], &[&[-1.0]]);
            assert_eq!(w[0] - before, lr.at(k), "case {ci}: update {k}");
        }
    }
    let bad = serde_json::json!({"initial_learning_rate": 0.1, "decay_steps": 10, "decay_rat": 0.5});
    let e = tapegrad::optim::schedule_from_keras("ExponentialDecay", bad.as_object().unwrap()).unwrap_err();
    assert!(e.to_string().contains("decay_rat"), "{e}");
    let bad = serde_json::json!({"learning_rate": {"class_name": "StepDecay", "config": {}}});
    let e = from_keras_config::<f64>("adam", bad.as_object().unwrap()).err().unwrap();
    assert!(e.to_string().contains("StepDecay"), "{e}");
    let neg = serde_json::json!({"learning_rate": -0.1});
    assert!(from_keras_config::<f64>("sgd", neg.as_object().unwrap()).is_err());
}

/// `keras_config` writes what `from_keras_config` reads: the rebuilt optimizer has the same config
/// and takes the same steps (schedule and clipping included).
#[test]
fn optimizer_configs_round_trip_with_schedules_and_clipping() {
    use tapegrad::optim::{Adagrad, Adam, AdamW, RmsProp};
    let cosine = || CosineDecay::new(0.05, 20).unwrap().alpha(0.1).warmup(0.1, 3).unwrap();
    let optimizers: Vec<Box<dyn Optimizer<f64>>> = vec![
        Box::new(Sgd::new(cosine()).momentum(0.9).nesterov(true).clipnorm(0.5)),
        Box::new(Adam::new(PiecewiseConstantDecay::new(&[2, 4], &[0.1, 0.01, 0.001]).unwrap()).amsgrad(true).global_clipnorm(1.0)),
        Box::new(AdamW::new(0.01).weight_decay(0.01).clipvalue(0.2)),
        Box::new(RmsProp::new(ExponentialDecay::new(0.01, 3, 0.5).unwrap()).centered(true).momentum(0.5)),
        Box::new(Adagrad::new(CosineDecayRestarts::new(0.1, 4).unwrap()).weight_decay(Some(0.001))),
    ];
    for mut a in optimizers {
        let config = a.keras_config();
        let name = config["name"].as_str().unwrap().to_string();
        let mut b = from_keras_config::<f64>(&name, &config).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(b.keras_config(), config, "{name}");
        let (mut wa, mut wb) = (vec![0.5, -1.0, 2.0], vec![0.5, -1.0, 2.0]);
        let (mut ba, mut bb) = (vec![0.1], vec![0.1]);
        for k in 0..8 {
            let g = [0.3 * k as f64 - 1.0, 2.0, -0.5];
            let gb = [1.5 - 0.2 * k as f64];
            a.step(&mut [&mut wa, &mut ba], &[&g, &gb]);
            b.step(&mut [&mut wb, &mut bb], &[&g, &gb]);
        }
        assert_eq!((wa, ba), (wb, bb), "{name}");
    }
}

/// The schedules' optional arguments a config file can carry are checked too: an error naming the
/// argument and the value from `schedule_from_keras`, a panic naming them from the builders;
/// never a rate that turns infinite or NaN later.
#[test]
fn bad_optional_schedule_arguments_name_themselves() {
    let cases = [
        ("PolynomialDecay", serde_json::json!({"initial_learning_rate": 0.1, "decay_steps": 10, "power": -1.0}), "'power'", "-1"),
        ("PolynomialDecay", serde_json::json!({"initial_learning_rate": 0.1, "decay_steps": 10, "end_learning_rate": -0.5}), "'end_learning_rate'", "-0.5"),
        ("CosineDecay", serde_json::json!({"initial_learning_rate": 0.1, "decay_steps": 10, "alpha": 1.5}), "'alpha'", "1.5"),
        ("CosineDecayRestarts", serde_json::json!({"initial_learning_rate": 0.1, "first_decay_steps": 10, "t_mul": 0.0}), "'t_mul'", "0"),
        ("CosineDecayRestarts", serde_json::json!({"initial_learning_rate": 0.1, "first_decay_steps": 10, "m_mul": -2.0}), "'m_mul'", "-2"),
    ];
    for (name, args, arg, value) in cases {
        let e = tapegrad::optim::schedule_from_keras(name, args.as_object().unwrap()).err().unwrap_or_else(|| panic!("{name} {args} must fail"));
        let e = e.to_string();
        assert!(e.contains(name) && e.contains(arg) && e.contains(value), "{e}");
    }
    let panics = |f: fn()| {
        let e = std::panic::catch_unwind(f).expect_err("must panic");
        e.downcast_ref::<String>().cloned().unwrap_or_default()
    };
    let e = panics(|| { let _ = PolynomialDecay::new(0.1, 10).unwrap().power(-0.5); });
    assert!(e.contains("'power'") && e.contains("-0.5"), "{e}");
    let e = panics(|| { let _ = PolynomialDecay::new(0.1, 10).unwrap().power(f64::NAN); });
    assert!(e.contains("'power'") && e.contains("NaN"), "{e}");
    // Power 0 is a constant rate, allowed as in Keras.
    assert!((PolynomialDecay::new(0.1, 10).unwrap().power(0.0).precision(Precision::Float64).rate_f64(7) - 0.1).abs() < 1e-15);
}
