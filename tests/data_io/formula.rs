//! Loss formulas: parsing, errors with a caret, values equal to the registry's losses, gradients.

use tapegrad::formula::Formula;
use tapegrad::losses::Loss;
use tapegrad::{gradcheck, Tape, Tensor};

fn value(formula: &str, t: &Tensor<f64>, p: &Tensor<f64>) -> f64 {
    let f = Formula::parse(formula).unwrap();
    f.check_shapes(t.shape(), p.shape()).unwrap();
    let tape = Tape::new();
    let v = f.eval(tape.constant(t.clone()), tape.var(p.clone()));
    if v.len() == 1 { v.item() } else { v.mean().item() }
}

fn registry(name: &str, t: &Tensor<f64>, p: &Tensor<f64>) -> f64 {
    let tape = Tape::new();
    Loss::new(name).unwrap().call(tape.constant(t.clone()), tape.var(p.clone())).item()
}

fn err(formula: &str) -> String {
    Formula::parse(formula).unwrap_err().to_string()
}

fn batch() -> (Tensor<f64>, Tensor<f64>) {
    let t = Tensor::from_vec(vec![0.0, 1.0, 1.0, 0.0, 1.0, 0.0], &[6, 1]);
    let p = Tensor::from_vec(vec![0.2, 0.7, 0.4, 0.9, 0.55, 0.1], &[6, 1]);
    (t, p)
}

#[test]
fn formulas_match_the_registry() {
    let (t, p) = batch();
    let pairs = [
        ("mean(square(t - p))", "mean_squared_error"),
        ("mean(abs(t - p))", "mean_absolute_error"),
        ("mean((t - p)^2)", "mean_squared_error"),
        ("-mean(t * log(clip(p, 1e-7, 1 - 1e-7)) + (1 - t) * log(1 - clip(p, 1e-7, 1 - 1e-7)))", "binary_crossentropy"),
        ("mean(square(log1p(max(p, 1e-7)) - log1p(max(t, 1e-7))))", "mean_squared_logarithmic_error"),
        ("mean(where(abs(t - p) <= 1, 0.5 * square(t - p), abs(t - p) - 0.5))", "huber"),
    ];
    for (formula, name) in pairs {
        let (a, b) = (value(formula, &t, &p), registry(name, &t, &p));
        assert!((a - b).abs() < 1e-12 * b.abs().max(1.0), "{formula}: {a} vs {name} {b}");
    }
    // Categorical cross-entropy over rows, with an axis.
    let t3 = Tensor::from_vec(vec![1.0, 0.0, 0.0, 0.0, 0.0, 1.0], &[2, 3]);
    let p3 = Tensor::from_vec(vec![0.7, 0.2, 0.1, 0.3, 0.3, 0.4], &[2, 3]);
    let a = value("mean(-sum(t * log(clip(p, 1e-7, 1 - 1e-7)), axis=-1))", &t3, &p3);
    let b = registry("categorical_crossentropy", &t3, &p3);
    assert!((a - b).abs() < 1e-12, "{a} vs {b}");
    assert_eq!(value("mean(max(p, axis=1))", &t3, &p3), (0.7 + 0.4) / 2.0);
    assert_eq!(value("mean(min(p, axis=1))", &t3, &p3), (0.1 + 0.3) / 2.0);
    assert_eq!(value("mean(min(p, 0.25))", &t3, &p3), (0.25 + 0.2 + 0.1 + 0.25 + 0.25 + 0.25) / 6.0);
    assert!((value("sum(p, 1) - 1", &t3, &p3)).abs() < 1e-12);
}

#[test]
fn precedence_and_numbers() {
    let t = Tensor::from_vec(vec![2.0], &[1, 1]);
    let p = Tensor::from_vec(vec![3.0], &[1, 1]);
    assert_eq!(value("-p^2", &t, &p), -9.0);
    assert_eq!(value("2^p^0.0 * p", &t, &p), 6.0);
    assert_eq!(value("p - t - 1", &t, &p), 0.0);
    assert_eq!(value("p / t / 3 + 1.5e1", &t, &p), 15.5);
    assert_eq!(value("(p > t) + (p < t) * 10 + (p == 3) * 100 + (t != 2) + (p >= 3) + (t <= 1) + 0 * p", &t, &p), 102.0);
    assert_eq!(value("p ** 2", &t, &p), 9.0);
    assert!((value("t^p", &t, &p) - 8.0).abs() < 1e-12);
    assert!((value("2^p", &t, &p) - 8.0).abs() < 1e-12);
    assert!((value("mean(softplus(p) + sigmoid(p) + tanh(p) + relu(-p) + exp(0) + sqrt(4))", &t, &p)
        - ((1.0 + 3f64.exp()).ln() + 1.0 / (1.0 + (-3f64).exp()) + 3f64.tanh() + 3.0))
        .abs()
        < 1e-12);
}

/// `sin` and `cos` are recorded as the tape's own ops.
#[test]
fn sin_and_cos_are_ops() {
    let (t, p) = batch();
    let want: f64 = p.data().iter().zip(t.data()).map(|(a, b)| a.sin() * (a - b).cos()).sum::<f64>() / p.len() as f64;
    assert!((value("mean(sin(p) * cos(p - t))", &t, &p) - want).abs() < 1e-12);
}

#[test]
fn errors_point_at_the_problem() {
    assert_eq!(err("mean(t - )"), "expected a number, t, p, a function or '(', found ')'\n  mean(t - )\n           ^");
    assert_eq!(err("mean(abs(t - p)"), "expected ',' or ')' in the arguments of mean, found the end of the formula\n  mean(abs(t - p)\n                 ^");
    assert_eq!(err("mean(q - p)"), "unknown name \"q\"; expected t (targets), p (predictions), a number or a function\n  mean(q - p)\n       ^");
    assert_eq!(err("mean(sinh(p))"), "unknown function \"sinh\"; expected one of: log exp abs sqrt square log1p relu sigmoid tanh softplus sin cos min max clip where mean sum\n  mean(sinh(p))\n       ^^^^");
    assert_eq!(err("p $ t"), "unexpected character '$'; expected a number, t, p, a function, an operator or a parenthesis\n  p $ t\n    ^");
    assert_eq!(err("p t"), "expected an operator or the end of the formula, found \"t\"\n  p t\n    ^");
    assert_eq!(err(""), "empty formula; expected an expression over t and p such as mean(square(t - p))\n  \n  ^");
    assert_eq!(err("clip(p, t, 1)"), "a clip bound must be a number\n  clip(p, t, 1)\n          ^");
    assert_eq!(err("mean(p, 0.5)"), "an axis must be a whole number such as 1 or -1\n  mean(p, 0.5)\n          ^^^");
    assert_eq!(err("where(p, t)"), "where takes where(cond, a, b); got 2 argument(s)\n  where(p, t)\n  ^^^^^^^^^^^");
    assert_eq!(err("abs(p, axis=1)"), "abs takes no axis\n  abs(p, axis=1)\n         ^^^^^^");
    assert_eq!(err("mean"), "mean is a function; expected '(' after it\n  mean\n  ^^^^");
    let f = Formula::parse("mean(t - p, axis=2)").unwrap();
    assert_eq!(
        f.check_shapes(&[4, 1], &[4, 1]).unwrap_err().to_string(),
        "mean: axis 2 is out of range for shape [4, 1] (t is [4, 1], p is [4, 1])\n  mean(t - p, axis=2)\n  ^^^^^^^^^^^^^^^^^^^"
    );
    let f = Formula::parse("mean(t - p)").unwrap();
    assert!(f.check_shapes(&[4, 3], &[4, 2]).unwrap_err().to_string().starts_with("'-' cannot combine shapes [4, 3] and [4, 2]"));
    let f = Formula::parse("mean(t) * 2").unwrap();
    assert!(f.check_shapes(&[4], &[4]).unwrap_err().to_string().starts_with("the formula does not use p"));
}

#[test]
fn formulas_gradcheck() {
    let formulas = [
        "mean(abs(t - p) ^ 1.5)",
        "mean(where(t > p, 0.9, 0.1) * abs(t - p))",
        "mean(square(t - p)) + 0.1 * mean(abs(p))",
        "mean(softplus(-t * p) + log1p(square(p)) + exp(-p) / (1 + sigmoid(p)))",
        "mean(max(t - p, 0) + min(t, p) * tanh(p) + relu(p - 0.5))",
        "mean(-sum(t * log(clip(p, 1e-7, 1)), axis=1))",
        "sum(sqrt(p + 1)) / 4 + max(p) - min(p)",
    ];
    let t = Tensor::from_vec(vec![1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0], &[4, 3]);
    let p = Tensor::from_vec(vec![0.61, 0.23, 0.16, 0.12, 0.53, 0.35, 0.27, 0.31, 0.42, 0.44, 0.36, 0.2], &[4, 3]);
    for formula in formulas {
        let f = Formula::parse(formula).unwrap();
        f.check_shapes(t.shape(), p.shape()).unwrap();
        let report = gradcheck(|v| f.eval(v[0].tape().constant(t.clone()), v[0]), std::slice::from_ref(&p))
            .unwrap_or_else(|e| panic!("{formula}: {e}"));
        assert!(report.max_abs_error < 1e-6, "{formula}: {report:?}");
    }
}

#[test]
fn non_finite_values_name_the_op() {
    let t = Tensor::from_vec(vec![1.0, 0.0], &[2, 1]);
    let p = Tensor::from_vec(vec![0.5, 0.0], &[2, 1]);
    let e = Formula::parse("mean(t * log(p))").unwrap().first_non_finite(&t, &p).unwrap();
    assert_eq!(e.to_string(), "log gives -inf on the first batch (element 1 of its output of shape [2, 1])\n  mean(t * log(p))\n           ^^^^^^");
    let e = Formula::parse("mean(sqrt(p))").unwrap().first_non_finite(&t, &p).unwrap();
    assert_eq!(e.to_string(), "the gradient through sqrt is not finite on the first batch (p's gradient is inf at element 1)\n  mean(sqrt(p))\n       ^^^^^^^", "{e}");
    let e = Formula::parse("mean(square(t - p)) + mean(abs(p) ^ 0.5)").unwrap().first_non_finite(&t, &p).unwrap();
    assert!(e.to_string().starts_with("the gradient through '^' is not finite"), "{e}");
    assert!(Formula::parse("mean(square(t - p))").unwrap().first_non_finite(&t, &p).is_none());
}

#[test]
fn arbitrary_text_never_panics() {
    let alphabet = ["t", "p", "(", ")", ",", "-", "+", "*", "/", "^", "1", ".", "e", "mean", "log", "clip", "where", "max", "axis", "=", " ", ">", "sum", "é"];
    let mut state = 7u64;
    let t = Tensor::from_vec(vec![1.0, 0.0, 0.5, 0.2], &[2, 2]);
    for _ in 0..4000 {
        let mut text = String::new();
        for _ in 0..(state % 12) {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            text.push_str(alphabet[(state >> 33) as usize % alphabet.len()]);
        }
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
        if let Ok(f) = Formula::parse(&text) {
            let _ = f.first_non_finite(&t, &t);
        }
    }
}

#[test]
fn deep_or_long_formulas_are_errors_not_stack_overflows() {
    let deep = format!("{}p{}", "(".repeat(500), ")".repeat(500));
    assert!(err(&deep).starts_with("the formula is nested more than 64 levels deep"));
    assert!(err(&"-".repeat(300)).starts_with("the formula is nested more than 64 levels deep"));
    assert!(err(&format!("p{}", "^p".repeat(200))).starts_with("the formula is nested more than 64 levels deep"));
    assert!(err(&"p+".repeat(1500)).starts_with("the formula is longer than 2000 characters"));
    // A long flat sum is fine.
    let sum = format!("mean(p{})", "+p".repeat(500));
    let t = Tensor::from_vec(vec![1.0], &[1, 1]);
    assert_eq!(value(&sum, &t, &t), 501.0);
}
