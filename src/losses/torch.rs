//! PyTorch's element-wise losses: Gaussian and Poisson negative log-likelihood, soft margin,
//! multilabel soft margin and smooth L1. Each returns PyTorch's `reduction="none"` values; their
//! mean is over every element (multilabel soft margin: over samples).

use super::weights::PerSample;
use super::{align, konst, LossError, LossOptions};
use crate::tape::Var;
use crate::tensor::Float;

/// PyTorch's `gaussian_nll_loss`: `0.5 (log v + (y_pred - y_true)^2 / v)` (plus `0.5 log 2π` when
/// `full`), `v = max(var, eps)`. `var` has y_pred's shape, or that shape with the last axis 1, or
/// one axis fewer (read as a trailing 1). As in PyTorch, the clamp is not differentiated: the
/// gradient for `var` is the derivative at `v`, passed through even where `var < eps`.
/// Variances must be positive.
pub(crate) fn gaussian_nll<'t, T: Float>(y_true: Var<'t, T>, y_pred: Var<'t, T>, var: Var<'t, T>, opts: &LossOptions) -> Result<PerSample<'t, T>, LossError> {
    let name = "gaussian_nll";
    let t = align(name, y_true, y_pred);
    let sp = y_pred.shape();
    let vs = var.shape();
    let var = if vs == sp || (vs.len() == sp.len() && vs.last() == Some(&1) && vs[..vs.len() - 1] == sp[..sp.len() - 1]) {
        var
    } else if vs.len() + 1 == sp.len() && vs[..] == sp[..sp.len() - 1] {
        let mut s = vs.to_vec();
        s.push(1);
        var.reshape(&s)
    } else {
        return Err(LossError(format!(
            "{name}: var of shape {:?} does not fit y_pred of shape {:?} (give the same shape, a last axis of 1, or one axis fewer)",
            &vs[..],
            &sp[..]
        )));
    };
    if let Some((i, v)) = var.with_data(|d| d.iter().enumerate().find(|(_, v)| **v <= T::ZERO || !v.is_finite()).map(|(i, v)| (i, *v))) {
        return Err(LossError(format!("{name}: var element {i} is {v}; variances must be positive and finite")));
    }
    let e = T::from_f64(opts.eps);
    // v = max(var, eps) in value, with d v / d var = 1 (PyTorch clamps a copy under no_grad).
    let v = var + (var.clip(e, T::from_f64(f64::INFINITY)) - var).detach();
    let mut l = (v.log() + (y_pred - t).square() / v) * T::from_f64(0.5);
    if opts.full {
        l = l + T::from_f64(0.5 * (2.0 * std::f64::consts::PI).ln());
    }
    Ok(PerSample::plain(l))
}

/// PyTorch's `poisson_nll_loss`: with `log_input`, `exp(x) - t x`; without, `x - t log(x + eps)`.
/// `full` adds Stirling's `t log t - t + 0.5 log(2π t)` where `t > 1`.
pub(crate) fn poisson_nll<'t, T: Float>(y_true: Var<'t, T>, y_pred: Var<'t, T>, opts: &LossOptions) -> Result<PerSample<'t, T>, LossError> {
    let t = align("poisson_nll", y_true, y_pred);
    let mut l = if opts.log_input { y_pred.exp() - t * y_pred } else { y_pred - t * (y_pred + T::from_f64(opts.eps)).log() };
    if opts.full {
        let stirling: Vec<T> = t.with_data(|d| {
            d.iter()
                .map(|&v| {
                    let v = v.to_f64();
                    T::from_f64(if v > 1.0 { v * v.ln() - v + 0.5 * (2.0 * std::f64::consts::PI * v).ln() } else { 0.0 })
                })
                .collect()
        });
        l = l + t.tape().leaf(&t.shape(), &stirling, false);
    }
    Ok(PerSample::plain(l))
}

/// PyTorch's `soft_margin_loss`: `log(1 + exp(-y x))` element-wise, as `softplus(-y x)`.
pub(crate) fn soft_margin<'t, T: Float>(y_true: Var<'t, T>, y_pred: Var<'t, T>) -> PerSample<'t, T> {
    let t = align("soft_margin", y_true, y_pred);
    PerSample::plain((-(t * y_pred)).softplus())
}

/// PyTorch's `multilabel_soft_margin_loss` per sample:
/// `(1/C) Σ_c w_c (y softplus(-x) + (1 - y) softplus(x))`, which is
/// `-(1/C) Σ_c w_c (y log σ(x) + (1 - y) log σ(-x))` without a log of a sigmoid.
pub(crate) fn multilabel_soft_margin<'t, T: Float>(y_true: Var<'t, T>, y_pred: Var<'t, T>, opts: &LossOptions) -> Result<PerSample<'t, T>, LossError> {
    let name = "multilabel_soft_margin";
    let t = align(name, y_true, y_pred);
    let sp = y_pred.shape();
    let c = *sp.last().unwrap_or(&1);
    let l = t * (-y_pred).softplus() + super::rsub(T::ONE, t) * y_pred.softplus();
    let l = match &opts.weight {
        None => l,
        Some(_) => {
            let w = super::weights::class_weights(name, opts.weight.as_deref(), c)?;
            let mut ws = vec![1usize; sp.len().max(1)];
            *ws.last_mut().unwrap() = c;
            l * y_pred.tape().leaf(&ws, &w.iter().map(|&v| T::from_f64(v)).collect::<Vec<_>>(), false)
        }
    };
    Ok(PerSample::plain(l.mean_axis(-1, false)))
}

/// PyTorch's `smooth_l1_loss`: `0.5 e^2 / beta` where `|e| < beta`, else `|e| - 0.5 beta`;
/// `beta = 0` is `|e|`.
pub(crate) fn smooth_l1<'t, T: Float>(y_true: Var<'t, T>, y_pred: Var<'t, T>, opts: &LossOptions) -> Result<PerSample<'t, T>, LossError> {
    let beta = opts.beta;
    if beta.is_nan() || beta < 0.0 {
        return Err(LossError(format!("smooth_l1: beta is {beta}, expected a number >= 0")));
    }
    let t = align("smooth_l1", y_true, y_pred);
    let e = y_pred - t;
    let a = e.abs();
    if beta == 0.0 {
        return Ok(PerSample::plain(a));
    }
    let b = T::from_f64(beta);
    let inside: Vec<T> = a.with_data(|d| d.iter().map(|&v| if v < b { T::ONE } else { T::ZERO }).collect());
    let inside = t.tape().leaf(&a.shape(), &inside, false);
    let quadratic = e.square() * T::from_f64(0.5 / beta);
    let linear = a - konst(a, 0.5 * beta);
    Ok(PerSample::plain(Var::where_(inside, quadratic, linear)))
}
