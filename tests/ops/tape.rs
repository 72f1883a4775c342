//! The tape's contract: `Gradients` indexable by any Var, accumulation of reused values, gradients
//! of broadcast operands reduced to their shapes, no_grad/detach, and reuse without growth.

use tapegrad::{gradcheck, Tape, Tensor, Var};

#[test]
fn gradients_index_leaves_and_intermediates() {
    let tape = Tape::<f64>::new();
    let x = tape.var(Tensor::from_vec(vec![1.0, 2.0], &[2]));
    let h = x * 3.0; // intermediate
    let y = h.square().sum(); // y = sum (3x)^2
    let g = y.backward();
    assert_eq!(&g[h], &[6.0, 12.0]); // dy/dh = 2h
    assert_eq!(&g[x], &[18.0, 36.0]); // dy/dx = 18x
    assert_eq!(&g[y], &[1.0]);
    assert_eq!(g.wrt(x).shape(), &[2]);
    assert!(g.reached(x) && g.reached(h) && g.reached(y));
}

#[test]
fn a_value_used_several_times_accumulates() {
    let tape = Tape::<f64>::new();
    let x = tape.var(Tensor::from_vec(vec![2.0, -1.0], &[2]));
    // y = sum(x * x + x + exp(x)): dy/dx = 2x + 1 + exp(x)
    let y = (x * x + x + x.exp()).sum();
    let g = y.backward();
    for (i, &xv) in [2.0f64, -1.0].iter().enumerate() {
        assert!((g[x][i] - (2.0 * xv + 1.0 + xv.exp())).abs() < 1e-12);
    }
    // The same Var twice in concat and gather also accumulates.
    let z = Var::concat(&[x, x], 0).gather(0, &[0, 0, 2, 3]).sum();
    assert_eq!(&z.backward()[x], &[3.0, 1.0]);
}

#[test]
fn broadcast_operand_gradients_are_reduced_to_their_shape() {
    let tape = Tape::<f64>::new();
    let a = tape.var(Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]));
    let row = tape.var(Tensor::from_vec(vec![10.0, 20.0, 30.0], &[3]));
    let col = tape.var(Tensor::from_vec(vec![1.0, 2.0], &[2, 1]));
    let s = tape.var(Tensor::scalar(2.0));
    let y = ((a + row) * col * s).sum();
    let g = y.backward();
    assert_eq!(g.wrt(row).shape(), &[3]);
    assert_eq!(&g[row], &[6.0, 6.0, 6.0]); // sum over rows of col * s = (1 + 2) * 2
    assert_eq!(g.wrt(col).shape(), &[2, 1]);
    assert_eq!(&g[col], &[(11.0 + 22.0 + 33.0) * 2.0, (14.0 + 25.0 + 36.0) * 2.0]);
    assert_eq!(g.wrt(s).shape(), &[] as &[usize]);
    let total: f64 = [11.0, 22.0, 33.0].iter().sum::<f64>() + 2.0 * [14.0, 25.0, 36.0].iter().sum::<f64>();
    assert_eq!(&g[s], &[total]);
    assert_eq!(&g[a], &[2.0, 2.0, 2.0, 4.0, 4.0, 4.0]);
}

#[test]
fn no_grad_values_take_part_without_being_recorded() {
    let tape = Tape::<f64>::new();
    let x = tape.var(Tensor::from_vec(vec![1.0, 2.0], &[2]));
    let c = tape.no_grad(|| (x * 2.0).exp());
    assert!(!c.requires_grad());
    assert!(tape.grad_enabled());
    let y = (x * c).sum();
    let g = y.backward();
    // c counts as a constant: dy/dx = c.
    assert_eq!(g[x].to_vec(), c.value().to_vec());
    assert!(!g.reached(c));
    // Nested no_grad restores recording afterwards, even through a panic.
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| tape.no_grad(|| tape.no_grad(|| panic!("inside")))));
    assert!(tape.grad_enabled());
}

#[test]
fn detach_cuts_the_graph() {
    let tape = Tape::<f64>::new();
    let x = tape.var(Tensor::from_vec(vec![3.0], &[1]));
    let d = x.square().detach();
    assert!(!d.requires_grad());
    let y = (x * d).sum(); // d = 9 is a constant here
    let g = y.backward();
    assert_eq!(&g[x], &[9.0]);
    assert!(!g.reached(d));
}

#[test]
fn values_that_reach_no_tracked_leaf_cost_nothing_in_backward() {
    let tape = Tape::<f64>::new();
    let x = tape.var(Tensor::from_vec(vec![1.0, 2.0, 3.0], &[3]));
    let data = tape.constant(Tensor::from_vec(vec![4.0, 5.0, 6.0], &[3]));
    let scaled = (data * 2.0).exp().log(); // depends only on a constant
    let y = (x * scaled).sum();
    let g = y.backward();
    assert!(!scaled.requires_grad());
    assert!(!g.reached(data));
    assert!(!g.reached(scaled));
    assert!(g.reached(x));
    assert_eq!(&g[scaled], &[0.0, 0.0, 0.0]);
    assert_eq!(&g[x], &[8.0, 10.0, 12.0]);
    // A branch that does not lead to the output is not reached either.
    let unused = x.exp();
    let y2 = x.sum();
    let g2 = y2.backward();
    assert!(!g2.reached(unused));
}

#[test]
fn gradient_of_the_output_with_respect_to_unrelated_leaf_is_zero() {
    let tape = Tape::<f64>::new();
    let a = tape.var(Tensor::from_vec(vec![1.0, 2.0], &[2]));
    let b = tape.var(Tensor::from_vec(vec![3.0], &[1]));
    let y = a.sum();
    let g = y.backward();
    assert_eq!(&g[b], &[0.0]);
    assert!(!g.reached(b));
}

#[test]
fn backward_can_run_twice_on_one_recording() {
    let tape = Tape::<f64>::new();
    let x = tape.var(Tensor::from_vec(vec![1.0, 2.0], &[2]));
    let y1 = x.square().sum();
    let y2 = (x * 3.0).sum();
    let g1: Vec<f64> = y1.backward()[x].to_vec();
    let g2: Vec<f64> = y2.backward()[x].to_vec();
    assert_eq!(g1, vec![2.0, 4.0]);
    assert_eq!(g2, vec![3.0, 3.0]); // not accumulated into the first pass
}

/// A small training step: a two-layer network and a mean squared error.
fn step(tape: &Tape<f64>, w1: &mut Tensor<f64>, w2: &mut Tensor<f64>, x: &Tensor<f64>, y: &Tensor<f64>) -> f64 {
    let xv = tape.constant(x.clone());
    let yv = tape.constant(y.clone());
    let (a, b) = (tape.var(w1.clone()), tape.var(w2.clone()));
    let pred = xv.matmul(a).tanh().matmul(b);
    let loss = (pred - yv).square().mean();
    let l = loss.item();
    let g = loss.backward();
    for (p, v) in w1.data_mut().iter_mut().zip(&g[a]) {
        *p -= 0.1 * v;
    }
    for (p, v) in w2.data_mut().iter_mut().zip(&g[b]) {
        *p -= 0.1 * v;
    }
    l
}

#[test]
fn clearing_the_tape_reuses_its_buffers() {
    let mut rng = rand::thread_rng();
    let x: Tensor<f64> = Tensor::uniform(&[16, 3], -1.0, 1.0, &mut rng);
    let y = x.sum_axis(1, true).map(|s: f64| (0.5 * s).sin());
    let mut w1 = Tensor::uniform(&[3, 8], -0.5, 0.5, &mut rng);
    let mut w2 = Tensor::uniform(&[8, 1], -0.5, 0.5, &mut rng);
    let mut tape = Tape::new();
    let first = step(&tape, &mut w1, &mut w2, &x, &y);
    let (nodes, values) = (tape.len(), tape.values_len());
    tape.clear();
    // One more step to warm every buffer (the gradient pool included), then the capacity must stay.
    step(&tape, &mut w1, &mut w2, &x, &y);
    tape.clear();
    let cap = tape.capacity();
    let mut last = first;
    for _ in 0..200 {
        last = step(&tape, &mut w1, &mut w2, &x, &y);
        assert_eq!(tape.len(), nodes);
        assert_eq!(tape.values_len(), values);
        assert_eq!(tape.capacity(), cap, "the arena grew while recording the same step again");
        tape.clear();
        assert!(tape.is_empty());
    }
    assert!(last < first, "training did not reduce the loss ({first} -> {last})");
}

#[test]
fn gradcheck_accepts_a_composite_function() {
    let x = Tensor::from_vec(vec![0.3, -0.7, 1.2, 0.1, -0.4, 0.9], &[2, 3]);
    let w = Tensor::from_vec(vec![0.5, -0.2, 0.8, 0.1, -0.6, 0.4], &[3, 2]);
    let report = gradcheck(|v| v[0].matmul(v[1]).tanh().log_softmax(1).mean(), &[x, w]).unwrap();
    assert_eq!(report.elements, 12);
    assert!(report.max_abs_error < 1e-6);
}

#[test]
fn gradcheck_failure_names_input_index_values_and_error() {
    // d/dx of x * detach(x) is taken as detach(x) only: half the true 2x, so it must fail.
    let a = Tensor::from_vec(vec![0.5, 1.0], &[2]);
    let b = Tensor::from_vec(vec![0.5, 1.0, -2.0, 4.0], &[2, 2]);
    let err = gradcheck(|v| (v[0] * 2.0).sum() + (v[1] * v[1].detach()).sum(), &[a, b]).unwrap_err();
    assert_eq!(err.input, 1);
    assert_eq!(err.index, vec![1, 1]); // the largest element, 4.0: analytic 4, numeric 8
    assert!((err.analytic - 4.0).abs() < 1e-9);
    assert!((err.numeric - 8.0).abs() < 1e-4);
    assert!((err.error - 4.0).abs() < 1e-4);
    let msg = err.to_string();
    let numeric = format!("numeric {:.10e}", err.numeric);
    for part in ["input 1", "index [1, 1]", "analytic 4.0000000000e0", &numeric, "error 4.000e0"] {
        assert!(msg.contains(part), "message {msg:?} lacks {part:?}");
    }
}

mod composite {
    use proptest::prelude::*;
    use tapegrad::{gradcheck, Float, Tape, Tensor, Var};

    /// Two tensors broadcasting as `[r, 1, c]` against `[k, 1]`, values in [-1, 1).
    fn operands() -> impl Strategy<Value = (Tensor<f64>, Tensor<f64>)> {
        (1usize..=3, 1usize..=3, 1usize..=3).prop_flat_map(|(r, c, k)| {
            (
                prop::collection::vec(-1.0..1.0f64, r * c).prop_map(move |v| Tensor::from_vec(v, &[r, 1, c])),
                prop::collection::vec(-1.0..1.0f64, k).prop_map(move |v| Tensor::from_vec(v, &[k, 1])),
            )
        })
    }

    /// A chain that reuses both inputs, broadcasts, reduces and normalises.
    fn chain<'t, T: Float>(a: Var<'t, T>, b: Var<'t, T>) -> Var<'t, T> {
        let h = (a * b).tanh() + a.square() - b.sigmoid(); // [r, k, c]
        let s = h.log_softmax(-1).sum_axis(1, true) * a; // a reused
        (s.logsumexp(0, false) + b.exp().sum()).mean() + a.softplus().sum()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn composite_chain_passes_gradcheck((a, b) in operands()) {
            gradcheck(|v| chain(v[0], v[1]), &[a, b]).map_err(|e| TestCaseError::fail(e.to_string()))?;
        }

        /// The same chain in f32 agrees with f64 in value and gradient (to f32 precision).
        #[test]
        fn f32_agrees_with_f64((a, b) in operands()) {
            let t64 = Tape::<f64>::new();
            let (a64, b64) = (t64.var(a.clone()), t64.var(b.clone()));
            let y64 = chain(a64, b64);
            let g64 = y64.backward();
            let t32 = Tape::<f32>::new();
            let (a32, b32) = (t32.var(a.to_f32()), t32.var(b.to_f32()));
            let y32 = chain(a32, b32);
            let g32 = y32.backward();
            let close = |x: f32, y: f64| ((x as f64) - y).abs() <= 1e-4 * (1.0 + y.abs());
            prop_assert!(close(y32.item(), y64.item()), "value {} vs {}", y32.item(), y64.item());
            for (x, y) in g32[a32].iter().zip(&g64[a64]).chain(g32[b32].iter().zip(&g64[b64])) {
                prop_assert!(close(*x, *y), "gradient {} vs {}", x, y);
            }
        }
    }
}
