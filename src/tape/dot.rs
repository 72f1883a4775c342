//! Graphviz DOT export of a recorded graph.

use super::{Gradients, Tape};
use crate::ops::Op;
use crate::tensor::Float;
use std::fmt::Write;

/// What to draw besides each node's op and shape.
#[derive(Clone, Copy, Default)]
pub struct DotOptions<'g, 't, T: Float> {
    /// Print the values of nodes with at most `max_values` elements.
    pub values: bool,
    /// Print the gradients of a backward pass (same size limit).
    pub grads: Option<&'g Gradients<'t, T>>,
    /// Largest value to print in full (default 6 when 0).
    pub max_values: usize,
}

fn fmt_values<T: Float>(v: &[T], max: usize) -> String {
    if v.len() > max {
        return format!("{} values", v.len());
    }
    let cells: Vec<String> = v.iter().map(|x| format!("{:.4}", x.to_f64())).collect();
    format!("[{}]", cells.join(", "))
}

impl<T: Float> Tape<T> {
    /// The recorded graph in Graphviz DOT: one node per op, labelled with its index, op and shape
    /// (and optionally values and gradients). Tracked leaves (parameters, inputs to differentiate)
    /// are blue boxes, constants grey boxes, intermediates ellipses. Render with `dot -Tpng`.
    ///
    /// ```
    /// use tapegrad::{Tape, Tensor};
    /// use tapegrad::tape::DotOptions;
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(Tensor::from_vec(vec![1.0, 2.0], &[2]));
    /// let y = (x * x).sum();
    /// let grads = y.backward();
    /// let dot = tape.to_dot(&DotOptions { values: true, grads: Some(&grads), max_values: 4 });
    /// assert!(dot.starts_with("digraph"));
    /// assert!(dot.contains("\"n0\" -> \"n1\""));
    /// ```
    pub fn to_dot(&self, opts: &DotOptions<'_, '_, T>) -> String {
        let a = self.arena.borrow();
        let max = if opts.max_values == 0 { 6 } else { opts.max_values };
        let mut s = String::from("digraph tape {\n  rankdir=BT;\n  node [fontname=\"Helvetica\", fontsize=11];\n");
        for (i, n) in a.nodes.iter().enumerate() {
            let mut label = format!("#{i} {}\\n{:?}", a.op_name(&n.op), &n.shape[..]);
            if opts.values {
                let _ = write!(label, "\\nvalue {}", fmt_values(&a.values[n.offset..n.offset + n.len], max));
            }
            if let Some(g) = opts.grads {
                if i < g.len_nodes() && g.reached_index(i) {
                    let _ = write!(label, "\\ngrad {}", fmt_values(g.slice_at(n.offset, n.len), max));
                }
            }
            let style = match n.op {
                Op::Leaf => "shape=box, style=filled, fillcolor=\"#cfe2ff\"",
                Op::Constant => "shape=box, style=filled, fillcolor=\"#e9ecef\"",
                _ if n.requires_grad => "shape=ellipse",
                _ => "shape=ellipse, color=\"#adb5bd\"",
            };
            let _ = writeln!(s, "  \"n{i}\" [label=\"{label}\", {style}];");
            for j in n.op.inputs(&a.aux) {
                let _ = writeln!(s, "  \"n{j}\" -> \"n{i}\";");
            }
        }
        s.push_str("}\n");
        s
    }
}
