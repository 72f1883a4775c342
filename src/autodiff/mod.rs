//! The autodiff toolbox, with the names JAX and `torch.func` users know: [`jvp`], [`vjp`],
//! [`jacfwd`], [`jacrev`], [`jacobian`], [`hessian`] and [`hvp`]. Each takes a function of `Var`s
//! (as [`gradcheck`](crate::gradcheck()) does) and input tensors, records it on a fresh tape and
//! returns plain tensors.
//!
//! Forward mode is native: with the tape's forward mode on, every op's JVP rule runs as the op is
//! recorded, so tangents travel with the values. `jacfwd` seeds one direction per input element
//! and gets the whole Jacobian from one pass; `jacrev` runs one reverse sweep per output element;
//! `hessian` and `hvp` run forward mode over the recorded reverse pass (forward-over-reverse).
//! [`checkpoint`] trades compute for memory in the reverse sweep.
//!
//! ```
//! use tapegrad::autodiff::{hessian, hvp, jacfwd, jacrev, jvp};
//! use tapegrad::{Tensor, Var};
//! // f(x) = [x0 x1, x0^2]: a map from R^2 to R^2.
//! fn f<'t>(v: &[Var<'t, f64>]) -> Var<'t, f64> {
//!     let (x0, x1) = (v[0].gather(0, &[0]), v[0].gather(0, &[1]));
//!     Var::concat(&[x0 * x1, x0.square()], 0)
//! }
//! let x = Tensor::from_vec(vec![2.0, 3.0], &[2]);
//! let (y, t) = jvp(f, &[x.clone()], &[Tensor::from_vec(vec![1.0, 0.0], &[2])]);
//! assert_eq!(y.data(), &[6.0, 4.0]);
//! assert_eq!(t.data(), &[3.0, 4.0]);                 // the first column of J
//! let jf = jacfwd(f, &[x.clone()]);
//! assert_eq!(jf[0].shape(), &[2, 2]);
//! assert_eq!(jf[0], jacrev(f, &[x.clone()])[0]);     // [[3, 2], [4, 0]]
//! // A scalar function: g(x) = x0^2 x1, with H = [[2 x1, 2 x0], [2 x0, 0]].
//! fn g<'t>(v: &[Var<'t, f64>]) -> Var<'t, f64> {
//!     (v[0].gather(0, &[0]).square() * v[0].gather(0, &[1])).sum()
//! }
//! assert_eq!(hessian(g, &[x.clone()])[0][0].data(), &[6.0, 4.0, 4.0, 0.0]);
//! assert_eq!(hvp(g, &[x], &[Tensor::from_vec(vec![1.0, 1.0], &[2])])[0].data(), &[10.0, 4.0]);
//! ```

mod checkpoint;

pub use checkpoint::checkpoint;

use crate::tape::{Tape, Var};
use crate::tensor::{Float, Shape, Tensor};

/// Gives a closure the signature the toolbox takes, `for<'t> Fn(&[Var<'t, T>]) -> Var<'t, T>`, so
/// it can be stored in a `let` and passed to several functions (Rust infers that signature for a
/// closure written as an argument, not for one stored first).
///
/// ```
/// use tapegrad::autodiff::{func, jacfwd, jacrev};
/// use tapegrad::Tensor;
/// let scale = 3.0;
/// let f = func(move |v| (v[0] * scale).tanh());
/// let x = [Tensor::from_vec(vec![0.1, 0.2], &[2])];
/// assert_eq!(jacfwd(&f, &x), jacrev(&f, &x));
/// ```
pub fn func<T: Float, F: for<'t> Fn(&[Var<'t, T>]) -> Var<'t, T>>(f: F) -> F {
    f
}

/// Records `inputs` as tracked leaves on `tape`.
fn leaves<'t, T: Float>(tape: &'t Tape<T>, inputs: &[Tensor<T>]) -> Vec<Var<'t, T>> {
    inputs.iter().map(|x| tape.var(x.clone())).collect()
}

/// Switches forward mode on with one direction and records `inputs` as leaves whose tangents are
/// `tangents`.
fn seeded<'t, T: Float>(tape: &'t Tape<T>, inputs: &[Tensor<T>], tangents: &[Tensor<T>]) -> Vec<Var<'t, T>> {
    tape.forward_mode(1);
    let xs = leaves(tape, inputs);
    for (x, t) in xs.iter().zip(tangents) {
        x.set_tangent(0, t.data());
    }
    xs
}

/// Panics, naming the function and the argument, unless `given` and `want` have the same shapes.
#[track_caller]
fn check_shapes<T: Float>(func: &str, arg: &str, given: &[Tensor<T>], want: &[Tensor<T>]) {
    assert!(
        given.len() == want.len(),
        "{func}: {} {arg} for {} inputs; give one per input",
        given.len(),
        want.len()
    );
    for (i, (g, w)) in given.iter().zip(want).enumerate() {
        assert!(
            g.shape() == w.shape(),
            "{func}: {arg}[{i}] has shape {:?} but input {i} has shape {:?}",
            g.shape(),
            w.shape()
        );
    }
}

/// Panics, naming the function, unless `y` has one element.
#[track_caller]
fn check_scalar<T: Float>(func: &str, y: Var<'_, T>) {
    let s = y.shape();
    assert!(
        y.len() == 1,
        "{func}: the function must return one element, but it returned shape {:?}; reduce it (sum, mean) first",
        &s[..]
    );
}

/// `shape_a ++ shape_b`.
fn joined(a: &[usize], b: &[usize]) -> Shape {
    a.iter().chain(b).copied().collect()
}

/// The output of `f` at `inputs` and its directional derivative `J v` along `tangents`, by forward
/// mode in one pass (JAX's `jax.jvp`, `torch.func.jvp`). Panics naming the argument and both shapes
/// when a tangent's shape differs from its input's.
#[track_caller]
pub fn jvp<T, F>(f: F, inputs: &[Tensor<T>], tangents: &[Tensor<T>]) -> (Tensor<T>, Tensor<T>)
where
    T: Float,
    F: for<'t> Fn(&[Var<'t, T>]) -> Var<'t, T>,
{
    check_shapes("jvp", "tangents", tangents, inputs);
    let tape = Tape::new();
    let xs = seeded(&tape, inputs, tangents);
    let y = f(&xs);
    (y.value(), y.tangent(0))
}

/// The output of `f` at `inputs` and the vector-Jacobian products `uᵀ J` for the cotangent `u`
/// (of the output's shape), one per input, by one reverse sweep (`jax.vjp`, `torch.func.vjp`).
#[track_caller]
pub fn vjp<T, F>(f: F, inputs: &[Tensor<T>], cotangent: &Tensor<T>) -> (Tensor<T>, Vec<Tensor<T>>)
where
    T: Float,
    F: for<'t> Fn(&[Var<'t, T>]) -> Var<'t, T>,
{
    let tape = Tape::new();
    let xs = leaves(&tape, inputs);
    let y = f(&xs);
    let ys = y.shape();
    assert!(
        cotangent.shape() == &ys[..],
        "vjp: the cotangent has shape {:?} but the output has shape {:?}",
        cotangent.shape(),
        &ys[..]
    );
    let grads = (y * tape.constant(cotangent.clone())).sum().backward();
    (y.value(), xs.iter().map(|&x| grads.wrt(x)).collect())
}

/// The Jacobian of `f` with respect to each input by reverse mode: one sweep per output element.
/// Input `i`'s Jacobian has shape `output ++ input_i` (`jax.jacrev`, `torch.func.jacrev`).
pub fn jacrev<T, F>(f: F, inputs: &[Tensor<T>]) -> Vec<Tensor<T>>
where
    T: Float,
    F: for<'t> Fn(&[Var<'t, T>]) -> Var<'t, T>,
{
    let tape = Tape::new();
    let xs = leaves(&tape, inputs);
    let y = f(&xs);
    let (ys, m) = (y.shape(), y.len());
    let mut jac: Vec<Tensor<T>> = inputs.iter().map(|x| Tensor::zeros(&joined(&ys, x.shape()))).collect();
    let flat = y.reshape(&[m]);
    for i in 0..m {
        let grads = flat.gather(0, &[i]).sum().backward();
        for (j, x) in jac.iter_mut().zip(&xs) {
            let n = x.len();
            j.data_mut()[i * n..(i + 1) * n].copy_from_slice(&grads[*x]);
        }
    }
    jac
}

/// The Jacobian of `f` with respect to each input by forward mode: one pass carrying one tangent
/// direction per input element. Same result and shapes as [`jacrev`] (`jax.jacfwd`).
pub fn jacfwd<T, F>(f: F, inputs: &[Tensor<T>]) -> Vec<Tensor<T>>
where
    T: Float,
    F: for<'t> Fn(&[Var<'t, T>]) -> Var<'t, T>,
{
    let tape = Tape::new();
    let xs = identity_seeded(&tape, inputs);
    let y = f(&xs);
    tangent_blocks(y, &xs)
}

/// Switches forward mode on with one direction per input element and records `inputs` as leaves
/// seeded with the identity: direction `d` is the unit vector of the `d`-th element over all inputs.
fn identity_seeded<'t, T: Float>(tape: &'t Tape<T>, inputs: &[Tensor<T>]) -> Vec<Var<'t, T>> {
    let n: usize = inputs.iter().map(Tensor::len).sum();
    tape.forward_mode(n.max(1));
    let xs = leaves(tape, inputs);
    let mut dir = 0;
    for x in &xs {
        let k = x.len();
        let mut e = vec![T::ZERO; k];
        for c in 0..k {
            e[c] = T::ONE;
            x.set_tangent(dir + c, &e);
            e[c] = T::ZERO;
        }
        dir += k;
    }
    xs
}

/// The derivatives of `y` with respect to each identity-seeded input, read off its tangents: one
/// block per input, of shape `y ++ input`.
fn tangent_blocks<T: Float>(y: Var<'_, T>, xs: &[Var<'_, T>]) -> Vec<Tensor<T>> {
    let (ys, m) = (y.shape(), y.len());
    let mut dir = 0;
    xs.iter()
        .map(|x| {
            let k = x.len();
            let mut j = Tensor::zeros(&joined(&ys, &x.shape()));
            for c in 0..k {
                let t = y.tangent(dir + c);
                for r in 0..m {
                    j.data_mut()[r * k + c] = t.data()[r];
                }
            }
            dir += k;
            j
        })
        .collect()
}

/// The Jacobian by whichever mode is cheaper: forward when the inputs have fewer elements than
/// the output (`jacfwd`), reverse otherwise (`jacrev`).
pub fn jacobian<T, F>(f: F, inputs: &[Tensor<T>]) -> Vec<Tensor<T>>
where
    T: Float,
    F: for<'t> Fn(&[Var<'t, T>]) -> Var<'t, T>,
{
    let n: usize = inputs.iter().map(Tensor::len).sum();
    let m = {
        let tape = Tape::new();
        let xs = leaves(&tape, inputs);
        tape.no_grad(|| f(&xs).len())
    };
    if n < m {
        jacfwd(f, inputs)
    } else {
        jacrev(f, inputs)
    }
}

/// The Hessian of a scalar `f`, by forward mode over the recorded reverse pass: `H[a][b]` is the
/// block of second derivatives with respect to inputs `a` and `b`, of shape `input_a ++ input_b`
/// (`jax.hessian`, `torch.func.hessian`). Panics naming the shape when `f` is not scalar.
#[track_caller]
pub fn hessian<T, F>(f: F, inputs: &[Tensor<T>]) -> Vec<Vec<Tensor<T>>>
where
    T: Float,
    F: for<'t> Fn(&[Var<'t, T>]) -> Var<'t, T>,
{
    let tape = Tape::new();
    let xs = identity_seeded(&tape, inputs);
    let y = f(&xs);
    check_scalar("hessian", y);
    y.grad(&xs).into_iter().map(|g| tangent_blocks(g, &xs)).collect()
}

/// The Hessian-vector product `H v` of a scalar `f`, one tensor per input, by forward mode over
/// the recorded reverse pass (forward-over-reverse): the JVP of the gradient along `v`, without
/// forming `H`.
#[track_caller]
pub fn hvp<T, F>(f: F, inputs: &[Tensor<T>], v: &[Tensor<T>]) -> Vec<Tensor<T>>
where
    T: Float,
    F: for<'t> Fn(&[Var<'t, T>]) -> Var<'t, T>,
{
    check_shapes("hvp", "v", v, inputs);
    let tape = Tape::new();
    let xs = seeded(&tape, inputs, v);
    let y = f(&xs);
    check_scalar("hvp", y);
    y.grad(&xs).iter().map(|g| g.tangent(0)).collect()
}
