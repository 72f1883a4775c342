//! Loading a numeric table with a header row, features and target chosen by column name.

use crate::Tensor;
use std::fmt;
use std::io::Read;
use std::path::Path;

/// Why a CSV table could not be loaded; the message names the line (1-based, the header is line 1)
/// and the column where the input went wrong.
#[derive(Clone, Debug, PartialEq)]
pub enum CsvError {
    /// The file could not be opened or read, or is not UTF-8.
    Io {
        /// The path, or `"<reader>"` for [`read_csv_from`].
        source: String,
        /// The operating system's (or decoder's) message.
        message: String,
    },
    /// There is no header line (the input is empty or only blank lines).
    Empty,
    /// A requested column is not in the header.
    MissingColumn {
        /// The requested name.
        name: String,
        /// The names the header does have.
        available: Vec<String>,
    },
    /// A requested column name appears more than once in the header.
    DuplicateColumn {
        /// The repeated name.
        name: String,
        /// Its 1-based positions.
        columns: Vec<usize>,
    },
    /// No feature columns were requested.
    NoFeatures,
    /// A row has another number of fields than the header.
    Ragged {
        /// The 1-based line number.
        line: usize,
        /// Number of header fields.
        expected: usize,
        /// Number of fields on this line.
        found: usize,
    },
    /// A field of a requested column is not a finite number.
    BadNumber {
        /// The 1-based line number.
        line: usize,
        /// The 1-based column number.
        column: usize,
        /// The column's header name.
        name: String,
        /// The offending text.
        text: String,
    },
    /// The header is followed by no data rows.
    NoRows,
}

impl fmt::Display for CsvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CsvError::Io { source, message } => write!(f, "cannot read CSV {source}: {message}"),
            CsvError::Empty => write!(f, "line 1: the CSV input is empty; expected a header row of column names"),
            CsvError::MissingColumn { name, available } => {
                write!(f, "line 1: no column named {name:?} in the header (columns: {})", available.join(", "))
            }
            CsvError::DuplicateColumn { name, columns } => {
                write!(f, "line 1: column name {name:?} is ambiguous, it appears in columns {columns:?}")
            }
            CsvError::NoFeatures => write!(f, "no feature columns were requested"),
            CsvError::Ragged { line, expected, found } => {
                write!(f, "line {line}: expected {expected} fields as in the header, found {found}")
            }
            CsvError::BadNumber { line, column, name, text } => {
                write!(f, "line {line}, column {column} ({name:?}): {text:?} is not a finite number")
            }
            CsvError::NoRows => write!(f, "line 2: the CSV input has a header but no data rows"),
        }
    }
}

impl std::error::Error for CsvError {}

/// Loads `features` (as `x`, `[rows, features.len()]`) and `target` (as `y`, `[rows]`) from the CSV
/// file at `path`.
///
/// Fields are separated by commas; surrounding spaces and double quotes are trimmed; blank lines are
/// skipped. Only the requested columns must hold numbers, so other columns may hold text.
///
/// # Errors
/// A [`CsvError`] naming the line and column of the first problem: unreadable file, empty input,
/// missing or ambiguous column, a row of the wrong length, a field that is not a finite number, or no
/// data rows.
pub fn read_csv(path: impl AsRef<Path>, features: &[&str], target: &str) -> Result<(Tensor<f64>, Tensor<f64>), CsvError> {
    let path = path.as_ref();
    let io_err = |e: std::io::Error| CsvError::Io { source: path.display().to_string(), message: e.to_string() };
    let bytes = std::fs::read(path).map_err(io_err)?;
    let text = String::from_utf8(bytes)
        .map_err(|e| CsvError::Io { source: path.display().to_string(), message: format!("not UTF-8 text ({e})") })?;
    parse_csv(&text, features, target)
}

/// As [`read_csv`], reading the table from any reader.
///
/// # Errors
/// As [`read_csv`]; read failures name the source `"<reader>"`.
pub fn read_csv_from<R: Read>(mut reader: R, features: &[&str], target: &str) -> Result<(Tensor<f64>, Tensor<f64>), CsvError> {
    let mut text = String::new();
    reader
        .read_to_string(&mut text)
        .map_err(|e| CsvError::Io { source: "<reader>".into(), message: e.to_string() })?;
    parse_csv(&text, features, target)
}

/// Trims spaces, then one pair of surrounding double quotes.
fn clean(field: &str) -> &str {
    let t = field.trim();
    t.strip_prefix('"').and_then(|s| s.strip_suffix('"')).unwrap_or(t)
}

/// The 0-based position of `name` in the header.
fn find_column(header: &[&str], name: &str) -> Result<usize, CsvError> {
    let hits: Vec<usize> = header.iter().enumerate().filter(|(_, h)| **h == name).map(|(i, _)| i).collect();
    match hits.as_slice() {
        [i] => Ok(*i),
        [] => Err(CsvError::MissingColumn {
            name: name.to_string(),
            available: header.iter().map(|h| h.to_string()).collect(),
        }),
        _ => Err(CsvError::DuplicateColumn { name: name.to_string(), columns: hits.iter().map(|i| i + 1).collect() }),
    }
}

/// As [`read_csv`], parsing CSV text held in memory.
///
/// ```
/// use tapegrad::data::parse_csv;
/// let (x, y) = parse_csv("a,b,label\n1,2,0\n3,4.5,1\n", &["b", "a"], "label").unwrap();
/// assert_eq!(x.data(), &[2.0, 1.0, 4.5, 3.0]);
/// assert_eq!(y.data(), &[0.0, 1.0]);
/// let err = parse_csv("a,label\n1,x\n", &["a"], "label").unwrap_err();
/// assert_eq!(err.to_string(), r#"line 2, column 2 ("label"): "x" is not a finite number"#);
/// ```
///
/// # Errors
/// As [`read_csv`].
pub fn parse_csv(text: &str, features: &[&str], target: &str) -> Result<(Tensor<f64>, Tensor<f64>), CsvError> {
    let (x, y) = parse_columns(text, Some(features), Some(target))?;
    let n = y.len();
    Ok((x, Tensor::from_vec(y, &[n])))
}

/// Reads only input columns, for prediction: `features` by name, or every column when it is
/// empty. Errors as [`read_csv`].
///
/// ```
/// use tapegrad::data::parse_features_csv;
/// let x = parse_features_csv("a,b\n1,2\n3,4\n", &[]).unwrap();
/// assert_eq!((x.shape(), x.data()), (&[2, 2][..], &[1.0, 2.0, 3.0, 4.0][..]));
/// ```
///
/// # Errors
/// As [`read_csv`].
pub fn parse_features_csv(text: &str, features: &[&str]) -> Result<Tensor<f64>, CsvError> {
    let features = (!features.is_empty()).then_some(features);
    parse_columns(text, features, None).map(|(x, _)| x)
}

/// As [`parse_features_csv`], from a file.
///
/// # Errors
/// As [`read_csv`].
pub fn read_features_csv(path: impl AsRef<Path>, features: &[&str]) -> Result<Tensor<f64>, CsvError> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| CsvError::Io { source: path.display().to_string(), message: e.to_string() })?;
    let text = String::from_utf8(bytes)
        .map_err(|e| CsvError::Io { source: path.display().to_string(), message: format!("not UTF-8 text ({e})") })?;
    parse_features_csv(&text, features)
}

/// The shared reader: the `features` columns (all when `None`) as `[rows, features]`, and the
/// `target` column when one is named.
fn parse_columns(text: &str, features: Option<&[&str]>, target: Option<&str>) -> Result<(Tensor<f64>, Vec<f64>), CsvError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l)).filter(|(_, l)| !l.trim().is_empty());
    let (_, header_line) = lines.next().ok_or(CsvError::Empty)?;
    let header: Vec<&str> = header_line.split(',').map(clean).collect();
    let feature_cols = match features {
        Some([]) => return Err(CsvError::NoFeatures),
        Some(names) => names.iter().map(|f| find_column(&header, f)).collect::<Result<Vec<_>, _>>()?,
        None => (0..header.len()).collect(),
    };
    let target_col = target.map(|t| find_column(&header, t)).transpose()?;

    let mut x = Vec::new();
    let mut y = Vec::new();
    let mut rows = 0;
    let mut fields: Vec<&str> = Vec::with_capacity(header.len());
    for (line, row) in lines {
        fields.clear();
        fields.extend(row.split(','));
        if fields.len() != header.len() {
            return Err(CsvError::Ragged { line, expected: header.len(), found: fields.len() });
        }
        let number = |col: usize| -> Result<f64, CsvError> {
            let text = clean(fields[col]);
            match text.parse::<f64>() {
                Ok(v) if v.is_finite() => Ok(v),
                _ => Err(CsvError::BadNumber { line, column: col + 1, name: header[col].to_string(), text: text.to_string() }),
            }
        };
        for &c in &feature_cols {
            x.push(number(c)?);
        }
        if let Some(t) = target_col {
            y.push(number(t)?);
        }
        rows += 1;
    }
    if rows == 0 {
        return Err(CsvError::NoRows);
    }
    Ok((Tensor::from_vec(x, &[rows, feature_cols.len()]), y))
}
