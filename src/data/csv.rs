//! Reading CSV tables with the `csv` crate: quoted fields (with commas, quotes and line breaks
//! inside), any one-byte delimiter, a UTF-8 byte-order mark, LF or CRLF line ends. Errors name the
//! line (1-based, the header is line 1) and the column.
//!
//! Two layers: [`parse_table`] gives the cells as text (a [`Table`]), and [`parse_csv`] /
//! [`parse_features_csv`] pick numeric columns out of it by name.

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
    /// The CSV syntax itself is broken (reported by the `csv` crate).
    Syntax {
        /// The 1-based line number.
        line: usize,
        /// The parser's message.
        message: String,
    },
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
            CsvError::Syntax { line, message } => write!(f, "line {line}: {message}"),
        }
    }
}

impl std::error::Error for CsvError {}

/// How to read a CSV file. The default is comma-separated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CsvOptions {
    /// The field separator (one byte: `b','`, `b';'`, `b'\t'`, ...).
    pub delimiter: u8,
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions { delimiter: b',' }
    }
}

/// A CSV table as text: the header's names and every data row's cells (trimmed of surrounding
/// spaces and of one pair of double quotes), with each row's 1-based line number.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    /// Column names from the header row.
    pub header: Vec<String>,
    /// Data rows, each as long as the header.
    pub rows: Vec<Vec<String>>,
    /// The line each row starts on (the header is line 1).
    pub lines: Vec<usize>,
}

impl Table {
    /// The 0-based position of the column called `name`.
    ///
    /// # Errors
    /// [`CsvError::MissingColumn`] (listing the header) or [`CsvError::DuplicateColumn`].
    pub fn column(&self, name: &str) -> Result<usize, CsvError> {
        let hits: Vec<usize> = self.header.iter().enumerate().filter(|(_, h)| *h == name).map(|(i, _)| i).collect();
        match hits.as_slice() {
            [i] => Ok(*i),
            [] => Err(CsvError::MissingColumn { name: name.to_string(), available: self.header.clone() }),
            _ => Err(CsvError::DuplicateColumn { name: name.to_string(), columns: hits.iter().map(|i| i + 1).collect() }),
        }
    }

    /// The cell at data row `row`, column `col`, as a finite number.
    ///
    /// # Errors
    /// [`CsvError::BadNumber`] naming the line and column.
    pub fn number(&self, row: usize, col: usize) -> Result<f64, CsvError> {
        let text = &self.rows[row][col];
        match text.parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(v),
            _ => Err(CsvError::BadNumber {
                line: self.lines[row],
                column: col + 1,
                name: self.header[col].clone(),
                text: text.clone(),
            }),
        }
    }
}

/// Trims spaces, then one pair of surrounding double quotes (a quoted field after a space, which
/// CSV itself reads as text with quotes).
fn clean(field: &str) -> String {
    let t = field.trim();
    t.strip_prefix('"').and_then(|s| s.strip_suffix('"')).unwrap_or(t).to_string()
}

/// Parses CSV text into a [`Table`]: a header row, then data rows of the same length. Blank lines
/// are skipped; a leading byte-order mark is ignored.
///
/// ```
/// use tapegrad::data::{parse_table, CsvOptions};
/// let t = parse_table("name;note\r\n\"Smith, J\";\"said \"\"hi\"\"\"\r\n", CsvOptions { delimiter: b';' }).unwrap();
/// assert_eq!(t.header, ["name", "note"]);
/// assert_eq!(t.rows[0], ["Smith, J", "said \"hi\""]);
/// assert_eq!(t.lines, [2]);
/// ```
///
/// # Errors
/// [`CsvError::Empty`] without a header, [`CsvError::Ragged`] for a row of another length,
/// [`CsvError::NoRows`] without data rows.
pub fn parse_table(text: &str, options: CsvOptions) -> Result<Table, CsvError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(options.delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut header: Option<Vec<String>> = None;
    let mut rows = Vec::new();
    let mut lines = Vec::new();
    let mut record = csv::StringRecord::new();
    let mut lines_at = LineCounter::new(text);
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map_or(0, |p| lines_at.line(p.byte() as usize));
                return Err(CsvError::Syntax { line, message: e.to_string() });
            }
        }
        // A line holding only spaces is a blank line, not a row of one empty field.
        if record.len() == 1 && record[0].trim().is_empty() {
            continue;
        }
        let line = record.position().map_or(0, |p| lines_at.line(p.byte() as usize));
        let cells: Vec<String> = record.iter().map(clean).collect();
        match &header {
            None => header = Some(cells),
            Some(h) => {
                if cells.len() != h.len() {
                    return Err(CsvError::Ragged { line, expected: h.len(), found: cells.len() });
                }
                rows.push(cells);
                lines.push(line);
            }
        }
    }
    let header = header.ok_or(CsvError::Empty)?;
    if rows.is_empty() {
        return Err(CsvError::NoRows);
    }
    Ok(Table { header, rows, lines })
}

/// Line numbers from byte offsets (the `csv` crate's own line count skips blank lines). A line
/// ends at `\n`, `\r\n` or a lone `\r`, as the `csv` crate reads them. Offsets must not decrease.
struct LineCounter<'a> {
    bytes: &'a [u8],
    at: usize,
    line: usize,
}

impl<'a> LineCounter<'a> {
    fn new(text: &'a str) -> Self {
        LineCounter { bytes: text.as_bytes(), at: 0, line: 1 }
    }

    /// The line of the record starting at `offset`: a record's offset lies before the empty lines
    /// the reader skipped on its way, so those are stepped over first.
    fn line(&mut self, offset: usize) -> usize {
        let mut end = offset.min(self.bytes.len());
        while matches!(self.bytes.get(end), Some(b'\n' | b'\r')) {
            end += 1;
        }
        while self.at < end {
            let b = self.bytes[self.at];
            if b == b'\n' || (b == b'\r' && self.bytes.get(self.at + 1) != Some(&b'\n')) {
                self.line += 1;
            }
            self.at += 1;
        }
        self.line
    }
}

/// Reads a whole file as UTF-8 text; errors name the path.
fn read_text(path: &Path) -> Result<String, CsvError> {
    let source = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| CsvError::Io { source: source.clone(), message: e.to_string() })?;
    String::from_utf8(bytes).map_err(|e| CsvError::Io { source, message: format!("not UTF-8 text ({e})") })
}

/// As [`parse_table`], from a file.
///
/// # Errors
/// As [`parse_table`], and [`CsvError::Io`] naming the path when it cannot be read.
pub fn read_table(path: impl AsRef<Path>, options: CsvOptions) -> Result<Table, CsvError> {
    parse_table(&read_text(path.as_ref())?, options)
}

/// Loads `features` (as `x`, `[rows, features.len()]`) and `target` (as `y`, `[rows]`) from the CSV
/// file at `path`.
///
/// Fields are separated by commas and may be quoted; surrounding spaces and double quotes are
/// trimmed; blank lines are skipped. Only the requested columns must hold numbers, so other columns
/// may hold text.
///
/// # Errors
/// A [`CsvError`] naming the line and column of the first problem: unreadable file, empty input,
/// missing or ambiguous column, a row of the wrong length, a field that is not a finite number, or no
/// data rows.
pub fn read_csv(path: impl AsRef<Path>, features: &[&str], target: &str) -> Result<(Tensor<f64>, Tensor<f64>), CsvError> {
    parse_csv(&read_text(path.as_ref())?, features, target)
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
    parse_features_csv(&read_text(path.as_ref())?, features)
}

/// The shared reader: the `features` columns (all when `None`) as `[rows, features]`, and the
/// `target` column when one is named. Column names are checked before the rows, so a missing
/// column is reported even when the rows are also bad.
fn parse_columns(text: &str, features: Option<&[&str]>, target: Option<&str>) -> Result<(Tensor<f64>, Vec<f64>), CsvError> {
    if let Some([]) = features {
        // Only after the header is known to exist.
        parse_header_only(text)?;
        return Err(CsvError::NoFeatures);
    }
    let table = match parse_table(text, CsvOptions::default()) {
        Ok(t) => t,
        // Column problems come before row problems, as a reader of the header would see them.
        Err(e @ (CsvError::Ragged { .. } | CsvError::NoRows)) => {
            let header = parse_header_only(text)?;
            let probe = Table { header, rows: vec![], lines: vec![] };
            for name in features.unwrap_or(&[]).iter().chain(target.as_ref()) {
                probe.column(name)?;
            }
            return Err(e);
        }
        Err(e) => return Err(e),
    };
    let feature_cols = match features {
        Some(names) => names.iter().map(|f| table.column(f)).collect::<Result<Vec<_>, _>>()?,
        None => (0..table.header.len()).collect(),
    };
    let target_col = target.map(|t| table.column(t)).transpose()?;
    let mut x = Vec::with_capacity(table.rows.len() * feature_cols.len());
    let mut y = Vec::with_capacity(table.rows.len());
    for r in 0..table.rows.len() {
        for &c in &feature_cols {
            x.push(table.number(r, c)?);
        }
        if let Some(t) = target_col {
            y.push(table.number(r, t)?);
        }
    }
    Ok((Tensor::from_vec(x, &[table.rows.len(), feature_cols.len()]), y))
}

/// The header row alone (for error ordering).
fn parse_header_only(text: &str) -> Result<Vec<String>, CsvError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
    for record in reader.records() {
        let Ok(record) = record else { break };
        if record.len() == 1 && record[0].trim().is_empty() {
            continue;
        }
        return Ok(record.iter().map(clean).collect());
    }
    Err(CsvError::Empty)
}
