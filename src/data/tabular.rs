//! From a CSV [`Table`] to model inputs: the task inferred from the target column, text columns
//! one-hot encoded, text or numeric labels mapped to class indices, and the standardisation learnt
//! from training rows only. The [`Preprocessing`] is what a saved model keeps so `predict` applies
//! the same steps.

use super::csv::{CsvError, Table};
use super::scaler::StandardScaler;
use crate::Tensor;
use std::fmt;

/// What the target column asks the model to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Task {
    /// A number per row.
    Regression,
    /// One of two classes.
    Binary,
    /// One of three or more classes.
    Multiclass,
}

impl Task {
    /// `regression`, `binary` or `multiclass`.
    pub fn name(self) -> &'static str {
        match self {
            Task::Regression => "regression",
            Task::Binary => "binary",
            Task::Multiclass => "multiclass",
        }
    }

    /// The task called `name`.
    ///
    /// # Errors
    /// A message listing the three names.
    pub fn from_name(name: &str) -> Result<Task, String> {
        match name {
            "regression" => Ok(Task::Regression),
            "binary" => Ok(Task::Binary),
            "multiclass" => Ok(Task::Multiclass),
            _ => Err(format!("unknown task {name:?}; expected regression, binary or multiclass")),
        }
    }

    /// Whether the target is a class.
    pub fn is_classification(self) -> bool {
        self != Task::Regression
    }
}

/// How a feature column becomes model inputs.
#[derive(Clone, Debug, PartialEq)]
pub enum ColumnKind {
    /// One input: the number.
    Numeric,
    /// One input per category (sorted), 1 for the row's category and 0 elsewhere.
    Categories(Vec<String>),
}

/// A feature column by name and its encoding.
#[derive(Clone, Debug, PartialEq)]
pub struct FeatureColumn {
    /// The header name.
    pub name: String,
    /// Its encoding.
    pub kind: ColumnKind,
}

/// Everything needed to turn a CSV row into model inputs and a model output into a prediction.
#[derive(Clone, Debug, PartialEq)]
pub struct Preprocessing {
    /// The feature columns in input order.
    pub features: Vec<FeatureColumn>,
    /// Per encoded input: the training rows' mean.
    pub mean: Vec<f64>,
    /// Per encoded input: the training rows' population standard deviation (1 for a constant one).
    pub scale: Vec<f64>,
    /// The target column's name.
    pub target: String,
    /// The task.
    pub task: Task,
    /// Class names in class-index order (classification; empty for regression).
    pub labels: Vec<String>,
    /// Regression: the training targets' mean and standard deviation (the model predicts
    /// `(y - mean) / scale`).
    pub target_mean: f64,
    /// See `target_mean`.
    pub target_scale: f64,
}

/// What to read from a table.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TabularOptions {
    /// The target column.
    pub target: String,
    /// Feature columns (empty: every column but the target).
    pub features: Vec<String>,
    /// The task, or `None` to infer it from the target column.
    pub task: Option<Task>,
    /// Skip rows with an empty cell in a used column instead of failing.
    pub drop_missing: bool,
}

/// Encoded, unscaled rows of a table.
#[derive(Clone, Debug, PartialEq)]
pub struct Prepared {
    /// Inputs `[rows, encoded width]`, before standardisation.
    pub x: Tensor<f64>,
    /// Class index (classification) or raw target value (regression) per row.
    pub y: Vec<f64>,
    /// The line of each kept row in the file.
    pub lines: Vec<usize>,
    /// Rows skipped for empty cells (with `drop_missing`).
    pub dropped: usize,
    /// One sentence on the inferred (or given) task, for the user.
    pub inferred: String,
}

/// A problem with a table's contents, naming the column and, where there is one, the line.
#[derive(Clone, Debug, PartialEq)]
pub struct TabularError(pub String);

impl fmt::Display for TabularError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TabularError {}

impl From<CsvError> for TabularError {
    fn from(e: CsvError) -> Self {
        TabularError(e.to_string())
    }
}

fn is_number(s: &str) -> bool {
    s.parse::<f64>().is_ok_and(f64::is_finite)
}

/// Sorts class names: numerically when all are numbers, else as text.
fn sort_classes(classes: &mut [String]) {
    if classes.iter().all(|c| is_number(c)) {
        classes.sort_by(|a, b| a.parse::<f64>().unwrap_or(0.0).total_cmp(&b.parse::<f64>().unwrap_or(0.0)));
    } else {
        classes.sort();
    }
}

/// Most distinct integer values a numeric target may have to be read as classes.
pub const MAX_INFERRED_CLASSES: usize = 20;

impl Preprocessing {
    /// Reads `table` as `options` say: checks the columns, infers the task, encodes text columns
    /// and labels, and returns the unscaled rows with a [`Preprocessing`] whose scaling is still
    /// the identity (call [`fit_scaling`](Self::fit_scaling) with the training rows).
    ///
    /// A feature column is text when its first cell is not a number; a later non-number in a
    /// numeric column is an error naming line and column. A numeric target is read as classes when
    /// it holds only integers with at most [`MAX_INFERRED_CLASSES`] distinct values.
    ///
    /// ```
    /// use tapegrad::data::{parse_table, CsvOptions, Preprocessing, TabularOptions, Task};
    /// let t = parse_table("size,colour,kind\n1,red,cat\n2,blue,dog\n3,red,dog\n", CsvOptions::default()).unwrap();
    /// let opts = TabularOptions { target: "kind".into(), ..Default::default() };
    /// let (pre, rows) = Preprocessing::prepare(&t, &opts).unwrap();
    /// assert_eq!(pre.task, Task::Binary);
    /// assert_eq!(pre.labels, ["cat", "dog"]);
    /// assert_eq!(rows.x.data(), &[1.0, 0.0, 1.0, 2.0, 1.0, 0.0, 3.0, 0.0, 1.0]); // size, blue, red
    /// assert_eq!(rows.y, [0.0, 1.0, 1.0]);
    /// ```
    ///
    /// # Errors
    /// One line naming the problem and where: unknown column, empty cell, non-number in a numeric
    /// column, a target with one class, or a task the target cannot have.
    pub fn prepare(table: &Table, options: &TabularOptions) -> Result<(Preprocessing, Prepared), TabularError> {
        let target_col = table.column(&options.target)?;
        let feature_cols: Vec<usize> = if options.features.is_empty() {
            (0..table.header.len()).filter(|&c| c != target_col).collect()
        } else {
            options.features.iter().map(|f| table.column(f)).collect::<Result<_, _>>()?
        };
        // Columns are found by name again at prediction: two columns of one name are an error
        // now, not when the model is used.
        for &c in &feature_cols {
            table.column(&table.header[c])?;
        }
        if feature_cols.is_empty() {
            return Err(TabularError(format!("no feature columns: the table has only the target {:?}", options.target)));
        }
        if feature_cols.contains(&target_col) {
            return Err(TabularError(format!("the target {:?} cannot also be a feature", options.target)));
        }
        // Rows with an empty cell in a used column.
        let used: Vec<usize> = feature_cols.iter().copied().chain([target_col]).collect();
        let mut keep = Vec::with_capacity(table.rows.len());
        for (r, row) in table.rows.iter().enumerate() {
            match used.iter().find(|&&c| row[c].is_empty()) {
                None => keep.push(r),
                Some(_) if options.drop_missing => {}
                Some(&c) => {
                    return Err(TabularError(format!(
                        "line {}, column {} ({:?}): empty cell (use --drop-missing to skip rows with empty cells)",
                        table.lines[r],
                        c + 1,
                        table.header[c]
                    )))
                }
            }
        }
        if keep.is_empty() {
            return Err(TabularError("every row has an empty cell in a used column; nothing is left to train on".into()));
        }
        let dropped = table.rows.len() - keep.len();

        let mut features = Vec::with_capacity(feature_cols.len());
        for &c in &feature_cols {
            let kind = if is_number(&table.rows[keep[0]][c]) {
                ColumnKind::Numeric
            } else {
                let mut cats: Vec<String> = keep.iter().map(|&r| table.rows[r][c].clone()).collect();
                cats.sort();
                cats.dedup();
                ColumnKind::Categories(cats)
            };
            features.push(FeatureColumn { name: table.header[c].clone(), kind });
        }

        // The target: classes or numbers.
        let cells: Vec<&str> = keep.iter().map(|&r| table.rows[r][target_col].as_str()).collect();
        let numeric = cells.iter().all(|s| is_number(s));
        let mut classes: Vec<String> = cells.iter().map(|s| s.to_string()).collect();
        if numeric {
            // "1" and "1.0" are one class.
            classes = classes.iter().map(|s| format!("{}", s.parse::<f64>().unwrap_or(f64::NAN))).collect();
        }
        let canon = classes.clone();
        classes.sort();
        classes.dedup();
        sort_classes(&mut classes);
        let integers = numeric && cells.iter().all(|s| s.parse::<f64>().is_ok_and(|v| v.fract() == 0.0));
        let name = &options.target;
        let shown = |cl: &[String]| {
            // A name with a comma (or blank at an end) is quoted, so the list reads unambiguously.
            let list: Vec<String> =
                cl.iter().take(6).map(|c| if c.contains(',') || c.trim() != c || c.is_empty() { format!("{c:?}") } else { c.clone() }).collect();
            format!("{}{}", list.join(", "), if cl.len() > 6 { ", ..." } else { "" })
        };
        let (task, inferred) = match options.task {
            Some(t) => (t, format!("task: {} (given with --task)", t.name())),
            None if !numeric => {
                let t = if classes.len() == 2 { Task::Binary } else { Task::Multiclass };
                (t, format!("task: {} (inferred: target {name:?} holds text, {} classes: {})", t.name(), classes.len(), shown(&classes)))
            }
            None if integers && classes.len() <= MAX_INFERRED_CLASSES => {
                let t = if classes.len() == 2 { Task::Binary } else { Task::Multiclass };
                (
                    t,
                    format!(
                        "task: {} (inferred: target {name:?} holds {} distinct integers: {}; use --task regression to predict it as a number)",
                        t.name(),
                        classes.len(),
                        shown(&classes)
                    ),
                )
            }
            None => (
                Task::Regression,
                format!("task: regression (inferred: target {name:?} holds {} distinct numbers)", classes.len()),
            ),
        };
        if task.is_classification() && classes.len() < 2 {
            return Err(TabularError(format!(
                "target {name:?} has one class ({:?}) in all {} rows; classification needs at least two",
                classes[0],
                cells.len()
            )));
        }
        if task == Task::Binary && classes.len() != 2 {
            return Err(TabularError(format!(
                "--task binary, but target {name:?} has {} classes ({}); use --task multiclass",
                classes.len(),
                shown(&classes)
            )));
        }
        if task == Task::Regression && !numeric {
            let r = cells.iter().position(|s| !is_number(s)).unwrap_or(0);
            return Err(CsvError::BadNumber {
                line: table.lines[keep[r]],
                column: target_col + 1,
                name: name.clone(),
                text: cells[r].to_string(),
            }
            .into());
        }
        let y: Vec<f64> = if task.is_classification() {
            canon.iter().map(|c| classes.iter().position(|k| k == c).unwrap_or(0) as f64).collect()
        } else {
            keep.iter().map(|&r| table.number(r, target_col)).collect::<Result<_, _>>()?
        };
        let width: usize = features.iter().map(|f| f.width()).sum();
        let pre = Preprocessing {
            features,
            mean: vec![0.0; width],
            scale: vec![1.0; width],
            target: name.clone(),
            task,
            labels: if task.is_classification() { classes } else { Vec::new() },
            target_mean: 0.0,
            target_scale: 1.0,
        };
        let x = pre.encode(table, &keep, &feature_cols)?;
        let lines = keep.iter().map(|&r| table.lines[r]).collect();
        Ok((pre, Prepared { x, y, lines, dropped, inferred }))
    }

    /// Number of encoded inputs.
    pub fn input_width(&self) -> usize {
        self.features.iter().map(|f| f.width()).sum()
    }

    /// Learns the standardisation from the training rows `x_train` (encoded, unscaled) and, for
    /// regression, the target's from `y_train`.
    pub fn fit_scaling(&mut self, x_train: &Tensor<f64>, y_train: &[f64]) {
        let s = StandardScaler::fit(x_train);
        self.mean = s.mean().to_vec();
        self.scale = s.scale().to_vec();
        if self.task == Task::Regression {
            let t = StandardScaler::fit(&Tensor::from_vec(y_train.to_vec(), &[y_train.len()]));
            self.target_mean = t.mean()[0];
            self.target_scale = t.scale()[0];
        }
    }

    /// Standardises encoded rows with the learnt statistics.
    pub fn scale_inputs(&self, x: &Tensor<f64>) -> Tensor<f64> {
        let mut out = x.clone();
        let w = self.mean.len().max(1);
        for row in out.data_mut().chunks_exact_mut(w) {
            for ((v, m), s) in row.iter_mut().zip(&self.mean).zip(&self.scale) {
                *v = (*v - m) / s;
            }
        }
        out
    }

    /// Encoded rows `rows` of `table`, reading feature `i` from column `cols[i]`.
    fn encode(&self, table: &Table, rows: &[usize], cols: &[usize]) -> Result<Tensor<f64>, TabularError> {
        let width = self.input_width();
        let mut x = Vec::with_capacity(rows.len() * width);
        for &r in rows {
            for (f, &c) in self.features.iter().zip(cols) {
                match &f.kind {
                    ColumnKind::Numeric => x.push(table.number(r, c)?),
                    ColumnKind::Categories(cats) => {
                        let cell = &table.rows[r][c];
                        let Some(k) = cats.iter().position(|v| v == cell) else {
                            return Err(TabularError(format!(
                                "line {}, column {} ({:?}): category {cell:?} was not seen in training (known: {})",
                                table.lines[r],
                                c + 1,
                                f.name,
                                cats.join(", ")
                            )));
                        };
                        x.extend((0..cats.len()).map(|j| if j == k { 1.0 } else { 0.0 }));
                    }
                }
            }
        }
        Ok(Tensor::from_vec(x, &[rows.len(), width]))
    }

    /// The standardised inputs for every row of another table with the same feature columns (found
    /// by name), for prediction. Rows with an empty cell are an error naming line and column.
    ///
    /// # Errors
    /// A missing column, an empty or non-numeric cell, or an unseen category.
    pub fn transform(&self, table: &Table) -> Result<Tensor<f64>, TabularError> {
        let cols: Vec<usize> = self.features.iter().map(|f| table.column(&f.name)).collect::<Result<_, _>>()?;
        for (r, row) in table.rows.iter().enumerate() {
            if let Some(&c) = cols.iter().find(|&&c| row[c].is_empty()) {
                return Err(TabularError(format!(
                    "line {}, column {} ({:?}): empty cell",
                    table.lines[r],
                    c + 1,
                    table.header[c]
                )));
            }
        }
        let rows: Vec<usize> = (0..table.rows.len()).collect();
        Ok(self.scale_inputs(&self.encode(table, &rows, &cols)?))
    }

    /// The class index (classification) or raw value (regression) of every row's target in
    /// another table, for evaluation.
    ///
    /// # Errors
    /// A missing target column, an unknown class, or a non-number for regression.
    pub fn targets(&self, table: &Table) -> Result<Vec<f64>, TabularError> {
        let c = table.column(&self.target)?;
        (0..table.rows.len())
            .map(|r| {
                if self.task.is_classification() {
                    let cell = &table.rows[r][c];
                    let canon = if is_number(cell) { format!("{}", cell.parse::<f64>().unwrap_or(0.0)) } else { cell.clone() };
                    self.labels.iter().position(|l| *l == canon).map(|i| i as f64).ok_or_else(|| {
                        TabularError(format!(
                            "line {}, column {} ({:?}): class {cell:?} is not one the model knows ({})",
                            table.lines[r],
                            c + 1,
                            self.target,
                            self.labels.join(", ")
                        ))
                    })
                } else {
                    Ok(table.number(r, c)?)
                }
            })
            .collect()
    }
}

impl FeatureColumn {
    /// Number of model inputs this column becomes.
    pub fn width(&self) -> usize {
        match &self.kind {
            ColumnKind::Numeric => 1,
            ColumnKind::Categories(c) => c.len(),
        }
    }
}
