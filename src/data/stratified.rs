//! Row splits by index, as scikit-learn's `train_test_split` draws them: shuffled, or stratified
//! by class (`stratify=y`, its `StratifiedShuffleSplit`), with numpy's legacy `RandomState(seed)`.

use super::numpy_rng::NumpyRng;

/// Train and test row indices, in the order scikit-learn returns them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SplitIndices {
    /// Training rows.
    pub train: Vec<usize>,
    /// Test rows.
    pub test: Vec<usize>,
}

/// Why rows cannot be split as asked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SplitError(pub String);

impl std::fmt::Display for SplitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SplitError {}

/// `(n_train, n_test)` for `n` rows: `ceil(test_size * n)` test rows, as scikit-learn counts.
fn sizes(n: usize, test_size: f64) -> Result<(usize, usize), SplitError> {
    if !(test_size > 0.0 && test_size < 1.0) {
        return Err(SplitError(format!("the test fraction must be strictly between 0 and 1, got {test_size}")));
    }
    let n_test = (test_size * n as f64).ceil() as usize;
    if n_test >= n {
        return Err(SplitError(format!("a test fraction of {test_size} of {n} rows leaves no training rows")));
    }
    Ok((n - n_test, n_test))
}

/// A shuffled split of `n` rows: the first `ceil(test_size * n)` entries of a numpy permutation
/// are the test rows (as `train_test_split(..., random_state=seed)` without `stratify`).
///
/// ```
/// let s = tapegrad::data::shuffle_split_indices(10, 0.3, 1).unwrap();
/// assert_eq!(s.test, [2, 9, 6]);
/// assert_eq!(s.train.len(), 7);
/// ```
///
/// # Errors
/// When `test_size` is not in (0, 1) or leaves no training rows.
pub fn shuffle_split_indices(n: usize, test_size: f64, seed: u32) -> Result<SplitIndices, SplitError> {
    let (_, n_test) = sizes(n, test_size)?;
    let order = NumpyRng::new(seed).permutation(n);
    Ok(SplitIndices { test: order[..n_test].to_vec(), train: order[n_test..].to_vec() })
}

/// scikit-learn's `_approximate_mode`: `n_draws` spread over classes in proportion to `counts`,
/// the rounding remainder given to the classes with the largest fractional parts, ties drawn at
/// random.
fn approximate_mode(counts: &[usize], n_draws: usize, rng: &mut NumpyRng) -> Vec<usize> {
    let total: usize = counts.iter().sum();
    let continuous: Vec<f64> = counts.iter().map(|&c| c as f64 / total as f64 * n_draws as f64).collect();
    let mut floored: Vec<usize> = continuous.iter().map(|v| v.floor() as usize).collect();
    let mut need = n_draws.saturating_sub(floored.iter().sum());
    if need > 0 {
        let remainder: Vec<f64> = continuous.iter().zip(&floored).map(|(c, &f)| c - f as f64).collect();
        let mut values = remainder.clone();
        values.sort_by(|a, b| b.total_cmp(a));
        values.dedup();
        for value in values {
            let inds: Vec<usize> = (0..remainder.len()).filter(|&i| remainder[i] == value).collect();
            let add_now = inds.len().min(need);
            // RandomState.choice(inds, add_now, replace=False) = inds[permutation(len)[:add_now]].
            let perm = rng.permutation(inds.len());
            for &p in &perm[..add_now] {
                floored[inds[p]] += 1;
            }
            need -= add_now;
            if need == 0 {
                break;
            }
        }
    }
    floored
}

/// A stratified split by class (`labels` are class indices `0..k`): every class keeps its share in
/// both parts, exactly as `train_test_split(..., stratify=y, random_state=seed)` chooses the rows.
///
/// ```
/// let labels = [0, 0, 0, 0, 1, 1, 1, 1, 1, 1];
/// let s = tapegrad::data::stratified_split_indices(&labels, 0.5, 0).unwrap();
/// let ones = s.test.iter().filter(|&&i| labels[i] == 1).count();
/// assert_eq!((s.test.len(), ones), (5, 3));
/// ```
///
/// # Errors
/// When `test_size` is not in (0, 1), a class has fewer than 2 rows, or either part would get fewer
/// rows than there are classes.
pub fn stratified_split_indices(labels: &[usize], test_size: f64, seed: u32) -> Result<SplitIndices, SplitError> {
    let n = labels.len();
    let (n_train, n_test) = sizes(n, test_size)?;
    let k = labels.iter().max().map_or(0, |m| m + 1);
    let mut counts = vec![0usize; k];
    for &l in labels {
        counts[l] += 1;
    }
    if let Some((class, &c)) = counts.iter().enumerate().find(|(_, &c)| c < 2) {
        return Err(SplitError(format!(
            "class {class} has {c} row(s); a stratified split needs at least 2 of each class"
        )));
    }
    if n_train < k || n_test < k {
        return Err(SplitError(format!(
            "{n_train} training and {n_test} test rows cannot hold each of the {k} classes; change the test fraction"
        )));
    }
    // Rows of each class in ascending order (numpy's stable argsort).
    let mut class_rows: Vec<Vec<usize>> = vec![Vec::new(); k];
    for (i, &l) in labels.iter().enumerate() {
        class_rows[l].push(i);
    }
    let mut rng = NumpyRng::new(seed);
    let n_i = approximate_mode(&counts, n_train, &mut rng);
    let remaining: Vec<usize> = counts.iter().zip(&n_i).map(|(c, t)| c - t).collect();
    let t_i = approximate_mode(&remaining, n_test, &mut rng);
    let (mut train, mut test) = (Vec::with_capacity(n_train), Vec::with_capacity(n_test));
    for c in 0..k {
        let perm = rng.permutation(counts[c]);
        let rows: Vec<usize> = perm.iter().map(|&p| class_rows[c][p]).collect();
        train.extend_from_slice(&rows[..n_i[c]]);
        test.extend_from_slice(&rows[n_i[c]..n_i[c] + t_i[c]]);
    }
    let permute = |v: &[usize], rng: &mut NumpyRng| rng.permutation(v.len()).into_iter().map(|p| v[p]).collect::<Vec<_>>();
    let train = permute(&train, &mut rng);
    let test = permute(&test, &mut rng);
    Ok(SplitIndices { train, test })
}
