//! `Display` and `Debug` for tensors, laid out as numpy and PyTorch print them.

use super::{Float, Tensor};
use std::fmt;

/// Tensors with more elements than this print their first and last few entries per dimension.
const SUMMARY_THRESHOLD: usize = 1000;
const EDGE_ITEMS: usize = 3;

impl<T: Float> fmt::Display for Tensor<T> {
    /// ```
    /// use tapegrad::Tensor;
    /// let t = Tensor::from_vec(vec![1.0, -2.5, 3.0, 40.0], &[2, 2]);
    /// assert_eq!(t.to_string(), "tensor([[ 1.0000, -2.5000],\n        [ 3.0000, 40.0000]], shape=[2, 2])");
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let precision = f.precision().unwrap_or(4);
        let summarize = self.len() > SUMMARY_THRESHOLD;
        let cells: Vec<String> = self.data().iter().map(|v| format!("{:.*}", precision, v.to_f64())).collect();
        let width = cells.iter().map(String::len).max().unwrap_or(0);
        let mut out = String::from("tensor(");
        if self.rank() == 0 {
            out.push_str(&cells[0]);
        } else {
            write_nested(&mut out, &cells, self.shape(), 0, 0, width, summarize);
        }
        write!(f, "{out}, shape={:?})", self.shape())
    }
}

impl<T: Float> fmt::Debug for Tensor<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Writes dimension `dim` of the block starting at `offset`, aligning every cell to `width`.
fn write_nested(out: &mut String, cells: &[String], shape: &[usize], dim: usize, offset: usize, width: usize, summarize: bool) {
    let stride: usize = shape[dim + 1..].iter().product();
    let n = shape[dim];
    let shown: Vec<Option<usize>> = if summarize && n > 2 * EDGE_ITEMS {
        (0..EDGE_ITEMS).map(Some).chain([None]).chain((n - EDGE_ITEMS..n).map(Some)).collect()
    } else {
        (0..n).map(Some).collect()
    };
    out.push('[');
    for (k, item) in shown.iter().enumerate() {
        if k > 0 {
            if dim + 1 == shape.len() {
                out.push_str(", ");
            } else {
                out.push(',');
                for _ in 0..(shape.len() - dim - 1) {
                    out.push('\n');
                }
                // Align under the first bracket: "tensor(" plus one '[' per enclosing dimension.
                out.push_str(&" ".repeat(7 + dim + 1));
            }
        }
        match item {
            None => out.push_str("..."),
            Some(i) if dim + 1 == shape.len() => out.push_str(&format!("{:>width$}", cells[offset + i], width = width)),
            Some(i) => write_nested(out, cells, shape, dim + 1, offset + i * stride, width, summarize),
        }
    }
    out.push(']');
}
