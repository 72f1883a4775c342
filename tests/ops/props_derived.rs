//! Property tests (f64, 256 cases each) of the ops written as expressions of others: activations
//! with a parameter, one-sided clamps, min, multi-axis reductions, var/std and the shape ops. Each
//! checks the forward value against a direct computation here, `gradcheck` (reverse and forward
//! mode) and `gradgradcheck`; kinks are asserted directly with the documented convention.


use proptest::prelude::*;
use crate::props_support::*;
use tapegrad::gradcheck::gradgradcheck;
use tapegrad::{Tape, Tensor, Var};

/// Forward value against `want`, `gradcheck` and `gradgradcheck` of `f`.
fn all<F>(f: F, inputs: &[Tensor<f64>], want: &Tensor<f64>) -> Result<(), TestCaseError>
where
    F: for<'t> Fn(&[Var<'t, f64>]) -> Var<'t, f64>,
{
    check(&f, inputs, want)?;
    gradgradcheck(|v| probe(f(v)), inputs).map(|_| ()).map_err(|e| TestCaseError::fail(e.to_string()))
}

/// A tensor of rank 1 to 3 (dimensions 1 to 4) and a list of distinct axes of it.
fn with_axes() -> impl Strategy<Value = (Tensor<f64>, Vec<isize>)> {
    prop::collection::vec(1usize..=4, 1..=3).prop_flat_map(|s| {
        let r = s.len();
        (values(s, -2.0, 2.0), Just((0..r as isize).collect::<Vec<_>>()).prop_shuffle(), 1..=r)
            .prop_map(|(t, axes, k)| (t, axes[..k].to_vec()))
    })
}

/// Distinct values (0.01 apart) in random order: max and min have no ties.
fn untied(shape: Vec<usize>) -> impl Strategy<Value = Tensor<f64>> {
    let n: usize = shape.iter().product();
    Just((0..n).collect::<Vec<usize>>()).prop_shuffle().prop_map(move |o| {
        Tensor::from_vec(o.iter().map(|&i| i as f64 * 0.01 - 0.3).collect(), &shape)
    })
}

/// The reduction of `x` over `axes` by `f` on each group of elements, keeping the other axes.
fn reduce_by_hand(x: &Tensor<f64>, axes: &[usize], keepdim: bool, f: impl Fn(&[f64]) -> f64) -> Tensor<f64> {
    let s = x.shape();
    let kept: Vec<usize> = (0..s.len()).map(|d| if axes.contains(&d) { 1 } else { s[d] }).collect();
    let m: usize = kept.iter().product();
    let mut groups = vec![Vec::new(); m];
    for i in 0..x.len() {
        let mut idx = unravel(i, s);
        for &a in axes {
            idx[a] = 0;
        }
        groups[ravel(&idx, &kept)].push(x.data()[i]);
    }
    let out: Vec<f64> = groups.iter().map(|g| f(g)).collect();
    let shape: Vec<usize> = if keepdim { kept } else { (0..s.len()).filter(|d| !axes.contains(d)).map(|d| s[d]).collect() };
    Tensor::from_vec(out, &shape)
}

fn positive(axes: &[isize], r: usize) -> Vec<usize> {
    axes.iter().map(|&a| if a < 0 { (a + r as isize) as usize } else { a as usize }).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn leaky_relu(x in tensor(-2.0, 2.0), slope in 0.01..0.5f64) {
        let x = x.map(|v| away(v, 0.0, 1e-3));
        all(|v| v[0].leaky_relu(slope), std::slice::from_ref(&x), &x.map(|v| if v > 0.0 { v } else { slope * v }))?;
    }

    #[test]
    fn elu(x in tensor(-3.0, 3.0), alpha in 0.1..2.0f64) {
        let x = x.map(|v| away(v, 0.0, 1e-3));
        all(|v| v[0].elu(alpha), std::slice::from_ref(&x), &x.map(|v| if v > 0.0 { v } else { alpha * v.exp_m1() }))?;
    }

    #[test]
    fn softplus_with_beta_and_threshold(x in tensor(-4.0, 4.0), beta in 0.5..3.0f64, threshold in 1.0..6.0f64) {
        let x = x.map(|v| if (v * beta - threshold).abs() < 1e-3 { v + 2e-3 / beta } else { v });
        let want = x.map(|v| if v * beta > threshold { v } else { (v * beta).exp().ln_1p() / beta });
        all(|v| v[0].softplus_with(beta, threshold), std::slice::from_ref(&x), &want)?;
    }

    #[test]
    fn clamp_one_sided(x in tensor(-2.0, 2.0), c in -1.0..1.0f64) {
        let x = x.map(|v| away(v, c, 1e-3));
        all(|v| v[0].clamp_min(c), std::slice::from_ref(&x), &x.map(|v| v.max(c)))?;
        all(|v| v[0].clamp_max(c), std::slice::from_ref(&x), &x.map(|v| v.min(c)))?;
    }

    #[test]
    fn min_all_and_along_an_axis(x in prop::collection::vec(1usize..=4, 1..=3).prop_flat_map(untied), keep in any::<bool>()) {
        let lowest = x.data().iter().cloned().fold(f64::INFINITY, f64::min);
        all(|v| v[0].min(), std::slice::from_ref(&x), &Tensor::scalar(lowest))?;
        let want = reduce_by_hand(&x, &[0], keep, |g| g.iter().cloned().fold(f64::INFINITY, f64::min));
        all(move |v| v[0].min_axis(0, keep), std::slice::from_ref(&x), &want)?;
    }

    #[test]
    fn sum_and_mean_over_several_axes((x, axes) in with_axes(), keep in any::<bool>()) {
        let a = positive(&axes, x.rank());
        let ax = axes.clone();
        all(move |v| v[0].sum_axes(&ax, keep), std::slice::from_ref(&x), &reduce_by_hand(&x, &a, keep, |g| g.iter().sum()))?;
        let ax = axes.clone();
        all(move |v| v[0].mean_axes(&ax, keep), std::slice::from_ref(&x),
            &reduce_by_hand(&x, &a, keep, |g| g.iter().sum::<f64>() / g.len() as f64))?;
    }

    #[test]
    fn max_and_min_over_several_axes((x, axes) in with_axes().prop_flat_map(|(x, a)| (untied(x.shape().to_vec()), Just(a))), keep in any::<bool>()) {
        let a = positive(&axes, x.rank());
        let ax = axes.clone();
        all(move |v| v[0].max_axes(&ax, keep), std::slice::from_ref(&x),
            &reduce_by_hand(&x, &a, keep, |g| g.iter().cloned().fold(f64::NEG_INFINITY, f64::max)))?;
        let ax = axes.clone();
        all(move |v| v[0].min_axes(&ax, keep), std::slice::from_ref(&x),
            &reduce_by_hand(&x, &a, keep, |g| g.iter().cloned().fold(f64::INFINITY, f64::min)))?;
    }

    #[test]
    fn var_and_std(x in prop::collection::vec(1usize..=4, 1..=3).prop_flat_map(|mut s| { s[0] += 2; values(s, -2.0, 2.0) }),
                   correction in 0usize..=1, keep in any::<bool>()) {
        let var = |g: &[f64]| {
            let m = g.iter().sum::<f64>() / g.len() as f64;
            g.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (g.len() - correction) as f64
        };
        all(move |v| v[0].var_axis(0, correction, keep), std::slice::from_ref(&x), &reduce_by_hand(&x, &[0], keep, var))?;
        all(move |v| v[0].std_axis(0, correction, keep), std::slice::from_ref(&x),
            &reduce_by_hand(&x, &[0], keep, |g| var(g).sqrt()))?;
        all(move |v| v[0].var(correction), std::slice::from_ref(&x), &Tensor::scalar(var(x.data())))?;
        all(move |v| v[0].std(correction), std::slice::from_ref(&x), &Tensor::scalar(var(x.data()).sqrt()))?;
    }

    #[test]
    fn permute_and_swapaxes(x in prop::collection::vec(1usize..=4, 1..=4).prop_flat_map(|s| values(s, -2.0, 2.0)), seed in any::<u64>()) {
        let r = x.rank();
        let mut order: Vec<usize> = (0..r).collect();
        // A permutation from the seed (Fisher-Yates with its bits).
        let mut z = seed;
        for i in (1..r).rev() {
            order.swap(i, (z % (i as u64 + 1)) as usize);
            z /= i as u64 + 1;
        }
        let out: Vec<usize> = order.iter().map(|&a| x.shape()[a]).collect();
        let data = (0..x.len()).map(|k| {
            let o = unravel(k, &out);
            let mut idx = vec![0; r];
            for (i, &a) in order.iter().enumerate() {
                idx[a] = o[i];
            }
            x.data()[ravel(&idx, x.shape())]
        }).collect();
        let ord = order.clone();
        all(move |v| v[0].permute(&ord), std::slice::from_ref(&x), &Tensor::from_vec(data, &out))?;
        let (a, b) = ((seed % r as u64) as isize, -1isize);
        let mut sw: Vec<usize> = (0..r).collect();
        sw.swap(a as usize, r - 1);
        let want = eval(move |v| v[0].permute(&sw), std::slice::from_ref(&x));
        all(move |v| v[0].swapaxes(a, b), std::slice::from_ref(&x), &want)?;
    }

    #[test]
    fn squeeze_unsqueeze_flatten_stack(x in prop::collection::vec(1usize..=3, 1..=3).prop_flat_map(|s| values(s, -2.0, 2.0)),
                                       y_seed in 0.0..1.0f64) {
        let s = x.shape().to_vec();
        let r = s.len() as isize;
        let mut up = s.clone();
        up.insert(1.min(s.len()), 1);
        all(|v| v[0].unsqueeze(1.min(r)), std::slice::from_ref(&x), &Tensor::from_slice(x.data(), &up))?;
        all(|v| v[0].unsqueeze(1.min(r)).squeeze(1.min(r)), std::slice::from_ref(&x), &x)?;
        all(|v| v[0].flatten(0, -1), std::slice::from_ref(&x), &Tensor::from_slice(x.data(), &[x.len()]))?;
        let y = x.map(|v| v * y_seed - 1.0);
        // stack along axis 0 is [x, y] row by row; along the last axis the elements interleave.
        let mut s0 = vec![2];
        s0.extend(&s);
        let joined: Vec<f64> = x.data().iter().chain(y.data()).cloned().collect();
        all(|v| Var::stack(&[v[0], v[1]], 0), &[x.clone(), y.clone()], &Tensor::from_vec(joined, &s0))?;
        let mut sl = s.clone();
        sl.push(2);
        let inter: Vec<f64> = x.data().iter().zip(y.data()).flat_map(|(&a, &b)| [a, b]).collect();
        all(|v| Var::stack(&[v[0], v[1]], -1), &[x.clone(), y.clone()], &Tensor::from_vec(inter, &sl))?;
    }

    #[test]
    fn slice_narrow_flip_index_select(x in prop::collection::vec(1usize..=5, 1..=3).prop_flat_map(|s| values(s, -2.0, 2.0)),
                                      a in 0usize..3, start in 0usize..5, len in 0usize..5, step in 1usize..=3,
                                      picks in prop::collection::vec(0usize..5, 1..=6)) {
        let s = x.shape().to_vec();
        let a = a % s.len();
        let start = start.min(s[a]);
        let end = (start + len).min(s[a]);
        let along = |idx: Vec<usize>| {
            let mut out = s.clone();
            out[a] = idx.len();
            let data = (0..out.iter().product()).map(|k| {
                let mut m = unravel(k, &out);
                m[a] = idx[m[a]];
                x.data()[ravel(&m, &s)]
            }).collect();
            Tensor::from_vec(data, &out)
        };
        let ai = a as isize;
        all(move |v| v[0].slice(ai, start, end, step), std::slice::from_ref(&x), &along((start..end).step_by(step).collect()))?;
        all(move |v| v[0].narrow(ai, start, end - start), std::slice::from_ref(&x), &along((start..end).collect()))?;
        all(move |v| v[0].flip(ai), std::slice::from_ref(&x), &along((0..s[a]).rev().collect()))?;
        let picks: Vec<usize> = picks.iter().map(|&p| p % s[a]).collect();
        let p2 = picks.clone();
        all(move |v| v[0].index_select(ai, &p2), std::slice::from_ref(&x), &along(picks.clone()))?;
    }

    #[test]
    fn embedding_rows_and_padding(w in (1usize..=5, 1usize..=3).prop_flat_map(|(n, d)| values(vec![n, d], -2.0, 2.0)),
                                  ids in prop::collection::vec(0usize..5, 1..=6), pad in 0usize..5) {
        let (n, d) = (w.shape()[0], w.shape()[1]);
        let ids: Vec<usize> = ids.iter().map(|&i| i % n).collect();
        let pad = pad % n;
        let want: Vec<f64> = ids.iter().flat_map(|&i| w.data()[i * d..(i + 1) * d].to_vec()).collect();
        let want = Tensor::from_vec(want, &[ids.len(), d]);
        let i2 = ids.clone();
        all(move |v| v[0].embedding(&i2, None), std::slice::from_ref(&w), &want)?;
        // With padding_idx the value is the same, but the padding row is deliberately not
        // differentiated (PyTorch's rule), so it is checked directly rather than by gradcheck.
        let i3 = ids.clone();
        assert_close(&eval(move |v| v[0].embedding(&i3, Some(pad)), std::slice::from_ref(&w)), &want)?;
        // The padding row gets no gradient; every other row the number of its uses.
        let tape = Tape::new();
        let wv = tape.var(w.clone());
        let grads = wv.embedding(&ids, Some(pad)).sum().backward();
        for row in 0..n {
            let uses = if row == pad { 0 } else { ids.iter().filter(|&&i| i == row).count() };
            prop_assert!(grads[wv][row * d..(row + 1) * d].iter().all(|&g| g == uses as f64));
        }
    }

    #[test]
    fn cumsum(x in prop::collection::vec(1usize..=4, 1..=3).prop_flat_map(|s| values(s, -2.0, 2.0)), a in 0usize..3) {
        let s = x.shape().to_vec();
        let a = a % s.len();
        let data = (0..x.len()).map(|k| {
            let m = unravel(k, &s);
            (0..=m[a]).map(|j| { let mut q = m.clone(); q[a] = j; x.data()[ravel(&q, &s)] }).sum()
        }).collect();
        all(move |v| v[0].cumsum(a as isize), std::slice::from_ref(&x), &Tensor::from_vec(data, &s))?;
    }
}

/// Kinks, by the documented conventions: leaky_relu and elu have derivative `slope`/`alpha` at 0
/// (PyTorch's), softplus is exactly linear (derivative 1) above its threshold, and a one-sided
/// clamp passes the gradient at its bound (the closed interval, as `clip`).
#[test]
fn kinks_follow_the_documented_conventions() {
    let tape = Tape::<f64>::new();
    let x = tape.var(Tensor::from_vec(vec![0.0, 30.0], &[2]));
    assert_eq!(&x.leaky_relu(0.2).sum().backward()[x], &[0.2, 1.0]);
    assert_eq!(&x.elu(1.5).sum().backward()[x], &[1.5, 1.0]);
    let sp = x.softplus_with(1.0, 20.0);
    assert_eq!(sp.value().data()[1], 30.0);
    assert_eq!(sp.sum().backward()[x][1], 1.0);
    assert_eq!(&x.clamp_min(0.0).sum().backward()[x], &[1.0, 1.0]);
    assert_eq!(&x.clamp_max(0.0).sum().backward()[x], &[1.0, 0.0]);
    // A tie in min shares the gradient equally, as max does.
    let t = tape.var(Tensor::from_vec(vec![1.0, -1.0, -1.0], &[3]));
    assert_eq!(&t.min().backward()[t], &[0.0, 0.5, 0.5]);
    // elu reads exp(min(x, 0)): a huge x stays finite in value and gradient.
    let big = tape.var(Tensor::from_vec(vec![1000.0], &[1]));
    let g = big.elu(1.0).sum().backward();
    assert!(g[big][0] == 1.0);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn pad_constant(x in prop::collection::vec(1usize..=3, 1..=3).prop_flat_map(|s| values(s, -2.0, 2.0)),
                    w in prop::collection::vec((0usize..=2, 0usize..=2), 1..=3), value in -1.0..1.0f64) {
        let s = x.shape().to_vec();
        let widths: Vec<[usize; 2]> = w.iter().take(s.len()).map(|&(a, b)| [a, b]).collect();
        let out: Vec<usize> = s.iter().enumerate().map(|(d, &n)| n + widths.get(d).map_or(0, |p| p[0] + p[1])).collect();
        let data = (0..out.iter().product()).map(|k| {
            let m = unravel(k, &out);
            let inside: Option<Vec<usize>> = m.iter().enumerate().map(|(d, &i)| {
                let before = widths.get(d).map_or(0, |p| p[0]);
                (i >= before && i - before < s[d]).then(|| i - before)
            }).collect();
            inside.map_or(value, |idx| x.data()[ravel(&idx, &s)])
        }).collect();
        let wd = widths.clone();
        all(move |v| v[0].pad(&wd, value), std::slice::from_ref(&x), &Tensor::from_vec(data, &out))?;
    }

    #[test]
    fn repeat_tiles(x in prop::collection::vec(1usize..=3, 1..=3).prop_flat_map(|s| values(s, -2.0, 2.0)),
                    reps in prop::collection::vec(1usize..=3, 3)) {
        let s = x.shape().to_vec();
        let reps: Vec<usize> = reps[..s.len()].to_vec();
        let out: Vec<usize> = s.iter().zip(&reps).map(|(a, b)| a * b).collect();
        let data = (0..out.iter().product()).map(|k| {
            let m: Vec<usize> = unravel(k, &out).iter().zip(&s).map(|(i, n)| i % n).collect();
            x.data()[ravel(&m, &s)]
        }).collect();
        let r2 = reps.clone();
        all(move |v| v[0].repeat(&r2), std::slice::from_ref(&x), &Tensor::from_vec(data, &out))?;
    }

    #[test]
    fn argmax_and_argmin(x in prop::collection::vec(1usize..=4, 1..=3).prop_flat_map(|s| values(s, -2.0, 2.0)), a in 0usize..3, keep in any::<bool>()) {
        // Round to a coarse grid so ties occur: the first index must win.
        let x = x.map(|v| (v * 2.0).round());
        let a = a % x.rank();
        let first = |g: &[f64], better: fn(f64, f64) -> bool| {
            let mut b = 0;
            for k in 1..g.len() {
                if better(g[k], g[b]) { b = k; }
            }
            b as f64
        };
        let tape = Tape::new();
        let xv = tape.var(x.clone());
        let got = xv.argmax_axis(a as isize, keep);
        prop_assert!(!got.requires_grad());
        assert_close(&got.value(), &reduce_by_hand(&x, &[a], keep, |g| first(g, |u, v| u > v)))?;
        assert_close(&xv.argmin_axis(a as isize, keep).value(), &reduce_by_hand(&x, &[a], keep, |g| first(g, |u, v| u < v)))?;
    }
}
