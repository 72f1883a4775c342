//! Keras-style `model.summary()` table.

use super::Sequential;
use crate::tensor::Float;
use std::fmt::Write;

/// `1234567` as `1,234,567`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A byte count as Keras prints it: two decimals and B, KB, MB or GB (powers of 1024).
fn readable_bytes(bytes: usize) -> String {
    let mut size = bytes as f64;
    let mut unit = 0;
    let units = ["B", "KB", "MB", "GB", "TB"];
    while size >= 1024.0 && unit + 1 < units.len() {
        size /= 1024.0;
        unit += 1;
    }
    format!("{size:.2} {}", units[unit])
}

impl<T: Float> Sequential<T> {
    /// The model's table as Keras' `summary()` prints it: each layer's name and type, output
    /// shape and parameter count, then the totals with their size in memory.
    ///
    /// ```
    /// use tapegrad::nn::{Activation, Dense, Sequential};
    /// let model = Sequential::<f32>::with_seed(2, vec![
    ///     Dense::new(50).activation(Activation::Relu),
    ///     Dense::new(1).activation(Activation::Sigmoid),
    /// ], 0);
    /// let table = model.summary();
    /// assert!(table.contains("dense_1 (Dense)"));
    /// assert!(table.contains("(None, 50)"));
    /// assert!(table.contains("Total params: 201 (804.00 B)"));
    /// ```
    pub fn summary(&self) -> String {
        let infos = self.store().infos();
        let rows: Vec<[String; 3]> = self
            .built()
            .iter()
            .map(|l| {
                let count: usize = infos[l.params.clone()].iter().map(|i| i.len).sum();
                let shape: Vec<String> = l.output_shape.iter().map(usize::to_string).collect();
                [format!("{} ({})", l.name, l.layer.class_name()), format!("(None, {})", shape.join(", ")), thousands(count)]
            })
            .collect();
        let headers = ["Layer (type)", "Output Shape", "Param #"];
        let mut widths = [31usize, 22, 13];
        for row in rows.iter().map(|r| r.each_ref().map(|s| s.chars().count())).chain([headers.map(str::len)]) {
            for (w, len) in widths.iter_mut().zip(row) {
                *w = (*w).max(len);
            }
        }
        let rule = |left: char, fill: char, mid: char, right: char| {
            let mut s = String::new();
            s.push(left);
            for (i, w) in widths.iter().enumerate() {
                s.extend(std::iter::repeat_n(fill, w + 2));
                s.push(if i + 1 < widths.len() { mid } else { right });
            }
            s.push('\n');
            s
        };
        let line = |cells: [&str; 3], sep: char| {
            let mut s = String::new();
            s.push(sep);
            for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
                // The count column is right-aligned, as in Keras.
                if i == 2 {
                    let _ = write!(s, " {cell:>w$} {sep}");
                } else {
                    let _ = write!(s, " {cell:<w$} {sep}");
                }
            }
            s.push('\n');
            s
        };
        let mut out = String::from("Model: \"sequential\"\n");
        out += &rule('┏', '━', '┳', '┓');
        out += &line(headers, '┃');
        out += &rule('┡', '━', '╇', '┩');
        for (i, row) in rows.iter().enumerate() {
            if i > 0 {
                out += &rule('├', '─', '┼', '┤');
            }
            out += &line([&row[0], &row[1], &row[2]], '│');
        }
        out += &rule('└', '─', '┴', '┘');
        let total = self.count_params();
        let trainable: usize = infos.iter().filter(|i| i.trainable).map(|i| i.len).sum();
        let size = |n: usize| readable_bytes(n * std::mem::size_of::<T>());
        let _ = writeln!(out, " Total params: {} ({})", thousands(total), size(total));
        let _ = writeln!(out, " Trainable params: {} ({})", thousands(trainable), size(trainable));
        let _ = writeln!(out, " Non-trainable params: {} ({})", thousands(total - trainable), size(total - trainable));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::{readable_bytes, thousands};

    #[test]
    fn numbers_print_as_keras_does() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(readable_bytes(804), "804.00 B");
        assert_eq!(readable_bytes(2048), "2.00 KB");
    }
}
