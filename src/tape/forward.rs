//! Forward mode: tangents that travel with the values as they are recorded.
//!
//! When forward mode is on, a node that depends on a seeded input gets `dirs` tangents beside its
//! value (a batch of directions, so a whole Jacobian is one pass). Recording a node runs its op's
//! JVP rule right after its forward rule; a node none of whose inputs carries a tangent gets no
//! storage and no work (data, constants, and weights when differentiating with respect to the
//! input), and reads as zeros.

use super::{Arena, Node, Tape, Var};
use crate::ops::{self, custom::CustomOp, Op};
use crate::tensor::{Float, Tensor};

/// No tangent storage: the node's tangent is zero.
const NONE: usize = usize::MAX;

/// The tangent slots of a recording in forward mode. Only nodes that carry a tangent get storage,
/// appended as they are recorded: node `i`'s tangent in direction `d` is
/// `data[at[i] + d * len_i..][..len_i]`; `at[i] == NONE` means zeros (data, constants, and weights
/// when differentiating with respect to the input), read from the shared `zeros`.
pub(crate) struct Tangents<T> {
    /// Directions per node; 0 when forward mode is off.
    pub dirs: usize,
    data: Vec<T>,
    /// Elements of `data` in use.
    end: usize,
    /// Per node: where its tangents start in `data`, or `NONE`.
    at: Vec<usize>,
    /// At least as many zeros as the longest tangent-less input read so far.
    zeros: Vec<T>,
}

impl<T> Default for Tangents<T> {
    fn default() -> Self {
        Tangents { dirs: 0, data: Vec::new(), end: 0, at: Vec::new(), zeros: Vec::new() }
    }
}

impl<T: Float> Tangents<T> {
    /// Switches forward mode off, keeping the buffers' capacity for the next recording.
    pub fn off(&mut self) {
        self.dirs = 0;
        self.at.clear();
        self.end = 0;
    }

    /// Reserves `dirs * len` elements at the end of `data` and returns where they start.
    fn alloc(&mut self, len: usize) -> usize {
        let start = self.end;
        self.end += self.dirs * len;
        if self.data.len() < self.end {
            self.data.resize(self.end, T::ZERO);
        }
        start
    }
}

/// What an op's JVP rule sees: every earlier value and tangent, and the node's own value.
pub(crate) struct Jvp<'a, T: Float> {
    pub nodes: &'a [Node<T>],
    pub values: &'a [T],
    pub aux: &'a [usize],
    pub customs: &'a [Box<dyn CustomOp<T>>],
    tangents: &'a [T],
    at: &'a [usize],
    zeros: &'a [T],
    /// This node's value.
    pub y: &'a [T],
    /// This node's shape.
    pub shape: &'a [usize],
}

impl<'a, T: Float> Jvp<'a, T> {
    /// The value of input `id`.
    #[inline(always)]
    pub fn x(&self, id: u32) -> &'a [T] {
        let n = &self.nodes[id as usize];
        &self.values[n.offset..n.offset + n.len]
    }
    /// The tangent of input `id` in direction `d` (zeros when it has none).
    #[inline(always)]
    pub fn t(&self, id: u32, d: usize) -> &'a [T] {
        let n = &self.nodes[id as usize];
        match self.at[id as usize] {
            NONE => &self.zeros[..n.len],
            at => &self.tangents[at + d * n.len..at + (d + 1) * n.len],
        }
    }
    /// Whether input `id` may have a non-zero tangent (a rule may skip work when it has none).
    #[inline(always)]
    pub fn has(&self, id: u32) -> bool {
        self.at[id as usize] != NONE
    }
    /// The shape of input `id`.
    #[inline(always)]
    pub fn shape_of(&self, id: u32) -> &'a [usize] {
        &self.nodes[id as usize].shape
    }
}

/// Writes the tangents of the node about to be pushed (value at `offset..offset + len`): runs the
/// op's JVP rule per direction when an input carries a tangent, else records none.
pub(crate) fn push_tangents<T: Float>(a: &mut Arena<T>, op: &Op<T>, shape: &[usize], offset: usize, len: usize) {
    let Arena { nodes, values, aux, customs, tangents: t, .. } = a;
    t.at.resize(nodes.len(), NONE);
    let inputs = op.inputs(aux);
    if !inputs.iter().any(|&i| t.at[i as usize] != NONE) {
        t.at.push(NONE);
        return;
    }
    let longest = inputs.iter().map(|&i| nodes[i as usize].len).max().unwrap_or(0);
    if t.zeros.len() < longest {
        t.zeros.resize(longest, T::ZERO);
    }
    let start = t.alloc(len);
    let (before, rest) = t.data.split_at_mut(start);
    let j = Jvp { nodes, values, aux, customs, tangents: before, at: &t.at, zeros: &t.zeros, y: &values[offset..offset + len], shape };
    for d in 0..t.dirs {
        ops::jvp(op, &j, d, &mut rest[d * len..(d + 1) * len]);
    }
    t.at.push(start);
}

impl<T: Float> Tape<T> {
    /// Switches forward mode on with `dirs` tangent directions (JAX's `jvp`, PyTorch's forward
    /// AD): from now on every recorded node carries `dirs` tangents, computed by its op's JVP rule
    /// as it is recorded. Values recorded before have zero tangents. `clear` switches it off.
    /// Seed inputs with [`Var::set_tangent`] and read results with [`Var::tangent`].
    ///
    /// ```
    /// use tapegrad::{Tape, Tensor};
    /// let tape = Tape::<f64>::new();
    /// tape.forward_mode(1);
    /// let x = tape.var(Tensor::from_vec(vec![1.0, 2.0], &[2]));
    /// x.set_tangent(0, &[1.0, 0.0]);          // direction e_0
    /// let y = (x * x).sum();                  // y = x0^2 + x1^2
    /// assert_eq!(y.tangent(0).data(), &[2.0]); // dy/dx0 = 2 x0
    /// ```
    #[track_caller]
    pub fn forward_mode(&self, dirs: usize) {
        assert!(dirs > 0, "forward_mode: needs at least one tangent direction");
        let mut a = self.arena.borrow_mut();
        let n = a.nodes.len();
        let t = &mut a.tangents;
        t.off();
        t.dirs = dirs;
        // Values recorded before have zero tangents.
        t.at.resize(n, NONE);
    }

    /// The number of tangent directions, 0 when forward mode is off.
    pub fn tangent_dirs(&self) -> usize {
        self.arena.borrow().tangents.dirs
    }
}

impl<'t, T: Float> Var<'t, T> {
    /// Sets this value's tangent in direction `d` (forward mode must be on; typically on an input
    /// leaf right after recording it). Panics naming the shapes when `tangent` has the wrong length.
    #[track_caller]
    pub fn set_tangent(&self, d: usize, tangent: &[T]) {
        let mut a = self.tape().arena.borrow_mut();
        let n = &a.nodes[self.index()];
        let (len, shape, nodes) = (n.len, n.shape.clone(), a.nodes.len());
        let t = &mut a.tangents;
        if t.dirs == 0 {
            panic!("set_tangent: forward mode is off; call Tape::forward_mode first");
        }
        assert!(d < t.dirs, "set_tangent: direction {d} is out of range for {} directions", t.dirs);
        assert!(
            tangent.len() == len,
            "set_tangent: a tangent of {} elements for a value of shape {:?} ({len} elements)",
            tangent.len(),
            &shape[..]
        );
        t.at.resize(nodes, NONE);
        if t.at[self.index()] == NONE {
            let start = t.alloc(len);
            t.data[start..start + t.dirs * len].fill(T::ZERO);
            t.at[self.index()] = start;
        }
        let at = t.at[self.index()] + d * len;
        t.data[at..at + len].copy_from_slice(tangent);
    }

    /// This value's tangent in direction `d` (zeros where no seeded input reaches it).
    #[track_caller]
    pub fn tangent(&self, d: usize) -> Tensor<T> {
        let a = self.tape().arena.borrow();
        let n = &a.nodes[self.index()];
        let t = &a.tangents;
        if t.dirs == 0 {
            panic!("tangent: forward mode is off; call Tape::forward_mode first");
        }
        assert!(d < t.dirs, "tangent: direction {d} is out of range for {} directions", t.dirs);
        match t.at.get(self.index()).copied().unwrap_or(NONE) {
            NONE => Tensor::zeros(&n.shape),
            at => Tensor::from_slice(&t.data[at + d * n.len..at + (d + 1) * n.len], &n.shape),
        }
    }
}
