//! What the convolution and pooling layers share: Keras' `padding` and `data_format` arguments,
//! Keras' output-length formula, the layout permutation to the ops' channels-first order, and the
//! reading of their configuration.

use crate::tape::Var;
use crate::tensor::Float;
use serde_json::{Map, Value};
use std::fmt;
use std::str::FromStr;

/// Keras' `padding` argument of convolution and pooling layers.
///
/// ```
/// use tapegrad::nn::PaddingMode;
/// assert_eq!("same".parse::<PaddingMode>(), Ok(PaddingMode::Same));
/// assert_eq!(PaddingMode::Valid.to_string(), "valid");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum PaddingMode {
    /// No padding: windows lie wholly inside the input (Keras' default).
    #[default]
    Valid,
    /// Zeros (or, for max pooling, nothing) around the input so that the output has
    /// `ceil(input / stride)` positions; the total is split as TensorFlow splits it, the smaller
    /// half first (an odd total puts its extra zero at the end).
    Same,
    /// `Conv1D` only: `dilation_rate * (kernel_size - 1)` zeros before the sequence and none after,
    /// so output `t` sees inputs up to `t` only.
    Causal,
}

impl PaddingMode {
    /// Keras' name: `"valid"`, `"same"` or `"causal"`.
    pub fn name(self) -> &'static str {
        match self {
            PaddingMode::Valid => "valid",
            PaddingMode::Same => "same",
            PaddingMode::Causal => "causal",
        }
    }
}

impl fmt::Display for PaddingMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for PaddingMode {
    type Err = String;
    /// Parses Keras' names (case-insensitive, as Keras).
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "valid" => Ok(PaddingMode::Valid),
            "same" => Ok(PaddingMode::Same),
            "causal" => Ok(PaddingMode::Causal),
            _ => Err(format!("padding must be \"valid\", \"same\" or \"causal\", got {s:?}")),
        }
    }
}

/// Keras' `data_format`: where the channels axis of a sample lies.
///
/// ```
/// use tapegrad::nn::DataFormat;
/// assert_eq!("channels_first".parse::<DataFormat>(), Ok(DataFormat::ChannelsFirst));
/// assert_eq!(DataFormat::default(), DataFormat::ChannelsLast);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum DataFormat {
    /// `(batch, spatial..., channels)`: Keras' default (NLC, NHWC).
    #[default]
    ChannelsLast,
    /// `(batch, channels, spatial...)`: PyTorch's layout (NCL, NCHW), that of the ops.
    ChannelsFirst,
}

impl DataFormat {
    /// Keras' name: `"channels_last"` or `"channels_first"`.
    pub fn name(self) -> &'static str {
        match self {
            DataFormat::ChannelsLast => "channels_last",
            DataFormat::ChannelsFirst => "channels_first",
        }
    }

    /// `(channels, spatial dims)` of a sample's shape in this format.
    pub(crate) fn split(self, sample: &[usize]) -> (usize, Vec<usize>) {
        match self {
            DataFormat::ChannelsLast => (sample[sample.len() - 1], sample[..sample.len() - 1].to_vec()),
            DataFormat::ChannelsFirst => (sample[0], sample[1..].to_vec()),
        }
    }

    /// A sample's shape from its channels and spatial dims in this format.
    pub(crate) fn join(self, channels: usize, spatial: &[usize]) -> Vec<usize> {
        match self {
            DataFormat::ChannelsLast => spatial.iter().copied().chain([channels]).collect(),
            DataFormat::ChannelsFirst => [channels].into_iter().chain(spatial.iter().copied()).collect(),
        }
    }

    /// A batch in this format as the ops' channels-first layout (a permutation for channels-last).
    pub(crate) fn to_channels_first<'t, T: Float>(self, x: Var<'t, T>) -> Var<'t, T> {
        match self {
            DataFormat::ChannelsFirst => x,
            DataFormat::ChannelsLast => move_channels(x, true),
        }
    }

    /// A channels-first batch back in this format.
    pub(crate) fn channels_first_back<'t, T: Float>(self, x: Var<'t, T>) -> Var<'t, T> {
        match self {
            DataFormat::ChannelsFirst => x,
            DataFormat::ChannelsLast => move_channels(x, false),
        }
    }
}

/// `x.permute` moving the channels axis from last to first (`to_first`) or back, as one `gather`
/// whose indices come from two plain loops (a transpose of each sample's `(positions, channels)`
/// matrix), or a `reshape` when one of the two sizes is 1 (nothing moves).
#[track_caller]
fn move_channels<'t, T: Float>(x: Var<'t, T>, to_first: bool) -> Var<'t, T> {
    let s = x.shape();
    let r = s.len();
    let (c, inner) = if to_first { (s[r - 1], s[1..r - 1].iter().product::<usize>()) } else { (s[1], s[2..].iter().product()) };
    let out: Vec<usize> = if to_first {
        [s[0], s[r - 1]].into_iter().chain(s[1..r - 1].iter().copied()).collect()
    } else {
        [s[0]].into_iter().chain(s[2..].iter().copied()).chain([s[1]]).collect()
    };
    if c == 1 || inner == 1 {
        return x.reshape(&out);
    }
    let len = x.len();
    let mut idx = Vec::with_capacity(len);
    for base in (0..len).step_by(c * inner) {
        if to_first {
            for ch in 0..c {
                idx.extend((0..inner).map(|p| base + p * c + ch));
            }
        } else {
            for p in 0..inner {
                idx.extend((0..c).map(|ch| base + ch * inner + p));
            }
        }
    }
    x.reshape(&[len]).gather(0, &idx).reshape(&out)
}

impl fmt::Display for DataFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for DataFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "channels_last" => Ok(DataFormat::ChannelsLast),
            "channels_first" => Ok(DataFormat::ChannelsFirst),
            _ => Err(format!("data_format must be \"channels_last\" or \"channels_first\", got {s:?}")),
        }
    }
}

/// Zeros `[before, after]` along one spatial dimension of `len` for a window of `span` positions
/// (`dilation * (kernel - 1) + 1`) moving by `stride`, as Keras (TensorFlow) pads. `Same`: the
/// output has `ceil(len / stride)` positions and the total `(out - 1) * stride + span - len` (at
/// least 0) is split with the smaller half first. `Causal`: `span - 1` zeros before.
pub(crate) fn keras_pads(mode: PaddingMode, len: usize, span: usize, stride: usize) -> [usize; 2] {
    match mode {
        PaddingMode::Valid => [0, 0],
        PaddingMode::Causal => [span - 1, 0],
        PaddingMode::Same => {
            let out = len.div_ceil(stride);
            let total = ((out.max(1) - 1) * stride + span).saturating_sub(len);
            [total / 2, total - total / 2]
        }
    }
}

/// Keras' output length along one spatial dimension: `ceil(len / stride)` for `same`, `len` for
/// `causal` (stride 1), `floor((len - span) / stride) + 1` for `valid` (`None` when the window
/// does not fit: Keras' "negative dimension").
pub(crate) fn keras_out_len(mode: PaddingMode, len: usize, span: usize, stride: usize) -> Option<usize> {
    match mode {
        PaddingMode::Valid => (len >= span).then(|| (len - span) / stride + 1),
        PaddingMode::Same => Some(len.div_ceil(stride)),
        PaddingMode::Causal => Some((len - 1) / stride + 1),
    }
}

/// An argument error naming the layer, the argument and the value.
pub(crate) fn bad_arg(layer: &str, argument: &str, value: impl fmt::Display, expected: &str) -> String {
    format!("{layer}: {argument} must be {expected}, got {value}")
}

/// Checks that every entry of a per-dimension argument is positive.
pub(crate) fn check_positive(layer: &str, argument: &str, v: &[usize]) -> Result<(), String> {
    if v.contains(&0) {
        return Err(bad_arg(layer, argument, format!("{v:?}"), "positive"));
    }
    Ok(())
}

/// A per-dimension integer argument of a config: a list of `D` positive integers, or one integer
/// for every dimension (Keras accepts both).
pub(crate) fn dims_from_json<const D: usize>(layer: &str, obj: &Map<String, Value>, key: &str) -> Result<Option<[usize; D]>, String> {
    let bad = |v: &Value| bad_arg(layer, key, v, &format!("an integer or a list of {D} integers"));
    let as_usize = |v: &Value| v.as_u64().and_then(|n| usize::try_from(n).ok());
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v @ Value::Number(_)) => as_usize(v).map(|n| Some([n; D])).ok_or_else(|| bad(v)),
        Some(v @ Value::Array(items)) if items.len() == D => {
            let mut out = [0; D];
            for (o, item) in out.iter_mut().zip(items) {
                *o = as_usize(item).ok_or_else(|| bad(v))?;
            }
            Ok(Some(out))
        }
        Some(v) => Err(bad(v)),
    }
}

/// A string argument of a config parsed by `FromStr`, the parse error prefixed with the layer.
pub(crate) fn parsed_from_json<P: FromStr<Err = String>>(layer: &str, obj: &Map<String, Value>, key: &str) -> Result<Option<P>, String> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => s.parse().map(Some).map_err(|e| format!("{layer}: {e}")),
        Some(v) => Err(bad_arg(layer, key, v, "a string")),
    }
}

/// A boolean argument of a config.
pub(crate) fn bool_from_json(layer: &str, obj: &Map<String, Value>, key: &str) -> Result<Option<bool>, String> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(v) => Err(bad_arg(layer, key, v, "true or false")),
    }
}

/// A required positive integer argument of a config.
pub(crate) fn positive_from_json(layer: &str, obj: &Map<String, Value>, key: &str) -> Result<usize, String> {
    match obj.get(key) {
        Some(v) => v.as_u64().and_then(|n| usize::try_from(n).ok()).filter(|&n| n > 0).ok_or_else(|| bad_arg(layer, key, v, "a positive integer")),
        None => Err(format!("{layer}: the config needs {key:?}")),
    }
}

/// The checked input of a `D`-dimensional spatial layer: `(channels, spatial dims)`.
pub(crate) fn spatial_input<const D: usize>(layer: &str, format: DataFormat, input_shape: &[usize]) -> Result<(usize, [usize; D]), String> {
    if input_shape.len() != D + 1 {
        let layout = match (format, D) {
            (DataFormat::ChannelsLast, 1) => "(steps, channels)",
            (DataFormat::ChannelsLast, _) => "(height, width, channels)",
            (DataFormat::ChannelsFirst, 1) => "(channels, steps)",
            (DataFormat::ChannelsFirst, _) => "(channels, height, width)",
        };
        return Err(format!("{layer} takes samples of shape {layout} ({format}), got shape {input_shape:?}"));
    }
    let (c, spatial) = format.split(input_shape);
    if c == 0 || spatial.contains(&0) {
        return Err(format!("{layer}: the input shape {input_shape:?} has an empty axis"));
    }
    Ok((c, std::array::from_fn(|d| spatial[d])))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// TensorFlow's "same" split: `out = ceil(len / stride)`, total padding the smaller half first.
    #[test]
    fn same_padding_is_tensorflows() {
        assert_eq!(keras_pads(PaddingMode::Same, 8, 3, 1), [1, 1]);
        assert_eq!(keras_pads(PaddingMode::Same, 8, 4, 1), [1, 2]);
        assert_eq!(keras_pads(PaddingMode::Same, 7, 2, 2), [0, 1]);
        assert_eq!(keras_pads(PaddingMode::Same, 8, 3, 2), [0, 1]);
        assert_eq!(keras_pads(PaddingMode::Same, 5, 1, 2), [0, 0]);
        assert_eq!(keras_pads(PaddingMode::Causal, 5, 5, 1), [4, 0]);
        assert_eq!(keras_out_len(PaddingMode::Valid, 8, 3, 2), Some(3));
        assert_eq!(keras_out_len(PaddingMode::Valid, 2, 3, 1), None);
        assert_eq!(keras_out_len(PaddingMode::Same, 7, 3, 2), Some(4));
    }
}
