//! Shape ops written as expressions of `reshape`, `gather` and `concat` (PyTorch's names):
//! `permute`, `swapaxes`, `squeeze`, `unsqueeze`, `flatten`, `stack`, `narrow`, `slice`, `flip`,
//! `index_select`, `embedding`, `cumsum`, `pad` (constant) and `repeat`.
//!
//! None is a new node kind: an element move is a `gather` (whose adjoint, `scatter_add`, sums the
//! gradient back, so repeated indices are right), a change of shape a `reshape`, and `cumsum` a
//! product with a constant triangular matrix. Their reverse, recorded and JVP rules are those of
//! these op units.

use super::derived::axis_index;
use crate::tape::Var;
use crate::tensor::{Float, Tensor};

impl<'t, T: Float> Var<'t, T> {
    /// The axes reordered: output axis `i` is input axis `order[i]` (`torch.permute`, any rank).
    ///
    /// ```
    /// use tapegrad::{Tape, Tensor};
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(Tensor::from_vec((0..6).map(f64::from).collect(), &[1, 2, 3]));
    /// let y = x.permute(&[2, 0, 1]);
    /// assert_eq!(&y.shape()[..], &[3, 1, 2]);
    /// assert_eq!(y.value().data(), &[0.0, 3.0, 1.0, 4.0, 2.0, 5.0]);
    /// ```
    #[track_caller]
    pub fn permute(self, order: &[usize]) -> Var<'t, T> {
        let shape = self.shape();
        let r = shape.len();
        let mut seen = vec![false; r];
        if order.len() != r || order.iter().any(|&a| a >= r || std::mem::replace(&mut seen[a], true)) {
            panic!("permute: {order:?} is not a permutation of the {r} axes of shape {:?}", &shape[..]);
        }
        if order.iter().enumerate().all(|(i, &a)| i == a) {
            return self;
        }
        let out: Vec<usize> = order.iter().map(|&a| shape[a]).collect();
        let mut strides = vec![1; r];
        for d in (0..r.saturating_sub(1)).rev() {
            strides[d] = strides[d + 1] * shape[d + 1];
        }
        // Output element k (row-major over `out`) reads the input at its permuted multi-index.
        let n = self.len();
        let mut idx = Vec::with_capacity(n);
        let mut pos = vec![0usize; r];
        for _ in 0..n {
            idx.push(pos.iter().zip(order).map(|(&p, &a)| p * strides[a]).sum());
            for d in (0..r).rev() {
                pos[d] += 1;
                if pos[d] < out[d] {
                    break;
                }
                pos[d] = 0;
            }
        }
        self.reshape(&[n]).gather(0, &idx).reshape(&out)
    }

    /// Axes `a` and `b` swapped (`torch.swapaxes`, NumPy's name for
    /// [`transpose(a, b)`](Self::transpose)).
    #[track_caller]
    pub fn swapaxes(self, a: isize, b: isize) -> Var<'t, T> {
        self.transpose(a, b)
    }

    /// Axis `axis`, which must have size 1, removed (`torch.squeeze(x, axis)`).
    #[track_caller]
    pub fn squeeze(self, axis: isize) -> Var<'t, T> {
        let shape = self.shape();
        let a = axis_index("squeeze", axis, shape.len());
        if shape[a] != 1 {
            panic!("squeeze: axis {axis} of shape {:?} has size {}, not 1", &shape[..], shape[a]);
        }
        let mut s = shape.to_vec();
        s.remove(a);
        self.reshape(&s)
    }

    /// A new axis of size 1 at position `axis` of the result (`torch.unsqueeze`; -1 appends).
    #[track_caller]
    pub fn unsqueeze(self, axis: isize) -> Var<'t, T> {
        let shape = self.shape();
        let a = axis_index("unsqueeze", axis, shape.len() + 1);
        let mut s = shape.to_vec();
        s.insert(a, 1);
        self.reshape(&s)
    }

    /// Axes `start..=end` folded into one (`torch.flatten(x, start, end)`).
    #[track_caller]
    pub fn flatten(self, start: isize, end: isize) -> Var<'t, T> {
        let shape = self.shape();
        let r = shape.len().max(1);
        let (s, e) = (axis_index("flatten", start, r), axis_index("flatten", end, r));
        if s > e {
            panic!("flatten: start axis {start} comes after end axis {end} (shape {:?})", &shape[..]);
        }
        if shape.is_empty() {
            return self.reshape(&[1]);
        }
        let mut out: Vec<usize> = shape[..s].to_vec();
        out.push(shape[s..=e].iter().product());
        out.extend_from_slice(&shape[e + 1..]);
        self.reshape(&out)
    }

    /// Values of one shape joined along a new axis (`torch.stack`).
    #[track_caller]
    pub fn stack(parts: &[Var<'t, T>], axis: isize) -> Var<'t, T> {
        let Some(first) = parts.first() else { panic!("stack: no values to stack") };
        let shape = first.shape();
        if let Some(p) = parts.iter().find(|p| p.shape() != shape) {
            panic!("stack: shapes {:?} and {:?} differ", &shape[..], &p.shape()[..]);
        }
        let a = axis_index("stack", axis, shape.len() + 1) as isize;
        let lifted: Vec<Var<'t, T>> = parts.iter().map(|p| p.unsqueeze(a)).collect();
        Var::concat(&lifted, a)
    }

    /// Elements `start, start + step, ...` below `end` along `axis` (Python's `x[start:end:step]`
    /// on that axis; `step >= 1`).
    #[track_caller]
    pub fn slice(self, axis: isize, start: usize, end: usize, step: usize) -> Var<'t, T> {
        let shape = self.shape();
        let a = axis_index("slice", axis, shape.len());
        if step == 0 || start > end || end > shape[a] {
            panic!("slice: {start}..{end} step {step} does not fit axis {axis} of shape {:?}", &shape[..]);
        }
        let idx: Vec<usize> = (start..end).step_by(step).collect();
        self.gather(a as isize, &idx)
    }

    /// `len` elements from `start` along `axis` (`torch.narrow`).
    #[track_caller]
    pub fn narrow(self, axis: isize, start: usize, len: usize) -> Var<'t, T> {
        self.slice(axis, start, start + len, 1)
    }

    /// The elements along `axis` in reverse order (`torch.flip(x, [axis])`).
    #[track_caller]
    pub fn flip(self, axis: isize) -> Var<'t, T> {
        let shape = self.shape();
        let a = axis_index("flip", axis, shape.len());
        let idx: Vec<usize> = (0..shape[a]).rev().collect();
        self.gather(a as isize, &idx)
    }

    /// The entries `indices` along `axis` (`torch.index_select`; repeats allowed, their gradients
    /// add up).
    #[track_caller]
    pub fn index_select(self, axis: isize, indices: &[usize]) -> Var<'t, T> {
        self.gather(axis, indices)
    }

    /// Rows `ids` of this `[num, dim]` weight matrix, `[ids.len(), dim]` (`F.embedding(ids,
    /// weight, padding_idx)`): the gradient of each row is the sum over its uses, and the
    /// `padding_idx` row, when given, receives none (its value is still read).
    ///
    /// ```
    /// use tapegrad::{Tape, Tensor};
    /// let tape = Tape::<f64>::new();
    /// let w = tape.var(Tensor::from_vec(vec![0.0, 0.0, 1.0, 2.0, 3.0, 4.0], &[3, 2]));
    /// let e = w.embedding(&[2, 0, 2], Some(0));
    /// assert_eq!(e.value().data(), &[3.0, 4.0, 0.0, 0.0, 3.0, 4.0]);
    /// assert_eq!(&e.sum().backward()[w], &[0.0, 0.0, 0.0, 0.0, 2.0, 2.0]);
    /// ```
    #[track_caller]
    pub fn embedding(self, ids: &[usize], padding_idx: Option<usize>) -> Var<'t, T> {
        let shape = self.shape();
        if shape.len() != 2 {
            panic!("embedding: the weight must be [num, dim], got shape {:?}", &shape[..]);
        }
        if let Some(&bad) = ids.iter().find(|&&i| i >= shape[0]) {
            panic!("embedding: id {bad} is out of range for a weight of shape {:?}", &shape[..]);
        }
        let rows = self.gather(0, ids);
        match padding_idx {
            Some(p) if ids.contains(&p) => {
                let keep: Vec<T> = ids.iter().map(|&i| if i == p { T::ZERO } else { T::ONE }).collect();
                let mask = self.tape().constant(Tensor::from_vec(keep, &[ids.len(), 1]));
                let frozen = self.detach().gather(0, ids);
                Var::where_(mask, rows, frozen)
            }
            _ => rows,
        }
    }

    /// Running sums along `axis` (`torch.cumsum`): a product with a constant upper-triangular
    /// matrix of ones, so every derivative rule is matmul's.
    ///
    /// ```
    /// use tapegrad::{Tape, Tensor};
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[2, 2]));
    /// assert_eq!(x.cumsum(0).value().data(), &[1.0, 2.0, 4.0, 6.0]);
    /// assert_eq!(x.cumsum(1).value().data(), &[1.0, 3.0, 3.0, 7.0]);
    /// ```
    #[track_caller]
    pub fn cumsum(self, axis: isize) -> Var<'t, T> {
        let shape = self.shape();
        let r = shape.len();
        let a = axis_index("cumsum", axis, r);
        let l = shape[a];
        let mut order: Vec<usize> = (0..r).filter(|&d| d != a).collect();
        order.push(a);
        let moved = self.permute(&order);
        let moved_shape = moved.shape();
        let upper: Vec<T> = (0..l * l).map(|k| if k / l <= k % l { T::ONE } else { T::ZERO }).collect();
        let u = self.tape().constant(Tensor::from_vec(upper, &[l, l]));
        let sums = moved.reshape(&[self.len() / l.max(1), l]).matmul(u).reshape(&moved_shape);
        // Inverse permutation: the summed axis back to its place.
        let mut back = vec![0; r];
        for (i, &d) in order.iter().enumerate() {
            back[d] = i;
        }
        sums.permute(&back)
    }

    /// Constant padding (`F.pad(x, pad, value=value)`, widths given per axis from the first, as
    /// numpy's `np.pad`): `widths[d] = [before, after]` elements of `value` around axis `d`; axes
    /// past `widths.len()` are not padded. The gradient of the padding is nothing: only `x`'s
    /// elements reach it.
    ///
    /// ```
    /// use tapegrad::{Tape, Tensor};
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(Tensor::from_vec(vec![1.0, 2.0], &[1, 2]));
    /// let y = x.pad(&[[0, 1], [1, 0]], 9.0);
    /// assert_eq!(y.value().data(), &[9.0, 1.0, 2.0, 9.0, 9.0, 9.0]);
    /// ```
    #[track_caller]
    pub fn pad(self, widths: &[[usize; 2]], value: T) -> Var<'t, T> {
        let r = self.shape().len();
        if widths.len() > r {
            panic!("pad: {} pairs of widths for a value of rank {r} (shape {:?})", widths.len(), &self.shape()[..]);
        }
        let mut out = self;
        for (d, &[before, after]) in widths.iter().enumerate() {
            let block = |k: usize, like: Var<'t, T>| {
                let mut s = like.shape().to_vec();
                s[d] = k;
                self.tape().constant(Tensor::from_vec(vec![value; s.iter().product()], &s))
            };
            let mut parts = Vec::with_capacity(3);
            if before > 0 {
                parts.push(block(before, out));
            }
            parts.push(out);
            if after > 0 {
                parts.push(block(after, out));
            }
            if parts.len() > 1 {
                out = Var::concat(&parts, d as isize);
            }
        }
        out
    }

    /// The value tiled `reps[d]` times along each axis `d` (`torch.Tensor.repeat` / `np.tile` with
    /// one count per axis; the gradient of each element sums over its copies).
    #[track_caller]
    pub fn repeat(self, reps: &[usize]) -> Var<'t, T> {
        let r = self.shape().len();
        if reps.len() != r || reps.contains(&0) {
            panic!("repeat: needs one positive count per axis of shape {:?}, got {reps:?}", &self.shape()[..]);
        }
        let mut out = self;
        for (d, &k) in reps.iter().enumerate() {
            if k > 1 {
                out = Var::concat(&vec![out; k], d as isize);
            }
        }
        out
    }
}
