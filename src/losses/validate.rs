//! Checking targets against a model's output before training (`fit` calls this).

use super::{Loss, LossError, LossKind};
use crate::tensor::{Float, Tensor};

impl Loss {
    /// Checks that targets of this shape and content fit a model output of `output_width`
    /// columns: class ids (sparse categorical, generalized and PyTorch cross-entropy, `nll`,
    /// `circle`) must be integers below `output_width` (shape `(n,)` or `(n, 1)`; an ignored class
    /// passes), the losses of several inputs need an output that splits into them (see
    /// [`LossInfo::inputs`](super::LossInfo::inputs)), other targets must have `output_width` columns, hinge targets must lie in
    /// {-1, 0, 1}, binary cross-entropy targets in [0, 1], Tweedie targets be >= 0, and no
    /// target may be NaN or infinite.
    pub fn validate<T: Float>(&self, y_true: &Tensor<T>, output_width: usize) -> Result<(), LossError> {
        self.validate_output(y_true, &[output_width])
    }

    /// As [`validate`](Self::validate) for a model whose samples have output shape
    /// `output_shape` (without the batch axis): `ctc` needs it to be `(T, C)` (a sequence of class
    /// scores) and its targets to be label ids below `C`, one row of `S` per sample (0 pads).
    pub fn validate_output<T: Float>(&self, y_true: &Tensor<T>, output_shape: &[usize]) -> Result<(), LossError> {
        let output_width: usize = output_shape.iter().product();
        let name = self.info().name;
        let err = |msg: String| Err(LossError(format!("{name}: {msg}")));
        let shape = y_true.shape();
        let data = y_true.data();
        if let Some(i) = data.iter().position(|v| !v.is_finite()) {
            return err(format!("target element {i} is {} (targets must be finite)", data[i]));
        }
        if output_width == 0 {
            return err("the model output has no columns".into());
        }
        match self.info().kind {
            LossKind::Ctc if output_shape.len() == 2 => {
                let classes = output_shape[1];
                if shape.len() != 2 {
                    return err(format!("targets must be label rows of shape (N, S), got {shape:?}"));
                }
                if let Some(i) = data.iter().position(|v| v.to_f64().fract() != 0.0 || v.to_f64() < 0.0 || v.to_f64() >= classes as f64) {
                    return err(format!(
                        "target {} at element {i} is not a label id in 0..{classes} (0 pads; the model outputs {classes} classes per frame)",
                        data[i]
                    ));
                }
                return Ok(());
            }
            LossKind::Ctc | LossKind::CtcLoss => {
                return err(format!(
                    "needs (N, T, C) predictions (time first for ctc_loss, which fit cannot give; use ctc); \
                     a model whose samples have output shape {output_shape:?} cannot feed it"
                ))
            }
            LossKind::SparseCategoricalCrossentropy
            | LossKind::CategoricalGeneralizedCrossEntropy
            | LossKind::Circle
            | LossKind::Nll => return self.validate_ids(y_true, output_width),
            LossKind::CrossEntropy if shape.len() == 1 || (shape.len() == 2 && shape[1] == 1 && output_width > 1) => {
                return self.validate_ids(y_true, output_width)
            }
            LossKind::TripletMargin | LossKind::MarginRanking | LossKind::CosineEmbedding | LossKind::Contrastive => {
                let parts = if self.info().kind == LossKind::TripletMargin { 3 } else { 2 };
                if !output_width.is_multiple_of(parts) {
                    return err(format!("the model's {output_width} output columns do not split into {parts} equal inputs"));
                }
                if self.info().kind == LossKind::MarginRanking && output_width != 2 {
                    return err(format!("the model must output 2 columns (input1, input2), not {output_width}"));
                }
                let ok_shape = shape.len() == 1 || (shape.len() == 2 && shape[1] == 1);
                if !ok_shape {
                    return err(format!("targets must have shape (n,) or (n, 1), got {shape:?}"));
                }
                return Ok(());
            }
            LossKind::GaussianNll => {
                let width = if shape.len() == 1 { 1 } else { shape[shape.len() - 1] };
                if output_width != 2 * width {
                    return err(format!(
                        "the model must output 2 x {width} columns (mean, then variance) for targets of shape {shape:?}, not {output_width}"
                    ));
                }
                return Ok(());
            }
            _ => {}
        }
        let width = match shape.len() {
            0 => return err("targets are a scalar; expected one row per sample".into()),
            1 => 1,
            _ => shape[shape.len() - 1],
        };
        if width != output_width {
            return err(format!(
                "targets of shape {shape:?} have {width} column(s) but the model outputs {output_width}"
            ));
        }
        match self.info().kind {
            LossKind::Hinge | LossKind::SquaredHinge => {
                if let Some(i) = data.iter().position(|v| ![-1.0, 0.0, 1.0].contains(&v.to_f64())) {
                    return err(format!("target {} at element {i} is not in {{-1, 0, 1}}", data[i]));
                }
            }
            LossKind::BinaryCrossentropy | LossKind::BinaryFocalCrossentropy => {
                if let Some(i) = data.iter().position(|v| !(0.0..=1.0).contains(&v.to_f64())) {
                    return err(format!("target {} at element {i} is outside [0, 1]", data[i]));
                }
            }
            LossKind::Tweedie => {
                if let Some(i) = data.iter().position(|v| v.to_f64() < 0.0) {
                    return err(format!("target {} at element {i} is negative (Tweedie targets are >= 0)", data[i]));
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Whether targets need not have the model output's width (class ids, or a loss whose
    /// `y_pred` packs several inputs): `fit` then takes `y` as given.
    pub fn sparse_targets(&self) -> bool {
        use LossKind::*;
        matches!(
            self.info().kind,
            SparseCategoricalCrossentropy
                | CategoricalGeneralizedCrossEntropy
                | Circle
                | Nll
                | CrossEntropy
                | TripletMargin
                | MarginRanking
                | CosineEmbedding
                | Contrastive
                | GaussianNll
                | Ctc
                | CtcLoss
        )
    }

    fn validate_ids<T: Float>(&self, y_true: &Tensor<T>, output_width: usize) -> Result<(), LossError> {
        let name = self.info().name;
        let shape = y_true.shape();
        let ok_shape = shape.len() == 1 || (shape.len() == 2 && shape[1] == 1);
        if !ok_shape {
            return Err(LossError(format!(
                "{name}: class ids must have shape (n,) or (n, 1), got {shape:?}; for one-hot targets use categorical_crossentropy"
            )));
        }
        let o = self.options();
        let ignore = match self.info().kind {
            LossKind::SparseCategoricalCrossentropy => o.ignore_class,
            LossKind::Nll | LossKind::CrossEntropy => Some(o.ignore_index),
            _ => None,
        };
        for (row, &v) in y_true.data().iter().enumerate() {
            let f = v.to_f64();
            if f.fract() != 0.0 {
                return Err(LossError(format!("{name}: label {f} at row {row} is not an integer class id")));
            }
            if Some(f as i64) == ignore || self.info().kind == LossKind::Circle {
                continue;
            }
            if f < 0.0 {
                return Err(LossError(format!("{name}: label {f} at row {row} is not a non-negative integer class id")));
            }
            if f >= output_width as f64 {
                return Err(LossError(format!(
                    "{name}: label {f} at row {row} is out of range for {output_width} classes (0..{output_width})"
                )));
            }
        }
        Ok(())
    }
}
