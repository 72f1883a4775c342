//! Shapes, strides and numpy broadcasting.

use smallvec::SmallVec;

/// A tensor's shape: its dimensions, outermost first. Rank 4 and below stay inline (no allocation).
pub type Shape = SmallVec<[usize; 4]>;

/// Number of elements of a shape (1 for a scalar of rank 0).
#[inline]
pub fn numel(shape: &[usize]) -> usize {
    shape.iter().product()
}

/// Row-major strides of a contiguous tensor of this shape.
pub fn contiguous_strides(shape: &[usize]) -> Shape {
    let mut strides: Shape = smallvec::smallvec![0; shape.len()];
    let mut acc = 1;
    for (s, d) in strides.iter_mut().zip(shape).rev() {
        *s = acc;
        acc *= *d;
    }
    strides
}

/// `a == b`, without the `memcmp` call slice equality compiles to: shapes are a few elements
/// long, and this comparison runs on every recorded op.
#[inline(always)]
pub(crate) fn same(a: &[usize], b: &[usize]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

/// A [`Shape`] holding `s`, copied element by element into the inline buffer when it fits (no
/// `memcpy` call for a shape of a few elements; this runs on every recorded op).
#[inline(always)]
pub(crate) fn copy(s: &[usize]) -> Shape {
    if s.len() <= 4 {
        let mut buf = [0usize; 4];
        for (d, &x) in buf.iter_mut().zip(s) {
            *d = x;
        }
        Shape::from_buf_and_len(buf, s.len())
    } else {
        Shape::from_slice(s)
    }
}

/// The broadcast shape of `a` and `b` by numpy's rule (align right; a size-1 dimension stretches),
/// or `None` when they are incompatible.
pub fn broadcast_shapes(a: &[usize], b: &[usize]) -> Option<Shape> {
    if same(a, b) {
        return Some(copy(a));
    }
    let rank = a.len().max(b.len());
    let mut out: Shape = smallvec::smallvec![0; rank];
    for i in 0..rank {
        let da = if i < rank - a.len() { 1 } else { a[i - (rank - a.len())] };
        let db = if i < rank - b.len() { 1 } else { b[i - (rank - b.len())] };
        out[i] = match (da, db) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            _ => return None,
        };
    }
    Some(out)
}

/// Strides to read an operand of shape `src` as if it had the (broadcast) shape `out`:
/// stretched dimensions get stride 0. `src` must broadcast to `out`.
pub fn broadcast_strides(src: &[usize], out: &[usize]) -> Shape {
    let own = contiguous_strides(src);
    let lead = out.len() - src.len();
    let mut strides: Shape = smallvec::smallvec![0; out.len()];
    for i in 0..src.len() {
        if src[i] != 1 {
            strides[lead + i] = own[i];
        }
    }
    strides
}

/// Walks the elements of an output shape in row-major order and yields, for each, the offset of the
/// matching element of a broadcast operand. This is the one place that maps a broadcast element back
/// to its source, both forward (reading) and backward (reducing a gradient to the operand's shape).
pub struct BroadcastIndex {
    shape: Shape,
    strides: Shape,
    counter: Shape,
    offset: usize,
    remaining: usize,
}

impl BroadcastIndex {
    /// Index of an operand of shape `src` read as shape `out`.
    pub fn new(src: &[usize], out: &[usize]) -> Self {
        BroadcastIndex {
            shape: out.into(),
            strides: broadcast_strides(src, out),
            counter: smallvec::smallvec![0; out.len()],
            offset: 0,
            remaining: numel(out),
        }
    }
}

impl Iterator for BroadcastIndex {
    type Item = usize;
    #[inline]
    fn next(&mut self) -> Option<usize> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        let cur = self.offset;
        // Advance the odometer from the innermost dimension.
        for d in (0..self.shape.len()).rev() {
            self.counter[d] += 1;
            self.offset += self.strides[d];
            if self.counter[d] < self.shape[d] {
                break;
            }
            self.offset -= self.strides[d] * self.shape[d];
            self.counter[d] = 0;
        }
        Some(cur)
    }
}

/// Splits a shape around `axis` into (outer, len, inner) so that element `(o, i, n)` sits at
/// `(o * len + i) * inner + n` in row-major storage.
#[inline]
pub fn split_at_axis(shape: &[usize], axis: usize) -> (usize, usize, usize) {
    let outer = numel(&shape[..axis]);
    let inner = numel(&shape[axis + 1..]);
    (outer, shape[axis], inner)
}

/// Shape after reducing `axis` (kept as size 1 with `keepdim`, removed otherwise).
pub fn reduced_shape(shape: &[usize], axis: usize, keepdim: bool) -> Shape {
    let mut out: Shape = shape.into();
    if keepdim {
        out[axis] = 1;
    } else {
        out.remove(axis);
    }
    out
}

/// Turns a possibly negative axis (`-1` is the last) into an index, or `None` when out of range.
#[inline]
pub fn normalize_axis(axis: isize, rank: usize) -> Option<usize> {
    let r = rank as isize;
    let a = if axis < 0 { axis + r } else { axis };
    (0..r).contains(&a).then_some(a as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcasting_follows_numpy() {
        assert_eq!(broadcast_shapes(&[3, 1], &[4]).unwrap().as_slice(), &[3, 4]);
        assert_eq!(broadcast_shapes(&[2, 3], &[2, 3]).unwrap().as_slice(), &[2, 3]);
        assert_eq!(broadcast_shapes(&[], &[5]).unwrap().as_slice(), &[5]);
        assert!(broadcast_shapes(&[3], &[4]).is_none());
    }

    #[test]
    fn broadcast_index_repeats_rows() {
        let idx: Vec<usize> = BroadcastIndex::new(&[3], &[2, 3]).collect();
        assert_eq!(idx, vec![0, 1, 2, 0, 1, 2]);
        let idx: Vec<usize> = BroadcastIndex::new(&[2, 1], &[2, 3]).collect();
        assert_eq!(idx, vec![0, 0, 0, 1, 1, 1]);
    }

    #[test]
    fn axes_normalise() {
        assert_eq!(normalize_axis(-1, 3), Some(2));
        assert_eq!(normalize_axis(3, 3), None);
        assert_eq!(normalize_axis(-4, 3), None);
    }
}
