//! `Var`: a `Copy` handle to one node of a tape.

use super::{Gradients, Tape};
use crate::ops::Op;
use crate::tensor::shape::{self, Shape};
use crate::tensor::{Float, Tensor};
use std::fmt;

/// A value recorded on a [`Tape`]: the tape and a node index, 16 bytes, `Copy`.
///
/// Ops are methods (`x.exp()`, `x.matmul(w)`, `x.sum()`) and operators (`a + b`, `a * 2.0`, `-a`).
pub struct Var<'t, T: Float> {
    tape: &'t Tape<T>,
    id: u32,
}

impl<T: Float> Clone for Var<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T: Float> Copy for Var<'_, T> {}

impl<'t, T: Float> Var<'t, T> {
    pub(crate) fn new(tape: &'t Tape<T>, id: u32) -> Self {
        Var { tape, id }
    }

    /// The tape this value is recorded on.
    pub fn tape(&self) -> &'t Tape<T> {
        self.tape
    }

    /// The node's index on its tape (creation order).
    pub fn index(&self) -> usize {
        self.id as usize
    }

    pub(crate) fn id(&self) -> u32 {
        self.id
    }

    /// The value's shape.
    pub fn shape(&self) -> Shape {
        shape::copy(&self.tape.arena.borrow().nodes[self.id as usize].shape)
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.tape.arena.borrow().nodes[self.id as usize].len
    }

    /// `true` for a value with no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether a gradient will flow to this value.
    pub fn requires_grad(&self) -> bool {
        self.tape.arena.borrow().nodes[self.id as usize].requires_grad
    }

    /// A copy of the value.
    pub fn value(&self) -> Tensor<T> {
        let a = self.tape.arena.borrow();
        let n = &a.nodes[self.id as usize];
        Tensor::from_slice(&a.values[n.offset..n.offset + n.len], &n.shape)
    }

    /// Calls `f` with the value's elements, without copying them.
    pub fn with_data<R>(&self, f: impl FnOnce(&[T]) -> R) -> R {
        let a = self.tape.arena.borrow();
        let n = &a.nodes[self.id as usize];
        f(&a.values[n.offset..n.offset + n.len])
    }

    /// The one value of a one-element `Var`; panics naming the shape otherwise.
    #[track_caller]
    pub fn item(&self) -> T {
        let a = self.tape.arena.borrow();
        let n = &a.nodes[self.id as usize];
        assert!(n.len == 1, "item: value of shape {:?} has {} elements, not 1", &n.shape[..], n.len);
        a.values[n.offset]
    }

    /// The same value, cut off from the graph: it takes part in later ops as a constant
    /// (PyTorch's `detach`).
    #[track_caller]
    pub fn detach(self) -> Var<'t, T> {
        let shape = self.shape();
        let id = self.id;
        self.tape.record(Op::Constant, shape, false, |f, out| out.copy_from_slice(f.x(id)))
    }

    /// Runs the reverse sweep from this one-element value and returns every gradient.
    /// Panics (naming the shape and the caller's line) when the value has more than one element.
    #[track_caller]
    pub fn backward(self) -> Gradients<'t, T> {
        Gradients::compute(self)
    }

    /// Panics unless `other` is recorded on the same tape (names the op and both shapes).
    #[track_caller]
    #[inline(always)]
    pub(crate) fn same_tape(&self, other: &Var<'t, T>, op: &str) {
        if !std::ptr::eq(self.tape, other.tape) {
            panic!(
                "{op}: operands are recorded on two different tapes (shapes {:?} and {:?}); \
                 record every value of one computation on one Tape",
                &self.shape()[..],
                &other.shape()[..]
            );
        }
    }
}

impl<T: Float> fmt::Debug for Var<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let a = self.tape.arena.borrow();
        let n = &a.nodes[self.id as usize];
        write!(f, "Var(#{} {} {:?})", self.id, a.op_name(&n.op), &n.shape[..])
    }
}

impl<T: Float> fmt::Display for Var<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.value(), f)
    }
}
