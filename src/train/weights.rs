//! Keras' `sample_weight`, `class_weight` and `validation_split` arguments of `fit`, checked and
//! turned into one weight per training row and a held-out tail.

use super::TrainError;
use crate::tensor::{Float, Tensor};
use std::collections::{BTreeMap, BTreeSet};

/// Rows `[start, end)` of `t` (first axis), copied.
pub(crate) fn rows<T: Float>(t: &Tensor<T>, start: usize, end: usize) -> Tensor<T> {
    let n = if t.rank() == 0 { 1 } else { t.shape()[0] };
    let width = t.len() / n.max(1);
    let mut shape = t.shape().to_vec();
    if let Some(first) = shape.first_mut() {
        *first = end - start;
    }
    Tensor::from_vec(t.data()[start * width..end * width].to_vec(), &shape)
}

/// Where `validation_split` cuts `n` rows (Keras: `floor(n * (1 - split))`), or `None` for no split.
///
/// # Errors
/// A split outside `[0, 1)`, or one that leaves no training or no validation row.
pub(crate) fn split_point(n: usize, split: f64) -> Result<Option<usize>, TrainError> {
    if !(0.0..1.0).contains(&split) {
        return Err(TrainError::argument("validation_split", split, "must be in [0, 1)"));
    }
    if split == 0.0 {
        return Ok(None);
    }
    let at = (n as f64 * (1.0 - split)).floor() as usize;
    if at == 0 || at == n {
        return Err(TrainError::argument(
            "validation_split",
            split,
            format!("the training data has {n} rows, too few to split into training and validation rows"),
        ));
    }
    Ok(Some(at))
}

/// Checks a `sample_weight` for `n` rows: one finite, non-negative value per row.
pub(crate) fn check_sample_weight<T: Float>(w: &Tensor<T>, n: usize) -> Result<Vec<T>, TrainError> {
    let flat = w.rank() == 1 || (w.rank() == 2 && w.shape()[1] == 1);
    if !flat || w.len() != n {
        return Err(TrainError::argument(
            "sample_weight",
            format!("a tensor of shape {:?}", w.shape()),
            format!("must hold one weight per row of x ({n} rows)"),
        ));
    }
    if let Some((i, v)) = w.data().iter().enumerate().find(|(_, v)| !(v.is_finite() && **v >= T::ZERO)) {
        return Err(TrainError::argument(
            "sample_weight",
            format!("{v} at row {i}"),
            "every weight must be finite and non-negative",
        ));
    }
    Ok(w.data().to_vec())
}

/// The class id of each row of `y` as Keras reads it for `class_weight`: the argmax of a row of
/// several values, else the rounded value.
fn class_ids<T: Float>(y: &Tensor<T>, rows: usize) -> Vec<i64> {
    let width = y.len() / rows.max(1);
    y.data()
        .chunks(width.max(1))
        .map(|r| {
            if width > 1 {
                // First maximum, as NumPy's argmax.
                let mut best = 0;
                for (j, v) in r.iter().enumerate() {
                    if *v > r[best] {
                        best = j;
                    }
                }
                best as i64
            } else {
                r[0].to_f64().round() as i64
            }
        })
        .collect()
}

/// Each row's weight from `class_weight` (1 for classes it does not name).
///
/// # Errors
/// A class the targets do not hold, or a weight that is negative or not finite.
pub(crate) fn class_weights_for<T: Float>(class_weight: &BTreeMap<usize, f64>, y: &Tensor<T>, rows: usize) -> Result<Vec<T>, TrainError> {
    let ids = class_ids(y, rows);
    let present: BTreeSet<i64> = ids.iter().copied().collect();
    for (&class, &w) in class_weight {
        if !(w.is_finite() && w >= 0.0) {
            return Err(TrainError::argument("class_weight", format!("{{{class}: {w}}}"), "every weight must be finite and non-negative"));
        }
        if !present.contains(&(class as i64)) {
            let known: Vec<String> = present.iter().map(i64::to_string).collect();
            return Err(TrainError::argument(
                "class_weight",
                format!("{{{class}: {w}}}"),
                format!("class {class} is not in the targets (classes: {})", known.join(", ")),
            ));
        }
    }
    Ok(ids
        .iter()
        .map(|&c| T::from_f64(usize::try_from(c).ok().and_then(|c| class_weight.get(&c)).copied().unwrap_or(1.0)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_takes_keras_floor_and_refuses_bad_fractions() {
        assert_eq!(split_point(10, 0.2).unwrap(), Some(8));
        assert_eq!(split_point(10, 0.25).unwrap(), Some(7));
        assert_eq!(split_point(10, 0.0).unwrap(), None);
        assert!(split_point(10, 1.0).unwrap_err().to_string().starts_with("validation_split = 1:"));
        assert!(split_point(1, 0.5).unwrap_err().to_string().contains("1 rows, too few"));
        assert!(split_point(10, -0.1).is_err());
    }

    #[test]
    fn class_ids_round_or_argmax() {
        let y = Tensor::from_vec(vec![0.0, 1.0, 0.9, 2.2], &[4]);
        let cw = BTreeMap::from([(1usize, 3.0), (2, 0.5)]);
        assert_eq!(class_weights_for(&cw, &y, 4).unwrap(), vec![1.0, 3.0, 3.0, 0.5]);
        let onehot = Tensor::from_vec(vec![0.0, 1.0, 1.0, 0.0], &[2, 2]);
        assert_eq!(class_weights_for(&BTreeMap::from([(0usize, 2.0)]), &onehot, 2).unwrap(), vec![1.0, 2.0]);
        let e = class_weights_for(&BTreeMap::from([(5usize, 2.0)]), &onehot, 2).unwrap_err().to_string();
        assert_eq!(e, "class_weight = {5: 2}: class 5 is not in the targets (classes: 0, 1)");
    }

    #[test]
    fn sample_weight_is_checked() {
        let w = Tensor::from_vec(vec![1.0, -0.5], &[2]);
        assert_eq!(check_sample_weight(&w, 2).unwrap_err().to_string(), "sample_weight = -0.5 at row 1: every weight must be finite and non-negative");
        let e = check_sample_weight(&Tensor::from_vec(vec![1.0; 3], &[3]), 2).unwrap_err().to_string();
        assert_eq!(e, "sample_weight = a tensor of shape [3]: must hold one weight per row of x (2 rows)");
    }
}
