//! Weight penalties as expressions on the tape, as Keras' `keras.regularizers`: the penalty of a
//! weight is an ordinary [`Var`], so adding it to the loss gives its gradient for free.
//!
//! Keras turns a Python-float factor into a float32 tensor before multiplying, so `L2(0.01)` is
//! `0.009999999776482582 * sum(W^2)` even in float64; tapegrad rounds the factors of `L1`, `L2` and
//! `L1L2` the same way. (`OrthogonalRegularizer`'s factor is used as given.)
//!
//! ```
//! use tapegrad::nn::Regularizer;
//! use tapegrad::{Tape, Tensor};
//! let tape = Tape::<f64>::new();
//! let w = tape.var(Tensor::from_vec(vec![1.0, -2.0], &[2]));
//! let penalty = Regularizer::l2(0.5).unwrap().penalty(w);
//! assert_eq!(penalty.item(), 2.5); // 0.5 * (1 + 4), no 1/2 as Keras
//! let g = penalty.backward();
//! assert_eq!(g[w].to_vec(), vec![1.0, -2.0]);
//! ```

use crate::tape::Var;
use crate::tensor::{Float, Tensor};
use std::fmt;

/// A bad regularizer argument: names the regularizer, the argument and its value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegularizerError(pub String);

impl fmt::Display for RegularizerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for RegularizerError {}

/// Which vectors `OrthogonalRegularizer` keeps apart: the rows or the columns of the matrix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrthogonalMode {
    /// Rows (Keras' default).
    Rows,
    /// Columns.
    Columns,
}

/// A weight penalty, as Keras' regularizers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Regularizer {
    /// `l1 * sum(|W|)` (the gradient of `|x|` is 0 at 0).
    L1(f64),
    /// `l2 * sum(W^2)` (no factor 1/2, as Keras).
    L2(f64),
    /// `l1 * sum(|W|) + l2 * sum(W^2)`.
    L1L2 {
        /// The L1 factor.
        l1: f64,
        /// The L2 factor.
        l2: f64,
    },
    /// `factor` times the mean over pairs `i < j` of `|cos(v_i, v_j)|`, the `v` being the rows (or
    /// columns) of a matrix, each scaled by `min(1 / |v|, 1e7)`.
    Orthogonal {
        /// The factor (not rounded to float32).
        factor: f64,
        /// Rows or columns.
        mode: OrthogonalMode,
    },
}

fn check(name: &str, arg: &str, v: f64) -> Result<(), RegularizerError> {
    if v.is_finite() && v >= 0.0 {
        Ok(())
    } else {
        Err(RegularizerError(format!("{name}: argument '{arg}' must be a finite number >= 0 (got {v})")))
    }
}

/// A Keras hyperparameter that went through a float32 tensor.
fn f32_rounded<T: Float>(v: f64) -> T {
    T::from_f64(v as f32 as f64)
}

impl Regularizer {
    /// Keras' `L1(l1)`; a negative or non-finite factor is an error naming it.
    pub fn l1(l1: f64) -> Result<Self, RegularizerError> {
        check("L1", "l1", l1)?;
        Ok(Regularizer::L1(l1))
    }
    /// Keras' `L2(l2)`; a negative or non-finite factor is an error naming it.
    pub fn l2(l2: f64) -> Result<Self, RegularizerError> {
        check("L2", "l2", l2)?;
        Ok(Regularizer::L2(l2))
    }
    /// Keras' `L1L2(l1, l2)`; a negative or non-finite factor is an error naming it.
    pub fn l1_l2(l1: f64, l2: f64) -> Result<Self, RegularizerError> {
        check("L1L2", "l1", l1)?;
        check("L1L2", "l2", l2)?;
        Ok(Regularizer::L1L2 { l1, l2 })
    }
    /// Keras' `OrthogonalRegularizer(factor, mode)`; a negative or non-finite factor is an error.
    pub fn orthogonal(factor: f64, mode: OrthogonalMode) -> Result<Self, RegularizerError> {
        check("OrthogonalRegularizer", "factor", factor)?;
        Ok(Regularizer::Orthogonal { factor, mode })
    }

    /// From Keras' serialized form: the class name (`"L1"`, `"L2"`, `"L1L2"`,
    /// `"OrthogonalRegularizer"`) and its `get_config()` arguments (missing ones take Keras'
    /// defaults: 0.01 for `l1` / `l2` of L1 and L2, 0 for L1L2's, `factor` 0.01, mode rows). An
    /// unknown class or argument, or a bad value, is an error naming it.
    ///
    /// ```
    /// use tapegrad::nn::Regularizer;
    /// let args = serde_json::json!({"l2": 0.01});
    /// assert_eq!(Regularizer::from_keras("L2", &args).unwrap(), Regularizer::L2(0.01));
    /// assert!(Regularizer::from_keras("L3", &args).is_err());
    /// ```
    pub fn from_keras(class_name: &str, args: &serde_json::Value) -> Result<Self, RegularizerError> {
        let empty = serde_json::Map::new();
        let map = match args {
            serde_json::Value::Null => &empty,
            v => v.as_object().ok_or_else(|| RegularizerError(format!("{class_name}: arguments must be an object (got {v})")))?,
        };
        let known: &[&str] = match class_name {
            "L1" => &["l1"],
            "L2" => &["l2"],
            "L1L2" => &["l1", "l2"],
            "OrthogonalRegularizer" => &["factor", "mode"],
            other => {
                return Err(RegularizerError(format!(
                    "unknown regularizer '{other}'; known: L1, L2, L1L2, OrthogonalRegularizer"
                )))
            }
        };
        if let Some(k) = map.keys().find(|k| !known.contains(&k.as_str())) {
            return Err(RegularizerError(format!("{class_name}: unknown argument '{k}'; known: {}", known.join(", "))));
        }
        let num = |key: &str, default: f64| -> Result<f64, RegularizerError> {
            match map.get(key) {
                None | Some(serde_json::Value::Null) => Ok(default),
                Some(v) => v
                    .as_f64()
                    .ok_or_else(|| RegularizerError(format!("{class_name}: argument '{key}' must be a number (got {v})"))),
            }
        };
        match class_name {
            "L1" => Regularizer::l1(num("l1", 0.01)?),
            "L2" => Regularizer::l2(num("l2", 0.01)?),
            "L1L2" => Regularizer::l1_l2(num("l1", 0.0)?, num("l2", 0.0)?),
            _ => {
                let mode = match map.get("mode").and_then(serde_json::Value::as_str).unwrap_or("rows") {
                    "rows" => OrthogonalMode::Rows,
                    "columns" => OrthogonalMode::Columns,
                    m => {
                        return Err(RegularizerError(format!(
                            "OrthogonalRegularizer: argument 'mode' must be 'rows' or 'columns' (got '{m}')"
                        )))
                    }
                };
                Regularizer::orthogonal(num("factor", 0.01)?, mode)
            }
        }
    }

    /// Keras' class name.
    pub fn name(&self) -> &'static str {
        match self {
            Regularizer::L1(_) => "L1",
            Regularizer::L2(_) => "L2",
            Regularizer::L1L2 { .. } => "L1L2",
            Regularizer::Orthogonal { .. } => "OrthogonalRegularizer",
        }
    }

    /// Keras' `get_config()` of the regularizer, for saving.
    pub fn config(&self) -> serde_json::Value {
        match *self {
            Regularizer::L1(l1) => serde_json::json!({ "l1": l1 }),
            Regularizer::L2(l2) => serde_json::json!({ "l2": l2 }),
            Regularizer::L1L2 { l1, l2 } => serde_json::json!({ "l1": l1, "l2": l2 }),
            Regularizer::Orthogonal { factor, mode } => serde_json::json!({
                "factor": factor,
                "mode": if mode == OrthogonalMode::Rows { "rows" } else { "columns" }
            }),
        }
    }

    /// The form a layer's configuration saves: `{"class": name, "args": config}` (the fixture's
    /// and Keras' `{"class_name", "config"}` shape), read back by [`from_json`](Self::from_json).
    ///
    /// ```
    /// use tapegrad::nn::Regularizer;
    /// let r = Regularizer::l1_l2(0.01, 0.02).unwrap();
    /// assert_eq!(Regularizer::from_json(&r.to_json()).unwrap(), r);
    /// ```
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({ "class": self.name(), "args": self.config() })
    }

    /// The regularizer of [`to_json`](Self::to_json)'s form.
    ///
    /// # Errors
    /// Not an object with a string `"class"` (and optional `"args"`), or what
    /// [`from_keras`](Self::from_keras) reports.
    pub fn from_json(v: &serde_json::Value) -> Result<Self, RegularizerError> {
        let obj = v.as_object().ok_or_else(|| RegularizerError(format!("a regularizer must be an object {{\"class\", \"args\"}} (got {v})")))?;
        if let Some(k) = obj.keys().find(|k| *k != "class" && *k != "args") {
            return Err(RegularizerError(format!("a regularizer has only \"class\" and \"args\" (got key {k:?})")));
        }
        let class = obj.get("class").and_then(serde_json::Value::as_str).ok_or_else(|| RegularizerError(format!("a regularizer needs a string \"class\" (got {v})")))?;
        Self::from_keras(class, obj.get("args").unwrap_or(&serde_json::Value::Null))
    }

    /// Whether the factors are what the constructors accept (finite, `>= 0`). The variants can be
    /// written directly (`Regularizer::L2(-0.5)`), so [`check_shape`](Self::check_shape), which a
    /// layer runs when the model is built, checks them again: a negative penalty is an error naming
    /// it, never a silent negative loss term.
    ///
    /// ```
    /// use tapegrad::nn::Regularizer;
    /// let e = Regularizer::L2(-0.5).check_arguments().unwrap_err();
    /// assert_eq!(e.to_string(), "L2: argument 'l2' must be a finite number >= 0 (got -0.5)");
    /// ```
    pub fn check_arguments(&self) -> Result<(), RegularizerError> {
        match *self {
            Regularizer::L1(l1) => check("L1", "l1", l1),
            Regularizer::L2(l2) => check("L2", "l2", l2),
            Regularizer::L1L2 { l1, l2 } => check("L1L2", "l1", l1).and_then(|()| check("L1L2", "l2", l2)),
            Regularizer::Orthogonal { factor, .. } => check("OrthogonalRegularizer", "factor", factor),
        }
    }

    /// Whether [`penalty`](Self::penalty) takes a weight of `shape`: `Orthogonal` needs a matrix
    /// with at least 2 rows (or columns); the others take any shape. The error names the shape,
    /// or the factor when it is one the constructors refuse ([`check_arguments`](Self::check_arguments)).
    pub fn check_shape(&self, shape: &[usize]) -> Result<(), RegularizerError> {
        self.check_arguments()?;
        if let Regularizer::Orthogonal { mode, .. } = *self {
            let size = match (shape, mode) {
                ([rows, _], OrthogonalMode::Rows) => *rows,
                ([_, cols], OrthogonalMode::Columns) => *cols,
                _ => 0,
            };
            if size < 2 {
                return Err(RegularizerError(format!("OrthogonalRegularizer: needs a matrix of at least 2 {mode:?}, got shape {shape:?}")));
            }
        }
        Ok(())
    }

    /// The penalty of `w` as a rank-0 expression on `w`'s tape (its gradient flows to `w`).
    /// `Orthogonal` needs a matrix (rank 2, at least 2 vectors) and panics naming the shape otherwise.
    #[track_caller]
    pub fn penalty<'t, T: Float>(&self, w: Var<'t, T>) -> Var<'t, T> {
        match *self {
            Regularizer::L1(l1) => w.abs().sum() * f32_rounded::<T>(l1),
            Regularizer::L2(l2) => w.square().sum() * f32_rounded::<T>(l2),
            Regularizer::L1L2 { l1, l2 } => {
                // Keras starts from 0 and adds each non-zero term in turn.
                let mut total = w.tape().scalar(T::ZERO);
                if l1 != 0.0 {
                    total = total + w.abs().sum() * f32_rounded::<T>(l1);
                }
                if l2 != 0.0 {
                    total = total + w.square().sum() * f32_rounded::<T>(l2);
                }
                total
            }
            Regularizer::Orthogonal { factor, mode } => orthogonal(w, T::from_f64(factor), mode),
        }
    }
}

#[track_caller]
fn orthogonal<'t, T: Float>(w: Var<'t, T>, factor: T, mode: OrthogonalMode) -> Var<'t, T> {
    let shape = w.shape();
    assert!(
        shape.len() == 2,
        "OrthogonalRegularizer: the weight must be a matrix, got shape {:?}",
        &shape[..]
    );
    let tape = w.tape();
    let axis = if mode == OrthogonalMode::Rows { 1 } else { 0 };
    let size = shape[1 - axis as usize];
    assert!(size >= 2, "OrthogonalRegularizer: needs at least 2 {mode:?}, got shape {:?}", &shape[..]);
    // Each vector scaled by 1 / sqrt(max(|v|^2, 1e-14)) = min(1 / |v|, 1e7).
    let sq = w.square().sum_axis(axis, true);
    let floor = tape.scalar(T::from_f64(1e-14));
    let unit = w / sq.maximum(floor).sqrt();
    let product = match mode {
        OrthogonalMode::Rows => unit.matmul(unit.t()),
        OrthogonalMode::Columns => unit.t().matmul(unit),
    };
    let mut off = Tensor::full(&[size, size], T::ONE);
    for i in 0..size {
        off.set(&[i, i], T::ZERO);
    }
    let off_diagonal = product * tape.constant(off);
    let pairs = T::from_f64((size * (size - 1)) as f64 / 2.0);
    off_diagonal.abs().sum() * (factor * T::from_f64(0.5)) / pairs
}
