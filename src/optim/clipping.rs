//! Gradient clipping, as Keras' optimizers do it before the update rule sees the gradients.

use super::OptimError;
use crate::tensor::Float;

/// How an optimizer clips gradients before its update rule (Keras' `clipnorm`, `clipvalue` and
/// `global_clipnorm`; only one may be set, which this enum makes so by construction).
///
/// - `Norm(c)`: each variable's gradient `g` becomes `g * c / max(|g|, c)` (`|g|` its L2 norm).
/// - `Value(v)`: each element is clipped to `[-v, v]`.
/// - `GlobalNorm(c)`: every gradient of the step is scaled by `c * min(1 / G, 1 / c)`, `G` the L2
///   norm of all of them together; this needs the whole step, so it acts only through
///   [`Optimizer::step`](super::Optimizer::step).
///
/// ```
/// use tapegrad::optim::Clipping;
/// let mut g = vec![3.0f64, 4.0];
/// Clipping::Norm(1.0).clip_slot(&mut g);
/// assert!((g[0] - 0.6).abs() < 1e-15 && (g[1] - 0.8).abs() < 1e-15);
/// assert!(Clipping::from_keras(Some(1.0), Some(0.5), None).is_err()); // only one may be set
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum Clipping {
    /// No clipping (the default).
    #[default]
    None,
    /// Keras' `clipnorm`: per-variable L2 norm bound.
    Norm(f64),
    /// Keras' `clipvalue`: elementwise bound.
    Value(f64),
    /// Keras' `global_clipnorm`: bound on the norm of all the step's gradients together.
    GlobalNorm(f64),
}

impl Clipping {
    /// From Keras' three optional arguments: at most one may be set, and it must be a finite
    /// number > 0; otherwise the error names the arguments and their values.
    pub fn from_keras(clipnorm: Option<f64>, clipvalue: Option<f64>, global_clipnorm: Option<f64>) -> Result<Self, OptimError> {
        let set: Vec<(&str, f64)> = [("clipnorm", clipnorm), ("clipvalue", clipvalue), ("global_clipnorm", global_clipnorm)]
            .into_iter()
            .filter_map(|(n, v)| v.map(|v| (n, v)))
            .collect();
        if set.len() > 1 {
            return Err(OptimError(format!(
                "only one of clipnorm, clipvalue and global_clipnorm can be set (got {})",
                set.iter().map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>().join(", ")
            )));
        }
        let Some(&(name, v)) = set.first() else { return Ok(Clipping::None) };
        if !(v.is_finite() && v > 0.0) {
            return Err(OptimError(format!("argument '{name}' must be a finite number > 0 (got {v})")));
        }
        Ok(match name {
            "clipnorm" => Clipping::Norm(v),
            "clipvalue" => Clipping::Value(v),
            _ => Clipping::GlobalNorm(v),
        })
    }

    /// Clips one variable's gradient in place by `Norm` or `Value`; `None` and `GlobalNorm` leave
    /// it unchanged (the global scale is [`global_scale`](Self::global_scale)'s).
    pub fn clip_slot<T: Float>(self, grad: &mut [T]) {
        match self {
            Clipping::Norm(c) => {
                // TensorFlow's clip_by_norm: (g * c) / max(|g|, c), the norm 0 for a zero gradient.
                let c = T::from_f64(c);
                let sq = sum_of_squares(grad);
                let norm = if sq > T::ZERO { sq.sqrt() } else { sq };
                let d = norm.max(c);
                for g in grad.iter_mut() {
                    *g = *g * c / d;
                }
            }
            Clipping::Value(v) => {
                let v = T::from_f64(v);
                for g in grad.iter_mut() {
                    *g = g.max(-v).min(v);
                }
            }
            Clipping::None | Clipping::GlobalNorm(_) => {}
        }
    }

    /// `GlobalNorm(c)`'s factor for the step's gradients: `c * min(1 / G, 1 / c)` with `G` the
    /// square root of the sum of each variable's sum of squares (NaN when `G` is not finite, as
    /// Keras). `None` for the other variants.
    pub fn global_scale<T: Float>(self, grads: &[&[T]]) -> Option<T> {
        let sq = grads.iter().fold(T::ZERO, |s, g| s + sum_of_squares(g));
        self.global_scale_of_squares(sq)
    }

    /// [`global_scale`](Self::global_scale) from the gradients' joint sum of squares (each
    /// variable's sum of squares added in order), for a caller that sees one gradient at a time.
    ///
    /// ```
    /// use tapegrad::optim::Clipping;
    /// assert_eq!(Clipping::GlobalNorm(1.0).global_scale_of_squares(25.0f64), Some(0.2));
    /// assert_eq!(Clipping::Norm(1.0).global_scale_of_squares(25.0f64), None);
    /// ```
    pub fn global_scale_of_squares<T: Float>(self, sq: T) -> Option<T> {
        let Clipping::GlobalNorm(c) = self else { return None };
        let norm = sq.sqrt();
        let c = T::from_f64(c);
        let scale = c * (T::ONE / norm).min(T::ONE / c);
        // Keras adds (G - G), so an infinite or NaN norm makes the scale NaN.
        Some(if norm.is_finite() { scale } else { T::from_f64(f64::NAN) })
    }

    /// `true` unless `None`.
    pub fn is_active(self) -> bool {
        self != Clipping::None
    }
}

/// `Σ g_i²` in order, one variable's share of a gradient norm (`clipnorm`'s per variable,
/// `global_clipnorm`'s added over the variables in slot order).
pub(crate) fn sum_of_squares<T: Float>(g: &[T]) -> T {
    g.iter().fold(T::ZERO, |a, &x| a + x * x)
}
