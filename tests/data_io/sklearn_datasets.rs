//! scikit-learn's data sets, rebuilt by tapegrad, against the arrays scikit-learn itself produced.
//!
//! The fixture lists cases `{generator, args, X, y, [X_scaled, y_scaled, scaler_mean, scaler_scale]}`;
//! each case's generator is called with its `args`, so any case of that schema is checked.

use serde_json::{Map, Value};
use tapegrad::data::{
    make_blobs, make_circles, make_regression, BlobsParams, Centers, CirclesParams, ClusterStd, RegressionParams,
    StandardScaler,
};
use tapegrad::Tensor;

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/sklearn_datasets.json");

fn as_usize(v: &Value, key: &str) -> usize {
    v.as_u64().unwrap_or_else(|| panic!("args.{key} should be a non-negative integer, got {v}")) as usize
}

fn as_f64(v: &Value, key: &str) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("args.{key} should be a number, got {v}"))
}

fn as_bool(v: &Value, key: &str) -> bool {
    v.as_bool().unwrap_or_else(|| panic!("args.{key} should be a boolean, got {v}"))
}

fn as_seed(v: &Value, key: &str) -> Option<u32> {
    if v.is_null() {
        return None;
    }
    Some(u32::try_from(as_usize(v, key)).unwrap_or_else(|_| panic!("args.{key} = {v} does not fit a numpy seed")))
}

fn floats(v: &Value, what: &str) -> Vec<f64> {
    v.as_array()
        .unwrap_or_else(|| panic!("{what} should be an array, got {v}"))
        .iter()
        .map(|e| as_f64(e, what))
        .collect()
}

/// A JSON array of numbers or of rows of numbers, flattened, with its shape.
fn array(v: &Value, what: &str) -> (Vec<f64>, Vec<usize>) {
    let items = v.as_array().unwrap_or_else(|| panic!("{what} should be an array"));
    match items.first() {
        Some(Value::Array(first)) => {
            let cols = first.len();
            let mut flat = Vec::with_capacity(items.len() * cols);
            for row in items {
                let r = floats(row, what);
                assert_eq!(r.len(), cols, "{what}: ragged rows");
                flat.extend(r);
            }
            (flat, vec![items.len(), cols])
        }
        _ => (floats(v, what), vec![items.len()]),
    }
}

fn regression_params(args: &Map<String, Value>) -> RegressionParams {
    let mut p = RegressionParams::default();
    for (k, v) in args {
        match k.as_str() {
            "n_samples" => p.n_samples = as_usize(v, k),
            "n_features" => p.n_features = as_usize(v, k),
            "n_informative" => p.n_informative = as_usize(v, k),
            "n_targets" => p.n_targets = as_usize(v, k),
            "bias" => p.bias = as_f64(v, k),
            "noise" => p.noise = as_f64(v, k),
            "shuffle" => p.shuffle = as_bool(v, k),
            "random_state" => p.random_state = as_seed(v, k),
            "coef" => {} // tapegrad always returns the coefficients.
            other => panic!("make_regression: unsupported argument {other:?}"),
        }
    }
    p
}

fn circles_params(args: &Map<String, Value>) -> CirclesParams {
    let mut p = CirclesParams::default();
    for (k, v) in args {
        match k.as_str() {
            "n_samples" => p.n_samples = as_usize(v, k),
            "shuffle" => p.shuffle = as_bool(v, k),
            "noise" => p.noise = if v.is_null() { None } else { Some(as_f64(v, k)) },
            "factor" => p.factor = as_f64(v, k),
            "random_state" => p.random_state = as_seed(v, k),
            other => panic!("make_circles: unsupported argument {other:?}"),
        }
    }
    p
}

fn blobs_params(args: &Map<String, Value>) -> BlobsParams {
    let mut p = BlobsParams::default();
    for (k, v) in args {
        match k.as_str() {
            "n_samples" => p.n_samples = as_usize(v, k),
            "n_features" => p.n_features = as_usize(v, k),
            "centers" => {
                p.centers = match v {
                    Value::Null => Centers::Count(3),
                    Value::Array(rows) => Centers::Coords(rows.iter().map(|r| floats(r, "args.centers")).collect()),
                    _ => Centers::Count(as_usize(v, k)),
                }
            }
            "cluster_std" => {
                p.cluster_std = match v {
                    Value::Array(_) => ClusterStd::PerCenter(floats(v, "args.cluster_std")),
                    _ => ClusterStd::Same(as_f64(v, k)),
                }
            }
            "center_box" => {
                let b = floats(v, "args.center_box");
                assert_eq!(b.len(), 2, "args.center_box should hold two numbers");
                p.center_box = (b[0], b[1]);
            }
            "shuffle" => p.shuffle = as_bool(v, k),
            "random_state" => p.random_state = as_seed(v, k),
            other => panic!("make_blobs: unsupported argument {other:?}"),
        }
    }
    p
}

/// Bit-for-bit equality, reporting the first differing element.
fn assert_exact(got: &Tensor<f64>, want: &Value, what: &str) {
    let (data, shape) = array(want, what);
    assert_eq!(got.shape(), shape.as_slice(), "{what}: shape");
    if let Some(i) = got.data().iter().zip(&data).position(|(a, b)| a.to_bits() != b.to_bits()) {
        panic!("{what}: element {i} is {:e}, scikit-learn has {:e}", got.data()[i], data[i]);
    }
}

/// Agreement to `rel` relative to the largest magnitude in the reference (element-wise scale would
/// make values near zero fail on rounding that is relative to the whole dot product).
fn assert_close(got: &[f64], got_shape: &[usize], want: &Value, rel: f64, what: &str) {
    let (data, shape) = array(want, what);
    assert_eq!(got_shape, shape.as_slice(), "{what}: shape");
    let scale = data.iter().fold(0.0f64, |m, v| m.max(v.abs())).max(1.0);
    for (i, (a, b)) in got.iter().zip(&data).enumerate() {
        assert!((a - b).abs() <= rel * scale.max(b.abs()), "{what}: element {i} is {a:e}, scikit-learn has {b:e}");
    }
}

fn check_case(case: &Value) -> String {
    let generator = case["generator"].as_str().expect("case.generator should be a string");
    let args = case["args"].as_object().expect("case.args should be an object");
    let label = format!("{generator}({})", Value::Object(args.clone()));
    match generator {
        "make_regression" => {
            let d = make_regression(&regression_params(args));
            assert_exact(&d.x, &case["X"], &format!("{label} X"));
            assert_close(d.y.data(), d.y.shape(), &case["y"], 1e-12, &format!("{label} y"));
            if let Some(xs) = case.get("X_scaled") {
                let sx = StandardScaler::fit(&d.x);
                let z = sx.transform(&d.x);
                assert_close(z.data(), z.shape(), xs, 1e-12, &format!("{label} X_scaled"));
                assert_close(sx.mean(), &[sx.mean().len()], &case["scaler_mean"], 1e-12, &format!("{label} mean"));
                assert_close(sx.scale(), &[sx.scale().len()], &case["scaler_scale"], 1e-12, &format!("{label} scale"));
            }
            if let Some(ys) = case.get("y_scaled") {
                let sy = StandardScaler::fit(&d.y);
                let z = sy.transform(&d.y);
                assert_close(z.data(), z.shape(), ys, 1e-12, &format!("{label} y_scaled"));
            }
        }
        "make_circles" => {
            let d = make_circles(&circles_params(args));
            assert_exact(&d.x, &case["X"], &format!("{label} X"));
            assert_exact(&d.y, &case["y"], &format!("{label} y"));
        }
        "make_blobs" => {
            let d = make_blobs(&blobs_params(args));
            assert_exact(&d.x, &case["X"], &format!("{label} X"));
            assert_exact(&d.y, &case["y"], &format!("{label} y"));
        }
        other => panic!("unknown generator {other:?}"),
    }
    label
}

#[test]
fn every_fixture_case_matches_scikit_learn() {
    let text = std::fs::read_to_string(FIXTURE).unwrap_or_else(|e| panic!("cannot read {FIXTURE}: {e}"));
    let root: Value = serde_json::from_str(&text).expect("fixture is not valid JSON");
    let cases = root["cases"].as_array().expect("fixture.cases should be an array");
    assert!(!cases.is_empty(), "fixture has no cases");
    for case in cases {
        let label = check_case(case);
        eprintln!("ok: {label}");
    }
}

#[test]
fn the_tutorial_sets_have_the_expected_shapes() {
    let r = make_regression(&RegressionParams {
        n_samples: 1000,
        n_features: 20,
        noise: 0.1,
        random_state: Some(1),
        ..Default::default()
    });
    assert_eq!((r.x.shape(), r.y.shape()), (&[1000, 20][..], &[1000][..]));
    let c = make_circles(&CirclesParams { n_samples: 1000, noise: Some(0.1), random_state: Some(1), ..Default::default() });
    assert_eq!(c.labels.iter().sum::<usize>(), 500);
    let b = make_blobs(&BlobsParams {
        n_samples: 1000,
        cluster_std: ClusterStd::Same(2.0),
        random_state: Some(2),
        ..Default::default()
    });
    assert_eq!(b.labels.iter().filter(|&&l| l == 0).count(), 334);
}
