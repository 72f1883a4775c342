//! The tape inspector: `Display` on a tape prints one row per node.

use super::Tape;
use crate::tensor::Float;
use std::fmt;

impl<T: Float> Tape<T> {
    /// Bytes of recorded values (every node's value stays in the arena until the tape is cleared,
    /// because any of them may be read by a backward rule).
    pub fn bytes_kept(&self) -> usize {
        self.values_len() * std::mem::size_of::<T>()
    }
}

impl<T: Float> fmt::Display for Tape<T> {
    /// ```
    /// use tapegrad::{Tape, Tensor};
    /// let tape = Tape::<f32>::new();
    /// let x = tape.var(Tensor::ones(&[2, 3]));
    /// let _y = x.exp().sum();
    /// let table = tape.to_string();
    /// assert!(table.contains("exp"));
    /// assert!(table.contains("3 nodes"));
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let a = self.arena.borrow();
        writeln!(f, "{:>5}  {:<14} {:<14} {:<16} {:>10}  {:<5} recorded at", "index", "op", "inputs", "shape", "bytes", "grad")?;
        for (i, n) in a.nodes.iter().enumerate() {
            let inputs: Vec<String> = n.op.inputs(&a.aux).iter().map(|j| format!("#{j}")).collect();
            let bytes = n.len * std::mem::size_of::<T>();
            writeln!(
                f,
                "{:>5}  {:<14} {:<14} {:<16} {:>10}  {:<5} {}",
                format!("#{i}"),
                a.op_name(&n.op),
                inputs.join(","),
                format!("{:?}", &n.shape[..]),
                bytes,
                if n.requires_grad { "yes" } else { "no" },
                n.location
            )?;
        }
        let tracked = a.nodes.iter().filter(|n| n.requires_grad).count();
        write!(
            f,
            "{} nodes ({} tracked), {} elements of {}: {} bytes kept for backward",
            a.nodes.len(),
            tracked,
            a.end,
            T::DTYPE,
            a.end * std::mem::size_of::<T>()
        )
    }
}
