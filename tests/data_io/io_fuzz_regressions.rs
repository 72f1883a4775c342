//! The fuzz targets of `fuzz/` run on stable Rust: their seed inputs, every input that ever
//! crashed one of them (kept under `fuzz/regressions/`), and a seeded mutation driver over the
//! seeds. The driver's short run here is part of the suite; the long run is
//! `TAPEGRAD_FUZZ_SECS=600 cargo test --release --test io_fuzz_regressions -- --ignored`.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};
use tapegrad::data::parse_csv;
use tapegrad::io::fuzz::{load_model_target, parse_csv_target, parse_formula_target};
use tapegrad::io::{model_from_bytes, SafeTensors};

use crate::io_support::raw_file;

const MODEL_SEEDS: [&[u8]; 5] = [
    include_bytes!("../../fuzz/seeds/load_model/from_python_safetensors.safetensors"),
    include_bytes!("../../fuzz/seeds/load_model/model_f32.safetensors"),
    include_bytes!("../../fuzz/seeds/load_model/checkpoint_f32.safetensors"),
    include_bytes!("../../fuzz/seeds/load_model/model_f64.safetensors"),
    include_bytes!("../../fuzz/seeds/load_model/plain.safetensors"),
];

const CSV_SEEDS: [&[u8]; 5] = [
    include_bytes!("../../fuzz/seeds/parse_csv/simple.csv"),
    include_bytes!("../../fuzz/seeds/parse_csv/quoted.csv"),
    include_bytes!("../../fuzz/seeds/parse_csv/ragged.csv"),
    include_bytes!("../../fuzz/seeds/parse_csv/text.csv"),
    include_bytes!("../../fuzz/seeds/parse_csv/semicolon_text.csv"),
];

const FORMULA_SEEDS: [&[u8]; 4] = [
    include_bytes!("../../fuzz/seeds/parse_formula/where.txt"),
    include_bytes!("../../fuzz/seeds/parse_formula/cce.txt"),
    include_bytes!("../../fuzz/seeds/parse_formula/mixed.txt"),
    include_bytes!("../../fuzz/seeds/parse_formula/unary.txt"),
];


/// Inputs that probe edges the fuzzer is slow to reach (crashing inputs found by the fuzzers are
/// files under `fuzz/regressions/`, run below).
fn model_regressions() -> Vec<Vec<u8>> {
    let arch = |layers: &str| {
        let text = format!(r#"{{"class_name":"Sequential","dtype":"F32","input_width":1,"layers":[{layers}]}}"#);
        format!(r#"{{"__metadata__":{{"tapegrad.architecture":{}}}}}"#, serde_json::Value::String(text))
    };
    vec![
        // Header length u64::MAX, and one that does not fit in 32 bits.
        vec![0xff; 8],
        b"\0\0\0\0\x01\0\0\0{}".to_vec(),
        // A valid empty file.
        raw_file("{}", &[]),
        // Offsets near u64::MAX.
        raw_file(r#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[18446744073709551615,3]}}"#, &[0; 4]),
        raw_file(r#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[18446744073709551612,18446744073709551616]}}"#, &[0; 4]),
        // A shape whose product overflows, and a negative or fractional dimension.
        raw_file(r#"{"a":{"dtype":"U8","shape":[65536,65536,65536,65536,2],"data_offsets":[0,0]}}"#, &[]),
        raw_file(r#"{"a":{"dtype":"U8","shape":[-1],"data_offsets":[0,0]}}"#, &[]),
        raw_file(r#"{"a":{"dtype":"U8","shape":[1.5],"data_offsets":[0,1]}}"#, &[0]),
        // A model without layers (refused) with a huge input width.
        raw_file(&arch("").replace(r#"\"input_width\":1"#, r#"\"input_width\":1000000000000000000"#), &[]),
        // A layer with 10^18 units but no tensors.
        raw_file(&arch(r#"{"name":"d","units":1000000000000000000,"activation":"relu","use_bias":true}"#), &[]),
        // Deeply nested JSON.
        raw_file(&format!("{{\"a\":{}{}}}", "[".repeat(100_000), "]".repeat(100_000)), &[]),
    ]
}

const CSV_REGRESSIONS: [&[u8]; 3] = [b"", b"\xef\xbb\xbf", b"a,b,y\n\"\n"];

fn run_guarded(target: fn(&[u8]), input: &[u8], what: &str) {
    if catch_unwind(AssertUnwindSafe(|| target(input))).is_err() {
        panic!("{what} panicked on input (hex) {}", hex(input));
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn seeds_and_regressions_do_not_panic() {
    for input in MODEL_SEEDS.iter().copied().chain(model_regressions().iter().map(Vec::as_slice)) {
        run_guarded(load_model_target, input, "load_model");
    }
    for input in CSV_SEEDS.iter().chain(&CSV_REGRESSIONS) {
        run_guarded(parse_csv_target, input, "parse_csv");
    }
    for input in FORMULA_SEEDS {
        run_guarded(parse_formula_target, input, "parse_formula");
        assert!(tapegrad::formula::Formula::parse(std::str::from_utf8(input).unwrap()).is_ok(), "formula seeds must parse");
    }
    for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz/regressions")).into_iter().flatten() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name.starts_with("load_model") {
            run_guarded(load_model_target, &bytes, &name);
        } else if name.starts_with("parse_csv") {
            run_guarded(parse_csv_target, &bytes, &name);
        } else if name.starts_with("parse_formula") {
            run_guarded(parse_formula_target, &bytes, &name);
        }
    }
}

#[test]
fn seeds_are_what_they_claim() {
    // The model seeds must load (else the fuzzer starts from nothing).
    assert!(model_from_bytes::<f64>(MODEL_SEEDS[0].to_vec()).is_ok());
    assert!(model_from_bytes::<f32>(MODEL_SEEDS[1].to_vec()).is_ok());
    assert!(model_from_bytes::<f32>(MODEL_SEEDS[2].to_vec()).is_ok());
    assert!(model_from_bytes::<f64>(MODEL_SEEDS[3].to_vec()).is_ok());
    assert!(SafeTensors::from_bytes(MODEL_SEEDS[4].to_vec()).is_ok());
    assert!(parse_csv(std::str::from_utf8(CSV_SEEDS[0]).unwrap(), &["a", "b"], "y").is_ok());
}

/// xorshift64*: a small deterministic generator for the mutation driver.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const INTERESTING: [&[u8]; 12] = [
    b"0", b"-1", b"18446744073709551615", b"18446744073709551616", b"1e309", b"4294967296", b"\"\"", b"null", b"[]",
    b"{}", b"\"F64\"", b"\"I64\"",
];

/// One random edit of `buf`, sometimes splicing in a piece of `other`.
fn mutate(rng: &mut Rng, buf: &mut Vec<u8>, other: &[u8]) {
    match rng.below(9) {
        0 if !buf.is_empty() => {
            let i = rng.below(buf.len());
            buf[i] ^= 1 << rng.below(8);
        }
        1 if !buf.is_empty() => {
            let i = rng.below(buf.len());
            buf[i] = rng.next() as u8;
        }
        2 => {
            let i = rng.below(buf.len() + 1);
            buf.insert(i, rng.next() as u8);
        }
        3 if !buf.is_empty() => {
            let i = rng.below(buf.len());
            let n = rng.below(buf.len() - i).max(1);
            buf.drain(i..i + n);
        }
        4 => {
            let n = rng.below(buf.len() + 1);
            buf.truncate(n);
        }
        5 if !other.is_empty() => {
            let a = rng.below(other.len());
            let b = a + rng.below(other.len() - a);
            let i = rng.below(buf.len() + 1);
            buf.splice(i..i, other[a..b].iter().copied());
        }
        6 if buf.len() >= 8 => {
            // Another header length.
            let n = match rng.below(4) {
                0 => rng.next(),
                1 => (buf.len() - 8) as u64,
                2 => rng.below(buf.len()) as u64,
                _ => u64::from_le_bytes(buf[..8].try_into().unwrap()).wrapping_add(rng.below(17) as u64).wrapping_sub(8),
            };
            buf[..8].copy_from_slice(&n.to_le_bytes());
        }
        _ => {
            // Replace a run of digits or a quoted word with an interesting JSON token.
            let token = INTERESTING[rng.below(INTERESTING.len())];
            let starts: Vec<usize> =
                (1..buf.len()).filter(|&i| buf[i].is_ascii_digit() || buf[i] == b'"').filter(|&i| !buf[i - 1].is_ascii_digit()).collect();
            if starts.is_empty() {
                return;
            }
            let s = starts[rng.below(starts.len())];
            let mut e = s + 1;
            if buf[s] == b'"' {
                while e < buf.len() && buf[e] != b'"' {
                    e += 1;
                }
                e = (e + 1).min(buf.len());
            } else {
                while e < buf.len() && (buf[e].is_ascii_digit() || buf[e] == b'.') {
                    e += 1;
                }
            }
            let old_len = buf.len();
            buf.splice(s..e, token.iter().copied());
            // Keep the header length right most of the time, so the mutation reaches the JSON checks.
            if rng.below(4) != 0 && buf.len() >= 8 {
                let n = u64::from_le_bytes(buf[..8].try_into().unwrap());
                let n = (n as i128 + buf.len() as i128 - old_len as i128).max(0) as u64;
                buf[..8].copy_from_slice(&n.to_le_bytes());
            }
        }
    }
}

/// Mutates the seeds for `budget` (or `iterations` inputs per target, whichever ends first) and
/// runs both targets; returns the number of inputs tried.
fn drive(seed: u64, budget: Duration, iterations: usize) -> usize {
    let mut rng = Rng(seed | 1);
    let start = Instant::now();
    let mut done = 0;
    while done < iterations && start.elapsed() < budget {
        let pick = rng.below(MODEL_SEEDS.len());
        let mut buf = MODEL_SEEDS[pick].to_vec();
        for _ in 0..=rng.below(4) {
            let other = MODEL_SEEDS[rng.below(MODEL_SEEDS.len())];
            mutate(&mut rng, &mut buf, other);
        }
        run_guarded(load_model_target, &buf, "load_model");
        let mut csv = CSV_SEEDS[rng.below(CSV_SEEDS.len())].to_vec();
        for _ in 0..=rng.below(4) {
            let other = CSV_SEEDS[rng.below(CSV_SEEDS.len())];
            mutate(&mut rng, &mut csv, other);
        }
        run_guarded(parse_csv_target, &csv, "parse_csv");
        let mut formula = FORMULA_SEEDS[rng.below(FORMULA_SEEDS.len())].to_vec();
        for _ in 0..=rng.below(4) {
            let other = FORMULA_SEEDS[rng.below(FORMULA_SEEDS.len())];
            mutate(&mut rng, &mut formula, other);
        }
        run_guarded(parse_formula_target, &formula, "parse_formula");
        done += 1;
    }
    done
}

#[test]
fn mutated_seeds_do_not_panic() {
    let tried = drive(0x7a9e_67ad, Duration::from_secs(3), 20_000);
    assert!(tried >= 100, "only {tried} inputs in the time budget");
    println!("{tried} mutated inputs per target");
}

/// The long run: `TAPEGRAD_FUZZ_SECS` seconds (default 60) with a seed from `TAPEGRAD_FUZZ_SEED`.
#[test]
#[ignore]
fn mutation_fuzz_long_run() {
    let secs = std::env::var("TAPEGRAD_FUZZ_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(60);
    let seed = std::env::var("TAPEGRAD_FUZZ_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(1);
    let tried = drive(seed, Duration::from_secs(secs), usize::MAX);
    println!("mutation fuzz: {tried} inputs per target in {secs} s, no panic");
}
