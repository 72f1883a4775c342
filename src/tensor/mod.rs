//! The tensor type: a contiguous row-major buffer of `f32` or `f64` with a shape.

mod display;
mod element;
pub(crate) mod kernels;
mod ops;
pub(crate) mod parallel;
pub mod shape;

pub use element::Float;
pub use kernels::gemm;
pub use shape::Shape;

use rand::distributions::{Distribution, Uniform};
use rand::Rng;

/// An n-dimensional array of floats: contiguous row-major storage plus a shape kept inline.
///
/// ```
/// use tapegrad::Tensor;
/// let t = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[2, 2]);
/// assert_eq!(t.shape(), &[2, 2]);
/// assert_eq!(t.get(&[1, 0]), 3.0);
/// assert_eq!(t.sum_all(), 10.0);
/// ```
#[derive(Clone, PartialEq)]
pub struct Tensor<T: Float> {
    data: Vec<T>,
    shape: Shape,
}

impl<T: Float> Tensor<T> {
    /// A tensor from a buffer and a shape; panics (naming both) when the sizes differ.
    #[track_caller]
    pub fn from_vec(data: Vec<T>, shape: &[usize]) -> Self {
        let n = shape::numel(shape);
        assert!(
            data.len() == n,
            "Tensor::from_vec: {} values cannot fill shape {:?} ({} elements)",
            data.len(),
            shape,
            n
        );
        Tensor { data, shape: shape.into() }
    }

    /// A tensor from a slice (copied) and a shape.
    #[track_caller]
    pub fn from_slice(data: &[T], shape: &[usize]) -> Self {
        Self::from_vec(data.to_vec(), shape)
    }

    /// A 2-D tensor from rows of equal length; panics naming the first ragged row.
    #[track_caller]
    pub fn from_rows(rows: &[Vec<T>]) -> Self {
        let cols = rows.first().map_or(0, Vec::len);
        let mut data = Vec::with_capacity(rows.len() * cols);
        for (i, r) in rows.iter().enumerate() {
            assert!(r.len() == cols, "Tensor::from_rows: row {i} has {} values, row 0 has {cols}", r.len());
            data.extend_from_slice(r);
        }
        Tensor { data, shape: smallvec::smallvec![rows.len(), cols] }
    }

    /// Every element set to `value`.
    pub fn full(shape: &[usize], value: T) -> Self {
        Tensor { data: vec![value; shape::numel(shape)], shape: shape.into() }
    }

    /// All zeros.
    pub fn zeros(shape: &[usize]) -> Self {
        Self::full(shape, T::ZERO)
    }

    /// All ones.
    pub fn ones(shape: &[usize]) -> Self {
        Self::full(shape, T::ONE)
    }

    /// A rank-0 tensor holding one value.
    pub fn scalar(value: T) -> Self {
        Tensor { data: vec![value], shape: Shape::new() }
    }

    /// `[start, start + step, ...]` below `end`, as numpy's `arange`.
    pub fn arange(start: T, end: T, step: T) -> Self {
        assert!(step != T::ZERO, "Tensor::arange: step must not be zero");
        let mut data = Vec::new();
        let mut v = start;
        let mut i = 0usize;
        while (step > T::ZERO && v < end) || (step < T::ZERO && v > end) {
            data.push(v);
            i += 1;
            v = start + step * T::from_f64(i as f64);
        }
        let n = data.len();
        Tensor { data, shape: smallvec::smallvec![n] }
    }

    /// Uniform samples in `[low, high)` from any `rand` generator.
    pub fn uniform<R: Rng + ?Sized>(shape: &[usize], low: T, high: T, rng: &mut R) -> Self {
        let dist = Uniform::new(low.to_f64(), high.to_f64());
        let data = (0..shape::numel(shape)).map(|_| T::from_f64(dist.sample(rng))).collect();
        Tensor { data, shape: shape.into() }
    }

    /// Normal samples with the given mean and standard deviation (Box-Muller) from any `rand` generator.
    pub fn normal<R: Rng + ?Sized>(shape: &[usize], mean: T, std: T, rng: &mut R) -> Self {
        let n = shape::numel(shape);
        let mut data = Vec::with_capacity(n);
        while data.len() < n {
            // Box-Muller: two uniforms give two independent standard normals.
            let u1: f64 = 1.0 - rng.gen::<f64>();
            let u2: f64 = rng.gen::<f64>();
            let r = (-2.0 * u1.ln()).sqrt();
            let th = 2.0 * std::f64::consts::PI * u2;
            for z in [r * th.cos(), r * th.sin()] {
                if data.len() < n {
                    data.push(mean + std * T::from_f64(z));
                }
            }
        }
        Tensor { data, shape: shape.into() }
    }

    /// The dimensions, outermost first.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// Number of dimensions.
    pub fn rank(&self) -> usize {
        self.shape.len()
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// `true` when the tensor has no elements.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The elements in row-major order.
    pub fn data(&self) -> &[T] {
        &self.data
    }

    /// The elements in row-major order, mutable.
    pub fn data_mut(&mut self) -> &mut [T] {
        &mut self.data
    }

    /// A copy of the elements.
    pub fn to_vec(&self) -> Vec<T> {
        self.data.clone()
    }

    /// The buffer, consuming the tensor.
    pub fn into_vec(self) -> Vec<T> {
        self.data
    }

    /// The one value of a one-element tensor; panics otherwise.
    #[track_caller]
    pub fn item(&self) -> T {
        assert!(self.data.len() == 1, "Tensor::item: tensor of shape {:?} has {} elements, not 1", self.shape, self.data.len());
        self.data[0]
    }

    /// Row-major offset of a multi-index; panics naming the index and the shape when out of range.
    #[track_caller]
    pub fn offset(&self, index: &[usize]) -> usize {
        assert!(
            index.len() == self.shape.len() && index.iter().zip(&self.shape).all(|(i, d)| i < d),
            "Tensor: index {:?} is out of range for shape {:?}",
            index,
            self.shape
        );
        index.iter().zip(&self.shape).fold(0, |acc, (i, d)| acc * d + i)
    }

    /// The element at a multi-index.
    #[track_caller]
    pub fn get(&self, index: &[usize]) -> T {
        self.data[self.offset(index)]
    }

    /// Sets the element at a multi-index.
    #[track_caller]
    pub fn set(&mut self, index: &[usize], value: T) {
        let o = self.offset(index);
        self.data[o] = value;
    }

    /// The same data under another shape with as many elements.
    #[track_caller]
    pub fn reshape(mut self, shape: &[usize]) -> Self {
        assert!(
            shape::numel(shape) == self.data.len(),
            "Tensor::reshape: cannot view shape {:?} ({} elements) as {:?}",
            self.shape,
            self.data.len(),
            shape
        );
        self.shape = shape.into();
        self
    }

    /// Applies `f` to every element.
    pub fn map(&self, f: impl Fn(T) -> T) -> Self {
        Tensor { data: self.data.iter().map(|&x| f(x)).collect(), shape: self.shape.clone() }
    }

    /// Sum of all elements.
    pub fn sum_all(&self) -> T {
        self.data.iter().copied().sum()
    }

    /// Mean of all elements.
    pub fn mean_all(&self) -> T {
        self.sum_all() / T::from_f64(self.data.len() as f64)
    }

    /// Largest element (NaN if any element is NaN).
    pub fn max_all(&self) -> T {
        self.data.iter().copied().fold(T::from_f64(f64::NEG_INFINITY), |m, x| if x.is_nan() || m.is_nan() { T::from_f64(f64::NAN) } else { m.max(x) })
    }

    /// Rows `start..end` of the first axis, copied.
    #[track_caller]
    pub fn slice_rows(&self, start: usize, end: usize) -> Self {
        assert!(self.rank() > 0, "Tensor::slice_rows: a rank-0 tensor has no rows (shape [])");
        let rows = self.shape[0];
        assert!(start <= end && end <= rows, "Tensor::slice_rows: rows {start}..{end} out of range for shape {:?}", self.shape);
        let inner = shape::numel(&self.shape[1..]);
        let mut s = self.shape.clone();
        s[0] = end - start;
        Tensor { data: self.data[start * inner..end * inner].to_vec(), shape: s }
    }

    /// The rows named by `indices` along the first axis, in that order.
    #[track_caller]
    pub fn select_rows(&self, indices: &[usize]) -> Self {
        assert!(self.rank() > 0, "Tensor::select_rows: a rank-0 tensor has no rows (shape [])");
        let rows = self.shape[0];
        let inner = shape::numel(&self.shape[1..]);
        let mut data = Vec::with_capacity(indices.len() * inner);
        for &i in indices {
            assert!(i < rows, "Tensor::select_rows: row {i} out of range for shape {:?}", self.shape);
            data.extend_from_slice(&self.data[i * inner..(i + 1) * inner]);
        }
        let mut s = self.shape.clone();
        s[0] = indices.len();
        Tensor { data, shape: s }
    }

    /// Converts every element to another float type (`f32` <-> `f64`).
    pub fn cast<U: Float>(&self) -> Tensor<U> {
        Tensor { data: self.data.iter().map(|&x| U::from_f64(x.to_f64())).collect(), shape: self.shape.clone() }
    }

    /// `true` when every element is finite.
    pub fn all_finite(&self) -> bool {
        self.data.iter().all(|x| x.is_finite())
    }
}

impl Tensor<f64> {
    /// Converts to `f32`.
    pub fn to_f32(&self) -> Tensor<f32> {
        self.cast()
    }
}

impl Tensor<f32> {
    /// Converts to `f64`.
    pub fn to_f64(&self) -> Tensor<f64> {
        self.cast()
    }
}
