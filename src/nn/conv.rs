//! Keras' convolution layers, `Conv1D` and `Conv2D`, lowered to the `conv1d`/`conv2d` ops.

use super::dense::{init_from_json, init_to_json};
use super::layer::{config_object, Builder, Ctx, Layer};
use super::spatial::{
    bad_arg, bool_from_json, check_positive, dims_from_json, keras_out_len, keras_pads, parsed_from_json,
    positive_from_json, spatial_input, DataFormat, PaddingMode,
};
use super::weight_options::{weight_option_setters, WeightOptions, KEYS};
use super::{Activation, Constraint, Init, Regularizer};
use crate::{ConvOptions, Padding};
use crate::tape::{Param, Var};
use crate::tensor::Float;
use serde_json::{json, Value};

/// A `D`-dimensional convolution layer configured like Keras' `Conv1D` (`D = 1`) and `Conv2D`
/// (`D = 2`): `activation(conv(x, kernel) + bias)` with `filters` output channels.
///
/// Its arguments are Keras': `kernel_size`, `strides` (1), `padding` (`"valid"`, `"same"`, and
/// `"causal"` for `Conv1D`), `data_format` (`"channels_last"`, Keras' default, or
/// `"channels_first"`), `dilation_rate` (1), `groups` (1), `activation` (linear), `use_bias`
/// (true), `kernel_initializer` (Glorot uniform), `bias_initializer` (zeros), and Keras' penalties
/// and constraints as on [`Dense`](super::Dense): `kernel_regularizer` and `bias_regularizer` add
/// `regularizer(weight)` to the loss, `activity_regularizer` adds `regularizer(output) / batch`, and
/// `kernel_constraint` / `bias_constraint` project the weight after every update (a
/// `MaxNorm` over each filter's taps and input channels is `axis` `[0, 1, 2]` of a `Conv2D`
/// kernel, as in Keras). The kernel is
/// stored in Keras' layout, `(kernel_size..., in_channels / groups, filters)`, so a saved model's
/// weights have Keras' shapes; Glorot's fans are Keras' (receptive field times channels).
///
/// The layer runs the channels-first ops: a channels-last batch is permuted to `(N, C, ...)`, the
/// kernel to `(filters, in / groups, kernel...)`, and the result permuted back.
///
/// ```
/// use tapegrad::layers;
/// use tapegrad::nn::{Activation, Conv2D, PaddingMode, Sequential};
/// let net = Sequential::<f32>::with_input_shape(&[8, 8, 1], layers![
///     Conv2D::new(4, [3, 3]).padding(PaddingMode::Same).activation(Activation::Relu),
///     Conv2D::new(2, [3, 3]).strides([2, 2]),
/// ], 0);
/// assert_eq!(net.named_parameters()[0].1.shape(), &[3, 3, 1, 4]);
/// assert_eq!(net.output_shape(), &[3, 3, 2]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Conv<const D: usize> {
    filters: usize,
    kernel_size: [usize; D],
    strides: [usize; D],
    padding: PaddingMode,
    data_format: DataFormat,
    dilation_rate: [usize; D],
    groups: usize,
    activation: Activation,
    use_bias: bool,
    kernel_initializer: Init,
    bias_initializer: Init,
    name: Option<String>,
    options: WeightOptions,
    /// Zeros `[before, after]` per spatial dimension for the built input.
    pads: [[usize; 2]; D],
    kernel: Option<Param>,
    bias: Option<Param>,
}

/// Keras' `Conv1D`: inputs `(steps, channels)` per sample (channels last).
pub type Conv1D = Conv<1>;
/// Keras' `Conv2D`: inputs `(height, width, channels)` per sample (channels last).
pub type Conv2D = Conv<2>;

impl<const D: usize> Conv<D> {
    /// A layer of `filters` output channels and a kernel of `kernel_size`, with Keras' defaults.
    pub fn new(filters: usize, kernel_size: [usize; D]) -> Self {
        Conv {
            filters,
            kernel_size,
            strides: [1; D],
            padding: PaddingMode::Valid,
            data_format: DataFormat::ChannelsLast,
            dilation_rate: [1; D],
            groups: 1,
            activation: Activation::Linear,
            use_bias: true,
            kernel_initializer: Init::GlorotUniform,
            bias_initializer: Init::Zeros,
            name: None,
            options: WeightOptions::default(),
            pads: [[0; 2]; D],
            kernel: None,
            bias: None,
        }
    }
    /// Step between windows.
    pub fn strides(mut self, strides: [usize; D]) -> Self {
        self.strides = strides;
        self
    }
    /// `Valid` (default), `Same`, or `Causal` (`Conv1D` only).
    pub fn padding(mut self, padding: PaddingMode) -> Self {
        self.padding = padding;
        self
    }
    /// Where the channels axis lies (default channels last).
    pub fn data_format(mut self, data_format: DataFormat) -> Self {
        self.data_format = data_format;
        self
    }
    /// Step between kernel taps (Keras refuses a dilation above 1 together with a stride above 1).
    pub fn dilation_rate(mut self, dilation_rate: [usize; D]) -> Self {
        self.dilation_rate = dilation_rate;
        self
    }
    /// Channel groups: output group `i` reads input group `i` only.
    pub fn groups(mut self, groups: usize) -> Self {
        self.groups = groups;
        self
    }
    /// The activation applied after the convolution.
    pub fn activation(mut self, activation: Activation) -> Self {
        self.activation = activation;
        self
    }
    /// Whether the layer has a bias.
    pub fn use_bias(mut self, use_bias: bool) -> Self {
        self.use_bias = use_bias;
        self
    }
    /// How the kernel is initialized.
    pub fn kernel_initializer(mut self, init: Init) -> Self {
        self.kernel_initializer = init;
        self
    }
    /// How the bias is initialized.
    pub fn bias_initializer(mut self, init: Init) -> Self {
        self.bias_initializer = init;
        self
    }
    /// The layer's name (default: Keras' `conv2d`, `conv2d_1`, ...).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }
    weight_option_setters!();
    /// Number of output channels.
    pub fn filters(&self) -> usize {
        self.filters
    }

    fn class(&self) -> &'static str {
        if D == 1 {
            "Conv1D"
        } else {
            "Conv2D"
        }
    }

    /// Checks the arguments on their own (the input is checked in `build`).
    ///
    /// # Errors
    /// A message naming the layer, the argument and the value.
    pub fn validate(&self) -> Result<(), String> {
        let layer = self.class();
        if self.filters == 0 {
            return Err(bad_arg(layer, "filters", self.filters, "a positive integer"));
        }
        check_positive(layer, "kernel_size", &self.kernel_size)?;
        check_positive(layer, "strides", &self.strides)?;
        check_positive(layer, "dilation_rate", &self.dilation_rate)?;
        if self.groups == 0 || !self.filters.is_multiple_of(self.groups) {
            return Err(bad_arg(layer, "groups", self.groups, &format!("a positive divisor of filters ({})", self.filters)));
        }
        if self.strides.iter().any(|&s| s > 1) && self.dilation_rate.iter().any(|&d| d > 1) {
            return Err(format!(
                "{layer}: strides {:?} above 1 cannot be combined with dilation_rate {:?} above 1 (as in Keras)",
                self.strides, self.dilation_rate
            ));
        }
        if self.padding == PaddingMode::Causal && D != 1 {
            return Err(bad_arg(layer, "padding", format!("{:?}", self.padding.name()), "\"valid\" or \"same\" (\"causal\" is for Conv1D)"));
        }
        Ok(())
    }

    /// The layer saved by `config` (Keras' `from_config`): `filters` and `kernel_size` are
    /// required, every other argument defaults as in Keras.
    ///
    /// ```
    /// use tapegrad::nn::Conv2D;
    /// let c = Conv2D::from_config(&serde_json::json!({"filters": 8, "kernel_size": 3, "padding": "same"})).unwrap();
    /// assert_eq!(c.filters(), 8);
    /// let e = Conv2D::from_config(&serde_json::json!({"filters": 8, "kernel_size": [3, 0]})).unwrap_err();
    /// assert_eq!(e, "Conv2D: kernel_size must be positive, got [3, 0]");
    /// ```
    ///
    /// # Errors
    /// A missing, unknown or invalid key, named with its value.
    pub fn from_config(config: &Value) -> Result<Self, String> {
        let layer = if D == 1 { "Conv1D" } else { "Conv2D" };
        let keys: Vec<&str> = [
            "filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate", "groups",
            "activation", "use_bias", "kernel_initializer", "bias_initializer",
        ]
        .into_iter()
        .chain(KEYS)
        .collect();
        let obj = config_object(config, &keys).map_err(|e| format!("{layer}: {e}"))?;
        let filters = positive_from_json(layer, obj, "filters")?;
        let kernel_size = dims_from_json::<D>(layer, obj, "kernel_size")?.ok_or_else(|| format!("{layer}: the config needs \"kernel_size\""))?;
        let mut c = Conv::new(filters, kernel_size);
        if let Some(s) = dims_from_json(layer, obj, "strides")? {
            c.strides = s;
        }
        if let Some(d) = dims_from_json(layer, obj, "dilation_rate")? {
            c.dilation_rate = d;
        }
        if let Some(p) = parsed_from_json(layer, obj, "padding")? {
            c.padding = p;
        }
        if let Some(f) = parsed_from_json(layer, obj, "data_format")? {
            c.data_format = f;
        }
        if let Some(a) = parsed_from_json(layer, obj, "activation")? {
            c.activation = a;
        }
        if let Some(b) = bool_from_json(layer, obj, "use_bias")? {
            c.use_bias = b;
        }
        if obj.contains_key("groups") {
            c.groups = positive_from_json(layer, obj, "groups")?;
        }
        for (key, slot) in [("kernel_initializer", &mut c.kernel_initializer), ("bias_initializer", &mut c.bias_initializer)] {
            if let Some(v) = obj.get(key) {
                *slot = init_from_json(v).map_err(|e| format!("{layer}: {key}: {e}"))?;
            }
        }
        c.options = WeightOptions::from_config(obj).map_err(|e| format!("{layer}: {e}"))?;
        c.validate()?;
        Ok(c)
    }
}

impl<T: Float, const D: usize> Layer<T> for Conv<D> {
    fn class_name(&self) -> &'static str {
        self.class()
    }
    fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
    fn build(&mut self, input_shape: &[usize], b: &mut Builder<'_, T>) -> Result<Vec<usize>, String> {
        self.validate()?;
        let layer = self.class();
        let (channels, spatial) = spatial_input::<D>(layer, self.data_format, input_shape)?;
        if !channels.is_multiple_of(self.groups) {
            return Err(format!("{layer}: groups={} must divide the input channels ({channels}, input shape {input_shape:?})", self.groups));
        }
        let mut out = [0; D];
        for d in 0..D {
            let span = self.dilation_rate[d] * (self.kernel_size[d] - 1) + 1;
            out[d] = keras_out_len(self.padding, spatial[d], span, self.strides[d]).ok_or_else(|| {
                format!(
                    "{layer}: kernel_size {:?} with dilation_rate {:?} does not fit the input shape {input_shape:?} with padding \"valid\"",
                    self.kernel_size, self.dilation_rate
                )
            })?;
            self.pads[d] = keras_pads(self.padding, spatial[d], span, self.strides[d]);
        }
        let mut kshape = self.kernel_size.to_vec();
        kshape.extend([channels / self.groups, self.filters]);
        let output = self.data_format.join(self.filters, &out);
        // The activity is the output with its batch axis.
        let activity: Vec<usize> = [2].into_iter().chain(output.iter().copied()).collect();
        self.options.check(&kshape, &[self.filters], &activity).map_err(|e| format!("{layer}: {e}"))?;
        self.kernel = Some(b.add_weight("kernel", &kshape, self.kernel_initializer, true));
        self.bias = self.use_bias.then(|| b.add_weight("bias", &[self.filters], self.bias_initializer, true));
        Ok(output)
    }
    #[track_caller]
    fn forward<'t>(&self, x: Var<'t, T>, ctx: &mut Ctx<'_, 't, T>) -> Var<'t, T> {
        let kernel = ctx.param(self.kernel.unwrap_or_else(|| panic!("{}::forward: the layer is not built", self.class())));
        // Keras' (k..., in, out) to the op's (out, in, k...).
        let order: Vec<usize> = [D + 1, D].into_iter().chain(0..D).collect();
        let w = kernel.permute(&order);
        let bias = self.bias.map(|b| ctx.param(b));
        let xc = self.data_format.to_channels_first(x);
        let y = if D == 1 {
            xc.conv1d(w, bias, self.options())
        } else {
            xc.conv2d(w, bias, self.options())
        };
        let out = self.activation.apply(self.data_format.channels_first_back(y));
        self.options.add_activity_penalty(out, ctx);
        out
    }
    fn penalties<'t>(&self, ctx: &Ctx<'_, 't, T>) -> Vec<Var<'t, T>> {
        self.options.penalties(ctx, self.kernel, self.bias)
    }
    fn constraints(&self, f: &mut dyn FnMut(Param, &Constraint)) {
        self.options.constraints(f, self.kernel, self.bias);
    }
    fn config(&self) -> Value {
        let mut config = json!({
            "filters": self.filters,
            "kernel_size": self.kernel_size.to_vec(),
            "strides": self.strides.to_vec(),
            "padding": self.padding.name(),
            "data_format": self.data_format.name(),
            "dilation_rate": self.dilation_rate.to_vec(),
            "groups": self.groups,
            "activation": self.activation.name(),
            "use_bias": self.use_bias,
            "kernel_initializer": init_to_json(&self.kernel_initializer),
            "bias_initializer": init_to_json(&self.bias_initializer),
        });
        self.options.write_config(&mut config);
        config
    }
    fn output_activation(&self) -> Option<Activation> {
        Some(self.activation)
    }
}

impl<const D: usize> Conv<D> {
    /// The op's options (`E == D`; the op's rank is chosen by the caller).
    fn options<const E: usize>(&self) -> ConvOptions<E> {
        ConvOptions {
            stride: std::array::from_fn(|d| self.strides[d]),
            padding: Padding::Explicit(std::array::from_fn(|d| self.pads[d])),
            dilation: std::array::from_fn(|d| self.dilation_rate[d]),
            groups: self.groups,
        }
    }
}

/// Registers the convolution, pooling, `Flatten` and `Embedding` layers' constructors.
pub(crate) fn register<T: Float>(r: &mut super::LayerRegistry<T>) {
    use super::{
        AveragePooling1D, AveragePooling2D, Embedding, Flatten, GlobalAveragePooling1D, GlobalAveragePooling2D, MaxPooling1D,
        MaxPooling2D,
    };
    r.register("Conv1D", |c| Ok(Box::new(Conv1D::from_config(c)?)));
    r.register("Conv2D", |c| Ok(Box::new(Conv2D::from_config(c)?)));
    r.register("MaxPooling1D", |c| Ok(Box::new(MaxPooling1D::from_config(c)?)));
    r.register("MaxPooling2D", |c| Ok(Box::new(MaxPooling2D::from_config(c)?)));
    r.register("AveragePooling1D", |c| Ok(Box::new(AveragePooling1D::from_config(c)?)));
    r.register("AveragePooling2D", |c| Ok(Box::new(AveragePooling2D::from_config(c)?)));
    r.register("GlobalAveragePooling1D", |c| Ok(Box::new(GlobalAveragePooling1D::from_config(c)?)));
    r.register("GlobalAveragePooling2D", |c| Ok(Box::new(GlobalAveragePooling2D::from_config(c)?)));
    r.register("Flatten", |c| Ok(Box::new(Flatten::from_config(c)?)));
    r.register("Embedding", |c| Ok(Box::new(Embedding::from_config(c)?)));
}
