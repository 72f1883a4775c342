//! The bodies of the fuzz targets in `fuzz/`, shared by cargo-fuzz and by the stable mutation
//! driver in `tests/data_io/io_fuzz_regressions.rs`, so the two can never drift apart.

use super::{model_from_bytes, SafeTensors};
use crate::data::{parse_csv, parse_table, CsvOptions, Preprocessing, TabularOptions};
use crate::formula::Formula;
use crate::tape::Tape;
use crate::tensor::Tensor;

/// Any bytes given to the model loader give a model or a one-line error, never a panic or an
/// abort; a model that loads also runs.
pub fn load_model_target(data: &[u8]) {
    if let Ok(file) = SafeTensors::from_bytes(data.to_vec()) {
        for info in file.tensors() {
            let _ = file.tensor::<f32>(&info.name);
        }
    }
    if let Ok(saved) = model_from_bytes::<f32>(data.to_vec()) {
        let tape = Tape::new();
        let x = tape.constant(Tensor::zeros(&[1, saved.model.input_width()]));
        let _ = saved.model.forward(&tape, x);
    }
    if let Err(e) = model_from_bytes::<f64>(data.to_vec()) {
        assert!(!e.to_string().contains('\n'), "a load error must be one line: {e}");
    }
}

/// Any text given to the CSV reader gives a table or an error, never a panic: with fixed column
/// names, with the header's own (every column but the last as features), as a text table with
/// other delimiters, and through the tabular preprocessing (task inference, one-hot, labels) with
/// and without dropping rows with empty cells.
pub fn parse_csv_target(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = parse_csv(text, &["a", "b"], "y");
    for delimiter in [b',', b';', b'\t'] {
        if let Ok(table) = parse_table(text, CsvOptions { delimiter }) {
            assert!(table.rows.iter().all(|r| r.len() == table.header.len()), "ragged rows must be errors");
            if let Some(target) = table.header.last() {
                for drop_missing in [false, true] {
                    let opts = TabularOptions { target: target.clone(), drop_missing, ..Default::default() };
                    if let Ok((mut pre, rows)) = Preprocessing::prepare(&table, &opts) {
                        assert_eq!(rows.x.shape(), &[rows.y.len(), pre.input_width()]);
                        pre.fit_scaling(&rows.x, &rows.y);
                        let _ = pre.transform(&table);
                        let _ = pre.targets(&table);
                    }
                }
            }
        }
    }
    let header: Vec<&str> = text.lines().next().unwrap_or("").split(',').map(|s| s.trim().trim_matches('"')).collect();
    if let Some((target, features)) = header.split_last() {
        let _ = parse_csv(text, features, target);
    }
}

/// Any text given to the formula parser gives a formula or an error with a caret inside the text,
/// never a panic; a formula that parses is checked and recorded on batches of one and of three
/// columns, and its first non-finite value found, without a panic.
pub fn parse_formula_target(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match Formula::parse(text) {
        Err(e) => {
            let chars = text.chars().count();
            assert!(e.span.0 <= e.span.1 && e.span.1 <= chars.max(e.span.0 + 1), "span {:?} outside {chars} chars", e.span);
            let _ = e.to_string();
        }
        Ok(f) => {
            for cols in [1, 3] {
                let t = Tensor::from_vec((0..2 * cols).map(|i| (i % 2) as f64).collect(), &[2, cols]);
                let p = Tensor::from_vec((0..2 * cols).map(|i| 0.2 + 0.1 * i as f64).collect(), &[2, cols]);
                if f.check_shapes(t.shape(), p.shape()).is_ok() {
                    let _ = f.first_non_finite(&t, &p);
                }
            }
        }
    }
}
