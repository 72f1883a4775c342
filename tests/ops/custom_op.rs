//! A custom op built from outside the crate with the public API only: recorded, named, checked
//! to first and second order and in forward mode, and refused clearly where it lacks a rule.

use tapegrad::autodiff::jvp;
use tapegrad::gradcheck::{gradcheck_with, gradgradcheck};
use tapegrad::{gradcheck, CustomOp, GradcheckOptions, Tape, Tensor, Var};

/// `y = a * b^2` with numpy broadcasting of `b` as a row: two inputs, every rule given.
struct ScaledSquare;

impl CustomOp<f64> for ScaledSquare {
    fn name(&self) -> &str {
        "scaled_square"
    }
    fn output_shape(&self, shapes: &[&[usize]]) -> Result<Vec<usize>, String> {
        match shapes {
            [a, b] if a.len() == 2 && b.len() == 1 && a[1] == b[0] => Ok(a.to_vec()),
            _ => Err("needs a [n, k] matrix and a [k] row".into()),
        }
    }
    fn forward(&self, x: &[&[f64]], s: &[&[usize]], out: &mut [f64]) {
        let k = s[1][0];
        for (i, o) in out.iter_mut().enumerate() {
            *o = x[0][i] * x[1][i % k] * x[1][i % k];
        }
    }
    // da = g b^2; db = sum over rows of g a 2 b
    fn backward(&self, x: &[&[f64]], s: &[&[usize]], _y: &[f64], g: &[f64], grads: &mut [Vec<f64>]) {
        let k = s[1][0];
        for (i, &gi) in g.iter().enumerate() {
            let b = x[1][i % k];
            grads[0][i] += gi * b * b;
            grads[1][i % k] += gi * x[0][i] * 2.0 * b;
        }
    }
    fn backward_recorded<'t>(&self, x: &[Var<'t, f64>], _y: Var<'t, f64>, g: Var<'t, f64>) -> Option<Vec<Var<'t, f64>>> {
        let (a, b) = (x[0], x[1]);
        Some(vec![g * b * b, (g * a * b * 2.0).sum_axis(0, false)])
    }
    // ty = ta b^2 + a 2 b tb
    fn jvp(&self, x: &[&[f64]], s: &[&[usize]], _y: &[f64], t: &[&[f64]], out: &mut [f64]) -> bool {
        let k = s[1][0];
        for (i, o) in out.iter_mut().enumerate() {
            let b = x[1][i % k];
            *o = t[0][i] * b * b + x[0][i] * 2.0 * b * t[1][i % k];
        }
        true
    }
}

/// `y = x^2` with only the required rules.
struct BareSquare;

impl CustomOp<f64> for BareSquare {
    fn name(&self) -> &str {
        "bare_square"
    }
    fn output_shape(&self, shapes: &[&[usize]]) -> Result<Vec<usize>, String> {
        Ok(shapes[0].to_vec())
    }
    fn forward(&self, x: &[&[f64]], _: &[&[usize]], out: &mut [f64]) {
        out.iter_mut().zip(x[0]).for_each(|(o, &v)| *o = v * v);
    }
    fn backward(&self, x: &[&[f64]], _: &[&[usize]], _: &[f64], g: &[f64], grads: &mut [Vec<f64>]) {
        grads[0].iter_mut().zip(g.iter().zip(x[0])).for_each(|(d, (&gi, &v))| *d += gi * 2.0 * v);
    }
}

fn inputs() -> [Tensor<f64>; 2] {
    [Tensor::from_vec(vec![0.5, -1.0, 2.0, 0.3, 1.1, -0.7], &[2, 3]), Tensor::from_vec(vec![1.5, -0.4, 0.8], &[3])]
}

#[test]
fn a_custom_op_records_and_differentiates_like_a_built_in() {
    let [a, b] = inputs();
    let tape = Tape::<f64>::new();
    let (av, bv) = (tape.var(a.clone()), tape.var(b.clone()));
    let y = tape.apply(ScaledSquare, &[av, bv]);
    let built_in = av * bv * bv;
    assert_eq!(y.value(), built_in.value());
    let g1 = (y * y).sum().backward();
    let (ga, gb) = (g1.wrt(av), g1.wrt(bv));
    let g2 = (built_in * built_in).sum().backward();
    for (x, z) in ga.data().iter().chain(gb.data()).zip(g2.wrt(av).data().iter().chain(g2.wrt(bv).data())) {
        assert!((x - z).abs() < 1e-12, "{x} vs {z}");
    }
}

#[test]
fn gradcheck_gradgradcheck_and_forward_mode_pass() {
    let report = gradcheck(|v| (v[0].tape().apply(ScaledSquare, &[v[0], v[1]]).tanh()).sum(), &inputs()).unwrap();
    assert_eq!(report.elements, 9);
    assert_eq!(report.forward_directions, 2);
    gradgradcheck(|v| (v[0].tape().apply(ScaledSquare, &[v[0], v[1]]).tanh()).sum(), &inputs()).unwrap();
    let (_, t) = jvp(|v| v[0].tape().apply(ScaledSquare, &[v[0], v[1]]), &inputs(), &[Tensor::ones(&[2, 3]), Tensor::zeros(&[3])]);
    // Along a only: t = b^2 in every row.
    assert_eq!(t.data(), &[2.25, 0.16000000000000003, 0.6400000000000001, 2.25, 0.16000000000000003, 0.6400000000000001]);
}

#[test]
fn a_wrong_backward_fails_gradcheck() {
    struct Wrong;
    impl CustomOp<f64> for Wrong {
        fn name(&self) -> &str {
            "wrong"
        }
        fn output_shape(&self, s: &[&[usize]]) -> Result<Vec<usize>, String> {
            Ok(s[0].to_vec())
        }
        fn forward(&self, x: &[&[f64]], _: &[&[usize]], out: &mut [f64]) {
            out.iter_mut().zip(x[0]).for_each(|(o, &v)| *o = v * v);
        }
        // Forgets the factor 2.
        fn backward(&self, x: &[&[f64]], _: &[&[usize]], _: &[f64], g: &[f64], grads: &mut [Vec<f64>]) {
            grads[0].iter_mut().zip(g.iter().zip(x[0])).for_each(|(d, (&gi, &v))| *d += gi * v);
        }
    }
    let opts = GradcheckOptions { check_forward_ad: false, ..Default::default() };
    let err = gradcheck_with(|v| v[0].tape().apply(Wrong, &[v[0]]).sum(), &[Tensor::from_vec(vec![1.0, 2.0], &[2])], opts).unwrap_err();
    assert_eq!(err.check, "gradient");
    assert!((err.analytic - 0.5 * err.numeric).abs() < 1e-6);
}

#[test]
fn the_op_shows_by_name_in_the_inspector_dot_and_anomaly_messages() {
    let tape = Tape::<f64>::new();
    let x = tape.var(Tensor::from_vec(vec![1.0, 2.0], &[2]));
    let y = tape.apply(BareSquare, &[x]).sum();
    assert!(format!("{tape}").contains("bare_square"));
    assert!(tape.to_dot(&Default::default()).contains("bare_square"));
    assert!(format!("{y:?}").contains("sum"));
    tape.set_anomaly_detection(true);
    let big = tape.var(Tensor::from_vec(vec![1e200], &[1]));
    let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| tape.apply(BareSquare, &[big]))).unwrap_err();
    let msg = err.downcast_ref::<String>().unwrap();
    assert!(msg.starts_with("anomaly: bare_square produced a non-finite value"), "{msg}");
}

#[test]
#[should_panic(expected = "grad: the custom op 'bare_square' has no recorded backward rule")]
fn a_missing_second_order_rule_is_an_error_naming_the_op() {
    let tape = Tape::<f64>::new();
    let x = tape.var(Tensor::from_vec(vec![1.0, 2.0], &[2]));
    let _ = tape.apply(BareSquare, &[x]).sum().grad(&[x]);
}

#[test]
#[should_panic(expected = "jvp: the custom op 'bare_square' has no forward-mode rule")]
fn a_missing_jvp_is_an_error_naming_the_op() {
    let _ = jvp(|v| v[0].tape().apply(BareSquare, &[v[0]]), &[Tensor::ones(&[2])], &[Tensor::ones(&[2])]);
}

#[test]
#[should_panic(expected = "scaled_square: inputs of shapes [[2, 3], [2]]: needs a [n, k] matrix and a [k] row")]
fn a_rejected_shape_names_the_op_and_the_shapes() {
    let tape = Tape::<f64>::new();
    let a = tape.var(Tensor::ones(&[2, 3]));
    let b = tape.var(Tensor::ones(&[2]));
    let _ = tape.apply(ScaledSquare, &[a, b]);
}
