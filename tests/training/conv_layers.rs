//! The Keras convolution, pooling, `Flatten` and `Embedding` layers: each equals the op it lowers
//! to (through the layout permutation), the two data formats agree, output shapes follow Keras'
//! formulas, gradients check, save/load round-trips bit for bit, bad arguments are named, and
//! `Sequential`/`fit` take samples of any rank.

use rand::{rngs::StdRng, Rng, SeedableRng};
use std::collections::BTreeMap;
use tapegrad::io::{load_model, save_model};
use tapegrad::layers;
use tapegrad::nn::{
    Activation, AveragePooling1D, AveragePooling2D, Conv1D, Conv2D, DataFormat, Dense, Embedding, Flatten,
    GlobalAveragePooling1D, GlobalAveragePooling2D, Layer, MaxPooling1D, MaxPooling2D, PaddingMode, Sequential,
};
use tapegrad::optim::Adam;
use tapegrad::train::{FitConfig, LossFn, Verbose};
use tapegrad::{gradcheck, ConvOptions, Padding, PoolOptions, Tape, Tensor};

fn random(shape: &[usize], seed: u64) -> Tensor<f64> {
    let mut rng = StdRng::seed_from_u64(seed);
    Tensor::from_vec((0..shape.iter().product::<usize>()).map(|_| rng.gen_range(-1.0..1.0)).collect(), shape)
}

fn max_diff(a: &Tensor<f64>, b: &Tensor<f64>) -> f64 {
    assert_eq!(a.shape(), b.shape());
    a.data().iter().zip(b.data()).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max)
}

/// The model applied to `x` in inference mode.
fn run(net: &Sequential<f64>, x: &Tensor<f64>) -> Tensor<f64> {
    let tape = Tape::new();
    net.forward(&tape, tape.constant(x.clone())).value()
}

/// A batch permuted on the tape.
fn permuted(x: &Tensor<f64>, order: &[usize]) -> Tensor<f64> {
    let tape = Tape::new();
    tape.constant(x.clone()).permute(order).value()
}

/// Keras' output length: `ceil(n / s)` for "same", `floor((n - span) / s) + 1` for "valid".
fn keras_len(padding: &str, n: usize, k: usize, s: usize, d: usize) -> usize {
    let span = d * (k - 1) + 1;
    match padding {
        "same" => n.div_ceil(s),
        _ => (n - span) / s + 1,
    }
}

/// TensorFlow's "same" split, written out: total `max((out - 1) s + span - n, 0)`, less before.
fn tf_pads(padding: &str, n: usize, k: usize, s: usize, d: usize) -> [usize; 2] {
    if padding != "same" {
        return [0, 0];
    }
    let total = ((n.div_ceil(s) - 1) * s + d * (k - 1) + 1).saturating_sub(n);
    [total / 2, total - total / 2]
}

#[test]
fn conv2d_layer_is_the_op_on_permuted_data() {
    // (padding, kernel, strides, dilation, groups, bias)
    type Case = (&'static str, [usize; 2], [usize; 2], [usize; 2], usize, bool);
    let cases: [Case; 6] = [
        ("valid", [3, 3], [1, 1], [1, 1], 1, true),
        ("same", [3, 3], [1, 1], [1, 1], 1, true),
        ("same", [2, 3], [2, 2], [1, 1], 1, false),
        ("valid", [3, 2], [2, 1], [1, 1], 2, true),
        ("same", [3, 3], [1, 1], [2, 1], 2, true),
        ("same", [4, 1], [3, 2], [1, 1], 1, true),
    ];
    let (h, w, c, filters) = (7, 6, 4, 6);
    let x = random(&[2, h, w, c], 1);
    for (i, &(padding, k, s, d, g, bias)) in cases.iter().enumerate() {
        let layer = Conv2D::new(filters, k)
            .strides(s)
            .dilation_rate(d)
            .groups(g)
            .use_bias(bias)
            .padding(padding.parse().unwrap())
            .activation(Activation::Tanh)
            .bias_initializer(tapegrad::nn::Init::RandomNormal { mean: 0.0, stddev: 1.0 });
        let net = Sequential::<f64>::with_input_shape(&[h, w, c], layers![layer], i as u64);
        let out_hw = [keras_len(padding, h, k[0], s[0], d[0]), keras_len(padding, w, k[1], s[1], d[1])];
        assert_eq!(net.output_shape(), &[out_hw[0], out_hw[1], filters], "case {i}");
        let kernel = net.parameter("conv2d/kernel").unwrap();
        assert_eq!(kernel.shape(), &[k[0], k[1], c / g, filters], "Keras' kernel layout, case {i}");
        let got = run(&net, &x);
        // The op, by hand: NHWC -> NCHW, kernel (kh, kw, in, out) -> (out, in, kh, kw).
        let tape = Tape::new();
        let xv = tape.constant(x.clone()).permute(&[0, 3, 1, 2]);
        let wv = tape.constant(kernel).permute(&[3, 2, 0, 1]);
        let bv = bias.then(|| tape.constant(net.parameter("conv2d/bias").unwrap()));
        let pads = [tf_pads(padding, h, k[0], s[0], d[0]), tf_pads(padding, w, k[1], s[1], d[1])];
        let o = ConvOptions::default().stride(s).dilation(d).groups(g).padding(Padding::Explicit(pads));
        let want = xv.conv2d(wv, bv, o).permute(&[0, 2, 3, 1]).tanh().value();
        assert_eq!(max_diff(&got, &want), 0.0, "case {i}");
    }
}

#[test]
fn conv1d_layer_is_the_op_and_causal_pads_before() {
    let (l, c) = (9, 3);
    let x = random(&[3, l, c], 2);
    for (i, (padding, k, s, d)) in [("valid", 3, 2, 1), ("same", 4, 1, 1), ("same", 3, 2, 1), ("causal", 3, 1, 2)].into_iter().enumerate() {
        let net = Sequential::<f64>::with_input_shape(&[l, c], layers![Conv1D::new(5, [k]).strides([s]).dilation_rate([d]).padding(padding.parse().unwrap())], 0);
        let kernel = net.parameter("conv1d/kernel").unwrap();
        assert_eq!(kernel.shape(), &[k, c, 5]);
        let pads = if padding == "causal" { [d * (k - 1), 0] } else { tf_pads(padding, l, k, s, d) };
        let want_len = if padding == "causal" { l } else { keras_len(padding, l, k, s, d) };
        assert_eq!(net.output_shape(), &[want_len, 5], "case {i}");
        let tape = Tape::new();
        let b = tape.constant(net.parameter("conv1d/bias").unwrap());
        let o = ConvOptions::default().stride([s]).dilation([d]).padding(Padding::Explicit([pads]));
        let want = tape.constant(x.clone()).permute(&[0, 2, 1]).conv1d(tape.constant(kernel).permute(&[2, 1, 0]), Some(b), o).permute(&[0, 2, 1]).value();
        assert_eq!(max_diff(&run(&net, &x), &want), 0.0, "case {i}");
    }
    // Causal: output t does not depend on inputs after t.
    let net = Sequential::<f64>::with_input_shape(&[l, c], layers![Conv1D::new(2, [3]).padding(PaddingMode::Causal)], 1);
    let mut later = x.clone();
    for v in &mut later.data_mut()[5 * c..l * c] {
        *v += 1.0;
    }
    let (a, b) = (run(&net, &x), run(&net, &later));
    assert_eq!(a.data()[..5 * 2], b.data()[..5 * 2]);
    assert_ne!(a.data()[5 * 2..l * 2], b.data()[5 * 2..l * 2]);
}

#[test]
fn channels_first_and_channels_last_agree() {
    let x_last = random(&[2, 6, 5, 3], 3);
    let x_first = permuted(&x_last, &[0, 3, 1, 2]);
    let stack = |f: DataFormat| {
        layers![
            Conv2D::new(4, [3, 3]).padding(PaddingMode::Same).data_format(f).activation(Activation::Relu),
            MaxPooling2D::new([2, 2]).padding(PaddingMode::Same).data_format(f),
            AveragePooling2D::new([2, 2]).strides([1, 1]).data_format(f),
            Conv2D::new(2, [1, 2]).data_format(f)
        ]
    };
    let last = Sequential::<f64>::with_input_shape(&[6, 5, 3], stack(DataFormat::ChannelsLast), 7);
    let first = Sequential::<f64>::with_input_shape(&[3, 6, 5], stack(DataFormat::ChannelsFirst), 7);
    assert_eq!(last.parameters(), first.parameters(), "the same seed gives the same kernels in both formats");
    assert_eq!(last.output_shape(), &[2, 1, 2]);
    assert_eq!(first.output_shape(), &[2, 2, 1]);
    let (a, b) = (run(&last, &x_last), permuted(&run(&first, &x_first), &[0, 2, 3, 1]));
    assert!(max_diff(&a, &b) < 1e-13, "{}", max_diff(&a, &b));
    // Flatten puts channels-first data channels last first, as Keras does: same features, same order.
    let fl = Sequential::<f64>::with_input_shape(&[6, 5, 3], layers![Flatten::new(), Dense::new(3)], 1);
    let ff = Sequential::<f64>::with_input_shape(&[3, 6, 5], layers![Flatten::new().data_format(DataFormat::ChannelsFirst), Dense::new(3)], 1);
    assert!(max_diff(&run(&fl, &x_last), &run(&ff, &x_first)) < 1e-13);
    // Global pooling.
    let gl = Sequential::<f64>::with_input_shape(&[6, 5, 3], layers![GlobalAveragePooling2D::new()], 0);
    let gf = Sequential::<f64>::with_input_shape(&[3, 6, 5], layers![GlobalAveragePooling2D::new().data_format(DataFormat::ChannelsFirst)], 0);
    assert!(max_diff(&run(&gl, &x_last), &run(&gf, &x_first)) < 1e-15);
}

/// Keras' (TensorFlow's) pooling written out: each window's positions inside the input, the
/// maximum or the mean over them (padding never counts).
fn tf_pool_2d(x: &Tensor<f64>, k: [usize; 2], s: [usize; 2], padding: &str, max: bool) -> Tensor<f64> {
    let [n, h, w, c] = [x.shape()[0], x.shape()[1], x.shape()[2], x.shape()[3]];
    let (oh, ow) = (keras_len(padding, h, k[0], s[0], 1), keras_len(padding, w, k[1], s[1], 1));
    let (ph, pw) = (tf_pads(padding, h, k[0], s[0], 1)[0], tf_pads(padding, w, k[1], s[1], 1)[0]);
    let mut out = Vec::new();
    for b in 0..n {
        for y in 0..oh {
            for z in 0..ow {
                for ch in 0..c {
                    let mut vals = Vec::new();
                    for i in 0..k[0] {
                        for j in 0..k[1] {
                            let (r, q) = ((y * s[0] + i) as isize - ph as isize, (z * s[1] + j) as isize - pw as isize);
                            if r >= 0 && q >= 0 && (r as usize) < h && (q as usize) < w {
                                vals.push(x.get(&[b, r as usize, q as usize, ch]));
                            }
                        }
                    }
                    out.push(if max { vals.iter().copied().fold(f64::MIN, f64::max) } else { vals.iter().sum::<f64>() / vals.len() as f64 });
                }
            }
        }
    }
    Tensor::from_vec(out, &[n, oh, ow, c])
}

#[test]
fn pooling_layers_follow_keras_windows_and_padding() {
    let (h, w, c) = (7, 6, 2);
    let x = random(&[2, h, w, c], 4);
    for (k, s, padding) in [([2, 2], None, "valid"), ([2, 2], None, "same"), ([3, 3], Some([2, 2]), "same"), ([3, 2], Some([1, 1]), "same"), ([2, 3], Some([3, 1]), "valid")] {
        for max in [true, false] {
            let mode: PaddingMode = padding.parse().unwrap();
            let layer: Box<dyn Layer<f64>> = match (max, s) {
                (true, Some(s)) => Box::new(MaxPooling2D::new(k).strides(s).padding(mode)),
                (true, None) => Box::new(MaxPooling2D::new(k).padding(mode)),
                (false, Some(s)) => Box::new(AveragePooling2D::new(k).strides(s).padding(mode)),
                (false, None) => Box::new(AveragePooling2D::new(k).padding(mode)),
            };
            let net = Sequential::<f64>::with_input_shape(&[h, w, c], vec![layer], 0);
            let want = tf_pool_2d(&x, k, s.unwrap_or(k), padding, max);
            assert_eq!(net.output_shape(), &want.shape()[1..]);
            let d = max_diff(&run(&net, &x), &want);
            assert!(d < 1e-15, "{k:?} {s:?} {padding} max={max}: {d}");
        }
    }
    // Valid pooling is exactly the op on the permuted batch.
    let net = Sequential::<f64>::with_input_shape(&[h, w, c], layers![MaxPooling2D::new([3, 2]).strides([2, 2])], 0);
    let tape = Tape::new();
    let op = tape.constant(x.clone()).permute(&[0, 3, 1, 2]).max_pool2d(PoolOptions { stride: [2, 2], ..PoolOptions::new([3, 2]) });
    assert_eq!(run(&net, &x), op.permute(&[0, 2, 3, 1]).value());
}

#[test]
fn pooling_1d_and_global_pooling_are_their_ops() {
    let x = random(&[2, 9, 3], 5);
    let tape = Tape::new();
    let xc = tape.constant(x.clone()).permute(&[0, 2, 1]);
    let net = Sequential::<f64>::with_input_shape(&[9, 3], layers![MaxPooling1D::new([3]).strides([2])], 0);
    assert_eq!(run(&net, &x), xc.max_pool1d(PoolOptions { stride: [2], ..PoolOptions::new([3]) }).permute(&[0, 2, 1]).value());
    let net = Sequential::<f64>::with_input_shape(&[9, 3], layers![AveragePooling1D::new([2])], 0);
    assert_eq!(run(&net, &x), xc.avg_pool1d(PoolOptions::new([2])).permute(&[0, 2, 1]).value());
    assert_eq!(net.output_shape(), &[4, 3]);
    let net = Sequential::<f64>::with_input_shape(&[9, 3], layers![GlobalAveragePooling1D::new()], 0);
    assert!(max_diff(&run(&net, &x), &xc.global_avg_pool1d().value()) < 1e-15);
    let net = Sequential::<f64>::with_input_shape(&[3, 9], layers![GlobalAveragePooling1D::new().data_format(DataFormat::ChannelsFirst).keepdims(true)], 0);
    assert_eq!(net.output_shape(), &[3, 1]);
    let x2 = random(&[2, 4, 5, 3], 6);
    let net = Sequential::<f64>::with_input_shape(&[4, 5, 3], layers![GlobalAveragePooling2D::new().keepdims(true)], 0);
    assert_eq!(net.output_shape(), &[1, 1, 3]);
    let want = tape.constant(x2.clone()).permute(&[0, 3, 1, 2]).global_avg_pool2d().value();
    assert!(max_diff(&run(&net, &x2), &want.reshape(&[2, 1, 1, 3])) < 1e-15);
}

#[test]
fn gradients_check_through_conv_pool_flatten_dense() {
    let net = Sequential::<f64>::with_input_shape(
        &[5, 5, 2],
        layers![
            Conv2D::new(3, [2, 2]).padding(PaddingMode::Same).activation(Activation::Tanh),
            MaxPooling2D::new([2, 2]).padding(PaddingMode::Same),
            AveragePooling2D::new([2, 2]).strides([1, 1]),
            Flatten::new(),
            Dense::new(2)
        ],
        3,
    );
    let x = random(&[2, 5, 5, 2], 8);
    let mut inputs = vec![x];
    inputs.extend(net.parameters());
    let report = gradcheck(
        |v| {
            let out = net.forward_with(&v[1..], v[0]);
            (out * out).sum()
        },
        &inputs,
    );
    assert!(report.is_ok(), "{:?}", report.err());
    // Conv1D with causal padding and global pooling.
    let net = Sequential::<f64>::with_input_shape(&[6, 2], layers![Conv1D::new(3, [3]).padding(PaddingMode::Causal).dilation_rate([2]), GlobalAveragePooling1D::new(), Dense::new(1)], 1);
    let mut inputs = vec![random(&[2, 6, 2], 9)];
    inputs.extend(net.parameters());
    let report = gradcheck(|v| net.forward_with(&v[1..], v[0]).tanh().sum(), &inputs);
    assert!(report.is_ok(), "{:?}", report.err());
}

#[test]
fn embedding_gives_rows_and_gradient_only_to_used_rows() {
    let net = Sequential::<f64>::with_seed(4, layers![Embedding::new(6, 3)], 2);
    assert_eq!(net.output_shape(), &[4, 3]);
    let table = net.parameter("embedding/embeddings").unwrap();
    assert!(table.data().iter().all(|v| (-0.05..0.05).contains(v)), "Keras' uniform(-0.05, 0.05)");
    let ids = Tensor::from_vec(vec![1.0, 4.0, 1.0, 0.0, 5.0, 5.0, 5.0, 4.0], &[2, 4]);
    let tape = Tape::new();
    let params = net.record_parameters(&tape);
    let x = tape.var(ids.clone());
    let out = net.forward_with(&params, x);
    assert_eq!(&out.shape()[..], &[2, 4, 3]);
    for (i, &id) in ids.data().iter().enumerate() {
        assert_eq!(out.value().data()[i * 3..i * 3 + 3], table.data()[id as usize * 3..id as usize * 3 + 3]);
    }
    let weight = tape.constant(Tensor::from_vec((0..24).map(f64::from).collect(), &[2, 4, 3]));
    let grads = (out * weight).sum().backward();
    let g = grads.wrt(params[0]);
    // Row r's gradient is the sum of the weights at the positions holding id r; rows 2, 3 unused.
    for r in 0..6 {
        for j in 0..3 {
            let want: f64 = ids.data().iter().enumerate().filter(|(_, &id)| id as usize == r).map(|(i, _)| (i * 3 + j) as f64).sum();
            assert_eq!(g.get(&[r, j]), want, "row {r}");
        }
    }
    assert!(g.data()[6..12].iter().all(|&v| v == 0.0));
    assert!(grads.wrt(x).data().iter().all(|&v| v == 0.0), "ids get no gradient");
}

#[test]
#[should_panic(expected = "Embedding: input ids must be integers in 0..6 (input_dim), got 6")]
fn embedding_refuses_an_id_out_of_range() {
    let net = Sequential::<f64>::with_seed(2, layers![Embedding::new(6, 3)], 2);
    run(&net, &Tensor::from_vec(vec![1.0, 6.0], &[1, 2]));
}

/// A bad id in the data is an error from `fit`, `evaluate` and `predict`, naming its row and
/// column, before any step runs: the weights are untouched.
#[test]
fn embedding_ids_are_checked_before_training() {
    let net = Sequential::<f64>::with_seed(3, layers![Embedding::new(6, 2), Flatten::new(), Dense::new(1)], 2);
    let mut model = net.compile(LossFn::named("mse").unwrap(), Adam::new(0.01), &[]);
    let before = model.net().parameters();
    let x = Tensor::from_vec(vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 1.5, 0.0, 2.0], &[3, 3]);
    let y = Tensor::from_vec(vec![0.0, 1.0, 0.0], &[3, 1]);
    let want = "training data: Embedding: input ids must be integers in 0..6 (input_dim), got 1.5 at row 2, column 0";
    let err = model.fit(&x, &y, FitConfig::new(2).verbose(Verbose::Silent)).unwrap_err();
    assert_eq!(err.to_string(), want);
    assert_eq!(model.net().parameters(), before);
    let err = model.evaluate(&x, &y, 32).unwrap_err();
    assert!(err.to_string().contains("got 1.5 at row 2, column 0"), "{err}");
    let err = model.predict(&Tensor::from_vec(vec![0.0, 7.0, 1.0], &[1, 3])).unwrap_err();
    assert!(err.to_string().contains("got 7 at row 0, column 1"), "{err}");
}

#[test]
fn bad_arguments_name_layer_argument_and_value() {
    let build = |layer: Box<dyn Layer<f64>>, shape: &[usize]| Sequential::<f64>::try_with_input_shape(shape, vec![layer], 0).unwrap_err();
    type Case = (Box<dyn Layer<f64>>, &'static [usize], &'static str);
    let cases: Vec<Case> = vec![
        (Box::new(Conv2D::new(0, [3, 3])), &[8, 8, 1], "Conv2D: filters must be a positive integer, got 0"),
        (Box::new(Conv2D::new(4, [3, 0])), &[8, 8, 1], "Conv2D: kernel_size must be positive, got [3, 0]"),
        (Box::new(Conv2D::new(4, [3, 3]).strides([0, 1])), &[8, 8, 1], "Conv2D: strides must be positive, got [0, 1]"),
        (Box::new(Conv2D::new(4, [3, 3]).groups(3)), &[8, 8, 3], "Conv2D: groups must be a positive divisor of filters (4), got 3"),
        (Box::new(Conv2D::new(4, [3, 3]).groups(2)), &[8, 8, 3], "Conv2D: groups=2 must divide the input channels (3"),
        (Box::new(Conv2D::new(4, [3, 3]).padding(PaddingMode::Causal)), &[8, 8, 1], "Conv2D: padding must be \"valid\" or \"same\" (\"causal\" is for Conv1D), got \"causal\""),
        (Box::new(Conv2D::new(4, [3, 3]).strides([2, 2]).dilation_rate([2, 2])), &[8, 8, 1], "cannot be combined with dilation_rate [2, 2]"),
        (Box::new(Conv2D::new(4, [3, 3])), &[64], "Conv2D takes samples of shape (height, width, channels) (channels_last), got shape [64]"),
        (Box::new(Conv2D::new(4, [9, 3])), &[8, 8, 1], "Conv2D: kernel_size [9, 3] with dilation_rate [1, 1] does not fit the input shape [8, 8, 1]"),
        (Box::new(Conv1D::new(4, [3]).dilation_rate([0])), &[8, 1], "Conv1D: dilation_rate must be positive, got [0]"),
        (Box::new(MaxPooling2D::new([0, 2])), &[8, 8, 1], "MaxPooling2D: pool_size must be positive, got [0, 2]"),
        (Box::new(AveragePooling1D::new([9])), &[8, 1], "AveragePooling1D: pool_size [9] does not fit the input shape [8, 1]"),
        (Box::new(GlobalAveragePooling2D::new()), &[8, 8], "GlobalAveragePooling2D takes samples of shape (height, width, channels)"),
        (Box::new(Embedding::new(0, 3)), &[4], "Embedding: input_dim must be a positive integer, got 0"),
    ];
    for (layer, shape, want) in cases {
        let e = build(layer, shape);
        assert!(e.contains(want), "{e:?} should contain {want:?}");
    }
    let r = tapegrad::nn::LayerRegistry::<f64>::new();
    let e = r.from_config("Conv2D", &serde_json::json!({"filters": 2, "kernel_size": 3, "padding": "full"})).unwrap_err();
    assert_eq!(e, "Conv2D: padding must be \"valid\", \"same\" or \"causal\", got \"full\"");
    let e = r.from_config("MaxPooling1D", &serde_json::json!({"pool_size": [2, 2]})).unwrap_err();
    assert_eq!(e, "MaxPooling1D: pool_size must be an integer or a list of 1 integers, got [2,2]");
    let e = r.from_config("Conv1D", &serde_json::json!({"filters": 2, "kernel_size": 3, "data_format": "nhwc"})).unwrap_err();
    assert_eq!(e, "Conv1D: data_format must be \"channels_last\" or \"channels_first\", got \"nhwc\"");
}

#[test]
fn every_layer_saves_and_loads_bit_for_bit() {
    let dir = std::env::temp_dir().join(format!("tapegrad-conv-layers-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let image = Sequential::<f64>::with_input_shape(
        &[8, 7, 2],
        layers![
            Conv2D::new(4, [3, 3]).padding(PaddingMode::Same).activation(Activation::Relu).groups(2),
            MaxPooling2D::new([2, 2]).padding(PaddingMode::Same),
            Conv2D::new(6, [2, 2]).strides([2, 1]).data_format(DataFormat::ChannelsLast).use_bias(false),
            AveragePooling2D::new([2, 2]).strides([1, 1]).padding(PaddingMode::Same),
            GlobalAveragePooling2D::new(),
            Dense::new(3).activation(Activation::Softmax)
        ],
        5,
    );
    let sequence = Sequential::<f64>::with_input_shape(
        &[10, 3],
        layers![
            Conv1D::new(4, [3]).padding(PaddingMode::Causal).dilation_rate([2]),
            MaxPooling1D::new([2]),
            AveragePooling1D::new([2]).padding(PaddingMode::Same),
            Conv1D::new(2, [1]),
            Flatten::new(),
            Dense::new(1)
        ],
        6,
    );
    let text = Sequential::<f64>::with_seed(5, layers![Embedding::new(7, 3), GlobalAveragePooling1D::new(), Dense::new(2)], 7);
    let channels_first = Sequential::<f64>::with_input_shape(
        &[2, 6],
        layers![Conv1D::new(3, [2]).data_format(DataFormat::ChannelsFirst), GlobalAveragePooling1D::new().data_format(DataFormat::ChannelsFirst)],
        8,
    );
    let ids = Tensor::from_vec((0..20).map(|i| ((i * 3) % 7) as f64).collect(), &[4, 5]);
    for (i, (net, x)) in [(image, random(&[3, 8, 7, 2], 1)), (sequence, random(&[3, 10, 3], 2)), (text, ids), (channels_first, random(&[2, 2, 6], 3))]
        .into_iter()
        .enumerate()
    {
        let path = dir.join(format!("model{i}.safetensors"));
        save_model(&path, &net, &BTreeMap::new()).unwrap();
        let loaded = load_model::<f64>(&path).unwrap().model;
        assert_eq!(loaded.input_shape(), net.input_shape());
        assert_eq!(loaded.layer_names().collect::<Vec<_>>(), net.layer_names().collect::<Vec<_>>());
        assert_eq!(loaded.named_parameters(), net.named_parameters());
        assert_eq!(loaded.summary(), net.summary());
        let (a, b) = (run(&net, &x), run(&loaded, &x));
        assert!(a.data().iter().zip(b.data()).all(|(p, q)| p.to_bits() == q.to_bits()), "model {i}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn sequential_fits_evaluates_and_predicts_images() {
    // Class = which half of a 6x6 image is brighter.
    let n = 64;
    let mut rng = StdRng::seed_from_u64(0);
    let mut xs = Vec::new();
    let mut ys = Vec::new();
    for i in 0..n {
        let class = i % 2;
        for r in 0..6 {
            for _ in 0..6 {
                let bright = (r < 3) == (class == 0);
                xs.push(if bright { 1.0 } else { 0.0 } + rng.gen_range(-0.3..0.3));
            }
        }
        ys.push(class as f64);
    }
    let x = Tensor::from_vec(xs, &[n, 6, 6, 1]);
    let y = Tensor::from_vec(ys, &[n]);
    let net = Sequential::<f64>::with_input_shape(
        &[6, 6, 1],
        layers![Conv2D::new(4, [3, 3]).activation(Activation::Relu), MaxPooling2D::new([2, 2]), Flatten::new(), Dense::new(2).activation(Activation::Softmax)],
        1,
    );
    assert!(net.summary().contains("(None, 4, 4, 4)") && net.summary().contains("(None, 2, 2, 4)"), "{}", net.summary());
    let mut model = net.compile(LossFn::named("sparse_categorical_crossentropy").unwrap(), Adam::new(0.02), &[tapegrad::metrics::Metric::Accuracy]);
    let history = model.fit(&x, &y, FitConfig::new(15).batch_size(16).seed(1).validation_split(0.25).verbose(Verbose::Silent)).unwrap();
    let acc = history.get("accuracy").unwrap();
    assert!(acc[acc.len() - 1] > 0.9, "{acc:?}");
    let logs = model.evaluate(&x, &y, 10).unwrap();
    assert!(logs["accuracy"] > 0.9, "{logs:?}");
    let p = model.predict(&x).unwrap();
    assert_eq!(p.shape(), &[n, 2]);
    // predict agrees with the model run by hand.
    assert!(max_diff(&p, &run(model.net(), &x)) < 1e-15);
    // Flat rows are refused, naming the expected shape.
    let e = model.predict(&x.clone().reshape(&[n, 36])).unwrap_err().to_string();
    assert_eq!(e, "prediction data: x must have shape (rows, 6, 6, 1) for this model, got [64, 36]");
    // An output of several axes comes back with its shape.
    let net = Sequential::<f64>::with_input_shape(&[6, 6, 1], layers![Conv2D::new(2, [3, 3])], 0);
    let mut m = net.compile(LossFn::named("mse").unwrap(), Adam::new(0.01), &[]);
    assert_eq!(m.predict(&x).unwrap().shape(), &[n, 4, 4, 2]);
}

/// A reduced `examples/digits_cnn.rs`: the same network and data for 3 epochs, far above chance.
#[test]
fn digits_cnn_learns_in_a_few_epochs() {
    use tapegrad::data::{dataset, parse_csv, stratified_split_indices, StandardScaler};
    let names: Vec<String> = (0..64).map(|i| format!("pixel_{}_{}", i / 8, i % 8)).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let (x, y) = parse_csv(dataset("digits").unwrap().csv, &names, "digit").unwrap();
    let labels: Vec<usize> = y.data().iter().map(|&v| v as usize).collect();
    let split = stratified_split_indices(&labels, 0.25, 0).unwrap();
    let (scaler, x_train) = StandardScaler::fit_transform(&x.select_rows(&split.train));
    let x_test = scaler.transform(&x.select_rows(&split.test));
    let images = |x: Tensor<f64>| {
        let n = x.shape()[0];
        x.to_f32().reshape(&[n, 8, 8, 1])
    };
    let net = Sequential::<f32>::with_input_shape(
        &[8, 8, 1],
        layers![
            Conv2D::new(16, [3, 3]).padding(PaddingMode::Same).activation(Activation::Relu),
            MaxPooling2D::new([2, 2]),
            Conv2D::new(32, [3, 3]).padding(PaddingMode::Same).activation(Activation::Relu),
            Flatten::new(),
            Dense::new(10).activation(Activation::Softmax)
        ],
        0,
    );
    let mut model = net.compile(LossFn::named("sparse_categorical_crossentropy").unwrap(), Adam::new(0.001), &[tapegrad::metrics::Metric::Accuracy]);
    let cfg = FitConfig::new(3).batch_size(32).seed(0).verbose(Verbose::Silent);
    model.fit(&images(x_train), &y.select_rows(&split.train).to_f32(), cfg).unwrap();
    let acc = model.evaluate(&images(x_test), &y.select_rows(&split.test).to_f32(), 256).unwrap()["accuracy"];
    assert!(acc > 0.8, "test accuracy {acc} after 3 epochs (chance: 0.1)");
}
