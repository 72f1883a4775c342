//! An op defined outside the crate: a fused, numerically stable `log(1 + e^x)` (softplus) with
//! its reverse rule, its recorded reverse rule (for second derivatives) and its JVP, checked with
//! the public `gradcheck` and `gradgradcheck`, then used to train a small model.
//!
//! `cargo run --release --example custom_op`

use tapegrad::gradcheck::gradgradcheck;
use tapegrad::{gradcheck, CustomOp, Float, Tape, Tensor, Var};

/// `y = log(1 + e^x)`, computed as `max(x, 0) + log1p(e^-|x|)` so that it never overflows.
/// Its derivative is the logistic function `sigma(x) = 1 / (1 + e^-x)`.
struct StableSoftplus;

fn sigma<T: Float>(x: T) -> T {
    T::ONE / (T::ONE + (-x).exp())
}

impl<T: Float> CustomOp<T> for StableSoftplus {
    fn name(&self) -> &str {
        "stable_softplus"
    }

    /// Elementwise: the output has the input's shape.
    fn output_shape(&self, shapes: &[&[usize]]) -> Result<Vec<usize>, String> {
        match shapes {
            [s] => Ok(s.to_vec()),
            _ => Err(format!("takes one input, got {}", shapes.len())),
        }
    }

    /// y = max(x, 0) + log1p(e^-|x|)
    fn forward(&self, inputs: &[&[T]], _shapes: &[&[usize]], out: &mut [T]) {
        for (y, &x) in out.iter_mut().zip(inputs[0]) {
            *y = x.max(T::ZERO) + (-x.abs()).exp().ln_1p();
        }
    }

    /// dL/dx += g * sigma(x)
    fn backward(&self, inputs: &[&[T]], _shapes: &[&[usize]], _y: &[T], g: &[T], grads: &mut [Vec<T>]) {
        for ((d, &gi), &x) in grads[0].iter_mut().zip(g).zip(inputs[0]) {
            *d += gi * sigma(x);
        }
    }

    /// The same rule with recorded ops, so the gradient can be differentiated again:
    /// d/dx (g sigma(x)) = g sigma(x) (1 - sigma(x)).
    fn backward_recorded<'t>(&self, inputs: &[Var<'t, T>], _y: Var<'t, T>, g: Var<'t, T>) -> Option<Vec<Var<'t, T>>> {
        Some(vec![g * inputs[0].sigmoid()])
    }

    /// Forward mode: ty = tx * sigma(x).
    fn jvp(&self, inputs: &[&[T]], _shapes: &[&[usize]], _y: &[T], tangents: &[&[T]], out: &mut [T]) -> bool {
        for ((o, &t), &x) in out.iter_mut().zip(tangents[0]).zip(inputs[0]) {
            *o = t * sigma(x);
        }
        true
    }
}

/// The op as a method-like helper (`track_caller`: the tape records the caller's line).
#[track_caller]
fn stable_softplus<'t, T: Float>(x: Var<'t, T>) -> Var<'t, T> {
    x.tape().apply(StableSoftplus, &[x])
}

fn main() {
    // 1. It agrees with the built-in softplus, even far out where a naive log(1 + e^x) overflows.
    let tape = Tape::<f64>::new();
    let x = tape.var(Tensor::from_vec(vec![-800.0, -2.0, 0.0, 3.0, 800.0], &[5]));
    let ours = stable_softplus(x);
    println!("stable_softplus: {}", ours);
    println!("built-in:        {}", x.softplus());
    println!("\nThe tape shows the op by name:\n{tape}");

    // 2. Its rules are right: first order, second order and forward mode.
    let point = [Tensor::from_vec(vec![-1.5, -0.2, 0.4, 2.5], &[2, 2])];
    let report = gradcheck(|v| (stable_softplus(v[0]) * v[0]).sum(), &point).expect("gradient");
    println!(
        "gradcheck: {} elements, max error {:.1e}; forward mode checked in {} directions",
        report.elements, report.max_abs_error, report.forward_directions
    );
    let report = gradgradcheck(|v| stable_softplus(v[0]).square().sum(), &point).expect("second order");
    println!("gradgradcheck: max error {:.1e}", report.max_abs_error);

    // 3. Train with it: fit y = softplus(3 x - 1) with a one-weight, one-bias model by SGD.
    let xs: Vec<f64> = (0..32).map(|i| i as f64 / 8.0 - 2.0).collect();
    let ys: Vec<f64> = xs.iter().map(|&x| (3.0 * x - 1.0f64).exp().ln_1p()).collect();
    let (mut w, mut b) = (0.5, 0.0);
    let mut tape = Tape::<f64>::new();
    for step in 0..=1000 {
        tape.clear();
        let xv = tape.constant(Tensor::from_vec(xs.clone(), &[32]));
        let yv = tape.constant(Tensor::from_vec(ys.clone(), &[32]));
        let wv = tape.var(Tensor::scalar(w));
        let bv = tape.var(Tensor::scalar(b));
        let pred = stable_softplus(xv * wv + bv);
        let loss = (pred - yv).square().mean();
        let g = loss.backward();
        w -= 0.2 * g[wv][0];
        b -= 0.2 * g[bv][0];
        if step % 250 == 0 {
            println!("step {step:>3}: loss {:.6}, w {w:.4}, b {b:.4}", loss.item());
        }
    }
    assert!((w - 3.0).abs() < 0.01 && (b + 1.0).abs() < 0.01, "training did not recover w = 3, b = -1");
    println!("recovered w = 3, b = -1");
}
