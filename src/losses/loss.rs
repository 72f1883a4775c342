//! [`Loss`]: a registered loss with its options, called on `(y_true, y_pred)` or on named inputs.

use super::inputs::split_last;
use super::weights::{finish, PerSample};
use super::*;
use crate::tape::Var;
use crate::tensor::Float;

/// A loss from the registry with its options.
#[derive(Clone, Debug, PartialEq)]
pub struct Loss {
    info: &'static LossInfo,
    options: LossOptions,
}

impl Loss {
    /// The loss registered under `name` (or a Keras alias) with Keras' default options.
    ///
    /// ```
    /// let mse = tapegrad::losses::Loss::new("mse").unwrap();
    /// assert_eq!(mse.name(), "mean_squared_error");
    /// assert!(tapegrad::losses::Loss::new("msqe").unwrap_err().to_string().contains("mean_squared_error"));
    /// ```
    pub fn new(name: &str) -> Result<Loss, LossError> {
        Self::with_options(name, LossOptions::for_loss(name)?)
    }

    /// The loss registered under `name` with the given options.
    pub fn with_options(name: &str, options: LossOptions) -> Result<Loss, LossError> {
        let info = lookup(name)?;
        Ok(Loss { info, options })
    }

    /// The loss with Keras' defaults changed by `(option, value)` pairs given as text (see
    /// [`LossOptions::set`]). An option this loss does not read is an error naming the ones it does.
    ///
    /// ```
    /// let l = tapegrad::losses::Loss::with_args("huber", &[("delta", "0.5")]).unwrap();
    /// assert_eq!(l.options().delta, 0.5);
    /// assert!(tapegrad::losses::Loss::with_args("mse", &[("gamma", "2")]).is_err());
    /// ```
    pub fn with_args(name: &str, args: &[(&str, &str)]) -> Result<Loss, LossError> {
        let mut loss = Loss::new(name)?;
        let lname = loss.info.name;
        for &(k, v) in args {
            if !loss.info.options.contains(&k) {
                return Err(LossError(format!(
                    "loss '{}' does not read option '{k}'; it reads: {}",
                    loss.info.name,
                    loss.info.options.join(", ")
                )));
            }
            loss.options.set(k, v).map_err(|e| LossError(format!("{lname}: {e}")))?;
        }
        Ok(loss)
    }

    /// The canonical (Keras function) name.
    pub fn name(&self) -> &'static str {
        self.info.name
    }

    /// The registry entry: aliases, formula, options read.
    pub fn info(&self) -> &'static LossInfo {
        self.info
    }

    /// The options.
    pub fn options(&self) -> &LossOptions {
        &self.options
    }

    /// The loss of predictions `y_pred` against targets `y_true`, reduced as the options say.
    /// For losses of several inputs `y_pred` packs them along its last axis in the order of
    /// [`LossInfo::inputs`] (for example `[mean | var]` for `gaussian_nll`, `[anchor | positive |
    /// negative]` for `triplet_margin`), so that a model can train on them. Panics (naming the
    /// loss, the argument and the value) when the inputs do not fit; [`try_call`](Self::try_call)
    /// returns the error instead, and [`validate`](Self::validate) checks targets before training.
    #[track_caller]
    pub fn call<'t, T: Float>(&self, y_true: Var<'t, T>, y_pred: Var<'t, T>) -> Var<'t, T> {
        match self.try_call(y_true, y_pred) {
            Ok(v) => v,
            Err(e) => panic!("{e}"),
        }
    }

    /// [`call`](Self::call) with errors as values.
    pub fn try_call<'t, T: Float>(&self, y_true: Var<'t, T>, y_pred: Var<'t, T>) -> Result<Var<'t, T>, LossError> {
        self.call_inputs(&self.unpack(y_true, y_pred)?)
    }

    /// [`call`](Self::call) with Keras' `sample_weight` and mask (either may be `None`).
    ///
    /// ```
    /// use tapegrad::losses::Loss;
    /// use tapegrad::{Tape, Tensor};
    /// let tape = Tape::<f64>::new();
    /// let t = tape.constant(Tensor::from_vec(vec![0.0, 0.0, 0.0], &[3, 1]));
    /// let p = tape.var(Tensor::from_vec(vec![1.0, 2.0, 3.0], &[3, 1]));
    /// let w = tape.constant(Tensor::from_vec(vec![1.0, 0.0, 2.0], &[3]));
    /// let mse = Loss::with_args("mse", &[("reduction", "mean_with_sample_weight")]).unwrap();
    /// // (1 * 1 + 0 * 4 + 2 * 9) / (1 + 0 + 2)
    /// let v = mse.call_weighted(t, p, Some(w), None).unwrap();
    /// assert!((v.item() - 19.0 / 3.0).abs() < 1e-12);
    /// ```
    pub fn call_weighted<'t, T: Float>(
        &self,
        y_true: Var<'t, T>,
        y_pred: Var<'t, T>,
        sample_weight: Option<Var<'t, T>>,
        mask: Option<Var<'t, T>>,
    ) -> Result<Var<'t, T>, LossError> {
        let mut inputs = self.unpack(y_true, y_pred)?;
        inputs.sample_weight = sample_weight;
        inputs.mask = mask;
        self.call_inputs(&inputs)
    }

    /// The loss of named inputs (see [`LossInputs`] and [`LossInfo::inputs`]), weighted, masked
    /// and reduced as the options say. Bad inputs are errors naming the loss, the argument and
    /// the value.
    pub fn call_inputs<'t, T: Float>(&self, inputs: &LossInputs<'t, T>) -> Result<Var<'t, T>, LossError> {
        let ps = self.compute(inputs)?;
        finish(self.info.name, ps, inputs.sample_weight, inputs.mask, self.options.reduction)
    }

    /// The unreduced losses: one per sample (per element for PyTorch's element-wise losses; one
    /// value in all for dice and tversky), without weights or masks.
    #[track_caller]
    pub fn per_sample<'t, T: Float>(&self, y_true: Var<'t, T>, y_pred: Var<'t, T>) -> Var<'t, T> {
        match self.unpack(y_true, y_pred).and_then(|i| self.compute(&i)) {
            Ok(ps) => ps.values,
            Err(e) => panic!("{e}"),
        }
    }

    /// `(y_true, y_pred)` as named inputs: the prediction inputs packed in `y_pred` are split.
    fn unpack<'t, T: Float>(&self, y_true: Var<'t, T>, y_pred: Var<'t, T>) -> Result<LossInputs<'t, T>, LossError> {
        let names = self.info.inputs;
        let name = self.info.name;
        let packed: Vec<&str> = names.iter().copied().filter(|n| *n != "y_true" && !n.ends_with("_lengths")).collect();
        if packed == ["y_pred"] {
            return Ok(LossInputs::new(y_true, y_pred));
        }
        let what = packed.join(", ");
        let mut parts = split_last(name, y_pred, packed.len(), &what)?;
        if self.info.kind == LossKind::MarginRanking {
            let rows = y_pred.len() / 2;
            parts = parts.into_iter().map(|p| p.reshape(&[rows])).collect();
        }
        let mut inputs = LossInputs::empty().with("y_true", y_true);
        for (n, p) in packed.iter().zip(parts) {
            inputs = inputs.with(n, p);
        }
        Ok(inputs)
    }

    /// The per-sample losses and what their reduction needs.
    fn compute<'t, T: Float>(&self, inputs: &LossInputs<'t, T>) -> Result<PerSample<'t, T>, LossError> {
        let o = &self.options;
        let name = self.info.name;
        let need = |n: &str| inputs.need(name, n);
        let plain = |v: Var<'t, T>| Ok(PerSample::plain(v));
        use LossKind::*;
        match self.info.kind {
            Ctc => ctc::keras_ctc(need("y_true")?, need("y_pred")?),
            CtcLoss => ctc::torch_ctc(need("y_true")?, need("y_pred")?, inputs.get("input_lengths"), inputs.get("target_lengths"), o),
            Circle => metric_learning::circle(need("y_true")?, need("y_pred")?, o),
            CategoricalGeneralizedCrossEntropy => sparse::generalized_ce(need("y_true")?, need("y_pred")?, o),
            SparseCategoricalCrossentropy => sparse::sparse_ce(need("y_true")?, need("y_pred")?, o),
            GaussianNll => torch::gaussian_nll(need("y_true")?, need("y_pred")?, need("var")?, o),
            PoissonNll => torch::poisson_nll(need("y_true")?, need("y_pred")?, o),
            TripletMargin => metric_learning::triplet_margin(need("anchor")?, need("positive")?, need("negative")?, o),
            MarginRanking => metric_learning::margin_ranking(need("y_true")?, need("input1")?, need("input2")?, o),
            CosineEmbedding => metric_learning::cosine_embedding(need("y_true")?, need("input1")?, need("input2")?, o),
            Contrastive => metric_learning::contrastive(need("y_true")?, need("x1")?, need("x2")?, o),
            SoftMargin => Ok(torch::soft_margin(need("y_true")?, need("y_pred")?)),
            MultilabelSoftMargin => torch::multilabel_soft_margin(need("y_true")?, need("y_pred")?, o),
            SmoothL1 => torch::smooth_l1(need("y_true")?, need("y_pred")?, o),
            Nll => sparse::nll(need("y_true")?, need("y_pred")?, o),
            CrossEntropy => sparse::cross_entropy(need("y_true")?, need("y_pred")?, o),
            Quantile => plain(regression::quantile(need("y_true")?, need("y_pred")?, o)?),
            Tweedie => plain(regression::tweedie(need("y_true")?, need("y_pred")?, o)?),
            CategoricalCrossentropy => {
                let p = need("y_pred")?;
                if o.weight.is_some() {
                    let sp = p.shape();
                    let Some(a) = crate::tensor::shape::normalize_axis(o.axis, sp.len()) else {
                        return Err(LossError(format!("{name}: axis {} is out of range for y_pred of shape {:?}", o.axis, &sp[..])));
                    };
                    super::weights::class_weights(name, o.weight.as_deref(), sp[a])?;
                }
                plain(categorical_crossentropy(need("y_true")?, p, o))
            }
            _ => plain(self.keras_per_sample(need("y_true")?, need("y_pred")?)),
        }
    }

    /// The 18 other Keras losses of `(y_true, y_pred)`.
    #[track_caller]
    fn keras_per_sample<'t, T: Float>(&self, t: Var<'t, T>, p: Var<'t, T>) -> Var<'t, T> {
        let o = &self.options;
        use LossKind::*;
        match self.info.kind {
            MeanSquaredError => mean_squared_error(t, p),
            MeanAbsoluteError => mean_absolute_error(t, p),
            MeanAbsolutePercentageError => mean_absolute_percentage_error(t, p),
            MeanSquaredLogarithmicError => mean_squared_logarithmic_error(t, p),
            Huber => huber(t, p, o),
            LogCosh => log_cosh(t, p),
            Poisson => poisson(t, p),
            CosineSimilarity => cosine_similarity(t, p, o),
            Hinge => hinge(t, p),
            SquaredHinge => squared_hinge(t, p),
            CategoricalHinge => categorical_hinge(t, p),
            BinaryCrossentropy => binary_crossentropy(t, p, o),
            BinaryFocalCrossentropy => binary_focal_crossentropy(t, p, o),
            CategoricalFocalCrossentropy => categorical_focal_crossentropy(t, p, o),
            KlDivergence => kl_divergence(t, p),
            Dice => dice(t, p),
            Tversky => tversky(t, p, o),
            other => unreachable!("{other:?} is computed in Loss::compute"),
        }
    }
}
