//! Property tests of sin, cos, tan, erf, gelu (exact and tanh), silu (f64, 256 cases each): the
//! forward value against the formula computed here, the gradient through `gradcheck` (reverse and
//! forward mode against central differences), and the second derivative through `gradgradcheck`.


use proptest::prelude::*;
use crate::props_support::*;
use tapegrad::gradcheck::gradgradcheck;
use tapegrad::Tensor;

/// The three checks of op `$op` (a `Var` method) against `$by_hand` on `$x`.
macro_rules! all_checks {
    ($op:ident, $by_hand:expr, $x:expr) => {{
        let x: &Tensor<f64> = $x;
        check(|v| v[0].$op(), std::slice::from_ref(x), &x.map($by_hand))?;
        gradgradcheck(|v| probe(v[0].$op()), std::slice::from_ref(x)).map_err(|e| TestCaseError::fail(e.to_string()))?;
    }};
}

fn gelu(x: f64) -> f64 {
    0.5 * x * (1.0 + libm::erf(x / 2f64.sqrt()))
}

fn gelu_tanh(x: f64) -> f64 {
    let c = (2.0 / std::f64::consts::PI).sqrt();
    0.5 * x * (1.0 + (c * (x + 0.044715 * x * x * x)).tanh())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn sin(x in tensor(-4.0, 4.0)) {
        all_checks!(sin, f64::sin, &x);
    }

    #[test]
    fn cos(x in tensor(-4.0, 4.0)) {
        all_checks!(cos, f64::cos, &x);
    }

    #[test]
    fn tan(x in tensor(-1.2, 1.2)) {
        all_checks!(tan, f64::tan, &x);
    }

    #[test]
    fn erf(x in tensor(-3.0, 3.0)) {
        all_checks!(erf, libm::erf, &x);
    }

    #[test]
    fn gelu_exact(x in tensor(-4.0, 4.0)) {
        all_checks!(gelu, gelu, &x);
    }

    #[test]
    fn gelu_tanh_approximation(x in tensor(-4.0, 4.0)) {
        all_checks!(gelu_tanh, gelu_tanh, &x);
    }

    #[test]
    fn silu(x in tensor(-6.0, 6.0)) {
        all_checks!(silu, |x| x / (1.0 + (-x).exp()), &x);
    }
}

/// Values PyTorch 2.15 gives (float64) for `F.gelu`, `F.gelu(approximate="tanh")` and `F.silu` at 1 and -2.
#[test]
fn activations_match_pytorch_at_known_points() {
    let tape = tapegrad::Tape::<f64>::new();
    let x = tape.var(Tensor::from_vec(vec![1.0, -2.0], &[2]));
    let close = |got: &[f64], want: [f64; 2]| got.iter().zip(want).all(|(g, w)| (g - w).abs() <= 2.0 * f64::EPSILON * w.abs());
    assert!(close(x.gelu().value().data(), [0.841_344_746_068_543, -0.045_500_263_896_358_42]));
    assert!(close(x.gelu_tanh().value().data(), [0.841_191_990_608_276_8, -0.045_402_305_912_224_94]));
    assert!(close(x.silu().value().data(), [0.731_058_578_630_004_9, -0.238_405_844_044_235_1]));
}
