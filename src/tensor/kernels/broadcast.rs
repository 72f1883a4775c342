//! How two operands map onto their numpy-broadcast output: the one place that pairs output
//! elements with operand elements, with direct loops for the layouts that matter (same shape, a
//! scalar, a repeated row, a per-row column) and a strided walk for the rest.

use crate::tensor::shape::{same, BroadcastIndex};
use crate::tensor::Float;

/// Calls `f(i, ia, ib)` for every element `i` of the broadcast output, with the offsets of the
/// operand elements it reads. Same shapes, scalar operands and a repeated row take direct loops.
#[inline(always)]
pub(crate) fn for_each_broadcast(a: &[usize], b: &[usize], out: &[usize], mut f: impl FnMut(usize, usize, usize)) {
    let n: usize = out.iter().product();
    match Layout::of(a, b, out) {
        Layout::Same => (0..n).for_each(|i| f(i, i, i)),
        Layout::ScalarB => (0..n).for_each(|i| f(i, i, 0)),
        Layout::ScalarA => (0..n).for_each(|i| f(i, 0, i)),
        Layout::RowB(w) => {
            for r in (0..n).step_by(w) {
                (0..w).for_each(|j| f(r + j, r + j, j));
            }
        }
        Layout::RowA(w) => {
            for r in (0..n).step_by(w) {
                (0..w).for_each(|j| f(r + j, j, r + j));
            }
        }
        Layout::ColB(w) => {
            for (row, r) in (0..n).step_by(w).enumerate() {
                (0..w).for_each(|j| f(r + j, r + j, row));
            }
        }
        Layout::ColA(w) => {
            for (row, r) in (0..n).step_by(w).enumerate() {
                (0..w).for_each(|j| f(r + j, row, r + j));
            }
        }
        Layout::General => {
            let ia = BroadcastIndex::new(a, out);
            let ib = BroadcastIndex::new(b, out);
            for (i, (ia, ib)) in ia.zip(ib).enumerate() {
                f(i, ia, ib);
            }
        }
    }
}

/// How two operands map onto their broadcast output, from the cheapest case to the general one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Layout {
    /// Both have every element of the output.
    Same,
    /// `b` is one element.
    ScalarB,
    /// `a` is one element.
    ScalarA,
    /// `a` is full and `b` is a row of this width repeated along the leading dimensions (a bias).
    RowB(usize),
    /// `b` is full and `a` is a repeated row.
    RowA(usize),
    /// `a` is full and `b` has one element per row of this width (shape `[.., 1]`), repeated
    /// along the row (a per-row scale or sum).
    ColB(usize),
    /// `b` is full and `a` has one element per row.
    ColA(usize),
    /// Anything else: index through strides.
    General,
}

impl Layout {
    #[inline]
    pub(crate) fn of(a: &[usize], b: &[usize], out: &[usize]) -> Layout {
        // The common case first, without the products below.
        if same(a, out) && same(b, out) {
            return Layout::Same;
        }
        let n: usize = out.iter().product();
        let (na, nb): (usize, usize) = (a.iter().product(), b.iter().product());
        // A row: no size-1 dimension of its own and the output's trailing dimensions.
        let is_row = |s: &[usize], ns: usize| ns > 0 && !s.contains(&1) && out.ends_with(s);
        // A column: the output's shape with the last dimension (of at least 1 element) set to 1.
        let is_col = |s: &[usize]| {
            n > 0 && s.len() == out.len() && s.last() == Some(&1) && s[..s.len() - 1] == out[..out.len() - 1]
        };
        if na == n && nb == n {
            Layout::Same
        } else if na == n && nb == 1 {
            Layout::ScalarB
        } else if na == 1 && nb == n {
            Layout::ScalarA
        } else if na == n && is_row(b, nb) {
            Layout::RowB(nb)
        } else if nb == n && is_row(a, na) {
            Layout::RowA(na)
        } else if na == n && is_col(b) {
            Layout::ColB(out[out.len() - 1])
        } else if nb == n && is_col(a) {
            Layout::ColA(out[out.len() - 1])
        } else {
            Layout::General
        }
    }
}

/// `out[i] = f(a[ia], b[ib])` over the broadcast output, in loops the compiler can vectorize.
#[inline(always)]
pub(crate) fn map2<T: Float>(a: &[usize], b: &[usize], o: &[usize], av: &[T], bv: &[T], out: &mut [T], f: impl Fn(T, T) -> T) {
    match Layout::of(a, b, o) {
        Layout::Same => out.iter_mut().zip(av.iter().zip(bv)).for_each(|(y, (&x, &z))| *y = f(x, z)),
        Layout::ScalarB => out.iter_mut().zip(av).for_each(|(y, &x)| *y = f(x, bv[0])),
        Layout::ScalarA => out.iter_mut().zip(bv).for_each(|(y, &z)| *y = f(av[0], z)),
        Layout::RowB(w) => {
            for (orow, arow) in out.chunks_exact_mut(w).zip(av.chunks_exact(w)) {
                orow.iter_mut().zip(arow.iter().zip(bv)).for_each(|(y, (&x, &z))| *y = f(x, z));
            }
        }
        Layout::RowA(w) => {
            for (orow, brow) in out.chunks_exact_mut(w).zip(bv.chunks_exact(w)) {
                orow.iter_mut().zip(av.iter().zip(brow)).for_each(|(y, (&x, &z))| *y = f(x, z));
            }
        }
        Layout::ColB(w) => {
            for ((orow, arow), &z) in out.chunks_exact_mut(w).zip(av.chunks_exact(w)).zip(bv) {
                orow.iter_mut().zip(arow).for_each(|(y, &x)| *y = f(x, z));
            }
        }
        Layout::ColA(w) => {
            for ((orow, brow), &x) in out.chunks_exact_mut(w).zip(bv.chunks_exact(w)).zip(av) {
                orow.iter_mut().zip(brow).for_each(|(y, &z)| *y = f(x, z));
            }
        }
        Layout::General => for_each_broadcast(a, b, o, |i, ia, ib| out[i] = f(av[ia], bv[ib])),
    }
}

