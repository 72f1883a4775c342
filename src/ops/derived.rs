//! Activations and reductions written as expressions of other ops: `leaky_relu`, `elu`, `softplus`
//! with PyTorch's `beta`/`threshold`, one-sided `clamp`, `min`, `var` and `std` with a
//! `correction`, reductions over several axes at once, full reductions that keep their axes
//! (`sum_keepdim`, ...), `tile`, and `argmax`/`argmin` (no gradient).
//!
//! None of them is a new node kind: each records op units that already exist (`where`, `gt`,
//! `clip`, `max`, `sum`, ...), so its reverse rule, recorded rule (second order) and JVP are those
//! of its parts, and its kink follows from theirs as each doc comment states.

use crate::tape::Var;
use crate::tensor::{Float, Tensor};

/// `axis` (negative counts from the end) as an index into a shape of `rank`, or a panic naming `op`.
#[track_caller]
pub(crate) fn axis_index(op: &str, axis: isize, rank: usize) -> usize {
    let a = if axis < 0 { axis + rank as isize } else { axis };
    if a < 0 || a >= rank as isize {
        panic!("{op}: axis {axis} is out of range for a value of rank {rank}");
    }
    a as usize
}

/// Distinct axes, sorted, from `axes` (negative counts from the end); panics on a repeat.
#[track_caller]
pub(crate) fn axes_index(op: &str, axes: &[isize], rank: usize) -> Vec<usize> {
    let mut a: Vec<usize> = axes.iter().map(|&x| axis_index(op, x, rank)).collect();
    a.sort_unstable();
    if a.windows(2).any(|w| w[0] == w[1]) {
        panic!("{op}: axes {axes:?} name an axis twice (rank {rank})");
    }
    a
}

impl<'t, T: Float> Var<'t, T> {
    /// `x` where `x > 0`, else `slope * x` (PyTorch's `F.leaky_relu(x, negative_slope)`, Keras'
    /// `leaky_relu`). At 0 the derivative is `slope`, as in PyTorch and TensorFlow.
    ///
    /// ```
    /// use tapegrad::{Tape, Tensor};
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(Tensor::from_vec(vec![-2.0, 0.0, 3.0], &[3]));
    /// let y = x.leaky_relu(0.1);
    /// assert_eq!(y.value().data(), &[-0.2, 0.0, 3.0]);
    /// assert_eq!(&y.sum().backward()[x], &[0.1, 0.1, 1.0]);
    /// ```
    #[track_caller]
    pub fn leaky_relu(self, slope: T) -> Var<'t, T> {
        let positive = self.gt(self.tape().scalar(T::ZERO));
        Var::where_(positive, self, self * slope)
    }

    /// `x` where `x > 0`, else `alpha (e^x - 1)` (PyTorch's `F.elu`, Keras' `elu`). At 0 the
    /// derivative is `alpha`, as in PyTorch. The exponential reads `min(x, 0)`, so no large `x`
    /// overflows it.
    #[track_caller]
    pub fn elu(self, alpha: T) -> Var<'t, T> {
        let positive = self.gt(self.tape().scalar(T::ZERO));
        let negative = (self.clip(T::from_f64(f64::NEG_INFINITY), T::ZERO).exp() - T::ONE) * alpha;
        Var::where_(positive, self, negative)
    }

    /// `ln(1 + e^(beta x)) / beta`, and `x` itself where `beta x > threshold` (PyTorch's
    /// `F.softplus(x, beta, threshold)`: there the value is `x` and the derivative exactly 1).
    #[track_caller]
    pub fn softplus_with(self, beta: T, threshold: T) -> Var<'t, T> {
        let bx = self * beta;
        let linear = bx.gt(self.tape().scalar(threshold));
        Var::where_(linear, self, bx.softplus() / beta)
    }

    /// `max(x, lo)` (PyTorch's `clamp(min=lo)`); the gradient passes where `x >= lo`, the closed
    /// interval as [`clip`](Self::clip).
    #[track_caller]
    pub fn clamp_min(self, lo: T) -> Var<'t, T> {
        self.clip(lo, T::from_f64(f64::INFINITY))
    }

    /// `min(x, hi)` (PyTorch's `clamp(max=hi)`); the gradient passes where `x <= hi`.
    #[track_caller]
    pub fn clamp_max(self, hi: T) -> Var<'t, T> {
        self.clip(T::from_f64(f64::NEG_INFINITY), hi)
    }

    /// The smallest element (a tie shares the gradient equally, as `max`).
    #[track_caller]
    pub fn min(self) -> Var<'t, T> {
        -(-self).max()
    }

    /// The smallest element along `axis` (`torch.amin(x, axis, keepdim)`); ties as `max_axis`.
    #[track_caller]
    pub fn min_axis(self, axis: isize, keepdim: bool) -> Var<'t, T> {
        -(-self).max_axis(axis, keepdim)
    }

    /// Sum over several axes at once (`x.sum(axes, keepdim)`); every axis with `keepdim` keeps
    /// all dimensions, so `x.sum_axes(&[0, 1], true)` of a matrix is `[1, 1]`.
    #[track_caller]
    pub fn sum_axes(self, axes: &[isize], keepdim: bool) -> Var<'t, T> {
        let shape = self.shape();
        let a = axes_index("sum_axes", axes, shape.len());
        let kept = a.iter().fold(self, |v, &ax| v.sum_axis(ax as isize, true));
        if keepdim { kept } else { kept.reshape(&drop_axes(&shape, &a)) }
    }

    /// Mean over several axes at once (see [`sum_axes`](Self::sum_axes)).
    #[track_caller]
    pub fn mean_axes(self, axes: &[isize], keepdim: bool) -> Var<'t, T> {
        let shape = self.shape();
        let a = axes_index("mean_axes", axes, shape.len());
        let count: usize = a.iter().map(|&ax| shape[ax]).product();
        self.sum_axes(axes, keepdim) / T::from_f64(count as f64)
    }

    /// Largest element over several axes at once; tied elements share the gradient equally, over
    /// all the reduced axes together.
    #[track_caller]
    pub fn max_axes(self, axes: &[isize], keepdim: bool) -> Var<'t, T> {
        let shape = self.shape();
        let a = axes_index("max_axes", axes, shape.len());
        // Move the reduced axes last, fold them into one, and reduce that one.
        let rest: Vec<usize> = (0..shape.len()).filter(|d| !a.contains(d)).collect();
        let order: Vec<usize> = rest.iter().chain(&a).copied().collect();
        let mut folded: Vec<usize> = rest.iter().map(|&d| shape[d]).collect();
        folded.push(a.iter().map(|&d| shape[d]).product());
        let m = self.permute(&order).reshape(&folded).max_axis(-1, false);
        if keepdim {
            let kept: Vec<usize> = (0..shape.len()).map(|d| if a.contains(&d) { 1 } else { shape[d] }).collect();
            m.reshape(&kept)
        } else {
            m
        }
    }

    /// Smallest element over several axes at once (see [`max_axes`](Self::max_axes)).
    #[track_caller]
    pub fn min_axes(self, axes: &[isize], keepdim: bool) -> Var<'t, T> {
        -(-self).max_axes(axes, keepdim)
    }

    /// Variance along `axis`: `sum((x - mean)^2) / (n - correction)` (PyTorch's
    /// `x.var(axis, correction=.., keepdim=..)`: `correction` 1 is the unbiased estimate, 0 the
    /// population variance). Computed from the deviations, not from `E[x²] - E[x]²`.
    ///
    /// ```
    /// use tapegrad::{Tape, Tensor};
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[4]));
    /// assert_eq!(x.var_axis(0, 1, false).item(), 5.0 / 3.0);
    /// assert_eq!(x.var_axis(0, 0, false).item(), 1.25);
    /// ```
    #[track_caller]
    pub fn var_axis(self, axis: isize, correction: usize, keepdim: bool) -> Var<'t, T> {
        let shape = self.shape();
        let a = axis_index("var", axis, shape.len());
        let n = shape[a];
        if n <= correction {
            panic!("var: axis {axis} has {n} elements (shape {:?}), not more than the correction {correction}", &shape[..]);
        }
        let dev = self - self.mean_axis(axis, true);
        dev.square().sum_axis(axis, keepdim) / T::from_f64((n - correction) as f64)
    }

    /// Variance of all elements (see [`var_axis`](Self::var_axis)).
    #[track_caller]
    pub fn var(self, correction: usize) -> Var<'t, T> {
        let n = self.len();
        self.reshape(&[n]).var_axis(0, correction, false)
    }

    /// Standard deviation along `axis`: the square root of [`var_axis`](Self::var_axis) (its
    /// derivative is infinite where the variance is 0, as PyTorch's).
    #[track_caller]
    pub fn std_axis(self, axis: isize, correction: usize, keepdim: bool) -> Var<'t, T> {
        self.var_axis(axis, correction, keepdim).sqrt()
    }

    /// Standard deviation of all elements.
    #[track_caller]
    pub fn std(self, correction: usize) -> Var<'t, T> {
        self.var(correction).sqrt()
    }

    /// Index of the largest element along `axis` (`torch.argmax(x, axis, keepdim)`), as a constant
    /// of the indices (no gradient flows through it) shaped like `max_axis`'s result. A tie gives
    /// the first index, as PyTorch and numpy do; a NaN counts as the largest (PyTorch).
    ///
    /// ```
    /// use tapegrad::{Tape, Tensor};
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(Tensor::from_vec(vec![1.0, 5.0, 5.0, 7.0, 0.0, -1.0], &[2, 3]));
    /// assert_eq!(x.argmax_axis(1, false).value().data(), &[1.0, 0.0]);
    /// assert_eq!(x.argmin_axis(0, false).value().data(), &[0.0, 1.0, 1.0]);
    /// ```
    #[track_caller]
    pub fn argmax_axis(self, axis: isize, keepdim: bool) -> Var<'t, T> {
        self.arg_extreme("argmax", axis, keepdim, |v, best| v > best || (v.is_nan() && !best.is_nan()))
    }

    /// Index of the smallest element along `axis` (`torch.argmin`); ties and NaN as
    /// [`argmax_axis`](Self::argmax_axis).
    #[track_caller]
    pub fn argmin_axis(self, axis: isize, keepdim: bool) -> Var<'t, T> {
        self.arg_extreme("argmin", axis, keepdim, |v, best| v < best || (v.is_nan() && !best.is_nan()))
    }

    /// Flat index of the largest element (`torch.argmax(x)` without `dim`: the index into the
    /// row-major flattened value, rank 0); ties and NaN as [`argmax_axis`](Self::argmax_axis).
    ///
    /// ```
    /// use tapegrad::{Tape, Tensor};
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(Tensor::from_vec(vec![1.0, 7.0, 7.0, -3.0], &[2, 2]));
    /// assert_eq!(x.argmax().item(), 1.0);
    /// assert_eq!(x.argmin().item(), 3.0);
    /// ```
    #[track_caller]
    pub fn argmax(self) -> Var<'t, T> {
        let n = self.len();
        self.reshape(&[n]).argmax_axis(0, false)
    }

    /// Flat index of the smallest element (`torch.argmin(x)`); see [`argmax`](Self::argmax).
    #[track_caller]
    pub fn argmin(self) -> Var<'t, T> {
        let n = self.len();
        self.reshape(&[n]).argmin_axis(0, false)
    }

    /// Sum of all elements with every axis kept as size 1 (numpy's and Keras'
    /// `sum(x, axis=None, keepdims=True)`, PyTorch's `x.sum(dim=all, keepdim=True)`): a `[2, 3]`
    /// value gives `[1, 1]`, which broadcasts back against it.
    ///
    /// ```
    /// use tapegrad::{Tape, Tensor};
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]));
    /// let s = x.sum_keepdim();
    /// assert_eq!(&s.shape()[..], &[1, 1]);
    /// assert_eq!((x / s).value().data()[5], 6.0 / 21.0);
    /// ```
    #[track_caller]
    pub fn sum_keepdim(self) -> Var<'t, T> {
        self.sum().reshape(&ones_like_rank(&self.shape()))
    }

    /// Mean of all elements, every axis kept as size 1 (see [`sum_keepdim`](Self::sum_keepdim)).
    #[track_caller]
    pub fn mean_keepdim(self) -> Var<'t, T> {
        self.mean().reshape(&ones_like_rank(&self.shape()))
    }

    /// Largest element, every axis kept as size 1; ties as [`max`](Self::max).
    #[track_caller]
    pub fn max_keepdim(self) -> Var<'t, T> {
        self.max().reshape(&ones_like_rank(&self.shape()))
    }

    /// Smallest element, every axis kept as size 1; ties as [`min`](Self::min).
    #[track_caller]
    pub fn min_keepdim(self) -> Var<'t, T> {
        self.min().reshape(&ones_like_rank(&self.shape()))
    }

    /// Variance of all elements, every axis kept as size 1 (see [`var_axis`](Self::var_axis)).
    #[track_caller]
    pub fn var_keepdim(self, correction: usize) -> Var<'t, T> {
        self.var(correction).reshape(&ones_like_rank(&self.shape()))
    }

    /// Standard deviation of all elements, every axis kept as size 1.
    #[track_caller]
    pub fn std_keepdim(self, correction: usize) -> Var<'t, T> {
        self.std(correction).reshape(&ones_like_rank(&self.shape()))
    }

    /// The value tiled `reps[d]` times along each axis (`np.tile`, `torch.tile`): unlike
    /// [`repeat`](Self::repeat), `reps` may be shorter than the rank (the missing leading counts
    /// are one) or longer (the value gets leading axes of size 1 first). Each element's gradient
    /// sums over its copies.
    ///
    /// ```
    /// use tapegrad::{Tape, Tensor};
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(Tensor::from_vec(vec![1.0, 2.0], &[2]));
    /// let y = x.tile(&[2, 2]);                       // [2] -> [1, 2] -> [2, 4]
    /// assert_eq!(&y.shape()[..], &[2, 4]);
    /// assert_eq!(y.value().data(), &[1.0, 2.0, 1.0, 2.0, 1.0, 2.0, 1.0, 2.0]);
    /// assert_eq!(&y.sum().backward()[x], &[4.0, 4.0]);
    /// ```
    #[track_caller]
    pub fn tile(self, reps: &[usize]) -> Var<'t, T> {
        let shape = self.shape();
        if reps.contains(&0) {
            panic!("tile: counts {reps:?} for shape {:?} must be positive", &shape[..]);
        }
        let r = shape.len().max(reps.len());
        let mut lifted = vec![1; r - shape.len()];
        lifted.extend_from_slice(&shape);
        let mut counts = vec![1; r - reps.len()];
        counts.extend_from_slice(reps);
        let x = if lifted.len() == shape.len() { self } else { self.reshape(&lifted) };
        if r == 0 {
            return x;
        }
        x.repeat(&counts)
    }

    #[track_caller]
    fn arg_extreme(self, op: &str, axis: isize, keepdim: bool, better: impl Fn(T, T) -> bool) -> Var<'t, T> {
        let shape = self.shape();
        let a = axis_index(op, axis, shape.len());
        let (outer, len, inner) = (shape[..a].iter().product::<usize>(), shape[a], shape[a + 1..].iter().product::<usize>());
        if len == 0 {
            panic!("{op}: axis {axis} of shape {:?} is empty", &shape[..]);
        }
        let idx: Vec<T> = self.with_data(|x| {
            let mut out = Vec::with_capacity(outer * inner);
            for o in 0..outer {
                for i in 0..inner {
                    let at = |k: usize| x[(o * len + k) * inner + i];
                    let mut best = 0;
                    for k in 1..len {
                        if better(at(k), at(best)) {
                            best = k;
                        }
                    }
                    out.push(T::from_f64(best as f64));
                }
            }
            out
        });
        let mut s = shape.to_vec();
        if keepdim {
            s[a] = 1;
        } else {
            s.remove(a);
        }
        self.tape().constant(Tensor::from_vec(idx, &s))
    }
}

/// A shape of ones of the same rank as `shape`.
fn ones_like_rank(shape: &[usize]) -> Vec<usize> {
    vec![1; shape.len()]
}

/// `shape` without the dimensions in `axes`.
fn drop_axes(shape: &[usize], axes: &[usize]) -> Vec<usize> {
    shape.iter().enumerate().filter(|(d, _)| !axes.contains(d)).map(|(_, &s)| s).collect()
}
