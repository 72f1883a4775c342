//! The tape: a Wengert list of recorded operations, kept as a `Vec` of nodes in creation order.
//!
//! Every value lives in one flat arena (`values`); a node records its op, its inputs (indices of
//! earlier nodes), its shape and where its value sits in the arena. A [`Var`] is a small `Copy`
//! handle: the tape it belongs to and a node index. Clearing the tape keeps every buffer's capacity,
//! so a training loop that records the same graph each step allocates nothing after the first.

mod backward;
mod dot;
mod forward;
mod inspect;
mod params;
mod var;

pub use backward::Gradients;
pub use dot::DotOptions;
pub(crate) use backward::Back;
pub(crate) use forward::{Jvp, Tangents};
pub use params::{Param, ParamInfo, ParamStore};
pub use var::Var;

use crate::ops::custom::CustomOp;
use crate::ops::Op;
use crate::tensor::shape::{numel, Shape};
use crate::tensor::{Float, Tensor};
use std::cell::{Cell, RefCell};
use std::panic::Location;

/// One recorded operation.
#[derive(Clone, Debug)]
pub(crate) struct Node<T: Float> {
    /// The op and the indices of its inputs.
    pub op: Op<T>,
    /// Shape of the value.
    pub shape: Shape,
    /// Where the value starts in the arena; it holds `len` elements.
    pub offset: usize,
    pub len: usize,
    /// Whether a gradient flows to this node (it depends on a tracked leaf and was not recorded
    /// under `no_grad`).
    pub requires_grad: bool,
    /// The source line that recorded it (for error messages, anomaly mode and the inspector).
    pub location: &'static Location<'static>,
}

/// The arena itself, behind the tape's `RefCell`.
pub(crate) struct Arena<T: Float> {
    pub nodes: Vec<Node<T>>,
    /// Values of the recorded nodes in `values[..end]`. `clear` only resets `end`, so the buffer
    /// keeps its length (and stale contents) for the next recording to reuse without refilling.
    pub values: Vec<T>,
    pub end: usize,
    /// Integer side data of ops (gather indices, concat inputs), addressed by ranges.
    pub aux: Vec<usize>,
    /// The ops defined outside the crate that this recording uses, addressed by `Op::Custom`'s index.
    pub customs: Vec<Box<dyn CustomOp<T>>>,
    /// Forward mode's tangents (`dirs == 0`: off). Like `values`, the buffers outlive `clear`.
    pub tangents: Tangents<T>,
    /// The parameter region (see `params.rs`): its first `region` nodes and `region_end` values
    /// are a lent `ParamStore`, kept by `clear`.
    pub region: usize,
    pub region_end: usize,
}

impl<T: Float> Arena<T> {
    /// The op's name as messages, the inspector and DOT export print it (a custom op's own name).
    pub fn op_name(&self, op: &Op<T>) -> &str {
        match *op {
            Op::Custom { index, .. } => self.customs[index as usize].name(),
            _ => op.name(),
        }
    }
}

/// A read-only view of the arena handed to an op's forward rule.
pub(crate) struct Fwd<'a, T: Float> {
    pub nodes: &'a [Node<T>],
    pub values: &'a [T],
    pub aux: &'a [usize],
    pub customs: &'a [Box<dyn CustomOp<T>>],
}

impl<'a, T: Float> Fwd<'a, T> {
    /// The value of node `id`.
    #[inline(always)]
    pub fn x(&self, id: u32) -> &'a [T] {
        let n = &self.nodes[id as usize];
        &self.values[n.offset..n.offset + n.len]
    }
    /// The shape of node `id`.
    #[inline(always)]
    pub fn shape(&self, id: u32) -> &'a [usize] {
        &self.nodes[id as usize].shape
    }
}

/// A recording of operations, ready for one reverse sweep.
///
/// ```
/// use tapegrad::{Tape, Tensor};
/// let tape = Tape::<f64>::new();
/// let x = tape.var(Tensor::from_vec(vec![1.0, 2.0, 3.0], &[3]));
/// let y = (x * x).sum();          // y = sum x^2
/// let grads = y.backward();
/// assert_eq!(&grads[x], &[2.0, 4.0, 6.0]); // dy/dx = 2x
/// ```
pub struct Tape<T: Float> {
    pub(crate) arena: RefCell<Arena<T>>,
    /// Buffers of the last backward pass, lent to `Gradients` and given back when it drops.
    pub(crate) pool: RefCell<(Vec<T>, Vec<bool>)>,
    no_grad_depth: Cell<usize>,
    anomaly: Cell<bool>,
}

impl<T: Float> Default for Tape<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Float> Tape<T> {
    /// An empty tape.
    pub fn new() -> Self {
        let arena = Arena { nodes: Vec::new(), values: Vec::new(), end: 0, aux: Vec::new(), customs: Vec::new(), tangents: Tangents::default(), region: 0, region_end: 0 };
        Tape {
            arena: RefCell::new(arena),
            pool: RefCell::new((Vec::new(), Vec::new())),
            no_grad_depth: Cell::new(0),
            anomaly: Cell::new(false),
        }
    }

    /// An empty tape with room for `nodes` nodes and `values` elements before it reallocates.
    pub fn with_capacity(nodes: usize, values: usize) -> Self {
        let t = Self::new();
        {
            let mut a = t.arena.borrow_mut();
            a.nodes.reserve(nodes);
            a.values.reserve(values);
        }
        t
    }

    /// Forgets every recorded node but keeps the buffers' capacity, so the next step records
    /// without allocating; a parameter region lent by a model stays. Needs `&mut`: no `Var` of the
    /// old recording can outlive it.
    pub fn clear(&mut self) {
        let a = self.arena.get_mut();
        a.nodes.truncate(a.region);
        a.end = a.region_end;
        a.aux.clear();
        a.customs.clear();
        a.tangents.off();
    }

    /// Number of recorded nodes.
    pub fn len(&self) -> usize {
        self.arena.borrow().nodes.len()
    }

    /// `true` when nothing is recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Elements held in the value arena (all recorded values together).
    pub fn values_len(&self) -> usize {
        self.arena.borrow().end
    }

    /// Capacity of the node list and of the value arena: a loop that reuses the tape keeps these flat.
    pub fn capacity(&self) -> (usize, usize) {
        let a = self.arena.borrow();
        (a.nodes.capacity(), a.values.capacity())
    }

    /// A leaf whose gradient is tracked (like a tensor with `requires_grad=True` in PyTorch).
    #[track_caller]
    pub fn var(&self, value: Tensor<T>) -> Var<'_, T> {
        self.leaf(value.shape(), value.data(), true)
    }

    /// A leaf whose gradient is not tracked: data, targets, masks.
    #[track_caller]
    pub fn constant(&self, value: Tensor<T>) -> Var<'_, T> {
        self.leaf(value.shape(), value.data(), false)
    }

    /// A leaf from a slice and a shape, without building a `Tensor` (the training loop's path).
    #[track_caller]
    pub fn leaf(&self, shape: &[usize], data: &[T], requires_grad: bool) -> Var<'_, T> {
        assert!(
            data.len() == numel(shape),
            "Tape::leaf: {} values cannot fill shape {:?}",
            data.len(),
            shape
        );
        let op = if requires_grad { Op::Leaf } else { Op::Constant };
        let tracked = requires_grad && self.grad_enabled();
        self.record(op, shape.into(), tracked, |_, out| out.copy_from_slice(data))
    }

    /// A rank-0 constant.
    #[track_caller]
    pub fn scalar(&self, value: T) -> Var<'_, T> {
        self.leaf(&[], &[value], false)
    }

    /// Runs `f` with gradient recording switched off: every value made inside takes part in
    /// forward but reaches no gradient (as PyTorch's `torch.no_grad()`).
    ///
    /// ```
    /// use tapegrad::{Tape, Tensor};
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(Tensor::scalar(3.0));
    /// let c = tape.no_grad(|| x * 2.0);
    /// let y = x * c;                      // c is a constant 6 here
    /// assert_eq!(y.backward()[x][0], 6.0);
    /// ```
    pub fn no_grad<R>(&self, f: impl FnOnce() -> R) -> R {
        struct Restore<'a>(&'a Cell<usize>);
        impl Drop for Restore<'_> {
            fn drop(&mut self) {
                self.0.set(self.0.get() - 1);
            }
        }
        self.no_grad_depth.set(self.no_grad_depth.get() + 1);
        let _restore = Restore(&self.no_grad_depth);
        f()
    }

    /// `false` inside [`no_grad`](Self::no_grad).
    pub fn grad_enabled(&self) -> bool {
        self.no_grad_depth.get() == 0
    }

    /// Anomaly mode: when on, the first op whose forward value or backward gradient is not finite
    /// panics with the op, its shapes and the source line that recorded it. Off by default, and
    /// then it costs one branch per op.
    pub fn set_anomaly_detection(&self, on: bool) {
        self.anomaly.set(on);
    }

    /// Whether anomaly mode is on.
    pub fn anomaly_detection(&self) -> bool {
        self.anomaly.get()
    }

    /// Appends a node: reserves its output in the arena and fills it with `forward`, which sees
    /// every earlier value and must assign every element of its output (the buffer may hold a
    /// previous recording's values). `requires_grad` is the inputs' verdict; `no_grad` overrides
    /// it. With forward mode on, the op's JVP rule then writes the node's tangents.
    #[track_caller]
    #[inline]
    pub(crate) fn record(
        &self,
        op: Op<T>,
        shape: Shape,
        requires_grad: bool,
        forward: impl FnOnce(&Fwd<'_, T>, &mut [T]),
    ) -> Var<'_, T> {
        let location = Location::caller();
        let mut guard = self.arena.borrow_mut();
        let a = &mut *guard;
        let len = numel(&shape);
        let offset = a.end;
        let stop = offset + len;
        if a.values.len() < stop {
            a.values.resize(stop, T::ZERO);
        }
        a.end = stop;
        {
            let (before, rest) = a.values.split_at_mut(offset);
            forward(&Fwd { nodes: &a.nodes, values: before, aux: &a.aux, customs: &a.customs }, &mut rest[..len]);
        }
        let id = a.nodes.len();
        assert!(id < u32::MAX as usize, "Tape: more than 2^32 nodes recorded");
        let requires_grad = requires_grad && self.no_grad_depth.get() == 0;
        if self.anomaly.get() {
            if let Some(i) = a.values[offset..stop].iter().position(|v| !v.is_finite()) {
                let inputs = op.inputs(&a.aux);
                let shapes: Vec<&[usize]> = inputs.iter().map(|&j| &a.nodes[j as usize].shape[..]).collect();
                panic!(
                    "anomaly: {} produced a non-finite value ({}) at element {} of its output {:?} \
                     (inputs of shapes {:?}), recorded at {}",
                    a.op_name(&op),
                    a.values[offset + i],
                    i,
                    &shape[..],
                    shapes,
                    location
                );
            }
        }
        if a.tangents.dirs > 0 {
            forward::push_tangents(a, &op, &shape, offset, len);
        }
        a.nodes.push(Node { op, shape, offset, len, requires_grad, location });
        Var::new(self, id as u32)
    }

    /// Pushes integer side data for an op and returns its start.
    pub(crate) fn push_aux(&self, data: impl IntoIterator<Item = usize>) -> (u32, u32) {
        let mut a = self.arena.borrow_mut();
        let start = a.aux.len();
        a.aux.extend(data);
        (start as u32, (a.aux.len() - start) as u32)
    }
}
