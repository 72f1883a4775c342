//! Bad arguments to convolution and pooling: each panic names the op, the argument and the shapes,
//! and its location (through `#[track_caller]`) is the caller's line in this file.

use tapegrad::{ConvOptions, Padding, PoolOptions, Tape, Tensor};

/// Runs `f`, which must panic, and returns its message and line (0 unless the panic points into
/// this file).
fn catch(f: impl FnOnce()) -> (String, u32) {
    let (msg, file, line) = crate::panics::catch(f);
    (msg, if file.ends_with("conv_errors.rs") { line } else { 0 })
}

/// A call that must panic, its line, and the parts its message must contain.
type Case<'a> = (Box<dyn Fn() + 'a>, u32, &'static [&'static str]);

/// Every case in turn.
#[test]
fn bad_arguments_name_op_argument_shapes_and_line() {
    let tape = Tape::<f64>::new();
    let x1 = tape.var(Tensor::zeros(&[2, 4, 9]));
    let x2 = tape.var(Tensor::zeros(&[2, 4, 6, 6]));
    let w1 = tape.var(Tensor::zeros(&[3, 4, 3]));
    let w2 = tape.var(Tensor::zeros(&[4, 2, 3, 3]));
    let cases: Vec<Case> = vec![
        (Box::new(|| { x1.conv1d(w1, None, ConvOptions::default().groups(2)); }), line!(), &["conv1d", "groups=2", "[3, 4, 3]", "[2, 4, 9]"]),
        (Box::new(|| { x1.conv1d(w1, None, ConvOptions::default().stride([2]).padding(Padding::Same)); }), line!(), &["conv1d", "padding=\"same\" needs stride 1", "[2]"]),
        (Box::new(|| { x2.conv2d(w1, None, ConvOptions::default()); }), line!(), &["conv2d: weight must be 4-D", "[3, 4, 3]"]),
        (Box::new(|| { x1.conv2d(w2, None, ConvOptions::default()); }), line!(), &["conv2d: input x must be 4-D", "[2, 4, 9]"]),
        (Box::new(|| { x2.conv2d(w2, Some(x1), ConvOptions::default().groups(2)); }), line!(), &["conv2d: bias must have shape [4]", "[2, 4, 9]"]),
        (Box::new(|| { x2.conv2d(w2, None, ConvOptions::default().groups(2).dilation([4, 1])); }), line!(), &["conv2d", "kernel spans 9", "only 6 long"]),
        (Box::new(|| { x1.max_pool1d(PoolOptions { padding: [2], ..PoolOptions::new([3]) }); }), line!(), &["max_pool1d", "padding [2]", "half of kernel_size [3]"]),
        (Box::new(|| { x2.avg_pool2d(PoolOptions::new([7, 1])); }), line!(), &["avg_pool2d", "kernel_size [7, 1]", "[2, 4, 6, 6]"]),
        (Box::new(|| { x2.max_pool1d(PoolOptions::new([2])); }), line!(), &["max_pool1d: input x must be 3-D", "[2, 4, 6, 6]"]),
        (Box::new(|| { x1.global_avg_pool2d(); }), line!(), &["global_avg_pool2d", "4-D", "[2, 4, 9]"]),
    ];
    for (f, line, parts) in cases {
        let (msg, at) = catch(f);
        for p in parts {
            assert!(msg.contains(p), "message {msg:?} lacks {p:?}");
        }
        assert_eq!(at, line, "{msg}: the panic should point at the caller's line");
    }
}
