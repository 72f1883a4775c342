//! Gradient checking: the tape's gradient against central differences, in `f64`.

use crate::tape::{Tape, Var};
use crate::tensor::Tensor;
use std::fmt;

/// Tolerances of [`gradcheck_with`]; the defaults are PyTorch's `gradcheck` defaults.
#[derive(Clone, Copy, Debug)]
pub struct GradcheckOptions {
    /// Step of the central difference `(f(x + eps) - f(x - eps)) / (2 eps)`.
    pub eps: f64,
    /// Absolute tolerance.
    pub atol: f64,
    /// Relative tolerance: an element passes when `|analytic - numeric| <= atol + rtol * |numeric|`.
    pub rtol: f64,
    /// Also check forward mode (PyTorch's `check_forward_ad`): the JVP in random directions against
    /// central differences along them, and against the reverse-mode gradient (`<u, J v> = <Jᵀ u, v>`).
    /// On by default; turn it off for a custom op that gives no JVP rule.
    pub check_forward_ad: bool,
}

impl Default for GradcheckOptions {
    fn default() -> Self {
        GradcheckOptions { eps: 1e-6, atol: 1e-5, rtol: 1e-3, check_forward_ad: true }
    }
}

/// Directions of the forward-mode check.
const FORWARD_DIRECTIONS: usize = 2;

/// What a passing check saw.
#[derive(Clone, Debug, PartialEq)]
pub struct GradcheckReport {
    /// Elements compared over all inputs.
    pub elements: usize,
    /// Largest `|analytic - numeric|`.
    pub max_abs_error: f64,
    /// Largest `|analytic - numeric| / max(|numeric|, atol)` (how close to the tolerance it came).
    pub max_rel_error: f64,
    /// Random directions in which forward mode was checked (0 when `check_forward_ad` is off).
    pub forward_directions: usize,
}

/// The first element that failed: which input, where, and both values.
#[derive(Clone, Debug, PartialEq)]
pub struct GradcheckError {
    /// What failed: `"gradient"` (reverse mode against central differences), `"jvp"` (forward mode
    /// against central differences along a random direction, `index` = `[direction]`) or
    /// `"jvp vs vjp"` (forward against reverse mode in that direction).
    pub check: &'static str,
    /// Position of the input in the slice given to `gradcheck` (0 for the forward-mode checks).
    pub input: usize,
    /// Multi-index of the worst element in that input.
    pub index: Vec<usize>,
    /// Gradient from the tape.
    pub analytic: f64,
    /// Central-difference estimate.
    pub numeric: f64,
    /// `|analytic - numeric|`.
    pub error: f64,
    /// The tolerance it exceeded, `atol + rtol * |numeric|`.
    pub tolerance: f64,
}

impl fmt::Display for GradcheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "gradcheck failed ({}) for input {} at index {:?}: analytic {:.10e}, numeric {:.10e}, error {:.3e} > tolerance {:.3e}",
            self.check, self.input, self.index, self.analytic, self.numeric, self.error, self.tolerance
        )
    }
}

impl std::error::Error for GradcheckError {}

/// Checks the tape's gradient of a scalar function against central differences, with PyTorch's
/// default tolerances (eps 1e-6, atol 1e-5, rtol 1e-3). `f` receives one tracked `Var` per input
/// and must return a one-element value.
///
/// ```
/// use tapegrad::{gradcheck, Tensor};
/// let x = Tensor::from_vec(vec![0.5, -1.0, 2.0], &[3]);
/// let report = gradcheck(|v| (v[0].exp() * v[0]).sum(), &[x]).unwrap();
/// assert!(report.max_abs_error < 1e-6);
/// ```
pub fn gradcheck<F>(f: F, inputs: &[Tensor<f64>]) -> Result<GradcheckReport, GradcheckError>
where
    F: for<'t> Fn(&[Var<'t, f64>]) -> Var<'t, f64>,
{
    gradcheck_with(f, inputs, GradcheckOptions::default())
}

/// [`gradcheck`] with chosen tolerances. Returns the worst failing element, if any.
pub fn gradcheck_with<F>(f: F, inputs: &[Tensor<f64>], opts: GradcheckOptions) -> Result<GradcheckReport, GradcheckError>
where
    F: for<'t> Fn(&[Var<'t, f64>]) -> Var<'t, f64>,
{
    let analytic: Vec<Tensor<f64>> = {
        let tape = Tape::new();
        let vars: Vec<Var<'_, f64>> = inputs.iter().map(|x| tape.var(x.clone())).collect();
        let grads = f(&vars).backward();
        vars.iter().map(|&v| grads.wrt(v)).collect()
    };
    let mut tape = Tape::new();
    let mut eval = |xs: &[Tensor<f64>]| -> f64 {
        tape.clear();
        let vars: Vec<Var<'_, f64>> = xs.iter().map(|x| tape.var(x.clone())).collect();
        f(&vars).item()
    };
    let mut work: Vec<Tensor<f64>> = inputs.to_vec();
    let mut report = GradcheckReport { elements: 0, max_abs_error: 0.0, max_rel_error: 0.0, forward_directions: 0 };
    let mut worst: Option<GradcheckError> = None;
    for i in 0..inputs.len() {
        for j in 0..inputs[i].len() {
            let x0 = inputs[i].data()[j];
            work[i].data_mut()[j] = x0 + opts.eps;
            let up = eval(&work);
            work[i].data_mut()[j] = x0 - opts.eps;
            let down = eval(&work);
            work[i].data_mut()[j] = x0;
            let numeric = (up - down) / (2.0 * opts.eps);
            let a = analytic[i].data()[j];
            let error = (a - numeric).abs();
            let tolerance = opts.atol + opts.rtol * numeric.abs();
            report.elements += 1;
            report.max_abs_error = report.max_abs_error.max(error);
            report.max_rel_error = report.max_rel_error.max(error / numeric.abs().max(opts.atol));
            let failed = error.is_nan() || tolerance.is_nan() || error > tolerance;
            if failed && worst.as_ref().is_none_or(|w| error - tolerance > w.error - w.tolerance || w.error.is_nan()) {
                worst = Some(GradcheckError {
                    check: "gradient",
                    input: i,
                    index: unravel(j, inputs[i].shape()),
                    analytic: a,
                    numeric,
                    error,
                    tolerance,
                });
            }
        }
    }
    if let Some(w) = worst {
        return Err(w);
    }
    if opts.check_forward_ad {
        check_forward(&f, inputs, &analytic, opts, &mut eval)?;
        report.forward_directions = FORWARD_DIRECTIONS;
    }
    Ok(report)
}

/// Forward mode in random directions `v`: the JVP `J v` must match the central difference
/// `(f(x + eps v) - f(x - eps v)) / 2 eps` and the reverse-mode `<grad, v>`.
fn check_forward<F>(
    f: &F,
    inputs: &[Tensor<f64>],
    analytic: &[Tensor<f64>],
    opts: GradcheckOptions,
    eval: &mut impl FnMut(&[Tensor<f64>]) -> f64,
) -> Result<(), GradcheckError>
where
    F: for<'t> Fn(&[Var<'t, f64>]) -> Var<'t, f64>,
{
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(0xf0_4a4d);
    let mut random_like = |x: &Tensor<f64>| Tensor::from_vec((0..x.len()).map(|_| rng.gen_range(-1.0..1.0)).collect(), x.shape());
    let dirs: Vec<Vec<Tensor<f64>>> = (0..FORWARD_DIRECTIONS).map(|_| inputs.iter().map(&mut random_like).collect()).collect();
    let jvps: Vec<f64> = {
        let tape = Tape::new();
        tape.forward_mode(FORWARD_DIRECTIONS);
        let vars: Vec<Var<'_, f64>> = inputs.iter().map(|x| tape.var(x.clone())).collect();
        for (d, dir) in dirs.iter().enumerate() {
            for (v, t) in vars.iter().zip(dir) {
                v.set_tangent(d, t.data());
            }
        }
        let y = f(&vars);
        (0..FORWARD_DIRECTIONS).map(|d| y.tangent(d).data()[0]).collect()
    };
    let fail = |check, d: usize, analytic: f64, numeric: f64, tolerance: f64| GradcheckError {
        check,
        input: 0,
        index: vec![d],
        analytic,
        numeric,
        error: (analytic - numeric).abs(),
        tolerance,
    };
    for (d, (dir, &jv)) in dirs.iter().zip(&jvps).enumerate() {
        let shifted = |sign: f64| -> Vec<Tensor<f64>> {
            inputs.iter().zip(dir).map(|(x, t)| Tensor::from_vec(x.data().iter().zip(t.data()).map(|(a, b)| a + sign * opts.eps * b).collect(), x.shape())).collect()
        };
        let numeric = (eval(&shifted(1.0)) - eval(&shifted(-1.0))) / (2.0 * opts.eps);
        let tolerance = opts.atol + opts.rtol * numeric.abs();
        let off = |a: f64, b: f64, tol: f64| (a - b).is_nan() || (a - b).abs() > tol;
        if off(jv, numeric, tolerance) {
            return Err(fail("jvp", d, jv, numeric, tolerance));
        }
        let products = || analytic.iter().zip(dir).flat_map(|(g, t)| g.data().iter().zip(t.data()).map(|(a, b)| a * b));
        let reverse: f64 = products().sum();
        // Both modes compute the same sum of products in different orders: allow rounding of its terms.
        let tolerance = 1e-9 * (1.0 + products().map(f64::abs).sum::<f64>());
        if off(jv, reverse, tolerance) {
            return Err(fail("jvp vs vjp", d, jv, reverse, tolerance));
        }
    }
    Ok(())
}

/// Row-major offset to multi-index.
fn unravel(mut j: usize, shape: &[usize]) -> Vec<usize> {
    let mut idx = vec![0; shape.len()];
    for d in (0..shape.len()).rev() {
        idx[d] = j % shape[d];
        j /= shape[d];
    }
    idx
}

/// Checks second derivatives: the gradient that [`Var::grad`] records on the tape (differentiable,
/// like PyTorch's `create_graph=True`) must itself have a correct gradient. It gradchecks
/// `h(x) = sum_i <grad_i f(x), u_i>` for fixed random weights `u_i`, and first asserts that the
/// recorded gradient equals the plain `backward` gradient.
///
/// ```
/// use tapegrad::gradcheck::gradgradcheck;
/// use tapegrad::Tensor;
/// let x = Tensor::from_vec(vec![0.3, -0.7, 1.1], &[3]);
/// gradgradcheck(|v| (v[0].tanh() * v[0]).sum(), &[x]).unwrap();
/// ```
pub fn gradgradcheck<F>(f: F, inputs: &[Tensor<f64>]) -> Result<GradcheckReport, GradcheckError>
where
    F: for<'t> Fn(&[Var<'t, f64>]) -> Var<'t, f64>,
{
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x5eed);
    let weights: Vec<Tensor<f64>> =
        inputs.iter().map(|x| Tensor::from_vec((0..x.len()).map(|_| rng.gen_range(0.5..1.5)).collect(), x.shape())).collect();
    // The recorded first derivative must agree with the plain sweep.
    {
        let tape = Tape::new();
        let vars: Vec<Var<'_, f64>> = inputs.iter().map(|x| tape.var(x.clone())).collect();
        let y = f(&vars);
        let recorded: Vec<Tensor<f64>> = y.grad(&vars).iter().map(|g| g.value()).collect();
        let plain = y.backward();
        for (i, (r, v)) in recorded.iter().zip(&vars).enumerate() {
            for (j, (&a, &b)) in r.data().iter().zip(&plain[*v]).enumerate() {
                let tolerance = 1e-12 + 1e-9 * b.abs();
                if (a - b).is_nan() || (a - b).abs() > tolerance {
                    return Err(GradcheckError {
                        check: "recorded gradient",
                        input: i,
                        index: unravel(j, r.shape()),
                        analytic: a,
                        numeric: b,
                        error: (a - b).abs(),
                        tolerance,
                    });
                }
            }
        }
    }
    gradcheck(
        |v| {
            let grads = f(v).grad(v);
            let tape = v[0].tape();
            let mut h = (grads[0] * tape.constant(weights[0].clone())).sum();
            for (g, w) in grads.iter().zip(&weights).skip(1) {
                h = h + (*g * tape.constant(w.clone())).sum();
            }
            h
        },
        inputs,
    )
}
