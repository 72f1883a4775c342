//! Weight constraints, as Keras' `keras.constraints`: a projection applied to a weight in place
//! right after each optimizer update (never to the initial weights).
//!
//! Norms are L2 norms over `axis` (Keras' meaning: the axes reduced; for a Dense kernel of shape
//! `(inputs, units)` axis 0 gives each unit's incoming weights), and Keras adds `1e-7` to the norm
//! in the denominator, so `MaxNorm` shrinks even weights inside its bound by `n / (n + 1e-7)`.
//!
//! ```
//! use tapegrad::nn::Constraint;
//! // A 2x2 kernel whose columns have norms 5 and 1.
//! let mut w = vec![3.0f64, 1.0, 4.0, 0.0];
//! Constraint::max_norm(2.0, &[0]).unwrap().apply(&mut w, &[2, 2]);
//! assert!((w[0] - 3.0 * 2.0 / (5.0 + 1e-7)).abs() < 1e-15);
//! assert!((w[1] - 1.0 / (1.0 + 1e-7)).abs() < 1e-15);
//! ```

use crate::tensor::{Float, Tensor};
use std::fmt;

/// Keras' `backend.epsilon()`, added to every norm.
pub const NORM_EPSILON: f64 = 1e-7;

/// A bad constraint argument: names the constraint, the argument and its value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConstraintError(pub String);

impl fmt::Display for ConstraintError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for ConstraintError {}

/// A projection of a weight tensor, as Keras' constraints.
#[derive(Clone, Debug, PartialEq)]
pub enum Constraint {
    /// `W * clip(n, 0, max_value) / (1e-7 + n)`, `n` the norms over `axis`.
    MaxNorm {
        /// The largest norm.
        max_value: f64,
        /// The axes the norms reduce (negative counts from the end).
        axis: Vec<isize>,
    },
    /// `W * (rate * clip(n, min_value, max_value) + (1 - rate) * n) / (1e-7 + n)`.
    MinMaxNorm {
        /// The smallest norm.
        min_value: f64,
        /// The largest norm.
        max_value: f64,
        /// How far each step goes to the bounds (1: all the way).
        rate: f64,
        /// The axes the norms reduce.
        axis: Vec<isize>,
    },
    /// `max(W, 0)` elementwise.
    NonNeg,
    /// `W / (1e-7 + n)`.
    UnitNorm {
        /// The axes the norms reduce.
        axis: Vec<isize>,
    },
}

fn check(name: &str, arg: &str, v: f64) -> Result<(), ConstraintError> {
    if v.is_finite() && v >= 0.0 {
        Ok(())
    } else {
        Err(ConstraintError(format!("{name}: argument '{arg}' must be a finite number >= 0 (got {v})")))
    }
}

fn check_axis(name: &str, axis: &[isize]) -> Result<(), ConstraintError> {
    if axis.is_empty() {
        return Err(ConstraintError(format!("{name}: argument 'axis' names no axis (got {axis:?})")));
    }
    Ok(())
}

impl Constraint {
    /// Keras' `MaxNorm(max_value, axis)` (Keras' defaults: 2, axis 0).
    pub fn max_norm(max_value: f64, axis: &[isize]) -> Result<Self, ConstraintError> {
        check("MaxNorm", "max_value", max_value)?;
        check_axis("MaxNorm", axis)?;
        Ok(Constraint::MaxNorm { max_value, axis: axis.to_vec() })
    }
    /// Keras' `MinMaxNorm(min_value, max_value, rate, axis)` (Keras' defaults: 0, 1, 1, axis 0);
    /// `min_value > max_value` or a rate outside [0, 1] is an error naming it.
    pub fn min_max_norm(min_value: f64, max_value: f64, rate: f64, axis: &[isize]) -> Result<Self, ConstraintError> {
        check("MinMaxNorm", "min_value", min_value)?;
        check("MinMaxNorm", "max_value", max_value)?;
        if min_value > max_value {
            return Err(ConstraintError(format!(
                "MinMaxNorm: argument 'min_value' ({min_value}) is larger than 'max_value' ({max_value})"
            )));
        }
        if !(0.0..=1.0).contains(&rate) {
            return Err(ConstraintError(format!("MinMaxNorm: argument 'rate' must be in [0, 1] (got {rate})")));
        }
        check_axis("MinMaxNorm", axis)?;
        Ok(Constraint::MinMaxNorm { min_value, max_value, rate, axis: axis.to_vec() })
    }
    /// Keras' `NonNeg()`.
    pub fn non_neg() -> Self {
        Constraint::NonNeg
    }
    /// Keras' `UnitNorm(axis)` (Keras' default: axis 0).
    pub fn unit_norm(axis: &[isize]) -> Result<Self, ConstraintError> {
        check_axis("UnitNorm", axis)?;
        Ok(Constraint::UnitNorm { axis: axis.to_vec() })
    }

    /// From Keras' serialized form: the class name (`"MaxNorm"`, `"MinMaxNorm"`, `"NonNeg"`,
    /// `"UnitNorm"`) and its `get_config()` arguments (missing ones take Keras' defaults; `axis` an
    /// integer or a list). An unknown class or argument, or a bad value, is an error naming it.
    ///
    /// ```
    /// use tapegrad::nn::Constraint;
    /// let args = serde_json::json!({"max_value": 1.0, "axis": 0});
    /// assert_eq!(Constraint::from_keras("MaxNorm", &args).unwrap(), Constraint::max_norm(1.0, &[0]).unwrap());
    /// assert!(Constraint::from_keras("MaxNorm", &serde_json::json!({"max_value": -1.0})).is_err());
    /// ```
    pub fn from_keras(class_name: &str, args: &serde_json::Value) -> Result<Self, ConstraintError> {
        let empty = serde_json::Map::new();
        let map = match args {
            serde_json::Value::Null => &empty,
            v => v.as_object().ok_or_else(|| ConstraintError(format!("{class_name}: arguments must be an object (got {v})")))?,
        };
        let known: &[&str] = match class_name {
            "MaxNorm" => &["max_value", "axis"],
            "MinMaxNorm" => &["min_value", "max_value", "rate", "axis"],
            "NonNeg" => &[],
            "UnitNorm" => &["axis"],
            other => {
                return Err(ConstraintError(format!("unknown constraint '{other}'; known: MaxNorm, MinMaxNorm, NonNeg, UnitNorm")))
            }
        };
        if let Some(k) = map.keys().find(|k| !known.contains(&k.as_str())) {
            return Err(ConstraintError(format!("{class_name}: unknown argument '{k}'; known: {}", known.join(", "))));
        }
        let num = |key: &str, default: f64| -> Result<f64, ConstraintError> {
            match map.get(key) {
                None | Some(serde_json::Value::Null) => Ok(default),
                Some(v) => v.as_f64().ok_or_else(|| ConstraintError(format!("{class_name}: argument '{key}' must be a number (got {v})"))),
            }
        };
        let bad_axis = |v: &serde_json::Value| ConstraintError(format!("{class_name}: argument 'axis' must be an integer or a list of them (got {v})"));
        let axis: Vec<isize> = match map.get("axis") {
            None | Some(serde_json::Value::Null) => vec![0],
            Some(serde_json::Value::Array(items)) => {
                items.iter().map(|x| x.as_i64().map(|a| a as isize).ok_or_else(|| bad_axis(x))).collect::<Result<_, _>>()?
            }
            Some(v) => vec![v.as_i64().ok_or_else(|| bad_axis(v))? as isize],
        };
        match class_name {
            "MaxNorm" => Constraint::max_norm(num("max_value", 2.0)?, &axis),
            "MinMaxNorm" => Constraint::min_max_norm(num("min_value", 0.0)?, num("max_value", 1.0)?, num("rate", 1.0)?, &axis),
            "NonNeg" => Ok(Constraint::NonNeg),
            _ => Constraint::unit_norm(&axis),
        }
    }

    /// Keras' class name.
    pub fn name(&self) -> &'static str {
        match self {
            Constraint::MaxNorm { .. } => "MaxNorm",
            Constraint::MinMaxNorm { .. } => "MinMaxNorm",
            Constraint::NonNeg => "NonNeg",
            Constraint::UnitNorm { .. } => "UnitNorm",
        }
    }

    /// Keras' `get_config()`, for saving.
    pub fn config(&self) -> serde_json::Value {
        match self {
            Constraint::MaxNorm { max_value, axis } => serde_json::json!({"max_value": max_value, "axis": axis}),
            Constraint::MinMaxNorm { min_value, max_value, rate, axis } => serde_json::json!({
                "min_value": min_value, "max_value": max_value, "rate": rate, "axis": axis}),
            Constraint::NonNeg => serde_json::json!({}),
            Constraint::UnitNorm { axis } => serde_json::json!({"axis": axis}),
        }
    }

    /// The form a layer's configuration saves: `{"class": name, "args": config}`, read back by
    /// [`from_json`](Self::from_json).
    ///
    /// ```
    /// use tapegrad::nn::Constraint;
    /// let c = Constraint::max_norm(1.5, &[0]).unwrap();
    /// assert_eq!(Constraint::from_json(&c.to_json()).unwrap(), c);
    /// ```
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({ "class": self.name(), "args": self.config() })
    }

    /// The constraint of [`to_json`](Self::to_json)'s form.
    ///
    /// # Errors
    /// Not an object with a string `"class"` (and optional `"args"`), or what
    /// [`from_keras`](Self::from_keras) reports.
    pub fn from_json(v: &serde_json::Value) -> Result<Self, ConstraintError> {
        let obj = v.as_object().ok_or_else(|| ConstraintError(format!("a constraint must be an object {{\"class\", \"args\"}} (got {v})")))?;
        if let Some(k) = obj.keys().find(|k| *k != "class" && *k != "args") {
            return Err(ConstraintError(format!("a constraint has only \"class\" and \"args\" (got key {k:?})")));
        }
        let class = obj.get("class").and_then(serde_json::Value::as_str).ok_or_else(|| ConstraintError(format!("a constraint needs a string \"class\" (got {v})")))?;
        Self::from_keras(class, obj.get("args").unwrap_or(&serde_json::Value::Null))
    }

    /// Whether the arguments are what the constructors accept. The variants can be written
    /// directly (`Constraint::MaxNorm { max_value: -1.0, .. }`), so
    /// [`check_shape`](Self::check_shape), which a layer runs when the model is built, checks them
    /// again; the error names the argument and the value.
    ///
    /// ```
    /// use tapegrad::nn::Constraint;
    /// let e = Constraint::MaxNorm { max_value: -1.0, axis: vec![0] }.check_arguments().unwrap_err();
    /// assert_eq!(e.to_string(), "MaxNorm: argument 'max_value' must be a finite number >= 0 (got -1)");
    /// ```
    pub fn check_arguments(&self) -> Result<(), ConstraintError> {
        match self {
            Constraint::MaxNorm { max_value, axis } => Self::max_norm(*max_value, axis).map(drop),
            Constraint::MinMaxNorm { min_value, max_value, rate, axis } => Self::min_max_norm(*min_value, *max_value, *rate, axis).map(drop),
            Constraint::NonNeg => Ok(()),
            Constraint::UnitNorm { axis } => Self::unit_norm(axis).map(drop),
        }
    }

    /// Whether `apply` can project a weight of `shape` (every axis inside it); an error names
    /// the constraint, the axis and the shape, or an argument the constructors refuse
    /// ([`check_arguments`](Self::check_arguments)).
    pub fn check_shape(&self, shape: &[usize]) -> Result<(), ConstraintError> {
        self.check_arguments()?;
        let axis: &[isize] = match self {
            Constraint::NonNeg => return Ok(()),
            Constraint::MaxNorm { axis, .. } | Constraint::MinMaxNorm { axis, .. } | Constraint::UnitNorm { axis } => axis,
        };
        let rank = shape.len() as isize;
        match axis.iter().find(|&&a| !(-rank..rank).contains(&a)) {
            Some(a) => Err(ConstraintError(format!("{}: axis {a} is outside a weight of shape {shape:?}", self.name()))),
            None => Ok(()),
        }
    }

    /// Projects the weight `w` of shape `shape` in place. Panics (naming the constraint, the axis
    /// and the shape) when an axis is outside the shape or `w` does not fill it.
    #[track_caller]
    pub fn apply<T: Float>(&self, w: &mut [T], shape: &[usize]) {
        let numel: usize = shape.iter().product();
        assert_eq!(w.len(), numel, "{}: {} values cannot fill shape {shape:?}", self.name(), w.len());
        let (axis, scale): (&[isize], Box<dyn Fn(T) -> T>) = match self {
            Constraint::NonNeg => {
                for x in w.iter_mut() {
                    // Keras multiplies by (w >= 0): a negative weight becomes -0, NaN stays NaN.
                    let keep = if *x >= T::ZERO { T::ONE } else { T::ZERO };
                    *x *= keep;
                }
                return;
            }
            Constraint::MaxNorm { max_value, axis } => {
                let (max, eps) = (T::from_f64(*max_value), T::from_f64(NORM_EPSILON));
                (axis, Box::new(move |n: T| n.max(T::ZERO).min(max) / (eps + n)))
            }
            Constraint::MinMaxNorm { min_value, max_value, rate, axis } => {
                let (lo, hi, r, eps) =
                    (T::from_f64(*min_value), T::from_f64(*max_value), T::from_f64(*rate), T::from_f64(NORM_EPSILON));
                let one_minus_r = T::from_f64(1.0 - *rate);
                (axis, Box::new(move |n: T| (r * n.max(lo).min(hi) + one_minus_r * n) / (eps + n)))
            }
            Constraint::UnitNorm { axis } => {
                let eps = T::from_f64(NORM_EPSILON);
                (axis, Box::new(move |n: T| T::ONE / (eps + n)))
            }
        };
        let reduced = reduced_axes(self.name(), axis, shape);
        // Strides of the kept index space: reduced axes contribute 0.
        let mut kept_strides = vec![0usize; shape.len()];
        let mut kept = 1usize;
        for d in (0..shape.len()).rev() {
            if !reduced[d] {
                kept_strides[d] = kept;
                kept *= shape[d];
            }
        }
        let mut sums = vec![T::ZERO; kept];
        for_each_index(shape, &kept_strides, |flat, k| sums[k] += w[flat] * w[flat]);
        for s in sums.iter_mut() {
            *s = scale(s.sqrt());
        }
        for_each_index(shape, &kept_strides, |flat, k| w[flat] *= sums[k]);
    }

    /// [`apply`](Self::apply) to a tensor.
    #[track_caller]
    pub fn apply_tensor<T: Float>(&self, w: &mut Tensor<T>) {
        let shape = w.shape().to_vec();
        self.apply(w.data_mut(), &shape);
    }
}

#[track_caller]
fn reduced_axes(name: &str, axis: &[isize], shape: &[usize]) -> Vec<bool> {
    let rank = shape.len() as isize;
    let mut reduced = vec![false; shape.len()];
    for &a in axis {
        let d = if a < 0 { a + rank } else { a };
        assert!((0..rank).contains(&d), "{name}: axis {a} is outside a weight of shape {shape:?}");
        reduced[d as usize] = true;
    }
    reduced
}

/// Calls `f(flat, kept)` for every element in row-major order, `kept` the element's index in the
/// space of the kept axes.
fn for_each_index(shape: &[usize], kept_strides: &[usize], mut f: impl FnMut(usize, usize)) {
    let numel: usize = shape.iter().product();
    if numel == 0 {
        return;
    }
    let mut idx = vec![0usize; shape.len()];
    let mut k = 0usize;
    for flat in 0..numel {
        f(flat, k);
        for d in (0..shape.len()).rev() {
            idx[d] += 1;
            k += kept_strides[d];
            if idx[d] < shape[d] {
                break;
            }
            k -= kept_strides[d] * shape[d];
            idx[d] = 0;
        }
    }
}
