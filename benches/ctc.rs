//! What CTC on the tape costs: Keras' `ctc` (the alpha recursion recorded with `logsumexp`, the
//! gradient from the tape) against a hand-written forward-backward (alpha and beta in log space,
//! the gradient `softmax - posterior` written out), both giving the loss and d loss / d logits.
//! The hand-written version exists only here, for comparison; setup asserts that both agree.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tapegrad::losses::Loss;
use tapegrad::{Tape, Tensor};

const NEG: f64 = f64::NEG_INFINITY;

fn lse(a: f64, b: f64) -> f64 {
    let m = a.max(b);
    if m == NEG {
        NEG
    } else {
        m + ((a - m).exp() + (b - m).exp()).ln()
    }
}

/// Loss (mean over the batch) and gradient for logits `(n, t, c)` and Keras labels (0 = blank).
fn hand_ctc(logits: &[f64], labels: &[Vec<usize>], n: usize, frames: usize, c: usize) -> (f64, Vec<f64>) {
    let mut grad = vec![0.0; logits.len()];
    let mut total = 0.0;
    for b in 0..n {
        // log-softmax per frame
        let mut lp = vec![0.0; frames * c];
        for t in 0..frames {
            let row = &logits[(b * frames + t) * c..(b * frames + t + 1) * c];
            let m = row.iter().cloned().fold(NEG, f64::max);
            let z = m + row.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
            for k in 0..c {
                lp[t * c + k] = row[k] - z;
            }
        }
        let l = &labels[b];
        let s_len = 2 * l.len() + 1;
        let ext: Vec<usize> = (0..s_len).map(|s| if s % 2 == 1 { l[s / 2] } else { 0 }).collect();
        let skip = |s: usize| s >= 2 && ext[s] != 0 && ext[s] != ext[s - 2];
        let mut alpha = vec![NEG; frames * s_len];
        let mut beta = vec![NEG; frames * s_len];
        alpha[0] = lp[ext[0]];
        if s_len > 1 {
            alpha[1] = lp[ext[1]];
        }
        for t in 1..frames {
            for s in 0..s_len {
                let mut a = alpha[(t - 1) * s_len + s];
                if s >= 1 {
                    a = lse(a, alpha[(t - 1) * s_len + s - 1]);
                }
                if skip(s) {
                    a = lse(a, alpha[(t - 1) * s_len + s - 2]);
                }
                alpha[t * s_len + s] = a + lp[t * c + ext[s]];
            }
        }
        beta[(frames - 1) * s_len + s_len - 1] = 0.0;
        if s_len > 1 {
            beta[(frames - 1) * s_len + s_len - 2] = 0.0;
        }
        for t in (0..frames - 1).rev() {
            for s in 0..s_len {
                let next = |s2: usize| beta[(t + 1) * s_len + s2] + lp[(t + 1) * c + ext[s2]];
                let mut v = next(s);
                if s + 1 < s_len {
                    v = lse(v, next(s + 1));
                }
                if s + 2 < s_len && skip(s + 2) {
                    v = lse(v, next(s + 2));
                }
                beta[t * s_len + s] = v;
            }
        }
        let mut log_p = alpha[(frames - 1) * s_len + s_len - 1];
        if s_len > 1 {
            log_p = lse(log_p, alpha[(frames - 1) * s_len + s_len - 2]);
        }
        total += -log_p;
        for t in 0..frames {
            let g = &mut grad[(b * frames + t) * c..(b * frames + t + 1) * c];
            for k in 0..c {
                g[k] = lp[t * c + k].exp() / n as f64;
            }
            for s in 0..s_len {
                g[ext[s]] -= (alpha[t * s_len + s] + beta[t * s_len + s] - log_p).exp() / n as f64;
            }
        }
    }
    (total / n as f64, grad)
}

fn tape_ctc(tape: &mut Tape<f64>, y: &Tensor<f64>, logits: &Tensor<f64>) -> (f64, Vec<f64>) {
    tape.clear();
    let loss = Loss::new("ctc").unwrap();
    let (yv, pv) = (tape.constant(y.clone()), tape.var(logits.clone()));
    let v = loss.call(yv, pv);
    let g = v.backward();
    (v.item(), g[pv].to_vec())
}

fn problem(n: usize, frames: usize, c: usize, s: usize) -> (Tensor<f64>, Vec<Vec<usize>>, Tensor<f64>) {
    let mut rng = StdRng::seed_from_u64(1);
    let labels: Vec<Vec<usize>> = (0..n).map(|_| (0..s).map(|_| rng.gen_range(1..c)).collect()).collect();
    let y: Vec<f64> = labels.iter().flat_map(|l| l.iter().map(|&v| v as f64)).collect();
    let logits: Vec<f64> = (0..n * frames * c).map(|_| rng.gen_range(-2.0..2.0)).collect();
    (Tensor::from_vec(y, &[n, s]), labels, Tensor::from_vec(logits, &[n, frames, c]))
}

fn bench(cr: &mut Criterion) {
    let mut group = cr.benchmark_group("ctc");
    group.sample_size(10).measurement_time(std::time::Duration::from_secs(2)).warm_up_time(std::time::Duration::from_millis(500));
    for &(n, frames, c, s) in &[(8usize, 50usize, 20usize, 10usize), (32, 100, 30, 20)] {
        let (y, labels, logits) = problem(n, frames, c, s);
        let mut tape = Tape::new();
        let (v1, g1) = tape_ctc(&mut tape, &y, &logits);
        let (v2, g2) = hand_ctc(logits.data(), &labels, n, frames, c);
        assert!((v1 - v2).abs() < 1e-9 * v2.abs(), "values {v1} vs {v2}");
        assert!(g1.iter().zip(&g2).all(|(a, b)| (a - b).abs() < 1e-9), "gradients differ");
        let id = format!("n{n}_t{frames}_c{c}_s{s}");
        group.bench_with_input(BenchmarkId::new("tape", &id), &(), |b, _| b.iter(|| black_box(tape_ctc(&mut tape, &y, &logits))));
        group.bench_with_input(BenchmarkId::new("hand", &id), &(), |b, _| {
            b.iter(|| black_box(hand_ctc(logits.data(), &labels, n, frames, c)))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
