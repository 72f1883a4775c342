//! Tables to model inputs: sklearn-exact splits, task inference, encodings and bad input.

use tapegrad::data::{
    dataset, parse_table, shuffle_split_indices, stratified_split_indices, CsvOptions, Preprocessing, TabularOptions, Task,
};

fn prepare(name: &str) -> (Preprocessing, tapegrad::data::Prepared) {
    let d = dataset(name).unwrap();
    let t = parse_table(d.csv, CsvOptions::default()).unwrap();
    Preprocessing::prepare(&t, &TabularOptions { target: d.target.into(), ..Default::default() }).unwrap()
}

/// The first ten test rows scikit-learn's `train_test_split(test_size=0.3, random_state=s)` returns
/// (stratified for classification), from the reference protocol's split check.
#[test]
fn splits_match_scikit_learn() {
    let expect: [(&str, [[usize; 10]; 2]); 4] = [
        ("diabetes", [[362, 249, 271, 435, 400, 403, 12, 399, 198, 205], [246, 425, 293, 31, 359, 437, 290, 439, 284, 4]]),
        ("breast_cancer", [[460, 135, 62, 485, 370, 481, 503, 9, 119, 317], [256, 560, 299, 343, 131, 441, 311, 138, 494, 186]]),
        ("wine", [[53, 64, 6, 1, 98, 157, 77, 166, 54, 148], [142, 152, 172, 84, 99, 58, 100, 37, 67, 136]]),
        ("digits", [[312, 1429, 893, 1375, 159, 407, 1270, 243, 1232, 386], [456, 999, 27, 1425, 733, 378, 871, 1275, 1752, 363]]),
    ];
    for (name, seeds) in expect {
        let (pre, rows) = prepare(name);
        for (seed, first) in seeds.iter().enumerate() {
            let s = if pre.task.is_classification() {
                let labels: Vec<usize> = rows.y.iter().map(|&v| v as usize).collect();
                stratified_split_indices(&labels, 0.3, seed as u32).unwrap()
            } else {
                shuffle_split_indices(rows.y.len(), 0.3, seed as u32).unwrap()
            };
            assert_eq!(&s.test[..10], first, "{name} seed {seed}");
            let n = rows.y.len();
            assert_eq!(s.test.len(), (0.3 * n as f64).ceil() as usize);
            let mut all: Vec<usize> = s.train.iter().chain(&s.test).copied().collect();
            all.sort_unstable();
            assert_eq!(all, (0..n).collect::<Vec<_>>());
        }
    }
}

#[test]
fn tasks_are_inferred_from_the_target() {
    let tasks = [
        ("iris", Task::Multiclass, 3),
        ("wine", Task::Multiclass, 3),
        ("breast_cancer", Task::Binary, 2),
        ("diabetes", Task::Regression, 0),
        ("digits", Task::Multiclass, 10),
    ];
    for (name, task, classes) in tasks {
        let (pre, rows) = prepare(name);
        assert_eq!((pre.task, pre.labels.len()), (task, classes), "{name}: {}", rows.inferred);
        assert!(rows.inferred.starts_with(&format!("task: {}", task.name())), "{}", rows.inferred);
    }
}

#[test]
fn scaling_uses_training_rows_only_and_transform_applies_it() {
    let t = parse_table("a,c,y\n1,x,0\n3,y,1\n100,x,1\n", CsvOptions::default()).unwrap();
    let (mut pre, rows) = Preprocessing::prepare(&t, &TabularOptions { target: "y".into(), ..Default::default() }).unwrap();
    let train = rows.x.select_rows(&[0, 1]);
    pre.fit_scaling(&train, &rows.y[..2]);
    assert_eq!(pre.mean, [2.0, 0.5, 0.5]);
    assert_eq!(pre.scale, [1.0, 0.5, 0.5]);
    let z = pre.transform(&t).unwrap();
    assert_eq!(z.data(), &[-1.0, 1.0, -1.0, 1.0, -1.0, 1.0, 98.0, 1.0, -1.0]);
    let unseen = parse_table("a,c\n1,z\n", CsvOptions::default()).unwrap();
    assert_eq!(
        pre.transform(&unseen).unwrap_err().to_string(),
        r#"line 2, column 2 ("c"): category "z" was not seen in training (known: x, y)"#
    );
}

fn prep_err(text: &str, opts: TabularOptions) -> String {
    let t = parse_table(text, CsvOptions::default()).unwrap();
    Preprocessing::prepare(&t, &opts).unwrap_err().to_string()
}

fn target(t: &str) -> TabularOptions {
    TabularOptions { target: t.into(), ..Default::default() }
}

#[test]
fn bad_tables_name_what_and_where() {
    assert_eq!(prep_err("a,y\n1,0\n", target("z")), r#"line 1: no column named "z" in the header (columns: a, y)"#);
    assert_eq!(
        prep_err("a,y\n1,0\n2,0\n", target("y")),
        r#"target "y" has one class ("0") in all 2 rows; classification needs at least two"#
    );
    assert_eq!(prep_err("a,y\n1,0\nx,1\n", target("y")), r#"line 3, column 1 ("a"): "x" is not a finite number"#);
    assert_eq!(
        prep_err("a,y\n1,0\n,1\n", target("y")),
        r#"line 3, column 1 ("a"): empty cell (use --drop-missing to skip rows with empty cells)"#
    );
    let opts = TabularOptions { target: "y".into(), task: Some(Task::Regression), ..Default::default() };
    assert_eq!(prep_err("a,y\n1,cat\n2,dog\n", opts), r#"line 2, column 2 ("y"): "cat" is not a finite number"#);
    let opts = TabularOptions { target: "y".into(), task: Some(Task::Binary), ..Default::default() };
    assert_eq!(prep_err("a,y\n1,0\n2,1\n3,2\n", opts), r#"--task binary, but target "y" has 3 classes (0, 1, 2); use --task multiclass"#);
}

#[test]
fn drop_missing_skips_rows_with_empty_cells() {
    let t = parse_table("a,y\n1,0\n,1\n3,1\n4,\n5,0\n", CsvOptions::default()).unwrap();
    let opts = TabularOptions { target: "y".into(), drop_missing: true, ..Default::default() };
    let (_, rows) = Preprocessing::prepare(&t, &opts).unwrap();
    assert_eq!((rows.dropped, rows.lines.clone()), (2, vec![2, 4, 6]));
    assert_eq!(rows.x.data(), &[1.0, 3.0, 5.0]);
}

#[test]
fn split_arguments_are_checked() {
    for bad in [0.0, 1.0, -0.5, 1.5, f64::NAN] {
        let e = shuffle_split_indices(10, bad, 0).unwrap_err().to_string();
        assert!(e.starts_with("the test fraction must be strictly between 0 and 1"), "{e}");
    }
    let e = stratified_split_indices(&[0, 0, 0, 1], 0.5, 0).unwrap_err().to_string();
    assert_eq!(e, "class 1 has 1 row(s); a stratified split needs at least 2 of each class");
}

#[test]
fn class_names_with_commas_are_quoted_when_listed() {
    let text = "x,kind\n1,\"high, hot\"\n2,low\n3,mid\n4,low\n";
    let t = parse_table(text, CsvOptions::default()).unwrap();
    let (pre, rows) = Preprocessing::prepare(&t, &target("kind")).unwrap();
    assert_eq!(pre.labels, ["high, hot", "low", "mid"]);
    assert_eq!(rows.inferred, "task: multiclass (inferred: target \"kind\" holds text, 3 classes: \"high, hot\", low, mid)");
}

#[test]
fn two_feature_columns_of_one_name_are_an_error_at_fit_as_at_predict() {
    let t = parse_table("a,a,y\n1,2,0\n2,3,1\n", CsvOptions::default()).unwrap();
    let err = Preprocessing::prepare(&t, &target("y")).unwrap_err().to_string();
    assert_eq!(err, "line 1: column name \"a\" is ambiguous, it appears in columns [1, 2]");
    // Naming other columns is fine.
    let t = parse_table("a,a,b,y\n1,2,5,0\n2,3,6,1\n", CsvOptions::default()).unwrap();
    let opts = TabularOptions { features: vec!["b".into()], ..target("y") };
    assert!(Preprocessing::prepare(&t, &opts).is_ok());
}
