//! Every loss beyond Keras as a user meets it: trained by `compile`/`fit` (Keras' `ctc` is trained in
//! `tests/training/fit_ctc.rs`; PyTorch's time-first `ctc_loss` is refused with a message), listed by
//! `tapegrad losses`, gradchecked by `tapegrad gradcheck` and drawn by `tapegrad graph`.

use rand::rngs::StdRng;
use rand::SeedableRng;
use tapegrad::losses::{registry, sample_batch, LossKind};
use tapegrad::nn::{Activation, Dense, Sequential};
use tapegrad::optim::Adam;
use tapegrad::train::{FitConfig, LossFn, Verbose};
use tapegrad::Tensor;

/// The losses after Keras' 19 classic ones.
fn new_losses() -> &'static [tapegrad::losses::LossInfo] {
    &registry()[19..]
}

#[test]
fn compile_and_fit_train_every_loss_beyond_keras() {
    let mut trained = 0;
    for info in new_losses() {
        if info.kind == LossKind::Ctc {
            continue;
        }
        let mut rng = StdRng::seed_from_u64(5);
        let (y, p) = sample_batch(info.kind, 8, 3, &mut rng);
        let x = Tensor::uniform(&[8, 4], -1.0, 1.0, &mut rng);
        let width = p.shape()[1];
        // Positive outputs where the loss needs them (variances, Tweedie means, probabilities).
        let activation = match info.kind {
            LossKind::GaussianNll | LossKind::Tweedie => Activation::Sigmoid,
            LossKind::CategoricalGeneralizedCrossEntropy => Activation::Softmax,
            _ => Activation::Linear,
        };
        let net = Sequential::<f64>::with_seed(4, vec![Dense::new(width).activation(activation)], 3);
        let mut model = net.compile(LossFn::named(info.name).unwrap(), Adam::new(0.02), &[]);
        let config = FitConfig::new(25).batch_size(8).verbose(Verbose::Silent);
        if info.kind == LossKind::CtcLoss {
            let e = model.fit(&x, &y, config).unwrap_err().to_string();
            assert!(e.contains("ctc_loss") && e.contains("time first") && e.contains("use ctc"), "{e}");
            continue;
        }
        let h = model.fit(&x, &y, config).unwrap_or_else(|e| panic!("{}: {e}", info.name));
        let (first, last) = (h.loss()[0], *h.loss().last().unwrap());
        assert!(last.is_finite() && last < first, "{}: loss went from {first} to {last}", info.name);
        trained += 1;
    }
    assert_eq!(trained, new_losses().len() - 2);
}

#[cfg(feature = "app")]
mod cli {
    use super::new_losses;
    use std::process::Command;

    fn tapegrad(args: &[&str]) -> (bool, String, String) {
        let out = Command::new(env!("CARGO_BIN_EXE_tapegrad")).args(args).output().expect("the binary runs");
        (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
    }

    #[test]
    fn losses_lists_every_loss_with_aliases_formula_and_options() {
        let (ok, out, err) = tapegrad(&["losses"]);
        assert!(ok, "{err}");
        for info in new_losses() {
            let at = out.lines().position(|l| l == info.name).unwrap_or_else(|| panic!("`tapegrad losses` misses {}", info.name));
            let entry: Vec<&str> = out.lines().skip(at + 1).take_while(|l| l.starts_with(' ')).collect();
            let entry = entry.join("\n");
            assert!(entry.contains(&format!("aliases: {}", info.aliases.join(", "))), "{entry}");
            assert!(entry.contains(&format!("formula: {}", info.formula)), "{entry}");
            assert!(entry.contains(&format!("options: {}", info.options.join(", "))), "{entry}");
        }
    }

    #[test]
    fn gradcheck_checks_every_loss_and_option_setting() {
        let (ok, out, err) = tapegrad(&["gradcheck", "--batch", "2", "--seed", "3"]);
        assert!(ok, "{out}\n{err}");
        for info in new_losses() {
            let rows: Vec<&str> = out.lines().filter(|l| l.split_whitespace().next() == Some(info.name)).collect();
            assert!(!rows.is_empty(), "`tapegrad gradcheck` has no row for {}:\n{out}", info.name);
            assert!(rows.iter().all(|r| r.trim_end().ends_with("ok")), "{rows:?}");
            for opt in ["full", "log_input", "swap", "zero_infinity", "remove_diagonal", "weight", "p", "beta", "quantile", "power", "eps", "q"] {
                let checked = match opt {
                    "p" => info.name == "triplet_margin",
                    "beta" => info.name == "smooth_l1",
                    "eps" => info.name == "gaussian_nll",
                    _ => info.options.contains(&opt),
                };
                if checked {
                    assert!(rows.iter().any(|r| r.contains(&format!(" {opt}="))), "{}: no row for {opt}\n{rows:?}", info.name);
                }
            }
        }
    }

    #[test]
    fn graph_draws_every_loss_beyond_keras_with_values_and_gradients() {
        let dir = std::env::temp_dir().join(format!("tapegrad-loss-graphs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for info in new_losses() {
            // By an alias, as a PyTorch user would type it.
            let name = info.aliases[0];
            let path = dir.join(format!("{name}.dot"));
            let (ok, out, err) = tapegrad(&["graph", name, "--batch", "2", "--out", path.to_str().unwrap()]);
            assert!(ok && out.contains("wrote"), "{name}: {err}");
            let dot = std::fs::read_to_string(&path).unwrap();
            assert!(dot.starts_with("digraph") && dot.contains("grad"), "{name}: {dot}");
            if matches!(info.kind, super::LossKind::Ctc | super::LossKind::CtcLoss) {
                assert!(dot.contains("logsumexp"), "{name}: the alpha recursion is not on the tape");
            }
        }
        std::fs::remove_dir_all(&dir).ok();
    }
}
