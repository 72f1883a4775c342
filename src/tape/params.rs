//! Parameters with one owner: a flat [`ParamStore`] that a model owns, and the tape's parameter
//! region, where the store's buffer is *lent* to a tape for a while without copying a weight.
//!
//! A store keeps every parameter in one contiguous buffer (`values[..len]`), each addressed by a
//! typed [`Param`] handle. [`Tape::lend_params`] swaps that buffer into the tape's value arena (an
//! O(1) pointer swap) and records one leaf node per parameter over it: the parameter region. The
//! region survives [`Tape::clear`], so a training loop records only the batch's graph each step,
//! reads the parameters where they are, and updates them in place
//! ([`Tape::param_values_mut`]). [`Tape::return_params`] swaps the buffer back. While lent, the
//! weights exist once, in the tape; otherwise once, in the store.

use super::{Node, Tape, Var};
use crate::ops::Op;
use crate::tensor::shape::{numel, Shape};
use crate::tensor::{Float, Tensor};
use std::cell::RefMut;
use std::fmt;
use std::panic::Location;

/// A typed handle to one parameter of a [`ParamStore`]: its position in the store (the
/// optimizer's slot). Layers keep these from `build` and turn them into `Var`s in `forward`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Param(pub(crate) usize);

impl Param {
    /// The parameter's position in its store (also its optimizer slot).
    pub fn index(self) -> usize {
        self.0
    }
}

/// Where one parameter sits in the store, and what it is.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamInfo {
    /// Keras-style name, e.g. `dense/kernel`.
    pub name: String,
    /// Its shape.
    pub shape: Shape,
    /// First element in the store's buffer.
    pub offset: usize,
    /// Number of elements.
    pub len: usize,
    /// Updated by the optimizer (`false` for state such as moving statistics).
    pub trainable: bool,
}

/// Every parameter of a model in one flat buffer, addressed by [`Param`] handles.
///
/// ```
/// use tapegrad::tape::ParamStore;
/// use tapegrad::Tensor;
/// let mut store = ParamStore::<f64>::new();
/// let w = store.add("w", Tensor::from_vec(vec![1.0, 2.0], &[2]), true);
/// let s = store.add("s", Tensor::scalar(0.5), false);
/// assert_eq!(store.get(w), &[1.0, 2.0]);
/// store.get_mut(s)[0] = 0.25;
/// assert_eq!(store.tensor(s), Tensor::scalar(0.25));
/// assert_eq!((store.len(), store.count()), (2, 3));
/// ```
pub struct ParamStore<T: Float> {
    /// The parameters in `values[..count]`; while lent to a tape this holds the tape's own buffer
    /// instead. The tail beyond `count` is spare capacity the tape grew into (stale values).
    values: Vec<T>,
    count: usize,
    infos: Vec<ParamInfo>,
    lent: bool,
}

impl<T: Float> Default for ParamStore<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Float> Clone for ParamStore<T> {
    fn clone(&self) -> Self {
        self.check_home("clone");
        ParamStore { values: self.values[..self.count].to_vec(), count: self.count, infos: self.infos.clone(), lent: false }
    }
}

impl<T: Float> fmt::Debug for ParamStore<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ParamStore").field("params", &self.infos).field("lent", &self.lent).finish()
    }
}

impl<T: Float> ParamStore<T> {
    /// An empty store.
    pub fn new() -> Self {
        ParamStore { values: Vec::new(), count: 0, infos: Vec::new(), lent: false }
    }

    #[track_caller]
    fn check_home(&self, what: &str) {
        assert!(!self.lent, "ParamStore::{what}: the parameters are lent to a tape");
    }

    /// Appends a parameter with its initial value and returns its handle.
    #[track_caller]
    pub fn add(&mut self, name: impl Into<String>, value: Tensor<T>, trainable: bool) -> Param {
        self.check_home("add");
        self.values.truncate(self.count);
        let offset = self.count;
        self.values.extend_from_slice(value.data());
        self.count += value.len();
        self.infos.push(ParamInfo { name: name.into(), shape: value.shape().into(), offset, len: value.len(), trainable });
        Param(self.infos.len() - 1)
    }

    /// Appends a parameter's description without its values (a model being read from a file,
    /// whose weights are checked against these shapes before any is allocated). `None` when the
    /// store's size would overflow. The store is unusable until [`fill`](Self::fill).
    pub(crate) fn add_shape(&mut self, name: String, shape: &[usize], trainable: bool) -> Option<Param> {
        let len = shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d))?;
        let offset = self.count;
        self.count = self.count.checked_add(len)?;
        self.infos.push(ParamInfo { name, shape: shape.into(), offset, len, trainable });
        Some(Param(self.infos.len() - 1))
    }

    /// Sets every value of a store made by [`add_shape`](Self::add_shape): `values` in handle order.
    #[track_caller]
    pub(crate) fn fill(&mut self, values: Vec<T>) {
        self.check_home("fill");
        assert_eq!(values.len(), self.count, "ParamStore::fill: {} values for {} weights", values.len(), self.count);
        self.values = values;
    }

    /// Number of parameters.
    pub fn len(&self) -> usize {
        self.infos.len()
    }

    /// `true` when the store holds no parameter.
    pub fn is_empty(&self) -> bool {
        self.infos.is_empty()
    }

    /// Number of weights (elements) over every parameter.
    pub fn count(&self) -> usize {
        self.count
    }

    /// Every parameter's description, in handle order.
    pub fn infos(&self) -> &[ParamInfo] {
        &self.infos
    }

    /// The handles, in order.
    pub fn handles(&self) -> impl Iterator<Item = Param> {
        (0..self.infos.len()).map(Param)
    }

    /// The values of `p`.
    #[track_caller]
    pub fn get(&self, p: Param) -> &[T] {
        self.check_home("get");
        let i = &self.infos[p.0];
        &self.values[i.offset..i.offset + i.len]
    }

    /// The values of `p`, writable.
    #[track_caller]
    pub fn get_mut(&mut self, p: Param) -> &mut [T] {
        self.check_home("get_mut");
        let i = &self.infos[p.0];
        &mut self.values[i.offset..i.offset + i.len]
    }

    /// A copy of `p` as a tensor of its shape.
    #[track_caller]
    pub fn tensor(&self, p: Param) -> Tensor<T> {
        Tensor::from_slice(self.get(p), &self.infos[p.0].shape)
    }

    /// Every parameter's values, writable, in handle order.
    #[track_caller]
    pub fn values_mut(&mut self) -> Vec<&mut [T]> {
        self.check_home("values_mut");
        let mut rest = &mut self.values[..self.count];
        let mut out = Vec::with_capacity(self.infos.len());
        for i in &self.infos {
            let (head, tail) = std::mem::take(&mut rest).split_at_mut(i.len);
            out.push(head);
            rest = tail;
        }
        out
    }
}

impl<T: Float> Tape<T> {
    /// Moves `store`'s buffer onto this tape as its parameter region (no weight is copied) and
    /// records one leaf per parameter (trainable ones tracked, the others constants). Every node
    /// recorded before is forgotten. The region stays across [`clear`](Self::clear) until
    /// [`return_params`](Self::return_params).
    #[track_caller]
    pub(crate) fn lend_params(&mut self, store: &mut ParamStore<T>) {
        store.check_home("lend");
        let location = Location::caller();
        let a = self.arena.get_mut();
        assert_eq!(a.region, 0, "Tape::lend_params: the tape already holds a parameter region");
        a.nodes.clear();
        a.aux.clear();
        std::mem::swap(&mut a.values, &mut store.values);
        for i in &store.infos {
            let op = if i.trainable { Op::Leaf } else { Op::Constant };
            a.nodes.push(Node { op, shape: i.shape.clone(), offset: i.offset, len: i.len, requires_grad: i.trainable, location });
        }
        a.region = store.infos.len();
        a.region_end = store.count;
        a.end = store.count;
        store.lent = true;
    }

    /// Gives the parameter region's buffer back to `store` (with the values the tape holds now)
    /// and clears the tape.
    pub(crate) fn return_params(&mut self, store: &mut ParamStore<T>) {
        assert!(store.lent, "Tape::return_params: the store is not lent");
        let a = self.arena.get_mut();
        assert_eq!(a.region, store.infos.len(), "Tape::return_params: the region is not this store's");
        std::mem::swap(&mut a.values, &mut store.values);
        a.region = 0;
        a.region_end = 0;
        a.nodes.clear();
        a.aux.clear();
        a.end = 0;
        store.lent = false;
    }

    /// The `Var` of every parameter of the region, in handle order.
    pub(crate) fn region_vars(&self) -> smallvec::SmallVec<[Var<'_, T>; 16]> {
        let n = self.arena.borrow().region;
        (0..n as u32).map(|id| Var::new(self, id)).collect()
    }

    /// The region's values, writable in place (the optimizer's path to the parameters).
    pub(crate) fn param_values_mut(&self) -> RefMut<'_, [T]> {
        RefMut::map(self.arena.borrow_mut(), |a| {
            let end = a.region_end;
            &mut a.values[..end]
        })
    }

    /// A constant of `shape` whose values `fill` writes (every element), without a temporary
    /// buffer: how a layer records a random mask or noise drawn straight into the tape.
    ///
    /// ```
    /// use tapegrad::Tape;
    /// let tape = Tape::<f64>::new();
    /// let c = tape.constant_with(&[3], |out| out.iter_mut().enumerate().for_each(|(i, v)| *v = i as f64));
    /// assert_eq!(c.value().data(), &[0.0, 1.0, 2.0]);
    /// ```
    #[track_caller]
    pub fn constant_with(&self, shape: &[usize], fill: impl FnOnce(&mut [T])) -> Var<'_, T> {
        let len = numel(shape);
        self.record(Op::Constant, shape.into(), false, |_, out| {
            debug_assert_eq!(out.len(), len);
            fill(out)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The region survives `clear`, updates in place are seen by the next recording, the
    /// recording differentiates through it, and the store gets the new values back.
    #[test]
    fn region_is_kept_by_clear_and_returned() {
        let mut store = ParamStore::<f64>::new();
        let w = store.add("w", Tensor::from_vec(vec![1.0, 2.0], &[2]), true);
        let c = store.add("c", Tensor::from_vec(vec![3.0], &[1]), false);
        let mut tape = Tape::new();
        // Lending moves the buffer itself: the tape reads the very memory the store owned.
        let buffer = store.values.as_ptr();
        tape.lend_params(&mut store);
        assert_eq!(tape.arena.borrow().values.as_ptr(), buffer);
        {
            let p = tape.region_vars();
            let _ = (p[w.0] * 3.0).sum().backward();
        }
        tape.clear();
        assert_eq!((tape.len(), tape.values_len()), (2, 3));
        tape.param_values_mut()[..2].copy_from_slice(&[4.0, 5.0]);
        {
            let p = tape.region_vars();
            let (wv, cv) = (p[w.0], p[c.0]);
            assert!(!cv.requires_grad());
            let y = (wv * wv * cv).sum();
            assert_eq!(y.item(), 3.0 * (16.0 + 25.0));
            assert_eq!(&y.backward()[wv], &[24.0, 30.0]);
        }
        tape.return_params(&mut store);
        assert!(tape.is_empty());
        assert_eq!(store.get(w), &[4.0, 5.0]);
        assert_eq!(store.get(c), &[3.0]);
        assert_eq!(store.clone().values_mut(), vec![&mut [4.0, 5.0][..], &mut [3.0][..]]);
    }

    #[test]
    #[should_panic(expected = "lent to a tape")]
    fn a_lent_store_refuses_reads() {
        let mut store = ParamStore::<f64>::new();
        let w = store.add("w", Tensor::scalar(1.0), true);
        let mut tape = Tape::new();
        tape.lend_params(&mut store);
        let _ = store.get(w);
    }
}
