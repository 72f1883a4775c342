//! Forward mode: tangents that travel with the values as they are recorded.
//!
//! When forward mode is on, every node gets `dirs` tangent slots beside its value (a batch of
//! directions, so a whole Jacobian is one pass), laid out like the value arena: node `i`'s tangent
//! in direction `d` is `data[dirs * offset + d * len..][..len]`. Recording a node runs its op's JVP
//! rule right after its forward rule; a node none of whose inputs carries a tangent gets zeros
//! without running the rule (data, and weights when differentiating with respect to the input).

use super::{Arena, Node, Tape, Var};
use crate::ops::{self, custom::CustomOp, Op};
use crate::tensor::{Float, Tensor};

/// The tangent slots of a recording in forward mode.
pub(crate) struct Tangents<T> {
    pub dirs: usize,
    pub data: Vec<T>,
    /// Per node: whether its tangent may be non-zero.
    pub has: Vec<bool>,
}

/// What an op's JVP rule sees: every earlier value and tangent, and the node's own value.
pub(crate) struct Jvp<'a, T: Float> {
    pub nodes: &'a [Node<T>],
    pub values: &'a [T],
    pub aux: &'a [usize],
    pub customs: &'a [Box<dyn CustomOp<T>>],
    tangents: &'a [T],
    has: &'a [bool],
    dirs: usize,
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
        let at = self.dirs * n.offset + d * n.len;
        &self.tangents[at..at + n.len]
    }
    /// Whether input `id` may have a non-zero tangent (a rule may skip work when it has none).
    #[inline(always)]
    pub fn has(&self, id: u32) -> bool {
        self.has[id as usize]
    }
    /// The shape of input `id`.
    #[inline(always)]
    pub fn shape_of(&self, id: u32) -> &'a [usize] {
        &self.nodes[id as usize].shape
    }
}

/// Writes the tangents of the node about to be pushed (value at `offset..offset + len`).
pub(crate) fn push_tangents<T: Float>(a: &mut Arena<T>, op: &Op<T>, shape: &[usize], offset: usize, len: usize) {
    let Arena { nodes, values, aux, customs, tangents, .. } = a;
    let t = tangents.as_mut().expect("forward mode is on");
    let k = t.dirs;
    t.has.resize(nodes.len(), false);
    if t.data.len() < k * (offset + len) {
        t.data.resize(k * (offset + len), T::ZERO);
    }
    let any = op.inputs(aux).iter().any(|&i| t.has[i as usize]);
    let (before, rest) = t.data.split_at_mut(k * offset);
    let out = &mut rest[..k * len];
    if any {
        let j = Jvp { nodes, values, aux, customs, tangents: before, has: &t.has, dirs: k, y: &values[offset..offset + len], shape };
        for (d, od) in out.chunks_exact_mut(len.max(1)).enumerate().take(k) {
            ops::jvp(op, &j, d, &mut od[..len]);
        }
    } else {
        out.fill(T::ZERO);
    }
    t.has.push(any);
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
        let end = a.end;
        a.tangents = Some(Tangents { dirs, data: vec![T::ZERO; dirs * end], has: vec![false; n] });
    }

    /// The number of tangent directions, 0 when forward mode is off.
    pub fn tangent_dirs(&self) -> usize {
        self.arena.borrow().tangents.as_ref().map_or(0, |t| t.dirs)
    }
}

impl<'t, T: Float> Var<'t, T> {
    /// Sets this value's tangent in direction `d` (forward mode must be on; typically on an input
    /// leaf right after recording it). Panics naming the shapes when `tangent` has the wrong length.
    #[track_caller]
    pub fn set_tangent(&self, d: usize, tangent: &[T]) {
        let mut a = self.tape().arena.borrow_mut();
        let n = &a.nodes[self.index()];
        let (offset, len, shape) = (n.offset, n.len, n.shape.clone());
        let nodes = a.nodes.len();
        let Some(t) = a.tangents.as_mut() else {
            panic!("set_tangent: forward mode is off; call Tape::forward_mode first");
        };
        assert!(d < t.dirs, "set_tangent: direction {d} is out of range for {} directions", t.dirs);
        assert!(
            tangent.len() == len,
            "set_tangent: a tangent of {} elements for a value of shape {:?} ({len} elements)",
            tangent.len(),
            &shape[..]
        );
        t.has.resize(nodes, false);
        let at = t.dirs * offset + d * len;
        t.data[at..at + len].copy_from_slice(tangent);
        t.has[self.index()] = true;
    }

    /// This value's tangent in direction `d` (zeros where no seeded input reaches it).
    #[track_caller]
    pub fn tangent(&self, d: usize) -> Tensor<T> {
        let a = self.tape().arena.borrow();
        let n = &a.nodes[self.index()];
        let Some(t) = a.tangents.as_ref() else {
            panic!("tangent: forward mode is off; call Tape::forward_mode first");
        };
        assert!(d < t.dirs, "tangent: direction {d} is out of range for {} directions", t.dirs);
        let at = t.dirs * n.offset + d * n.len;
        Tensor::from_slice(&t.data[at..at + n.len], &n.shape)
    }
}
