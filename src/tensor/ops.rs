//! Arithmetic on plain tensors, without a tape: elementwise ops with numpy broadcasting, reductions
//! over all elements or one axis (with `keepdim`), 2-D matmul and transpose.
//!
//! These run the very kernels the tape ops run (`for_each_broadcast` and the elementwise rules, the
//! reduction loop, the shared `gemm`), so a value computed here and one recorded on a tape agree
//! bit for bit. Use them for evaluation, metrics and data preparation, where no gradient is needed.
//!
//! ```
//! use tapegrad::Tensor;
//! let a = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]);
//! let b = Tensor::from_vec(vec![10.0, 20.0, 30.0], &[3]);
//! let c = &a + &b;                                  // b is broadcast over the rows
//! assert_eq!(c.data(), &[11.0, 22.0, 33.0, 14.0, 25.0, 36.0]);
//! assert_eq!(a.sum_axis(0, false).data(), &[5.0, 7.0, 9.0]);
//! assert_eq!(a.matmul(&a.t()).data(), &[14.0, 32.0, 32.0, 77.0]);
//! ```

use super::shape::{broadcast_shapes, normalize_axis, numel, reduced_shape, Shape};
use super::{Float, Tensor};
use super::kernels::{for_each_broadcast, gemm, map2, maximum, minimum, reduce_forward, Reduce};
use std::ops::{Add, Div, Mul, Neg, Sub};

impl<T: Float> Tensor<T> {
    /// Elementwise `f(self, other)` with broadcasting; panics naming the op and both shapes.
    #[track_caller]
    fn zip_broadcast(&self, other: &Tensor<T>, name: &str, f: impl Fn(T, T) -> T) -> Tensor<T> {
        let Some(out_shape) = broadcast_shapes(&self.shape, &other.shape) else {
            panic!(
                "Tensor::{}: shapes {:?} and {:?} cannot be broadcast together",
                name,
                &self.shape[..],
                &other.shape[..]
            );
        };
        let (av, bv) = (&self.data, &other.data);
        let mut data = vec![T::ZERO; numel(&out_shape)];
        map2(&self.shape, &other.shape, &out_shape, av, bv, &mut data, f);
        Tensor { data, shape: out_shape }
    }

    /// Elementwise maximum with numpy broadcasting.
    #[track_caller]
    pub fn maximum(&self, other: &Tensor<T>) -> Tensor<T> {
        self.zip_broadcast(other, "maximum", maximum)
    }

    /// Elementwise minimum with numpy broadcasting.
    #[track_caller]
    pub fn minimum(&self, other: &Tensor<T>) -> Tensor<T> {
        self.zip_broadcast(other, "minimum", minimum)
    }

    /// The tensor repeated along size-1 (or missing leading) dimensions to reach `shape`.
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// let col = Tensor::from_vec(vec![1.0, 2.0], &[2, 1]);
    /// assert_eq!(col.broadcast_to(&[2, 3]).data(), &[1.0, 1.0, 1.0, 2.0, 2.0, 2.0]);
    /// ```
    #[track_caller]
    pub fn broadcast_to(&self, shape: &[usize]) -> Tensor<T> {
        match broadcast_shapes(&self.shape, shape) {
            Some(b) if b.as_slice() == shape => {}
            _ => panic!("Tensor::broadcast_to: shape {:?} cannot be broadcast to {:?}", &self.shape[..], shape),
        }
        let mut data = vec![T::ZERO; numel(shape)];
        let xv = &self.data;
        for_each_broadcast(&self.shape, &self.shape, shape, |i, ix, _| data[i] = xv[ix]);
        Tensor { data, shape: shape.into() }
    }

    #[track_caller]
    fn reduce_axis(&self, kind: Reduce, axis: isize, keepdim: bool) -> Tensor<T> {
        let Some(a) = normalize_axis(axis, self.rank()) else {
            panic!(
                "Tensor::{}_axis: axis {axis} is out of range for shape {:?} (rank {})",
                kind.name(),
                &self.shape[..],
                self.rank()
            );
        };
        if kind == Reduce::Max && self.shape[a] == 0 {
            panic!("Tensor::max_axis: cannot reduce an empty axis of shape {:?}", &self.shape[..]);
        }
        let out_shape: Shape = reduced_shape(&self.shape, a, keepdim);
        let mut data = vec![T::ZERO; numel(&out_shape)];
        reduce_forward(kind, &self.data, &self.shape, Some(a as u32), &mut data);
        Tensor { data, shape: out_shape }
    }

    /// Sum along `axis` (negative counts from the end); `keepdim` keeps the axis with size 1.
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// let t = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[2, 2]);
    /// let s = t.sum_axis(-1, true);
    /// assert_eq!(s.shape(), &[2, 1]);
    /// assert_eq!(s.data(), &[3.0, 7.0]);
    /// ```
    #[track_caller]
    pub fn sum_axis(&self, axis: isize, keepdim: bool) -> Tensor<T> {
        self.reduce_axis(Reduce::Sum, axis, keepdim)
    }

    /// Mean along `axis`; `keepdim` keeps the axis with size 1.
    #[track_caller]
    pub fn mean_axis(&self, axis: isize, keepdim: bool) -> Tensor<T> {
        self.reduce_axis(Reduce::Mean, axis, keepdim)
    }

    /// Largest element along `axis` (NaN propagates); `keepdim` keeps the axis with size 1.
    #[track_caller]
    pub fn max_axis(&self, axis: isize, keepdim: bool) -> Tensor<T> {
        self.reduce_axis(Reduce::Max, axis, keepdim)
    }

    /// Matrix product of `[m, k]` and `[k, n]`, through matrixmultiply's sgemm/dgemm for large
    /// sizes (the same kernel as the tape's `matmul`).
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// let a = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[2, 2]);
    /// let id = Tensor::from_vec(vec![1.0, 0.0, 0.0, 1.0], &[2, 2]);
    /// assert_eq!(a.matmul(&id), a);
    /// assert_eq!(a.matmul(&a).data(), &[7.0, 10.0, 15.0, 22.0]);
    /// ```
    #[track_caller]
    pub fn matmul(&self, other: &Tensor<T>) -> Tensor<T> {
        let (sa, sb) = (&self.shape, &other.shape);
        if sa.len() != 2 || sb.len() != 2 || sa[1] != sb[0] {
            panic!("Tensor::matmul: shapes {:?} and {:?} are incompatible (need [m, k] and [k, n])", &sa[..], &sb[..]);
        }
        let (m, k, n) = (sa[0], sa[1], sb[1]);
        let mut data = vec![T::ZERO; m * n];
        gemm(m, k, n, &self.data, (k, 1), &other.data, (n, 1), T::ZERO, &mut data);
        Tensor { data, shape: smallvec::smallvec![m, n] }
    }

    /// Transpose of a 2-D tensor (`x.T`), copied into row-major order.
    #[track_caller]
    pub fn t(&self) -> Tensor<T> {
        assert!(self.rank() == 2, "Tensor::transpose: needs a 2-D tensor, got shape {:?}", &self.shape[..]);
        let (r, c) = (self.shape[0], self.shape[1]);
        let mut data = vec![T::ZERO; r * c];
        for i in 0..r {
            for j in 0..c {
                // y[j, i] = x[i, j]
                data[j * r + i] = self.data[i * c + j];
            }
        }
        Tensor { data, shape: smallvec::smallvec![c, r] }
    }

    /// Axes `a` and `b` swapped (PyTorch's `transpose(a, b)`; negative axes count from the end),
    /// copied into row-major order. `transpose(0, 1)` of a 2-D tensor is [`t`](Self::t).
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// let x = Tensor::from_vec((0..6).map(f64::from).collect(), &[1, 2, 3]);
    /// let y = x.transpose(-1, 0);
    /// assert_eq!(y.shape(), &[3, 2, 1]);
    /// assert_eq!(y.data(), &[0.0, 3.0, 1.0, 4.0, 2.0, 5.0]);
    /// ```
    #[track_caller]
    pub fn transpose(&self, a: isize, b: isize) -> Tensor<T> {
        let r = self.rank();
        let (Some(a), Some(b)) = (normalize_axis(a, r), normalize_axis(b, r)) else {
            panic!("Tensor::transpose: axes ({a}, {b}) are out of range for shape {:?}", &self.shape[..]);
        };
        let (a, b) = (a.min(b), a.max(b));
        if a == b {
            return self.clone();
        }
        // The value as [pre, A, mid, B, post] blocks; y[p, j, m, i, q] = x[p, i, m, j, q].
        let size = |axes: std::ops::Range<usize>| self.shape[axes].iter().product::<usize>();
        let (pre, na, mid, nb, post) = (size(0..a), self.shape[a], size(a + 1..b), self.shape[b], size(b + 1..r));
        let mut data = Vec::with_capacity(self.data.len());
        for p in 0..pre {
            for j in 0..nb {
                for m in 0..mid {
                    for i in 0..na {
                        let start = (((p * na + i) * mid + m) * nb + j) * post;
                        data.extend_from_slice(&self.data[start..start + post]);
                    }
                }
            }
        }
        let mut shape = self.shape.clone();
        shape.swap(a, b);
        Tensor { data, shape }
    }

    /// `self` with `f(x, c)` applied to every element (the scalar operators' shared loop).
    fn with_scalar(&self, c: T, f: impl Fn(T, T) -> T) -> Tensor<T> {
        Tensor { data: self.data.iter().map(|&x| f(x, c)).collect(), shape: self.shape.clone() }
    }
}

macro_rules! tensor_operator {
    ($trait:ident, $method:ident, $op:tt, $assign:tt) => {
        impl<T: Float> $trait<&Tensor<T>> for &Tensor<T> {
            type Output = Tensor<T>;
            /// Elementwise, with numpy broadcasting; panics naming both shapes when they are incompatible.
            #[track_caller]
            fn $method(self, other: &Tensor<T>) -> Tensor<T> {
                self.zip_broadcast(other, stringify!($method), |a, b| a $op b)
            }
        }
        impl<T: Float> $trait<Tensor<T>> for Tensor<T> {
            type Output = Tensor<T>;
            /// Elementwise, with numpy broadcasting (see the `&Tensor` form).
            #[track_caller]
            fn $method(self, other: Tensor<T>) -> Tensor<T> {
                self.zip_broadcast(&other, stringify!($method), |a, b| a $op b)
            }
        }
        impl<T: Float> $trait<T> for &Tensor<T> {
            type Output = Tensor<T>;
            /// The operator between every element and one scalar.
            fn $method(self, c: T) -> Tensor<T> {
                self.with_scalar(c, |x, c| x $op c)
            }
        }
        impl<T: Float> $trait<T> for Tensor<T> {
            type Output = Tensor<T>;
            /// The operator between every element and one scalar, in place (no new buffer).
            fn $method(mut self, c: T) -> Tensor<T> {
                self.data.iter_mut().for_each(|x| *x $assign c);
                self
            }
        }
    };
}
tensor_operator!(Add, add, +, +=);
tensor_operator!(Sub, sub, -, -=);
tensor_operator!(Mul, mul, *, *=);
tensor_operator!(Div, div, /, /=);

macro_rules! scalar_on_left {
    ($($t:ty),*) => {$(
        impl Add<&Tensor<$t>> for $t {
            type Output = Tensor<$t>;
            fn add(self, x: &Tensor<$t>) -> Tensor<$t> { x.with_scalar(self, |x, c| c + x) }
        }
        impl Sub<&Tensor<$t>> for $t {
            type Output = Tensor<$t>;
            fn sub(self, x: &Tensor<$t>) -> Tensor<$t> { x.with_scalar(self, |x, c| c - x) }
        }
        impl Mul<&Tensor<$t>> for $t {
            type Output = Tensor<$t>;
            fn mul(self, x: &Tensor<$t>) -> Tensor<$t> { x.with_scalar(self, |x, c| c * x) }
        }
        impl Div<&Tensor<$t>> for $t {
            type Output = Tensor<$t>;
            fn div(self, x: &Tensor<$t>) -> Tensor<$t> { x.with_scalar(self, |x, c| c / x) }
        }
    )*};
}
scalar_on_left!(f32, f64);

impl<T: Float> Neg for &Tensor<T> {
    type Output = Tensor<T>;
    fn neg(self) -> Tensor<T> {
        self.map(|x| -x)
    }
}

impl<T: Float> Neg for Tensor<T> {
    type Output = Tensor<T>;
    fn neg(mut self) -> Tensor<T> {
        self.data.iter_mut().for_each(|x| *x = -*x);
        self
    }
}
