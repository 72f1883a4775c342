//! The floor for the training-step benchmark: a two-layer MLP step derived by hand in plain Rust,
//! on preallocated buffers, with no tape. The tape's step is measured against it.

use crate::tensor::{gemm, Float};
use crate::Elem;

/// The output layer and loss of the reference MLP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Head {
    /// Linear output, mean squared error (the regression study).
    LinearMse,
    /// Sigmoid output, binary cross-entropy with Keras' clipping (the circles study).
    SigmoidBce,
}

/// `in -> hidden (relu) -> 1` trained by SGD with momentum (Keras' rule `v = m v - lr g; w += v`).
pub struct HandMlp<T: Float> {
    inputs: usize,
    hidden: usize,
    head: Head,
    lr: T,
    momentum: T,
    /// Parameters: w1 `[inputs, hidden]`, b1 `[hidden]`, w2 `[hidden, 1]`, b2 `[1]`.
    pub params: [Vec<T>; 4],
    velocity: [Vec<T>; 4],
    grads: [Vec<T>; 4],
    h: Vec<T>,
    out: Vec<T>,
    dout: Vec<T>,
    dh: Vec<T>,
}

impl<T: Float> HandMlp<T> {
    /// A model with the given parameters (`w1, b1, w2, b2`, row-major).
    pub fn new(inputs: usize, hidden: usize, head: Head, params: [Vec<T>; 4], lr: f64, momentum: f64) -> Self {
        let shapes = [inputs * hidden, hidden, hidden, 1];
        for (p, &n) in params.iter().zip(&shapes) {
            assert_eq!(p.len(), n, "HandMlp::new: parameter sizes must be [in*hidden, hidden, hidden, 1]");
        }
        HandMlp {
            inputs,
            hidden,
            head,
            lr: T::from_f64(lr),
            momentum: T::from_f64(momentum),
            velocity: shapes.map(|n| vec![T::ZERO; n]),
            grads: shapes.map(|n| vec![T::ZERO; n]),
            params,
            h: Vec::new(),
            out: Vec::new(),
            dout: Vec::new(),
            dh: Vec::new(),
        }
    }

    /// One step on a batch `x` (`[batch, inputs]`) with targets `y` (`[batch]`); returns the loss
    /// computed before the update.
    pub fn step(&mut self, x: &[T], y: &[T]) -> T {
        let (n, d, hd) = (y.len(), self.inputs, self.hidden);
        assert_eq!(x.len(), n * d, "HandMlp::step: x must be [batch, inputs]");
        self.h.resize(n * hd, T::ZERO);
        self.out.resize(n, T::ZERO);
        self.dout.resize(n, T::ZERO);
        self.dh.resize(n * hd, T::ZERO);
        let [w1, b1, w2, b2] = &self.params;
        // Forward: h = relu(x w1 + b1); out = h w2 + b2 (then sigmoid for BCE).
        gemm(n, d, hd, x, (d, 1), w1, (hd, 1), T::ZERO, &mut self.h);
        for row in self.h.chunks_exact_mut(hd) {
            for (v, &b) in row.iter_mut().zip(b1) {
                *v = (*v + b).max(T::ZERO);
            }
        }
        gemm(n, hd, 1, &self.h, (hd, 1), w2, (1, 1), T::ZERO, &mut self.out);
        let inv_n = T::ONE / T::from_f64(n as f64);
        let eps = T::from_f64(1e-7);
        let mut loss = T::ZERO;
        for i in 0..n {
            let z = self.out[i] + b2[0];
            match self.head {
                Head::LinearMse => {
                    // L = mean (z - y)^2; dL/dz = 2 (z - y) / n
                    let e = z - y[i];
                    loss += e * e;
                    self.dout[i] = T::from_f64(2.0) * e * inv_n;
                }
                Head::SigmoidBce => {
                    // p = clip(sigmoid(z)); L = -mean(y log p + (1 - y) log(1 - p)); dL/dz = (p - y)/n inside the clip
                    let p = <T as Elem<T>>::sigmoid(z);
                    let pc = p.max(eps).min(T::ONE - eps);
                    loss -= y[i] * pc.ln() + (T::ONE - y[i]) * (T::ONE - pc).ln();
                    let inside = p >= eps && p <= T::ONE - eps;
                    let dp = if inside { -(y[i] / pc) + (T::ONE - y[i]) / (T::ONE - pc) } else { T::ZERO };
                    self.dout[i] = dp * p * (T::ONE - p) * inv_n;
                }
            }
        }
        loss *= inv_n;
        // Backward: dw2 = hᵀ dout; db2 = sum dout; dh = dout w2ᵀ masked by relu; dw1 = xᵀ dh; db1 = sum dh.
        let [gw1, gb1, gw2, gb2] = &mut self.grads;
        gemm(hd, n, 1, &self.h, (1, hd), &self.dout, (1, 1), T::ZERO, gw2);
        gb2[0] = self.dout.iter().copied().sum();
        for i in 0..n {
            for j in 0..hd {
                let k = i * hd + j;
                self.dh[k] = if self.h[k] > T::ZERO { self.dout[i] * w2[j] } else { T::ZERO };
            }
        }
        gemm(d, n, hd, x, (1, d), &self.dh, (hd, 1), T::ZERO, gw1);
        gb1.iter_mut().for_each(|g| *g = T::ZERO);
        for row in self.dh.chunks_exact(hd) {
            for (g, &v) in gb1.iter_mut().zip(row) {
                *g += v;
            }
        }
        // SGD with momentum, Keras' form.
        for ((p, v), g) in self.params.iter_mut().zip(&mut self.velocity).zip(&self.grads) {
            for ((w, vel), &gr) in p.iter_mut().zip(v.iter_mut()).zip(g) {
                *vel = self.momentum * *vel - self.lr * gr;
                *w += *vel;
            }
        }
        loss
    }
}
