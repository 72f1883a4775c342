//! CSV loading: good tables load, and each kind of bad input gives an error naming line and column.

use std::io::Write;
use tapegrad::data::{parse_csv, parse_table, read_csv, read_csv_from, read_table, CsvError, CsvOptions};

fn err(text: &str, features: &[&str], target: &str) -> CsvError {
    parse_csv(text, features, target).expect_err("input should be rejected")
}

#[test]
fn loads_chosen_columns_in_requested_order() {
    let text = "\u{feff}id, \"x1\",x2 ,y\r\nfirst,1.5,-2,10\r\n\r\nsecond, 3e2 ,\"4\",20\r\n";
    let (x, y) = parse_csv(text, &["x2", "x1"], "y").unwrap();
    assert_eq!(x.shape(), &[2, 2]);
    assert_eq!(x.data(), &[-2.0, 1.5, 4.0, 300.0]);
    assert_eq!(y.shape(), &[2]);
    assert_eq!(y.data(), &[10.0, 20.0]);
}

#[test]
fn reads_files_and_readers() {
    let path = std::env::temp_dir().join(format!("tapegrad_csv_test_{}.csv", std::process::id()));
    std::fs::File::create(&path).unwrap().write_all(b"a,b\n1,2\n3,4\n").unwrap();
    let (x, y) = read_csv(&path, &["a"], "b").unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!((x.data(), y.data()), (&[1.0, 3.0][..], &[2.0, 4.0][..]));
    let (x, _) = read_csv_from("a,b\n5,6\n".as_bytes(), &["a", "b"], "b").unwrap();
    assert_eq!(x.data(), &[5.0, 6.0]);
}

#[test]
fn bad_number_names_line_and_column() {
    let e = err("a,b,y\n1,2,3\n4,oops,6\n", &["a", "b"], "y");
    assert_eq!(e, CsvError::BadNumber { line: 3, column: 2, name: "b".into(), text: "oops".into() });
    assert_eq!(e.to_string(), r#"line 3, column 2 ("b"): "oops" is not a finite number"#);
}

#[test]
fn empty_field_and_non_finite_values_are_bad_numbers() {
    assert_eq!(err("a,y\n,1\n", &["a"], "y").to_string(), r#"line 2, column 1 ("a"): "" is not a finite number"#);
    assert_eq!(err("a,y\n1,NaN\n", &["a"], "y").to_string(), r#"line 2, column 2 ("y"): "NaN" is not a finite number"#);
    assert_eq!(err("a,y\ninf,1\n", &["a"], "y").to_string(), r#"line 2, column 1 ("a"): "inf" is not a finite number"#);
}

#[test]
fn unused_text_columns_are_allowed() {
    let (x, _) = parse_csv("name,a,y\nbob,1,2\n", &["a"], "y").unwrap();
    assert_eq!(x.data(), &[1.0]);
}

#[test]
fn ragged_row_names_its_line() {
    let e = err("a,b,y\n1,2,3\n\n4,5\n", &["a"], "y");
    assert_eq!(e, CsvError::Ragged { line: 4, expected: 3, found: 2 });
    assert_eq!(e.to_string(), "line 4: expected 3 fields as in the header, found 2");
    assert_eq!(err("a,y\n1,2,3\n", &["a"], "y").to_string(), "line 2: expected 2 fields as in the header, found 3");
}

#[test]
fn empty_input_is_an_error() {
    for text in ["", "\n \n", "\u{feff}"] {
        let e = err(text, &["a"], "y");
        assert_eq!(e, CsvError::Empty);
        assert_eq!(e.to_string(), "line 1: the CSV input is empty; expected a header row of column names");
    }
    assert_eq!(err("a,y\n", &["a"], "y").to_string(), "line 2: the CSV input has a header but no data rows");
}

#[test]
fn missing_column_lists_the_header() {
    let e = err("a,b\n1,2\n", &["a"], "y");
    assert_eq!(e.to_string(), r#"line 1: no column named "y" in the header (columns: a, b)"#);
    let e = err("a,b\n1,2\n", &["c"], "b");
    assert!(matches!(e, CsvError::MissingColumn { ref name, .. } if name == "c"));
}

#[test]
fn duplicate_and_empty_requests_are_errors() {
    let e = err("a,a,y\n1,2,3\n", &["a"], "y");
    assert_eq!(e.to_string(), r#"line 1: column name "a" is ambiguous, it appears in columns [1, 2]"#);
    assert_eq!(err("a,y\n1,2\n", &[], "y").to_string(), "no feature columns were requested");
}

#[test]
fn unreadable_inputs_are_io_errors() {
    let e = read_csv("/nonexistent/tapegrad/data.csv", &["a"], "y").unwrap_err();
    assert!(e.to_string().starts_with("cannot read CSV /nonexistent/tapegrad/data.csv: "), "{e}");
    let e = read_csv_from(&[b'a', b',', 0xff, b'\n'][..], &["a"], "y").unwrap_err();
    assert!(matches!(e, CsvError::Io { ref source, .. } if source == "<reader>"), "{e}");
}

#[test]
fn arbitrary_input_never_panics() {
    // A deterministic sweep of awkward inputs built from a small alphabet.
    let alphabet = ["a", "y", ",", "\n", "\"", " ", "1", "-", "e", ".", "\r", "\u{feff}", "é"];
    let mut state = 12345u64;
    for _ in 0..3000 {
        let mut text = String::new();
        for _ in 0..(state % 24) {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            text.push_str(alphabet[(state >> 33) as usize % alphabet.len()]);
        }
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
        if let Ok((x, y)) = parse_csv(&text, &["a"], "y") {
            assert_eq!(x.shape()[0], y.shape()[0]);
        }
    }
}

#[test]
fn quoted_fields_keep_commas_quotes_and_line_breaks() {
    let text = "name,note,y\r\n\"Smith, J\",\"said \"\"hi\"\"\",1\r\n\"two\nlines\",x,2\r\nz,w,oops\r\n";
    let t = parse_table(text, CsvOptions::default()).unwrap();
    assert_eq!(t.rows[0], ["Smith, J", "said \"hi\"", "1"]);
    assert_eq!(t.rows[1][0], "two\nlines");
    // The multi-line field moves the next row to line 5.
    assert_eq!(t.lines, [2, 3, 5]);
    let e = parse_csv(text, &["y"], "y").unwrap_err();
    assert_eq!(e.to_string(), r#"line 5, column 3 ("y"): "oops" is not a finite number"#);
}

#[test]
fn other_delimiters_bom_and_crlf() {
    let text = "\u{feff}a;b\r\n1,5;2\r\n\r\n3;4\r\n";
    let t = parse_table(text, CsvOptions { delimiter: b';' }).unwrap();
    assert_eq!(t.header, ["a", "b"]);
    assert_eq!(t.rows, [["1,5", "2"], ["3", "4"]]);
    assert_eq!(t.lines, [2, 4]);
    let tabs = parse_table("a\tb\n1\t2\n", CsvOptions { delimiter: b'\t' }).unwrap();
    assert_eq!(tabs.rows, [["1", "2"]]);
    let e = parse_table("a;b\n1;2;3\n", CsvOptions { delimiter: b';' }).unwrap_err();
    assert_eq!(e.to_string(), "line 2: expected 2 fields as in the header, found 3");
}

#[test]
fn table_columns_and_files() {
    let path = std::env::temp_dir().join(format!("tapegrad_table_test_{}.csv", std::process::id()));
    std::fs::write(&path, "x,label\n1,cat\n2,dog\n").unwrap();
    let t = read_table(&path, CsvOptions::default()).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(t.column("label").unwrap(), 1);
    assert_eq!(t.number(1, 0).unwrap(), 2.0);
    assert_eq!(t.number(0, 1).unwrap_err().to_string(), r#"line 2, column 2 ("label"): "cat" is not a finite number"#);
    assert!(matches!(t.column("nope"), Err(CsvError::MissingColumn { .. })));
}
