//! Saving and loading models and checkpoints: round trips, resuming `fit`, crash safety, and a
//! clear one-line error for every kind of bad file.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use tapegrad::io::{
    checkpoint_to_bytes, load_checkpoint, load_model, model_from_bytes, model_to_bytes, save_checkpoint, save_model,
    tensors_to_bytes, ModelFileError, SafeTensors, ABORT_AFTER_ENV, ARCHITECTURE_KEY,
};
use tapegrad::nn::{Activation, Dense, Init, Sequential};
use tapegrad::optim::{Adam, Sgd};
use tapegrad::train::{FitConfig, LossFn, Model, Verbose};
use tapegrad::Tensor;

use crate::io_support::raw_file;

fn scratch_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tapegrad-io-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn net<T: tapegrad::Float>(seed: u64) -> Sequential<T> {
    Sequential::with_seed(
        3,
        vec![
            Dense::new(5).activation(Activation::Relu).kernel_initializer(Init::HeUniform),
            Dense::new(4).activation(Activation::Tanh).use_bias(false).name("hidden"),
            Dense::new(2).activation(Activation::Softmax).bias_initializer(Init::Constant(0.25)),
        ],
        seed,
    )
}

fn meta() -> BTreeMap<String, String> {
    BTreeMap::from([
        ("experiment".to_string(), "circles".to_string()),
        ("loss".to_string(), "categorical_crossentropy".to_string()),
    ])
}

fn inputs() -> Tensor<f64> {
    Tensor::from_vec((0..12).map(|i| (i as f64 * 0.37).sin()).collect(), &[4, 3])
}


/// The architecture JSON of a one-layer model `input -> units`.
fn arch(input: usize, units: usize, activation: &str) -> String {
    format!(
        r#"{{"class_name":"Sequential","dtype":"F32","input_width":{input},"layers":[{{"name":"dense","units":{units},"activation":"{activation}","use_bias":true}}]}}"#
    )
}

fn model_bytes_with(arch_json: &str, tensors: &[(&str, &Tensor<f32>)]) -> Vec<u8> {
    let meta = BTreeMap::from([(ARCHITECTURE_KEY.to_string(), arch_json.to_string())]);
    tensors_to_bytes(tensors, &meta).unwrap()
}

fn load_err(bytes: Vec<u8>) -> ModelFileError {
    let err = model_from_bytes::<f32>(bytes).expect_err("the bytes must be refused");
    let text = err.to_string();
    assert!(!text.contains('\n'), "error is not one line: {text}");
    err
}

#[test]
fn model_round_trips_with_architecture_and_metadata() {
    let dir = scratch_dir("round");
    let path = dir.join("m.safetensors");
    let original = net::<f64>(11);
    save_model(&path, &original, &meta()).unwrap();
    let saved = load_model::<f64>(&path).unwrap();
    assert_eq!(saved.metadata, meta());
    assert_eq!(saved.dtype, tapegrad::io::Dtype::F64);
    assert_eq!(saved.model.named_parameters(), original.named_parameters());
    let layers: Vec<_> = saved.model.layers().map(|l| l.downcast_ref::<Dense>().unwrap()).map(|d| (d.units(), d.get_activation())).collect();
    assert_eq!(layers, vec![(5, Activation::Relu), (4, Activation::Tanh), (2, Activation::Softmax)]);
    assert!(saved.model.parameter("hidden/bias").is_none());

    // Same predictions.
    let tape = tapegrad::Tape::new();
    let a = original.forward(&tape, tape.constant(inputs())).value();
    let b = saved.model.forward(&tape, tape.constant(inputs())).value();
    assert_eq!(a, b);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn f32_files_load_as_f64_exactly() {
    let original = net::<f32>(3);
    let bytes = model_to_bytes(&original, &BTreeMap::new()).unwrap();
    let wide = model_from_bytes::<f64>(bytes).unwrap();
    assert_eq!(wide.dtype, tapegrad::io::Dtype::F32);
    for ((n1, a), (n2, b)) in original.named_parameters().into_iter().zip(wide.model.named_parameters()) {
        assert_eq!(n1, n2);
        assert_eq!(a.cast::<f64>(), b);
    }
}

#[test]
fn file_layout_is_standard_safetensors() {
    let original = net::<f32>(5);
    let bytes = model_to_bytes(&original, &meta()).unwrap();
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    assert_eq!(n % 8, 0, "the header is padded to 8 bytes");
    let header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
    let k = &header["dense/kernel"];
    assert_eq!(k["dtype"], "F32");
    assert_eq!(k["shape"], serde_json::json!([3, 5]));
    let (a, b) = (k["data_offsets"][0].as_u64().unwrap() as usize, k["data_offsets"][1].as_u64().unwrap() as usize);
    assert_eq!(b - a, 15 * 4);
    let first = f32::from_le_bytes(bytes[8 + n + a..8 + n + a + 4].try_into().unwrap());
    assert_eq!(first, original.parameters()[0].data()[0]);
    assert_eq!(header["__metadata__"]["experiment"], "circles");
    let arch: serde_json::Value = serde_json::from_str(header["__metadata__"]["tapegrad.architecture"].as_str().unwrap()).unwrap();
    assert_eq!(arch["input_width"], 3);
    assert_eq!(arch["layers"][1]["name"], "hidden");
    assert_eq!(arch["layers"][1]["use_bias"], false);
    assert_eq!(arch["layers"][2]["bias_initializer"]["value"], 0.25);
    // Everything after the header is tensor data.
    let data_len: usize = original.parameters().iter().map(|p| p.len() * 4).sum();
    assert_eq!(bytes.len(), 8 + n + data_len);
}

#[test]
fn reserved_metadata_keys_are_refused_on_save() {
    let dir = scratch_dir("reserved");
    let path = dir.join("m.safetensors");
    let bad = BTreeMap::from([("tapegrad.architecture".to_string(), "{}".to_string())]);
    let err = save_model(&path, &net::<f32>(0), &bad).unwrap_err();
    assert!(matches!(err, ModelFileError::Save { .. }), "{err}");
    assert!(err.to_string().contains("reserved prefix"), "{err}");
    assert!(!path.exists());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn empty_short_and_foreign_files_are_refused() {
    assert_eq!(load_err(vec![]).to_string(), "<bytes>: not a valid safetensors file: the file is empty");
    assert!(load_err(vec![1, 2, 3]).to_string().contains("shorter than the 8-byte header length"));
    let csv = b"x1,x2,label\n0.5,0.25,1\n0.1,0.2,0\n".to_vec();
    assert!(matches!(load_err(csv), ModelFileError::Format { .. }));
    let png = vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, b'I', b'H', b'D', b'R'];
    assert!(matches!(load_err(png), ModelFileError::Format { .. }));
    let huge = u64::MAX.to_le_bytes().to_vec();
    assert!(load_err(huge).to_string().contains("larger than the limit"));
}

#[test]
fn every_truncation_is_refused_without_panic() {
    let bytes = model_to_bytes(&net::<f32>(1), &meta()).unwrap();
    for cut in 0..bytes.len() {
        let err = load_err(bytes[..cut].to_vec());
        assert!(matches!(err, ModelFileError::Format { .. }), "cut at {cut}: {err}");
    }
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    assert!(load_err(bytes[..8 + n / 2].to_vec()).to_string().contains("truncated file?"));
    assert!(load_err(bytes[..bytes.len() - 1].to_vec()).to_string().contains("data section"));
}

#[test]
fn corrupted_headers_are_refused_without_panic() {
    let bytes = model_to_bytes(&net::<f32>(1), &meta()).unwrap();
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    // Every single-byte corruption of the header is either refused or still a valid model: never a panic.
    let mut refused = 0;
    for i in 0..8 + n {
        for value in [b'"', b'}', b'9', 0xff] {
            let mut b = bytes.clone();
            if b[i] == value {
                continue;
            }
            b[i] = value;
            if let Err(e) = model_from_bytes::<f32>(b) {
                assert!(!e.to_string().contains('\n'));
                refused += 1;
            }
        }
    }
    assert!(refused > 4 * n / 2, "most corruptions must be caught, got {refused}");
    let not_json = raw_file("{this is not json", &[]);
    assert!(load_err(not_json).to_string().contains("not valid JSON"));
    let latin1 = raw_file("{\"\u{e9}\":1}", &[]);
    let mut latin1_bad = latin1.clone();
    latin1_bad[10] = 0xe9;
    assert!(load_err(latin1_bad).to_string().contains("not UTF-8"));
}

#[test]
fn offsets_are_validated() {
    let four = [0u8; 16];
    let entry = |o: &str| format!(r#"{{"a":{{"dtype":"F32","shape":[2],"data_offsets":{o}}},"b":{{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}}}"#);
    let cases = [
        (entry("[0,8]"), ""),
        (entry("[8,0]"), "end before they begin"),
        (entry("[0,12]"), "needs 8 bytes"),
        (entry("[12,20]"), "run past the data section"),
        (entry("[0,-8]"), "two non-negative integers"),
        (entry("[0]"), "list [begin, end]"),
    ];
    for (header, expected) in cases {
        let file = SafeTensors::from_bytes(raw_file(&header, &four));
        match (file, expected) {
            (Ok(_), "") => {}
            (Err(e), exp) if !exp.is_empty() => assert!(e.to_string().contains(exp), "{header}: {e}"),
            (other, exp) => panic!("{header}: expected {exp:?}, got {other:?}"),
        }
    }
    let overlap = r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#;
    assert!(SafeTensors::from_bytes(raw_file(overlap, &[0; 12])).unwrap_err().to_string().contains("\"a\" and \"b\" overlap"));
    // A gap between tensors and bytes after the last one.
    let gap = r#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#;
    assert!(SafeTensors::from_bytes(raw_file(gap, &[0; 12])).unwrap_err().to_string().contains("belong to no tensor"));
    let trailing = r#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#;
    assert!(SafeTensors::from_bytes(raw_file(trailing, &[0; 8])).unwrap_err().to_string().contains("extra bytes"));
    let dup = r#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#;
    assert!(SafeTensors::from_bytes(raw_file(dup, &[0; 4])).unwrap_err().to_string().contains("repeats the key \"a\""));
    let overflow = r#"{"a":{"dtype":"F64","shape":[4294967296,4294967296,16],"data_offsets":[0,0]}}"#;
    assert!(SafeTensors::from_bytes(raw_file(overflow, &[])).unwrap_err().to_string().contains("too large"));
    let bad_dtype = r#"{"a":{"dtype":"F128","shape":[1],"data_offsets":[0,4]}}"#;
    assert!(SafeTensors::from_bytes(raw_file(bad_dtype, &[0; 4])).unwrap_err().to_string().contains("unknown dtype"));
    let bad_meta = r#"{"__metadata__":{"k":1}}"#;
    assert!(SafeTensors::from_bytes(raw_file(bad_meta, &[])).unwrap_err().to_string().contains("not a string"));
}

#[test]
fn tensors_must_match_the_architecture() {
    let k = Tensor::<f32>::zeros(&[3, 2]);
    let b = Tensor::<f32>::zeros(&[2]);
    let good = arch(3, 2, "relu");
    assert!(model_from_bytes::<f32>(model_bytes_with(&good, &[("dense/kernel", &k), ("dense/bias", &b)])).is_ok());

    let wrong_shape = Tensor::<f32>::zeros(&[2, 3]);
    let e = load_err(model_bytes_with(&good, &[("dense/kernel", &wrong_shape), ("dense/bias", &b)]));
    assert_eq!(
        e.to_string(),
        "<bytes>: not a valid tapegrad model: tensor \"dense/kernel\" has shape [2, 3] but the architecture needs [3, 2]"
    );
    let e = load_err(model_bytes_with(&good, &[("dense/kernel", &k)]));
    assert!(e.to_string().contains("tensor \"dense/bias\" is missing"), "{e}");
    let e = load_err(model_bytes_with(&good, &[("dense/kernel", &k), ("dense/bias", &b), ("dense_9/kernel", &b)]));
    assert!(e.to_string().contains("\"dense_9/kernel\" is not a weight"), "{e}");

    // F64 weights under an F32 architecture, and integer weights.
    let meta = BTreeMap::from([(ARCHITECTURE_KEY.to_string(), good.clone())]);
    let (k64, b64) = (k.cast::<f64>(), b.cast::<f64>());
    let e = load_err(tensors_to_bytes(&[("dense/kernel", &k64), ("dense/bias", &b64)], &meta).unwrap());
    assert!(e.to_string().contains("has dtype F64 but the architecture says F32"), "{e}");
    let header = format!(
        r#"{{"dense/kernel":{{"dtype":"I32","shape":[3,2],"data_offsets":[0,24]}},"dense/bias":{{"dtype":"F32","shape":[2],"data_offsets":[24,32]}},"__metadata__":{{"tapegrad.architecture":{}}}}}"#,
        serde_json::Value::String(good.clone())
    );
    let e = load_err(raw_file(&header, &[0; 32]));
    assert!(e.to_string().contains("has dtype I32"), "{e}");
    assert!(matches!(e, ModelFileError::Model { .. }));
}

#[test]
fn metadata_must_describe_a_valid_model() {
    let k = Tensor::<f32>::zeros(&[3, 2]);
    let b = Tensor::<f32>::zeros(&[2]);
    let tensors = [("dense/kernel", &k), ("dense/bias", &b)];
    let e = load_err(tensors_to_bytes(&tensors, &BTreeMap::new()).unwrap());
    assert!(e.to_string().contains("no \"tapegrad.architecture\" metadata"), "{e}");
    let cases = [
        (arch(3, 2, "swish"), "unknown activation 'swish'"),
        (arch(3, 0, "relu"), "\"units\" must be a positive integer"),
        (arch(0, 2, "relu"), "\"input_width\" must be a positive integer"),
        ("[1, 2]".to_string(), "not a JSON object"),
        ("{\"class_name\":".to_string(), "not valid JSON"),
        (arch(3, 2, "relu").replace("Sequential", "Functional"), "only \"Sequential\""),
        (arch(3, 2, "relu").replace("\"F32\"", "\"I8\""), "dtype \"I8\" is not F32 or F64"),
        (arch(3, 2, "relu").replace("use_bias\":true", "use_bias\":\"yes\""), "\"use_bias\" must be true or false"),
        (arch(3, 2, "relu").replace("\"use_bias\"", "\"dropout\":0.5,\"use_bias\""), "unknown key \"dropout\""),
        (
            arch(3, 2, "relu").replace("true}", "true,\"kernel_initializer\":{\"name\":\"orthogonal\"}}"),
            "unknown initializer \"orthogonal\"",
        ),
    ];
    for (text, expected) in cases {
        let e = load_err(model_bytes_with(&text, &tensors));
        assert!(matches!(e, ModelFileError::Model { .. }), "{e}");
        assert!(e.to_string().contains(expected), "{text}: {e}");
    }
    // Two layers with one name.
    let twice = r#"{"class_name":"Sequential","dtype":"F32","input_width":3,"layers":[{"name":"d","units":2,"activation":"relu","use_bias":false},{"name":"d","units":2,"activation":"relu","use_bias":false}]}"#;
    assert!(load_err(model_bytes_with(twice, &[])).to_string().contains("used by an earlier layer"));
}

#[test]
fn io_errors_name_the_path() {
    let dir = scratch_dir("ioerr");
    let missing = dir.join("nope.safetensors");
    let e = load_model::<f32>(&missing).unwrap_err();
    assert!(matches!(e, ModelFileError::Io { .. }));
    assert!(e.to_string().starts_with(&missing.display().to_string()), "{e}");
    let nodir = dir.join("no/such/dir/m.safetensors");
    let e = save_model(&nodir, &net::<f32>(0), &BTreeMap::new()).unwrap_err();
    assert!(matches!(e, ModelFileError::Io { .. }), "{e}");
    // A bad file's error names the file too.
    let bad = dir.join("bad.safetensors");
    std::fs::write(&bad, b"").unwrap();
    assert_eq!(load_model::<f32>(&bad).unwrap_err().to_string(), format!("{}: not a valid safetensors file: the file is empty", bad.display()));
    std::fs::remove_dir_all(dir).unwrap();
}

fn training_data() -> (Tensor<f64>, Tensor<f64>) {
    let x = Tensor::from_vec((0..40).map(|i| ((i * 7 % 13) as f64 / 13.0) - 0.5).collect(), &[20, 2]);
    let y = Tensor::from_vec((0..20).map(|i| if (x.get(&[i, 0]) + x.get(&[i, 1])) > 0.0 { 1.0 } else { 0.0 }).collect(), &[20, 1]);
    (x, y)
}

fn compiled(seed: u64) -> Model<f64> {
    Sequential::<f64>::with_seed(2, vec![Dense::new(6).activation(Activation::Tanh), Dense::new(1).activation(Activation::Sigmoid)], seed)
        .compile(LossFn::named("binary_crossentropy").unwrap(), Adam::new(0.05).amsgrad(true), &[])
}

fn fit(model: &mut Model<f64>, epochs: usize) {
    let (x, y) = training_data();
    model.fit(&x, &y, FitConfig::new(epochs).batch_size(8).shuffle(false).verbose(Verbose::Silent)).unwrap();
}

#[test]
fn checkpoint_resumes_fit_exactly() {
    let dir = scratch_dir("resume");
    let path = dir.join("ckpt.safetensors");
    let mut straight = compiled(4);
    fit(&mut straight, 6);

    let mut first = compiled(4);
    fit(&mut first, 3);
    save_checkpoint(&path, &first, 3, &meta()).unwrap();

    let mut resumed = compiled(99); // other initial weights: all are replaced
    let ckpt = load_checkpoint(&path, &mut resumed).unwrap();
    assert_eq!((ckpt.epoch, ckpt.iterations, ckpt.optimizer.as_str()), (3, 9, "adam"));
    assert_eq!(ckpt.metadata, meta());
    fit(&mut resumed, 3);
    assert_eq!(resumed.net().parameters(), straight.net().parameters(), "resumed run must match the straight run bit for bit");
    assert_eq!(resumed.optimizer().iterations(), 18);

    // Control: the weights alone (fresh Adam state) do not reproduce the straight run.
    let mut weights_only = compiled(99);
    *weights_only.net_mut() = load_model::<f64>(&path).unwrap().model;
    fit(&mut weights_only, 3);
    assert_ne!(weights_only.net().parameters(), straight.net().parameters());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn checkpoint_stores_optimizer_state_as_named_tensors() {
    let mut model = compiled(1);
    fit(&mut model, 1);
    let bytes = checkpoint_to_bytes(&model, 1, &BTreeMap::new()).unwrap();
    let file = SafeTensors::from_bytes(bytes.clone()).unwrap();
    let names: Vec<&str> = file.tensors().iter().map(|t| t.name.as_str()).collect();
    for buffer in ["m", "v", "v_hat"] {
        for p in ["dense/kernel", "dense/bias", "dense_1/kernel", "dense_1/bias"] {
            assert!(names.contains(&format!("optimizer/{buffer}/{p}").as_str()), "{names:?}");
        }
    }
    let m = file.tensor::<f64>("optimizer/m/dense/kernel").unwrap();
    assert_eq!(m.shape(), &[2, 6]);
    assert_eq!(m.data(), model.optimizer().state_buffers()[0].1[0].as_slice());
    // A checkpoint is also a model file.
    assert_eq!(model_from_bytes::<f64>(bytes).unwrap().model.parameters(), model.net().parameters());
}

#[test]
fn checkpoint_into_another_model_is_refused_and_changes_nothing() {
    let mut model = compiled(1);
    fit(&mut model, 1);
    let bytes = checkpoint_to_bytes(&model, 1, &BTreeMap::new()).unwrap();

    let mut wider = Sequential::<f64>::with_seed(2, vec![Dense::new(7).activation(Activation::Tanh), Dense::new(1)], 0)
        .compile(LossFn::named("mse").unwrap(), Adam::new(0.05), &[]);
    let before = wider.net().parameters().to_vec();
    let e = tapegrad::io::checkpoint_from_bytes(bytes.clone(), &mut wider).unwrap_err();
    assert!(matches!(e, ModelFileError::Mismatch { .. }), "{e}");
    assert!(e.to_string().contains("dense(6 tanh)") && e.to_string().contains("dense(7 tanh)"), "{e}");
    assert_eq!(wider.net().parameters(), before.as_slice());

    let mut sgd = compiled(2);
    let mut sgd = {
        let net = sgd.net_mut().clone();
        net.compile(LossFn::named("mse").unwrap(), Sgd::new(0.1).momentum(0.9), &[])
    };
    let before = sgd.net().parameters().to_vec();
    let e = tapegrad::io::checkpoint_from_bytes(bytes, &mut sgd).unwrap_err();
    assert!(e.to_string().contains("\"adam\" optimizer state but the model uses \"sgd\""), "{e}");
    assert_eq!(sgd.net().parameters(), before.as_slice());
    assert_eq!(sgd.optimizer().iterations(), 0);

    // A plain model file is not a checkpoint.
    let plain = model_to_bytes(model.net(), &BTreeMap::new()).unwrap();
    let e = tapegrad::io::checkpoint_from_bytes(plain, &mut model).unwrap_err();
    assert!(e.to_string().contains("not a checkpoint"), "{e}");
}

/// The child half of the crash test: saves over the file with the abort hook set.
const CHILD_ENV: &str = "TAPEGRAD_IO_TEST_CHILD_SAVE";

#[test]
fn crash_in_the_middle_of_a_save_keeps_the_old_file() {
    if let Ok(path) = std::env::var(CHILD_ENV) {
        // Child: this save aborts the process half way through writing.
        let _ = save_model(&path, &net::<f32>(2), &BTreeMap::new());
        // Reaching this line means the hook did not fire; the parent sees exit code 0 and fails.
        std::process::exit(0);
    }
    let dir = scratch_dir("crash");
    let path = dir.join("model.safetensors");
    let old = net::<f32>(1);
    save_model(&path, &old, &meta()).unwrap();
    let new_len = model_to_bytes(&net::<f32>(2), &BTreeMap::new()).unwrap().len();
    let half = new_len / 2;

    let status = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "io::crash_in_the_middle_of_a_save_keeps_the_old_file", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, &path)
        .env(ABORT_AFTER_ENV, half.to_string())
        .status()
        .unwrap();
    assert!(!status.success(), "the child must die in the middle of the save");

    // The partly written temporary file is there, beside the untouched old file.
    let leftovers: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).filter(|p| p != &path).collect();
    assert_eq!(leftovers.len(), 1, "{leftovers:?}");
    assert_eq!(std::fs::metadata(&leftovers[0]).unwrap().len() as usize, half);
    let loaded = load_model::<f32>(&path).unwrap();
    assert_eq!(loaded.model.parameters(), old.parameters());
    assert_eq!(loaded.metadata, meta());

    // A normal save afterwards replaces it.
    save_model(&path, &net::<f32>(2), &BTreeMap::new()).unwrap();
    assert_eq!(load_model::<f32>(&path).unwrap().model.parameters(), net::<f32>(2).parameters());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn files_written_by_the_reference_safetensors_load() {
    // Written by Python's `safetensors.numpy.save_file` 0.8.0 (its own key order, padding and
    // offsets), with a tapegrad architecture in the metadata.
    let bytes = include_bytes!("../../fuzz/seeds/load_model/from_python_safetensors.safetensors").to_vec();
    let saved = model_from_bytes::<f64>(bytes).unwrap();
    assert_eq!(saved.metadata["written_by"], "safetensors 0.8.0");
    assert_eq!(saved.model.parameter("dense/kernel").unwrap().data(), &[0.5, -1.0, 0.25, 2.0, 0.0, -0.75]);
    let tape = tapegrad::Tape::new();
    let y = saved.model.forward(&tape, tape.constant(Tensor::from_vec(vec![1.0, 2.0], &[1, 2]))).item();
    let h = [4.6f64.tanh(), (-1.2f64).tanh(), (-0.95f64).tanh()];
    let expected = h[0] - 2.0 * h[1] + 0.5 * h[2] + 0.125;
    assert!((y - expected).abs() < 1e-12, "{y} vs {expected}");
}

#[test]
fn every_optimizer_resumes_exactly() {
    use tapegrad::optim::{Adagrad, AdamW, Optimizer, RmsProp};
    type Maker = fn() -> Box<dyn Optimizer<f64>>;
    let makers: Vec<(&str, Maker)> = vec![
        ("sgd", || Box::new(Sgd::new(0.1).momentum(0.9).nesterov(true))),
        ("adamw", || Box::new(AdamW::new(0.05))),
        ("rmsprop", || Box::new(RmsProp::new(0.01).centered(true).momentum(0.5))),
        ("adagrad", || Box::new(Adagrad::new(0.1))),
    ];
    for (name, make) in makers {
        let compile = |seed| {
            Sequential::<f64>::with_seed(2, vec![Dense::new(4).activation(Activation::Relu), Dense::new(1)], seed)
                .compile_boxed(LossFn::named("mse").unwrap(), make(), &[])
        };
        let mut straight = compile(8);
        fit(&mut straight, 4);
        let mut first = compile(8);
        fit(&mut first, 2);
        let bytes = checkpoint_to_bytes(&first, 2, &BTreeMap::new()).unwrap();
        let mut resumed = compile(1);
        let ckpt = tapegrad::io::checkpoint_from_bytes(bytes, &mut resumed).unwrap();
        assert_eq!(ckpt.optimizer, name);
        fit(&mut resumed, 2);
        assert_eq!(resumed.net().parameters(), straight.net().parameters(), "{name}");
    }
}

/// A file of format 1 (written before layers were a trait: `Dense` layers without a
/// `class_name`, `tapegrad.format` "1") loads as it is; new files are format 2 and name each
/// layer's class; an unknown format is one line naming the versions this build reads.
#[test]
fn format_1_files_load_and_unknown_formats_are_named() {
    let k = Tensor::<f32>::from_vec(vec![0.5, -1.0, 0.25, 2.0, 0.0, -0.75], &[3, 2]);
    let b = Tensor::<f32>::from_vec(vec![0.125, -0.5], &[2]);
    let tensors = [("dense/kernel", &k), ("dense/bias", &b)];
    let v1 = |format: &str| {
        let meta = BTreeMap::from([
            (ARCHITECTURE_KEY.to_string(), arch(3, 2, "tanh")),
            ("tapegrad.format".to_string(), format.to_string()),
        ]);
        tensors_to_bytes(&tensors, &meta).unwrap()
    };
    let old = model_from_bytes::<f32>(v1("1")).unwrap().model;
    assert_eq!(old.parameter("dense/kernel").unwrap(), k);
    assert_eq!(old.parameter("dense/bias").unwrap(), b);
    assert_eq!(old.output_activation(), Activation::Tanh);
    let saved = model_to_bytes(&old, &BTreeMap::new()).unwrap();
    let n = u64::from_le_bytes(saved[..8].try_into().unwrap()) as usize;
    let header: serde_json::Value = serde_json::from_slice(&saved[8..8 + n]).unwrap();
    assert_eq!(header["__metadata__"]["tapegrad.format"], "2");
    let arch2: serde_json::Value = serde_json::from_str(header["__metadata__"]["tapegrad.architecture"].as_str().unwrap()).unwrap();
    assert_eq!(arch2["layers"][0]["class_name"], "Dense");
    assert_eq!(model_from_bytes::<f32>(saved).unwrap().model.named_parameters(), old.named_parameters());
    let e = load_err(v1("3")).to_string();
    assert!(e.contains("tapegrad.format is \"3\"; this tapegrad reads versions 1 and 2"), "{e}");
}
