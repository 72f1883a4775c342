//! The autodiff toolbox: forward mode against reverse mode on random compositions of ops,
//! Hessians and Hessian-vector products against reverse-over-reverse, and the errors.

use proptest::prelude::*;
use tapegrad::autodiff::{func, hessian, hvp, jacfwd, jacobian, jacrev, jvp, vjp};
use tapegrad::{Tape, Tensor, Var};

/// One step of a random composition: `(op index, constant)`.
type Step = (usize, f64);

/// Applies step `(k, c)` to `h` (shape `[n]`, values kept in a moderate range by the ops).
fn apply<'t>(h: Var<'t, f64>, (k, c): Step) -> Var<'t, f64> {
    let n = h.len();
    match k % 12 {
        0 => h.tanh() * (1.0 + c),
        1 => h.sigmoid() + h * c,
        2 => (h * c).exp(),
        3 => h.square() * 0.3 + h,
        4 => h.softmax(0) * n as f64,
        5 => h.log_softmax(0),
        6 => h * h.sum() * 0.1,
        7 => h.maximum(h * -0.5 + c),
        8 => {
            let idx: Vec<usize> = (0..n).rev().collect();
            h.gather(0, &idx) * h
        }
        9 => h.reshape(&[n, 1]).matmul(h.reshape(&[1, n])).sum_axis(1, false) * 0.2,
        10 => (h.softplus() + 0.5).log(),
        _ => Var::concat(&[h.gather(0, &[0]), h.slice_head(n - 1).sigmoid()], 0) + h,
    }
}

trait Head<'t> {
    fn slice_head(self, k: usize) -> Var<'t, f64>;
}
impl<'t> Head<'t> for Var<'t, f64> {
    fn slice_head(self, k: usize) -> Var<'t, f64> {
        let idx: Vec<usize> = (0..k).collect();
        self.gather(0, &idx)
    }
}

fn close(a: &Tensor<f64>, b: &Tensor<f64>, tol: f64) -> Result<(), TestCaseError> {
    prop_assert_eq!(a.shape(), b.shape());
    for (i, (x, y)) in a.data().iter().zip(b.data()).enumerate() {
        prop_assert!((x - y).abs() <= tol * (1.0 + y.abs()), "element {}: {} vs {}", i, x, y);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The Jacobian by forward mode (one pass, one tangent per input element) equals the one by
    /// reverse mode (one sweep per output element) on random compositions of ops, and `jvp`/`vjp`
    /// agree with them in random directions.
    #[test]
    fn jacfwd_equals_jacrev_on_random_compositions(
        (x, steps, out_k, dir, cot) in (2usize..5).prop_flat_map(|n| (
            prop::collection::vec(-1.0f64..1.0, n),
            prop::collection::vec((0usize..12, -0.8f64..0.8), 1..5),
            1usize..4,
            prop::collection::vec(-1.0f64..1.0, n),
            prop::collection::vec(-1.0f64..1.0, 3),
        ))
    ) {
        let n = x.len();
        let f = func(move |v| {
            let mut h = v[0];
            for &s in &steps {
                h = apply(h, s);
            }
            // Out of R^n into R^out_k: a fixed linear read-out of the last value.
            let w = h.tape().constant(Tensor::from_vec((0..n * out_k).map(|i| ((i * 7 % 5) as f64 - 2.0) * 0.4).collect(), &[n, out_k]));
            h.reshape(&[1, n]).matmul(w).reshape(&[out_k])
        });
        let xs = [Tensor::from_vec(x, &[n])];
        let jf = jacfwd(&f, &xs);
        let jr = jacrev(&f, &xs);
        close(&jf[0], &jr[0], 1e-10)?;
        prop_assert_eq!(jf[0].shape(), &[out_k, n]);
        // jvp = J v, vjp = uᵀ J.
        let v = Tensor::from_vec(dir, &[n]);
        let (_, t) = jvp(&f, &xs, std::slice::from_ref(&v));
        close(&t, &jr[0].matmul(&v.reshape(&[n, 1])).reshape(&[out_k]), 1e-10)?;
        let u = Tensor::from_vec(cot[..out_k].to_vec(), &[out_k]);
        let (_, g) = vjp(&f, &xs, &u);
        close(&g[0], &u.reshape(&[1, out_k]).matmul(&jr[0]).reshape(&[n]), 1e-10)?;
    }

    /// `hvp` (forward over reverse) equals the Hessian times `v` and reverse over reverse.
    #[test]
    fn hvp_matches_hessian_and_reverse_over_reverse(
        (x, steps, dir) in (2usize..5).prop_flat_map(|n| (
            prop::collection::vec(-1.0f64..1.0, n),
            prop::collection::vec((0usize..12, -0.8f64..0.8), 1..4),
            prop::collection::vec(-1.0f64..1.0, n),
        ))
    ) {
        let n = x.len();
        let f = func(move |v| {
            let mut h = v[0];
            for &s in &steps {
                h = apply(h, s);
            }
            (h * h).sum()
        });
        let xs = [Tensor::from_vec(x, &[n])];
        let v = Tensor::from_vec(dir, &[n]);
        let hv = hvp(&f, &xs, std::slice::from_ref(&v));
        let h = hessian(&f, &xs);
        prop_assert_eq!(h[0][0].shape(), &[n, n]);
        close(&hv[0], &h[0][0].matmul(&v.clone().reshape(&[n, 1])).reshape(&[n]), 1e-9)?;
        // Reverse over reverse: d/dx <grad f, v>.
        let tape = Tape::new();
        let xv = tape.var(xs[0].clone());
        let g = f(&[xv]).grad(&[xv])[0];
        let rr = (g * tape.constant(v.clone())).sum().backward().wrt(xv);
        close(&hv[0], &rr, 1e-9)?;
        // The Hessian is symmetric.
        close(&h[0][0], &h[0][0].t(), 1e-9)?;
    }
}

/// Inputs and outputs of any rank, several inputs, and `jacobian` choosing a mode: the blocks have
/// shape `output ++ input`.
#[test]
fn jacobians_of_several_inputs_of_any_rank() {
    fn f<'t>(v: &[Var<'t, f64>]) -> Var<'t, f64> {
        // [2, 3] x [3] -> [2, 3]
        (v[0] * v[1]).tanh() + v[1].exp()
    }
    let a = Tensor::from_vec(vec![0.1, -0.2, 0.3, 0.4, -0.5, 0.6], &[2, 3]);
    let b = Tensor::from_vec(vec![0.7, -0.8, 0.9], &[3]);
    let jf = jacfwd(f, &[a.clone(), b.clone()]);
    let jr = jacrev(f, &[a.clone(), b.clone()]);
    let j = jacobian(f, &[a.clone(), b.clone()]);
    assert_eq!(jf[0].shape(), &[2, 3, 2, 3]);
    assert_eq!(jf[1].shape(), &[2, 3, 3]);
    for k in 0..2 {
        for ((x, y), z) in jf[k].data().iter().zip(jr[k].data()).zip(j[k].data()) {
            assert!((x - y).abs() < 1e-12 && (x - z).abs() < 1e-12);
        }
    }
    // d out[0, 1] / d a[0, 1] = b[1] (1 - tanh^2(a b)); every other a-element gives 0.
    let want = -0.8 * (1.0 - (-0.2f64 * -0.8).tanh().powi(2));
    let at = |out: usize, input: usize| jf[0].data()[out * 6 + input];
    assert!((at(1, 1) - want).abs() < 1e-12);
    assert_eq!(at(1, 2), 0.0);
}

/// Forward mode works in f32 too.
#[test]
fn f32_forward_and_reverse_agree() {
    fn f<'t>(v: &[Var<'t, f32>]) -> Var<'t, f32> {
        (v[0].sigmoid() * v[0]).softmax(0)
    }
    let x = Tensor::from_vec(vec![0.5f32, -1.0, 2.0], &[3]);
    let (jf, jr) = (jacfwd(f, std::slice::from_ref(&x)), jacrev(f, &[x]));
    for (a, b) in jf[0].data().iter().zip(jr[0].data()) {
        assert!((a - b).abs() < 1e-6, "{a} vs {b}");
    }
}

#[test]
#[should_panic(expected = "jvp: tangents[0] has shape [2] but input 0 has shape [3]")]
fn jvp_names_a_mismatched_tangent() {
    let x = Tensor::from_vec(vec![1.0, 2.0, 3.0], &[3]);
    let _ = jvp(|v| v[0].exp(), &[x], &[Tensor::from_vec(vec![1.0, 0.0], &[2])]);
}

#[test]
#[should_panic(expected = "hessian: the function must return one element, but it returned shape [3]")]
fn hessian_needs_a_scalar() {
    let x = Tensor::from_vec(vec![1.0, 2.0, 3.0], &[3]);
    let _ = hessian(|v| v[0].exp(), &[x]);
}

#[test]
#[should_panic(expected = "vjp: the cotangent has shape [2] but the output has shape [3]")]
fn vjp_names_a_mismatched_cotangent() {
    let x = Tensor::from_vec(vec![1.0, 2.0, 3.0], &[3]);
    let _ = vjp(|v| v[0].exp(), &[x], &Tensor::from_vec(vec![1.0, 0.0], &[2]));
}

#[test]
#[should_panic(expected = "hvp: 2 v for 1 inputs")]
fn hvp_names_a_wrong_count() {
    let x = Tensor::from_vec(vec![1.0, 2.0, 3.0], &[3]);
    let two = [x.clone(), x.clone()];
    let _ = hvp(|v| v[0].exp().sum(), &[x], &two);
}

/// A deep tanh MLP whose blocks of layers run through `checkpoint`: the same loss and bit for bit
/// the same gradients as the unchecked pass, fewer values kept on the tape, and the checkpointed
/// segment still works in forward mode and to second order.
#[test]
fn checkpointed_blocks_give_bit_identical_gradients() {
    use tapegrad::autodiff::checkpoint;
    let (layers, width, batch, every) = (8, 6, 5, 4);
    let weights: Vec<Tensor<f64>> = (0..layers)
        .map(|l| Tensor::from_vec((0..width * width).map(|i| (((i * 13 + l * 7) % 17) as f64 - 8.0) * 0.06).collect(), &[width, width]))
        .collect();
    let x = Tensor::from_vec((0..batch * width).map(|i| ((i * 5 % 11) as f64 - 5.0) * 0.2).collect(), &[batch, width]);
    fn block<'s>(v: &[Var<'s, f64>]) -> Var<'s, f64> {
        v[1..].iter().fold(v[0], |h, &w| h.matmul(w).tanh())
    }
    let run = |checked: bool| {
        let tape = Tape::new();
        let ws: Vec<Var<'_, f64>> = weights.iter().map(|w| tape.var(w.clone())).collect();
        let mut h = tape.constant(x.clone());
        for chunk in ws.chunks(every) {
            let mut inputs = vec![h];
            inputs.extend_from_slice(chunk);
            h = if checked { checkpoint(block, &inputs) } else { block(&inputs) };
        }
        let loss = h.square().mean();
        let kept = tape.values_len();
        let g = loss.backward();
        let grads: Vec<Vec<f64>> = ws.iter().map(|w| g[*w].to_vec()).collect();
        (loss.item(), grads, kept)
    };
    let (plain_loss, plain_grads, plain_kept) = run(false);
    let (loss, grads, kept) = run(true);
    assert_eq!(loss, plain_loss);
    assert_eq!(grads, plain_grads);
    assert!(kept < plain_kept, "checkpointing kept {kept} values, the plain pass {plain_kept}");
    // Forward mode and second order through a checkpoint.
    let w0 = weights[0].clone();
    let f = func(move |v| checkpoint(block, &[v[0], v[1]]).square().sum());
    let g = func(move |v| block(&[v[0], v[1]]).square().sum());
    let xs = [x.clone(), w0];
    let dirs = [Tensor::ones(x.shape()), Tensor::zeros(&[width, width])];
    assert_eq!(jvp(f, &xs, &dirs).1, jvp(g, &xs, &dirs).1);
    let (h1, h2) = (hvp(f, &xs, &dirs), hvp(g, &xs, &dirs));
    for (a, b) in h1.iter().zip(&h2) {
        for (p, q) in a.data().iter().zip(b.data()) {
            assert!((p - q).abs() < 1e-12, "{p} vs {q}");
        }
    }
}
