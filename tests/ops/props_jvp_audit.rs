//! The forward-mode audit of issue 13: every op's JVP rule checked by a property test.
//!
//! `gradcheck` checks forward mode by default (`check_forward_ad`: the JVP in random directions
//! against central differences, and `<u, J v> = <Jᵀ u, v>` against reverse mode), so every op
//! that a `props_*` test passes through `gradcheck` has its JVP rule checked there:
//! - `props_elementwise`, `props_activations`: every unary op but `sign`, every scalar op, clip,
//!   add, sub, mul, div, maximum, minimum;
//! - `props_pow`: pow with a tensor exponent; `props_reduce`: sum, mean, max (all and along an
//!   axis), logsumexp, softmax, log_softmax;
//! - `props_shape`: matmul (2-D), transpose, reshape, broadcast_to, concat, gather, where;
//!   `props_matmul`: batched matmul; `props_scan`: cumprod (and the crate's unit test of `scan`);
//! - `props_conv`: conv1d/conv2d (forward products), max and average pooling (forward maps);
//! - `props_derived`, `props_keepdim_tile`: the ops written as expressions of those above.
//!
//! What none of them reached, checked here (256 cases each):
//! - `scatter_add` (a public op, and gather's recorded rule);
//! - the op units that only a *recorded* gradient records: `conv_input_grad` and
//!   `conv_weight_grad` (convolution's recorded rule), the max-pool and average-pool adjoints
//!   (pooling's recorded rules). Their JVPs run in forward-over-reverse (`hessian`, `hvp`), so
//!   they are checked by `gradcheck` of a function that returns a recorded gradient;
//! - `sign` and the comparisons (zero derivative; their JVP writes zeros).
//!
//! `custom` ops carry the user's own JVP (tests/ops/custom_op.rs); leaves and constants have none.


use proptest::prelude::*;
use crate::props_support::*;
use tapegrad::{ConvOptions, Padding, PoolOptions, Tape, Tensor, Var};

/// A tensor, an axis, indices along it (repeats allowed) and the target size of that axis.
fn scatter_case() -> impl Strategy<Value = (Tensor<f64>, isize, Vec<usize>, usize)> {
    (shape_and_axis(), 0usize..3).prop_flat_map(|((s, axis), extra)| {
        let a = if axis < 0 { (axis + s.len() as isize) as usize } else { axis as usize };
        let size = s[a] + extra;
        (values(s.clone(), -2.0, 2.0), Just(axis), prop::collection::vec(0..size, s[a]), Just(size))
    })
}

/// A small conv2d problem: input, weight, bias and options (stride, padding, dilation, groups).
#[allow(clippy::type_complexity)]
fn conv_case() -> impl Strategy<Value = (Tensor<f64>, Tensor<f64>, Tensor<f64>, ConvOptions<2>)> {
    (1usize..=2, 1usize..=2, 1usize..=2, 1usize..=2, (1usize..=2, 1usize..=3), (1usize..=2, 1usize..=2, 0usize..=1), 0usize..=2)
        .prop_flat_map(|(n, groups, cin_g, cout_g, (kh, kw), (stride, dil, pad), extra)| {
            let (cin, cout) = (cin_g * groups, cout_g * groups);
            let (h, w) = ((kh - 1) * dil + 1 + extra, (kw - 1) * dil + 1 + extra);
            let opts = ConvOptions::default().stride([stride, stride]).dilation([dil, dil]).groups(groups).padding(Padding::Explicit([[pad, pad]; 2]));
            (
                values(vec![n, cin, h, w], -1.5, 1.5),
                values(vec![cout, cin_g, kh, kw], -1.5, 1.5),
                values(vec![cout], -1.0, 1.0),
                Just(opts),
            )
        })
}

/// A pooling input `[N, C, H, W]` with distinct values (no ties for max) and its options.
fn pool_case() -> impl Strategy<Value = (Tensor<f64>, PoolOptions<2>)> {
    (1usize..=2, 1usize..=2, (1usize..=3, 1usize..=3), 1usize..=2, 0usize..=1, 0usize..=2, any::<bool>(), any::<u64>()).prop_map(
        |(n, c, (kh, kw), stride, pad, extra, cip, seed)| {
            let (h, w) = (kh + extra, kw + extra);
            let len = n * c * h * w;
            // A permutation of distinct values: ties would make max pooling's derivative a choice.
            let data: Vec<f64> = (0..len).map(|i| (((i as u64 * 2654435761 + seed) % 1009) as f64) * 0.003 + i as f64 * 1e-4 - 1.5).collect();
            let pad = pad.min(kh / 2).min(kw / 2);
            let opts = PoolOptions { kernel_size: [kh, kw], stride: [stride, stride], padding: [pad, pad], count_include_pad: cip };
            (Tensor::from_vec(data, &[n, c, h, w]), opts)
        },
    )
}

/// The names of the ops a function records on a fresh tape (to show that a check reaches them).
fn recorded_ops(f: impl for<'t> Fn(&[Var<'t, f64>]) -> Var<'t, f64>, inputs: &[Tensor<f64>]) -> String {
    let tape = Tape::new();
    let vars: Vec<Var<'_, f64>> = inputs.iter().map(|x| tape.var(x.clone())).collect();
    f(&vars);
    format!("{tape}")
}

/// `Σ w ⊙ ∂L/∂input` over the inputs, for `L = probe(y²)`: a function of the inputs whose graph
/// holds the recorded gradient's ops (the square makes the gradient depend on every input, so
/// forward mode sends tangents into every operand of those ops).
fn recorded_gradient<'t>(y: Var<'t, f64>, inputs: &[Var<'t, f64>]) -> Var<'t, f64> {
    let g = probe(y.square()).grad(inputs);
    g.into_iter().map(probe).reduce(|a, b| a + b).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn scatter_add((x, axis, idx, size) in scatter_case()) {
        let a = if axis < 0 { (axis + x.rank() as isize) as usize } else { axis as usize };
        let mut shape = x.shape().to_vec();
        shape[a] = size;
        let mut want = Tensor::zeros(&shape);
        for i in 0..x.len() {
            let mut at = unravel(i, x.shape());
            at[a] = idx[at[a]];
            let v = want.get(&at) + x.data()[i];
            want.set(&at, v);
        }
        check(move |v| v[0].scatter_add(axis, &idx, size), std::slice::from_ref(&x), &want)?;
    }

    #[test]
    fn conv_recorded_gradient_products((x, w, b, opts) in conv_case()) {
        let f = tapegrad::autodiff::func(move |v| recorded_gradient(v[0].conv2d(v[1], Some(v[2]), opts), v));
        let inputs = [x, w, b];
        let ops = recorded_ops(f, &inputs);
        prop_assert!(ops.contains("conv_input_grad") && ops.contains("conv_weight_grad"), "{}", ops);
        check_grad(f, &inputs)?;
    }

    #[test]
    fn pool_recorded_gradient_adjoints((x, opts) in pool_case()) {
        let fm = tapegrad::autodiff::func(move |v| recorded_gradient(v[0].max_pool2d(opts), v));
        let fa = tapegrad::autodiff::func(move |v| recorded_gradient(v[0].avg_pool2d(opts), v));
        let inputs = [x];
        let (om, oa) = (recorded_ops(fm, &inputs), recorded_ops(fa, &inputs));
        prop_assert!(om.contains("max_pool_backward"), "{}", om);
        prop_assert!(oa.contains("avg_pool_backward"), "{}", oa);
        check_grad(fm, &inputs)?;
        check_grad(fa, &inputs)?;
    }

    #[test]
    fn sign_and_comparisons(x in tensor(-2.0, 2.0).prop_map(|t| t.map(|v| away(v, 0.0, 0.05)))) {
        let want = x.map(|v| v.signum() * v);
        check(|v| {
            let half = v[0].tape().scalar(0.5);
            v[0].sign() * v[0] + (v[0].gt(half) + v[0].le(half) - 1.0) * v[0].exp()
        }, std::slice::from_ref(&x), &want)?;
    }
}
