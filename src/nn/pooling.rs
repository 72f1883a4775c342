//! Keras' pooling layers: `MaxPooling1D/2D`, `AveragePooling1D/2D` (lowered to the
//! `max_pool`/`avg_pool` ops) and `GlobalAveragePooling1D/2D`.

use super::layer::{config_object, Builder, Ctx, Layer};
use super::spatial::{
    bool_from_json, check_positive, dims_from_json, keras_out_len, keras_pads, parsed_from_json, spatial_input,
    DataFormat, PaddingMode,
};
use crate::tape::Var;
use crate::tensor::{Float, Tensor};
use crate::PoolOptions;
use serde_json::{json, Value};

/// A `D`-dimensional pooling layer configured like Keras' `MaxPooling1D/2D` (`MAX = true`) and
/// `AveragePooling1D/2D` (`MAX = false`): `pool_size` (2), `strides` (default: `pool_size`),
/// `padding` (`"valid"` or `"same"`) and `data_format` (channels last by default).
///
/// With `"same"` the output has `ceil(input / strides)` positions, and the padding follows
/// TensorFlow: max pooling ignores it (the ops pad with minus infinity) and average pooling divides
/// each window by the number of input elements in it (the ops' `count_include_pad = false`). An
/// odd total pad puts its extra position at the end; the ops pad symmetrically, so that case pads
/// the input first (minus infinity or zeros) and, for averages, rescales by the window counts.
///
/// ```
/// use tapegrad::layers;
/// use tapegrad::nn::{AveragePooling2D, MaxPooling2D, PaddingMode, Sequential};
/// let net = Sequential::<f64>::with_input_shape(&[7, 7, 3], layers![
///     MaxPooling2D::new([2, 2]),
///     AveragePooling2D::new([2, 2]).strides([1, 1]).padding(PaddingMode::Same),
/// ], 0);
/// assert_eq!(net.output_shape(), &[3, 3, 3]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Pooling<const D: usize, const MAX: bool> {
    pool_size: [usize; D],
    strides: Option<[usize; D]>,
    padding: PaddingMode,
    data_format: DataFormat,
    name: Option<String>,
    /// Zeros `[before, after]` per spatial dimension for the built input.
    pads: [[usize; 2]; D],
}

/// Keras' `MaxPooling1D`.
pub type MaxPooling1D = Pooling<1, true>;
/// Keras' `MaxPooling2D`.
pub type MaxPooling2D = Pooling<2, true>;
/// Keras' `AveragePooling1D`.
pub type AveragePooling1D = Pooling<1, false>;
/// Keras' `AveragePooling2D`.
pub type AveragePooling2D = Pooling<2, false>;

impl<const D: usize, const MAX: bool> Default for Pooling<D, MAX> {
    /// Keras' default `pool_size` of 2 along every dimension.
    fn default() -> Self {
        Self::new([2; D])
    }
}

impl<const D: usize, const MAX: bool> Pooling<D, MAX> {
    /// A pool of `pool_size` windows, moving by `pool_size`, no padding, channels last.
    pub fn new(pool_size: [usize; D]) -> Self {
        Pooling { pool_size, strides: None, padding: PaddingMode::Valid, data_format: DataFormat::ChannelsLast, name: None, pads: [[0; 2]; D] }
    }
    /// Step between windows (Keras' `strides=None` is the pool size).
    pub fn strides(mut self, strides: [usize; D]) -> Self {
        self.strides = Some(strides);
        self
    }
    /// `Valid` (default) or `Same`.
    pub fn padding(mut self, padding: PaddingMode) -> Self {
        self.padding = padding;
        self
    }
    /// Where the channels axis lies (default channels last).
    pub fn data_format(mut self, data_format: DataFormat) -> Self {
        self.data_format = data_format;
        self
    }
    /// The layer's name (default: Keras' `max_pooling2d`, ...).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    fn class(&self) -> &'static str {
        match (D, MAX) {
            (1, true) => "MaxPooling1D",
            (_, true) => "MaxPooling2D",
            (1, false) => "AveragePooling1D",
            (_, false) => "AveragePooling2D",
        }
    }

    fn stride(&self) -> [usize; D] {
        self.strides.unwrap_or(self.pool_size)
    }

    /// Checks the arguments on their own (the input is checked in `build`).
    ///
    /// # Errors
    /// A message naming the layer, the argument and the value.
    pub fn validate(&self) -> Result<(), String> {
        check_positive(self.class(), "pool_size", &self.pool_size)?;
        check_positive(self.class(), "strides", &self.stride())?;
        if self.padding == PaddingMode::Causal {
            return Err(format!("{}: padding must be \"valid\" or \"same\", got \"causal\"", self.class()));
        }
        Ok(())
    }

    /// The layer saved by `config`; every key is optional, with Keras' defaults.
    ///
    /// ```
    /// use tapegrad::nn::MaxPooling2D;
    /// let p = MaxPooling2D::from_config(&serde_json::json!({"pool_size": [2, 2], "strides": null})).unwrap();
    /// assert_eq!(p, MaxPooling2D::new([2, 2]));
    /// assert!(MaxPooling2D::from_config(&serde_json::json!({"padding": "full"})).unwrap_err().contains("\"full\""));
    /// ```
    ///
    /// # Errors
    /// An unknown or invalid key, named with its value.
    pub fn from_config(config: &Value) -> Result<Self, String> {
        let mut p = Self::default();
        let layer = p.class();
        let obj = config_object(config, &["pool_size", "strides", "padding", "data_format"]).map_err(|e| format!("{layer}: {e}"))?;
        if let Some(k) = dims_from_json(layer, obj, "pool_size")? {
            p.pool_size = k;
        }
        p.strides = dims_from_json(layer, obj, "strides")?;
        if let Some(m) = parsed_from_json(layer, obj, "padding")? {
            p.padding = m;
        }
        if let Some(f) = parsed_from_json(layer, obj, "data_format")? {
            p.data_format = f;
        }
        p.validate()?;
        Ok(p)
    }

    /// `(kernel / count)` per output position of a window padded `[before, after]` asymmetrically,
    /// over the spatial output shape: the factor that turns the ops' count-including-padding mean
    /// into TensorFlow's mean over the input elements only.
    fn count_rescale(&self, spatial_in: &[usize], out: &[usize]) -> Tensor<f64> {
        let stride = self.stride();
        let per_dim: Vec<Vec<f64>> = (0..D)
            .map(|d| {
                let (k, before, len) = (self.pool_size[d], self.pads[d][0], spatial_in[d]);
                (0..out[d])
                    .map(|o| {
                        let start = o * stride[d];
                        let (lo, hi) = (start.max(before), (start + k).min(before + len));
                        k as f64 / (hi - lo) as f64
                    })
                    .collect()
            })
            .collect();
        let data: Vec<f64> = match D {
            1 => per_dim[0].clone(),
            _ => per_dim[0].iter().flat_map(|a| per_dim[1].iter().map(move |b| a * b)).collect(),
        };
        Tensor::from_vec(data, out)
    }
}

impl<T: Float, const D: usize, const MAX: bool> Layer<T> for Pooling<D, MAX> {
    fn class_name(&self) -> &'static str {
        self.class()
    }
    fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
    fn build(&mut self, input_shape: &[usize], _: &mut Builder<'_, T>) -> Result<Vec<usize>, String> {
        self.validate()?;
        let (channels, spatial) = spatial_input::<D>(self.class(), self.data_format, input_shape)?;
        let stride = self.stride();
        let mut out = [0; D];
        for d in 0..D {
            out[d] = keras_out_len(self.padding, spatial[d], self.pool_size[d], stride[d]).ok_or_else(|| {
                format!("{}: pool_size {:?} does not fit the input shape {input_shape:?} with padding \"valid\"", self.class(), self.pool_size)
            })?;
            self.pads[d] = keras_pads(self.padding, spatial[d], self.pool_size[d], stride[d]);
        }
        Ok(self.data_format.join(channels, &out))
    }
    #[track_caller]
    fn forward<'t>(&self, x: Var<'t, T>, _: &mut Ctx<'_, 't, T>) -> Var<'t, T> {
        let xc = self.data_format.to_channels_first(x);
        let stride = self.stride();
        let symmetric = self.pads.iter().all(|[a, b]| a == b);
        let pool = |v: Var<'t, T>, padding: [usize; D], count_include_pad: bool| {
            pool_op(MAX, v, PoolOptions { kernel_size: self.pool_size, stride, padding, count_include_pad })
        };
        let y = if symmetric {
            // TensorFlow's "same": padding never counted in a mean, never the maximum.
            pool(xc, self.pads.map(|p| p[0]), false)
        } else {
            let widths: Vec<[usize; 2]> = [[0, 0], [0, 0]].into_iter().chain(self.pads).collect();
            let fill = if MAX { T::from_f64(f64::NEG_INFINITY) } else { T::ZERO };
            let y = pool(xc.pad(&widths, fill), [0; D], true);
            if MAX {
                y
            } else {
                let s = xc.shape();
                let rescale = self.count_rescale(&s[2..], &y.shape()[2..]);
                y * xc.tape().constant(Tensor::from_vec(rescale.data().iter().map(|&v| T::from_f64(v)).collect(), rescale.shape()))
            }
        };
        self.data_format.channels_first_back(y)
    }
    fn config(&self) -> Value {
        json!({
            "pool_size": self.pool_size.to_vec(),
            "strides": self.stride().to_vec(),
            "padding": self.padding.name(),
            "data_format": self.data_format.name(),
        })
    }
}

/// The `D`-dimensional max or average pool op on channels-first `v`.
#[track_caller]
fn pool_op<'t, T: Float, const D: usize>(max: bool, v: Var<'t, T>, o: PoolOptions<D>) -> Var<'t, T> {
    fn to<const D: usize, const E: usize>(o: &PoolOptions<D>) -> PoolOptions<E> {
        PoolOptions {
            kernel_size: std::array::from_fn(|d| o.kernel_size[d]),
            stride: std::array::from_fn(|d| o.stride[d]),
            padding: std::array::from_fn(|d| o.padding[d]),
            count_include_pad: o.count_include_pad,
        }
    }
    match (D, max) {
        (1, true) => v.max_pool1d(to(&o)),
        (1, false) => v.avg_pool1d(to(&o)),
        (_, true) => v.max_pool2d(to(&o)),
        (_, false) => v.avg_pool2d(to(&o)),
    }
}

/// Keras' `GlobalAveragePooling1D` (`D = 1`) and `GlobalAveragePooling2D` (`D = 2`): the mean
/// over every spatial position, `(batch, channels)` out (or `(batch, 1.., channels)` with
/// `keepdims`), for either `data_format`.
///
/// ```
/// use tapegrad::layers;
/// use tapegrad::nn::{GlobalAveragePooling2D, Sequential};
/// let net = Sequential::<f64>::with_input_shape(&[4, 4, 3], layers![GlobalAveragePooling2D::new()], 0);
/// assert_eq!(net.output_shape(), &[3]);
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GlobalAveragePooling<const D: usize> {
    data_format: DataFormat,
    keepdims: bool,
    name: Option<String>,
}

/// Keras' `GlobalAveragePooling1D`.
pub type GlobalAveragePooling1D = GlobalAveragePooling<1>;
/// Keras' `GlobalAveragePooling2D`.
pub type GlobalAveragePooling2D = GlobalAveragePooling<2>;

impl<const D: usize> GlobalAveragePooling<D> {
    /// The layer, channels last, without kept dimensions (Keras' defaults).
    pub fn new() -> Self {
        Self::default()
    }
    /// Where the channels axis lies (default channels last).
    pub fn data_format(mut self, data_format: DataFormat) -> Self {
        self.data_format = data_format;
        self
    }
    /// Keep the spatial axes with length 1.
    pub fn keepdims(mut self, keepdims: bool) -> Self {
        self.keepdims = keepdims;
        self
    }
    /// The layer's name (default: Keras' `global_average_pooling2d`, ...).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    fn class(&self) -> &'static str {
        if D == 1 {
            "GlobalAveragePooling1D"
        } else {
            "GlobalAveragePooling2D"
        }
    }

    /// The layer saved by `config` (`data_format`, `keepdims`; both optional).
    ///
    /// # Errors
    /// An unknown or invalid key, named with its value.
    pub fn from_config(config: &Value) -> Result<Self, String> {
        let mut g = Self::default();
        let layer = g.class();
        let obj = config_object(config, &["data_format", "keepdims"]).map_err(|e| format!("{layer}: {e}"))?;
        if let Some(f) = parsed_from_json(layer, obj, "data_format")? {
            g.data_format = f;
        }
        if let Some(k) = bool_from_json(layer, obj, "keepdims")? {
            g.keepdims = k;
        }
        Ok(g)
    }
}

impl<T: Float, const D: usize> Layer<T> for GlobalAveragePooling<D> {
    fn class_name(&self) -> &'static str {
        self.class()
    }
    fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
    fn build(&mut self, input_shape: &[usize], _: &mut Builder<'_, T>) -> Result<Vec<usize>, String> {
        let (channels, _) = spatial_input::<D>(self.class(), self.data_format, input_shape)?;
        Ok(if self.keepdims { self.data_format.join(channels, &[1; D]) } else { vec![channels] })
    }
    #[track_caller]
    fn forward<'t>(&self, x: Var<'t, T>, _: &mut Ctx<'_, 't, T>) -> Var<'t, T> {
        let s = x.shape();
        let n = s[0];
        let y = match self.data_format {
            // (N, positions, C): a mean over the positions, no permutation needed.
            DataFormat::ChannelsLast => x.reshape(&[n, s[1..=D].iter().product(), s[D + 1]]).mean_axis(1, false),
            DataFormat::ChannelsFirst if D == 1 => x.global_avg_pool1d(),
            DataFormat::ChannelsFirst => x.global_avg_pool2d(),
        };
        if self.keepdims {
            let c = y.shape()[1];
            let mut shape = vec![n];
            shape.extend(self.data_format.join(c, &[1; D]));
            y.reshape(&shape)
        } else {
            y
        }
    }
    fn config(&self) -> Value {
        json!({ "data_format": self.data_format.name(), "keepdims": self.keepdims })
    }
}
