//! Mean and standard deviation over repeats.

/// Arithmetic mean of `xs`; `NaN` for an empty slice.
///
/// ```
/// assert_eq!(tapegrad::report::mean(&[1.0, 2.0, 6.0]), 3.0);
/// ```
pub fn mean(xs: &[f64]) -> f64 {
    if xs.is_empty() {
        return f64::NAN;
    }
    xs.iter().sum::<f64>() / xs.len() as f64
}

/// Population standard deviation of `xs` (divides by `n`, as numpy's `std` does by default);
/// `0` for a single value, `NaN` for an empty slice.
///
/// ```
/// assert_eq!(tapegrad::report::std_dev(&[1.0, 3.0]), 1.0);
/// ```
pub fn std_dev(xs: &[f64]) -> f64 {
    let m = mean(xs);
    if xs.is_empty() {
        return f64::NAN;
    }
    let var = xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / xs.len() as f64;
    var.sqrt()
}

/// The `q`-quantile (0..=1) of already sorted, non-empty `sorted`, interpolating linearly
/// between neighbours (numpy's default method).
pub(crate) fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    let frac = pos - lo as f64;
    sorted[lo] + (sorted[hi] - sorted[lo]) * frac
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_match_numpy_linear() {
        let xs = [1.0, 2.0, 4.0, 8.0];
        // numpy.quantile([1,2,4,8], [0, .25, .5, .75, 1]) = 1, 1.75, 3, 5, 8
        let got: Vec<f64> = [0.0, 0.25, 0.5, 0.75, 1.0]
            .iter()
            .map(|&q| quantile_sorted(&xs, q))
            .collect();
        assert_eq!(got, vec![1.0, 1.75, 3.0, 5.0, 8.0]);
    }

    #[test]
    fn std_is_population() {
        assert!((std_dev(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]) - 2.0).abs() < 1e-12);
        assert_eq!(std_dev(&[0.5]), 0.0);
        assert!(mean(&[]).is_nan());
    }
}
