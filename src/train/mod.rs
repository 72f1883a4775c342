//! Training: a compiled model (`Sequential` + loss + optimizer + metrics) with Keras' `fit`,
//! `evaluate` and `predict`.
//!
//! ```
//! use tapegrad::nn::{Activation, Dense, Sequential};
//! use tapegrad::optim::Sgd;
//! use tapegrad::train::{FitConfig, LossFn, Verbose};
//! use tapegrad::metrics::Metric;
//! use tapegrad::Tensor;
//!
//! // y = 2 x - 1 from eight points.
//! let x = Tensor::from_vec((0..8).map(|i| i as f64 / 8.0).collect(), &[8, 1]);
//! let y = x.map(|v| 2.0 * v - 1.0);
//! let net = Sequential::<f64>::with_seed(1, vec![Dense::new(1)], 0);
//! let mut model = net.compile(LossFn::named("mse").unwrap(), Sgd::new(0.1).momentum(0.9), &[Metric::Mae]);
//! let history = model
//!     .fit(&x, &y, FitConfig::new(200).batch_size(4).seed(0).verbose(Verbose::Silent))
//!     .unwrap();
//! assert_eq!(history.loss().len(), 200);
//! assert!(history.loss()[199] < 1e-6);
//! let logs = model.evaluate(&x, &y, 32).unwrap();
//! assert!(logs["mae"] < 1e-3);
//! ```

pub mod callbacks;
mod error;
mod fit;
mod fit_hooks;
mod history;
mod rng;
mod weights;
pub mod progress;

pub use error::TrainError;
pub use history::{History, Logs};
pub use progress::Verbose;
pub use rng::RngState;
pub(crate) use fit_hooks::WriteModelFile;

use crate::losses::{Loss, LossError};
use crate::metrics::Metric;
use crate::nn::Sequential;
use crate::optim::Optimizer;
use crate::tape::{Tape, Var};
use crate::tensor::{Float, Tensor};
use callbacks::Callback;
use rand::rngs::StdRng;
use std::cell::RefCell;
use std::collections::BTreeMap;

type CustomLoss<T> = Box<dyn for<'t> Fn(Var<'t, T>, Var<'t, T>) -> Var<'t, T>>;

/// The loss a model trains on: one of the registry's (by Keras name) or your own function of
/// `(y_true, y_pred)` built from public ops.
///
/// ```
/// use tapegrad::train::LossFn;
/// let mse = LossFn::<f64>::named("mse").unwrap();
/// assert_eq!(mse.name(), "mean_squared_error");
/// // Binary cross-entropy written by hand, clipped as Keras does.
/// let bce = LossFn::<f64>::custom(|t, p| {
///     let p = p.clip(1e-7, 1.0 - 1e-7);
///     -(t * p.log() + (1.0 - t) * (1.0 - p).log()).mean()
/// });
/// assert_eq!(bce.name(), "custom");
/// ```
pub enum LossFn<T: Float> {
    /// A loss from [`crate::losses`].
    Registry(Loss),
    /// A user function, with a name for logs.
    Custom {
        /// Shown in messages.
        name: String,
        /// `(y_true, y_pred) -> loss`; a result with more than one element is averaged.
        f: CustomLoss<T>,
    },
}

impl<T: Float> LossFn<T> {
    /// The registry's loss called `name` (Keras names and aliases).
    pub fn named(name: &str) -> Result<Self, LossError> {
        Loss::new(name).map(LossFn::Registry)
    }

    /// Your own loss, named `"custom"`.
    pub fn custom<F>(f: F) -> Self
    where
        F: for<'t> Fn(Var<'t, T>, Var<'t, T>) -> Var<'t, T> + 'static,
    {
        Self::custom_named("custom", f)
    }

    /// Your own loss with a name.
    pub fn custom_named<F>(name: impl Into<String>, f: F) -> Self
    where
        F: for<'t> Fn(Var<'t, T>, Var<'t, T>) -> Var<'t, T> + 'static,
    {
        LossFn::Custom { name: name.into(), f: Box::new(f) }
    }

    /// The loss's name.
    pub fn name(&self) -> &str {
        match self {
            LossFn::Registry(l) => l.name(),
            LossFn::Custom { name, .. } => name,
        }
    }

    /// The loss of `y_pred` against `y_true`, averaged to one element if it has more.
    pub fn call<'t>(&self, y_true: Var<'t, T>, y_pred: Var<'t, T>) -> Var<'t, T> {
        let l = match self {
            LossFn::Registry(l) => l.call(y_true, y_pred),
            LossFn::Custom { f, .. } => f(y_true, y_pred),
        };
        if l.len() == 1 {
            l
        } else {
            l.mean()
        }
    }

    /// The loss with a weight per sample, as Keras computes it: the per-sample losses times
    /// `weights` (shape `(batch,)`), reduced as the loss says (by default summed and divided by
    /// the batch size). A custom loss must return one value per sample for this.
    #[track_caller]
    pub fn call_weighted<'t>(&self, y_true: Var<'t, T>, y_pred: Var<'t, T>, weights: Var<'t, T>) -> Var<'t, T> {
        let l = match self {
            LossFn::Registry(l) => {
                let per = l.per_sample(y_true, y_pred);
                crate::losses::reduce(per * weights.reshape(&per.shape()), l.options().reduction)
            }
            LossFn::Custom { f, .. } => {
                let per = f(y_true, y_pred);
                per * weights.reshape(&per.shape())
            }
        };
        if l.len() == 1 {
            l
        } else {
            l.mean()
        }
    }

    /// Number of values the unreduced loss gives for `rows` samples of these targets (one per
    /// sample, or one in all), found on a scratch tape.
    pub(crate) fn per_sample_len(&self, y_true: &Tensor<T>, y_shape: &[usize], out_width: usize) -> usize {
        let tape = Tape::new();
        let rows = y_shape[0];
        let width = y_true.len() / y_true.shape().first().copied().unwrap_or(1).max(1);
        let first: Vec<T> = (0..rows).flat_map(|_| y_true.data()[..width].iter().copied()).collect();
        let yt = tape.leaf(y_shape, &first, false);
        let yp = tape.leaf(&[rows, out_width], &vec![T::from_f64(0.5); rows * out_width], false);
        match self {
            LossFn::Registry(l) => l.per_sample(yt, yp).len(),
            LossFn::Custom { f, .. } => f(yt, yp).len(),
        }
    }

    /// Whether targets need not have the model output's width: class ids, or a registry loss whose
    /// output packs several inputs (see [`Loss::sparse_targets`]).
    pub fn is_sparse(&self) -> bool {
        matches!(self, LossFn::Registry(l) if l.sparse_targets())
    }
}

impl<T: Float> From<Loss> for LossFn<T> {
    fn from(loss: Loss) -> Self {
        LossFn::Registry(loss)
    }
}

impl<T: Float> std::fmt::Debug for LossFn<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LossFn({})", self.name())
    }
}

/// The callbacks of one `fit` call: each in a `RefCell`, so you keep it and read it afterwards.
pub type CallbackRefs<'a, T> = &'a [&'a RefCell<dyn Callback<T>>];

/// The settings of one `fit` call, Keras' keyword arguments: `epochs`, `batch_size` (32),
/// `shuffle` (true), `validation_data`, `validation_split`, `sample_weight`, `class_weight`,
/// `callbacks`, `initial_epoch`, `verbose` and a `seed` for shuffling and random layers.
#[derive(Clone, Copy)]
pub struct FitConfig<'a, T: Float> {
    /// The epoch to end at (with `initial_epoch` 0, the number of passes over the training data).
    pub epochs: usize,
    /// The epoch to start at (Keras' `initial_epoch`, from 0): a resumed run trains epochs
    /// `initial_epoch..epochs`, and callbacks and the history see those epoch numbers.
    pub initial_epoch: usize,
    /// Run at Keras' hooks, in order, before the history and the progress bar.
    pub callbacks: CallbackRefs<'a, T>,
    /// Rows per gradient step; the last batch of an epoch may be smaller.
    pub batch_size: usize,
    /// Reorder the training rows every epoch.
    pub shuffle: bool,
    /// `(x, y)` scored after every epoch.
    pub validation_data: Option<(&'a Tensor<T>, &'a Tensor<T>)>,
    /// Progress output.
    pub verbose: Verbose,
    /// Reseeds the model's generator (shuffling, random layers) before training.
    pub seed: Option<u64>,
    /// Fraction of the rows, taken from the end before any shuffling, held out as validation
    /// data (ignored when `validation_data` is given, as in Keras). `0` holds out nothing.
    pub validation_split: f64,
    /// A non-negative weight per row of `x`: the loss of a batch is `sum(w_i * loss_i) / batch`.
    pub sample_weight: Option<&'a Tensor<T>>,
    /// Weights by class id (`round(y)`, or the argmax of a one-hot row): each row's sample
    /// weight is its class's weight (1 for classes not named).
    pub class_weight: Option<&'a BTreeMap<usize, f64>>,
}

impl<T: Float> Default for FitConfig<'_, T> {
    fn default() -> Self {
        FitConfig {
            epochs: 1,
            initial_epoch: 0,
            callbacks: &[],
            batch_size: 32,
            shuffle: true,
            validation_data: None,
            verbose: Verbose::Auto,
            seed: None,
            validation_split: 0.0,
            sample_weight: None,
            class_weight: None,
        }
    }
}

impl<T: Float> std::fmt::Debug for FitConfig<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FitConfig")
            .field("epochs", &self.epochs)
            .field("initial_epoch", &self.initial_epoch)
            .field("callbacks", &self.callbacks.len())
            .field("batch_size", &self.batch_size)
            .field("shuffle", &self.shuffle)
            .field("validation_data", &self.validation_data.map(|(x, y)| (x.shape().to_vec(), y.shape().to_vec())))
            .field("verbose", &self.verbose)
            .field("seed", &self.seed)
            .field("validation_split", &self.validation_split)
            .field("sample_weight", &self.sample_weight.map(|w| w.shape().to_vec()))
            .field("class_weight", &self.class_weight)
            .finish()
    }
}

impl<'a, T: Float> FitConfig<'a, T> {
    /// Keras' defaults with the given number of epochs.
    pub fn new(epochs: usize) -> Self {
        FitConfig { epochs, ..Default::default() }
    }
    /// Keras' `callbacks=[...]`: run at every hook, in this order. Each is a `RefCell` you keep,
    /// to read it after `fit` (`stop.borrow().stopped_epoch()`):
    ///
    /// ```
    /// use std::cell::RefCell;
    /// use tapegrad::nn::{Dense, Sequential};
    /// use tapegrad::optim::Sgd;
    /// use tapegrad::train::callbacks::{EarlyStopping, TerminateOnNaN};
    /// use tapegrad::train::{FitConfig, LossFn, Verbose};
    /// use tapegrad::Tensor;
    /// let x = Tensor::from_vec((0..16).map(|i| i as f64 / 16.0).collect(), &[16, 1]);
    /// let y = x.map(|v| 1.0 - v);
    /// let mut model = Sequential::<f64>::with_seed(1, vec![Dense::new(1)], 0).compile(LossFn::named("mse").unwrap(), Sgd::new(0.1), &[]);
    /// // Stops once the loss improves by less than 0.5 for 2 epochs in a row.
    /// let stop = RefCell::new(EarlyStopping::new("loss").min_delta(0.5).patience(2));
    /// let nan = RefCell::new(TerminateOnNaN::new());
    /// let history = model
    ///     .fit(&x, &y, FitConfig::new(50).verbose(Verbose::Silent).callbacks(&[&stop, &nan]))
    ///     .unwrap();
    /// assert_eq!(history.epochs(), 3);
    /// assert_eq!(stop.borrow().stopped_epoch(), Some(2));
    /// ```
    pub fn callbacks(mut self, callbacks: CallbackRefs<'a, T>) -> Self {
        self.callbacks = callbacks;
        self
    }
    /// Keras' `initial_epoch`: start at this epoch (from 0) and end at `epochs`, to resume a run
    /// from a checkpoint (see `tapegrad::io::load_checkpoint`).
    ///
    /// ```
    /// use tapegrad::train::FitConfig;
    /// let cfg = FitConfig::<f64>::new(10).initial_epoch(4); // runs epochs 4..10
    /// assert_eq!((cfg.initial_epoch, cfg.epochs), (4, 10));
    /// ```
    pub fn initial_epoch(mut self, epoch: usize) -> Self {
        self.initial_epoch = epoch;
        self
    }
    /// Rows per step.
    pub fn batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size;
        self
    }
    /// Whether to shuffle every epoch.
    pub fn shuffle(mut self, shuffle: bool) -> Self {
        self.shuffle = shuffle;
        self
    }
    /// Data scored after every epoch (`val_loss`, `val_<metric>`).
    pub fn validation_data(mut self, x: &'a Tensor<T>, y: &'a Tensor<T>) -> Self {
        self.validation_data = Some((x, y));
        self
    }
    /// Progress output.
    pub fn verbose(mut self, verbose: Verbose) -> Self {
        self.verbose = verbose;
        self
    }
    /// Seed of the model's generator (shuffling and random layers).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }
    /// Holds out the last `fraction` of the rows (before shuffling) as validation data.
    pub fn validation_split(mut self, fraction: f64) -> Self {
        self.validation_split = fraction;
        self
    }
    /// A weight per row of `x` (shape `(rows,)`).
    pub fn sample_weight(mut self, weights: &'a Tensor<T>) -> Self {
        self.sample_weight = Some(weights);
        self
    }
    /// A weight per class id.
    pub fn class_weight(mut self, weights: &'a BTreeMap<usize, f64>) -> Self {
        self.class_weight = Some(weights);
        self
    }
}

/// Reusable buffers of the training loop.
#[derive(Default)]
struct Scratch<T> {
    order: Vec<usize>,
    x: Vec<T>,
    y: Vec<T>,
    w: Vec<T>,
    /// One variable's clipped gradient at a time (an optimizer with clipping).
    grad: Vec<T>,
}

/// A network ready to train: layers, loss, optimizer, metrics and the tape it reuses.
/// Made by [`Sequential::compile`].
pub struct Model<T: Float> {
    net: Sequential<T>,
    loss: LossFn<T>,
    optimizer: Box<dyn Optimizer<T>>,
    metrics: Vec<Metric>,
    tape: Tape<T>,
    rng: StdRng,
    rng_anchor: rng::Anchor,
    scratch: Scratch<T>,
}

impl<T: Float> Sequential<T> {
    /// Keras' `model.compile(loss, optimizer, metrics)`: the model with what it trains on.
    pub fn compile(
        self,
        loss: impl Into<LossFn<T>>,
        optimizer: impl Optimizer<T> + 'static,
        metrics: &[Metric],
    ) -> Model<T> {
        let (rng, rng_anchor) = rng::Anchor::seeded(rand::random());
        Model {
            net: self,
            loss: loss.into(),
            optimizer: Box::new(optimizer),
            metrics: metrics.to_vec(),
            tape: Tape::new(),
            rng,
            rng_anchor,
            scratch: Scratch::default(),
        }
    }

    /// [`compile`](Self::compile) with an optimizer already boxed (e.g. from
    /// [`from_keras_config`](crate::optim::from_keras_config)).
    pub fn compile_boxed(self, loss: impl Into<LossFn<T>>, optimizer: Box<dyn Optimizer<T>>, metrics: &[Metric]) -> Model<T> {
        let mut m = self.compile(loss, crate::optim::Sgd::default(), metrics);
        m.optimizer = optimizer;
        m
    }
}

impl<T: Float> Model<T> {
    /// The network.
    pub fn net(&self) -> &Sequential<T> {
        &self.net
    }
    /// The network, mutable (to set weights).
    pub fn net_mut(&mut self) -> &mut Sequential<T> {
        &mut self.net
    }
    /// The optimizer.
    pub fn optimizer(&self) -> &dyn Optimizer<T> {
        &*self.optimizer
    }
    /// The optimizer, mutable (to change the learning rate).
    pub fn optimizer_mut(&mut self) -> &mut dyn Optimizer<T> {
        &mut *self.optimizer
    }
    /// The loss.
    pub fn loss(&self) -> &LossFn<T> {
        &self.loss
    }
    /// The metrics as compiled.
    pub fn metrics(&self) -> &[Metric] {
        &self.metrics
    }
    /// Reseeds the generator that shuffles the training rows and feeds the random layers.
    pub fn set_seed(&mut self, seed: u64) {
        self.rng_anchor.set(&mut self.rng, RngState::SeedFromU64(seed));
    }
    /// The generator's state as a seed, for a checkpoint: known after `compile`, `set_seed` and
    /// every `fit` epoch (each ends by reseeding the generator from itself); `None` once something
    /// else drew from it (a `train_on_batch` through random layers).
    ///
    /// ```
    /// use tapegrad::nn::{Dense, Sequential};
    /// use tapegrad::optim::Sgd;
    /// use tapegrad::train::{FitConfig, LossFn, RngState, Verbose};
    /// use tapegrad::Tensor;
    /// let x = Tensor::from_vec(vec![0.0, 1.0, 2.0, 3.0], &[4, 1]);
    /// let compile = || Sequential::<f64>::with_seed(1, vec![Dense::new(1)], 0).compile(LossFn::named("mse").unwrap(), Sgd::new(0.1), &[]);
    /// let mut model = compile();
    /// model.set_seed(3);
    /// assert_eq!(model.rng_state(), Some(RngState::SeedFromU64(3)));
    /// model.fit(&x, &x, FitConfig::new(1).batch_size(2).verbose(Verbose::Silent)).unwrap();
    /// let state = model.rng_state().unwrap(); // a fresh seed after the epoch
    /// // Another model with this state shuffles the next epoch the same way.
    /// let mut other = compile();
    /// other.set_rng_state(state);
    /// model.fit(&x, &x, FitConfig::new(1).batch_size(2).verbose(Verbose::Silent)).unwrap();
    /// other.fit(&x, &x, FitConfig::new(1).batch_size(2).verbose(Verbose::Silent)).unwrap();
    /// assert_eq!(model.rng_state(), other.rng_state());
    /// ```
    pub fn rng_state(&self) -> Option<RngState> {
        self.rng_anchor.state(&self.rng)
    }
    /// Puts the generator in `state` (from a checkpoint).
    pub fn set_rng_state(&mut self, state: RngState) {
        self.rng_anchor.set(&mut self.rng, state);
    }
    /// Replaces the optimizer, its state and step count included (e.g. with one rebuilt from a
    /// checkpoint's config by [`from_keras_config`](crate::optim::from_keras_config)).
    ///
    /// ```
    /// use tapegrad::nn::{Dense, Sequential};
    /// use tapegrad::optim::{from_keras_config, ExponentialDecay, Optimizer, Sgd};
    /// use tapegrad::train::LossFn;
    /// let lr = ExponentialDecay::new(0.1, 10, 0.5).unwrap();
    /// let config = Sgd::<f64>::new(lr).clipvalue(1.0).keras_config();
    /// let mut model = Sequential::<f64>::with_seed(1, vec![Dense::new(1)], 0).compile(LossFn::named("mse").unwrap(), Sgd::new(0.1), &[]);
    /// model.set_optimizer(from_keras_config("sgd", &config).unwrap());
    /// assert_eq!(model.optimizer().schedule().map(|s| s.name()), Some("ExponentialDecay"));
    /// ```
    pub fn set_optimizer(&mut self, optimizer: Box<dyn Optimizer<T>>) {
        self.optimizer = optimizer;
    }
    /// The tape reused by every step (for inspecting its capacity).
    pub fn tape(&self) -> &Tape<T> {
        &self.tape
    }
    /// The network's summary table.
    pub fn summary(&self) -> String {
        self.net.summary()
    }
}
