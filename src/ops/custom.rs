//! Ops defined outside the crate: PyTorch's `autograd.Function`, JAX's `custom_vjp`, candle's
//! `CustomOp`. A [`CustomOp`] gives a name, a forward rule over input slices and shapes, a reverse
//! rule (vector-Jacobian product) and, optionally, a recorded reverse rule (for second order) and a
//! JVP (for forward mode). [`Tape::apply`] records it like any built-in op.

use crate::ops::{Contribs, Op};
use crate::tape::{Back, Jvp, Tape, Var};
use crate::tensor::shape::numel;
use crate::tensor::Float;

/// An op written outside the crate. Implement `name`, `output_shape`, `forward` and `backward`;
/// add `backward_recorded` to allow second derivatives (`Var::grad`, `gradgradcheck`) and `jvp`
/// to allow forward mode (`jvp`, `jacfwd`, `hvp`). Without them those fail with an error naming
/// the op, never a silent zero.
///
/// ```
/// use tapegrad::{gradcheck, CustomOp, Tape, Tensor};
///
/// /// y = x^3, elementwise.
/// struct Cube;
/// impl CustomOp<f64> for Cube {
///     fn name(&self) -> &str { "cube" }
///     fn output_shape(&self, shapes: &[&[usize]]) -> Result<Vec<usize>, String> {
///         Ok(shapes[0].to_vec())
///     }
///     fn forward(&self, inputs: &[&[f64]], _shapes: &[&[usize]], out: &mut [f64]) {
///         for (o, &x) in out.iter_mut().zip(inputs[0]) { *o = x * x * x; }
///     }
///     // dL/dx += g * 3 x^2
///     fn backward(&self, inputs: &[&[f64]], _shapes: &[&[usize]], _y: &[f64], g: &[f64], grads: &mut [Vec<f64>]) {
///         for ((d, &gi), &x) in grads[0].iter_mut().zip(g).zip(inputs[0]) { *d += gi * 3.0 * x * x; }
///     }
///     // ty = tx * 3 x^2 (forward mode; gradcheck checks it too)
///     fn jvp(&self, inputs: &[&[f64]], _shapes: &[&[usize]], _y: &[f64], t: &[&[f64]], out: &mut [f64]) -> bool {
///         for ((o, &ti), &x) in out.iter_mut().zip(t[0]).zip(inputs[0]) { *o = ti * 3.0 * x * x; }
///         true
///     }
/// }
///
/// let tape = Tape::<f64>::new();
/// let x = tape.var(Tensor::from_vec(vec![1.0, 2.0], &[2]));
/// let y = tape.apply(Cube, &[x]).sum();
/// assert_eq!(y.item(), 9.0);
/// assert_eq!(&y.backward()[x], &[3.0, 12.0]);
/// let report = gradcheck(|v| v[0].tape().apply(Cube, &[v[0]]).sum(), &[Tensor::from_vec(vec![0.5, -1.5], &[2])]).unwrap();
/// assert!(report.max_abs_error < 1e-6);
/// ```
pub trait CustomOp<T: Float>: 'static {
    /// The name the inspector, DOT export and error messages show.
    fn name(&self) -> &str;

    /// The output's shape from the inputs' shapes, or what is wrong with them.
    fn output_shape(&self, shapes: &[&[usize]]) -> Result<Vec<usize>, String>;

    /// The forward rule: writes every element of `out` (handed over zero-filled) from the inputs.
    fn forward(&self, inputs: &[&[T]], shapes: &[&[usize]], out: &mut [T]);

    /// The reverse rule: given `g = dL/dy`, *adds* `dL/dinput_i` into `grads[i]` (zero-filled,
    /// with input `i`'s length). `y` is the forward output.
    fn backward(&self, inputs: &[&[T]], shapes: &[&[usize]], y: &[T], g: &[T], grads: &mut [Vec<T>]);

    /// The reverse rule as recorded ops, so that the gradient can be differentiated again:
    /// `dL/dinput_i` for every input, built with `Var` ops from the inputs, the output `y` and the
    /// incoming gradient `g`. `None` (the default): the op has no second-order rule.
    fn backward_recorded<'t>(&self, inputs: &[Var<'t, T>], y: Var<'t, T>, g: Var<'t, T>) -> Option<Vec<Var<'t, T>>> {
        let _ = (inputs, y, g);
        None
    }

    /// The forward-mode rule: writes the output's tangent into `out` from the inputs' `tangents`
    /// (each of its input's length) and returns `true`. The default returns `false`: the op has
    /// no JVP rule.
    fn jvp(&self, inputs: &[&[T]], shapes: &[&[usize]], y: &[T], tangents: &[&[T]], out: &mut [T]) -> bool {
        let _ = (inputs, shapes, y, tangents, out);
        false
    }
}

impl<T: Float> Tape<T> {
    /// Records `op` applied to `inputs` (PyTorch's `Function.apply`). Panics, naming the op, the
    /// shapes and the caller's line, when `op.output_shape` rejects the inputs.
    #[track_caller]
    pub fn apply(&self, op: impl CustomOp<T>, inputs: &[Var<'_, T>]) -> Var<'_, T> {
        for v in inputs {
            assert!(std::ptr::eq(v.tape(), self), "{}: an input is recorded on another tape", op.name());
        }
        let shapes: Vec<Vec<usize>> = inputs.iter().map(|v| v.shape().to_vec()).collect();
        let shape_refs: Vec<&[usize]> = shapes.iter().map(Vec::as_slice).collect();
        let out_shape = match op.output_shape(&shape_refs) {
            Ok(s) => s,
            Err(why) => panic!("{}: inputs of shapes {:?}: {why}", op.name(), shapes),
        };
        let rg = inputs.iter().any(|v| v.requires_grad());
        let ids: Vec<u32> = inputs.iter().map(|v| v.index() as u32).collect();
        let (start, len) = self.push_aux(ids.iter().map(|&i| i as usize));
        let index = {
            let mut a = self.arena.borrow_mut();
            a.customs.push(Box::new(op));
            (a.customs.len() - 1) as u32
        };
        self.record(Op::Custom { index, start, len }, out_shape.as_slice().into(), rg, |f, out| {
            out.fill(T::ZERO);
            let xs: Vec<&[T]> = ids.iter().map(|&i| f.x(i)).collect();
            let ss: Vec<&[usize]> = ids.iter().map(|&i| f.shape(i)).collect();
            f.customs[index as usize].forward(&xs, &ss, out);
        })
    }
}

/// Reverse sweep: the op's `backward` into zeroed buffers, then added into the inputs' gradients.
pub(crate) fn vjp<T: Float>(index: u32, start: u32, len: u32, b: &mut Back<'_, T>) {
    let ids: Vec<u32> = b.aux[start as usize..(start + len) as usize].iter().map(|&i| i as u32).collect();
    let xs: Vec<&[T]> = ids.iter().map(|&i| b.x(i)).collect();
    let ss: Vec<&[usize]> = ids.iter().map(|&i| b.shape_of(i)).collect();
    let mut grads: Vec<Vec<T>> = xs.iter().map(|x| vec![T::ZERO; x.len()]).collect();
    b.customs[index as usize].backward(&xs, &ss, b.y, b.g, &mut grads);
    for (&id, g) in ids.iter().zip(&grads) {
        if b.wants(id) {
            b.grad(id).iter_mut().zip(g).for_each(|(d, &v)| *d += v);
        }
    }
}

/// Recorded rule: the op's `backward_recorded`, or a panic naming the op when it has none.
pub(crate) fn vjp_recorded<'t, T: Float>(index: u32, aux: &[usize], y: Var<'t, T>, g: Var<'t, T>, out: &mut Contribs<'t, T>) {
    let tape = y.tape();
    let inputs: Vec<Var<'t, T>> = aux.iter().map(|&i| Var::new(tape, i as u32)).collect();
    let (name, grads) = {
        // The rule records new nodes, so it must not run while the arena is borrowed: take the op
        // out for the call and put it back.
        let op = std::mem::replace(&mut tape.arena.borrow_mut().customs[index as usize], Box::new(Placeholder));
        let grads = op.backward_recorded(&inputs, y, g);
        let name = op.name().to_string();
        tape.arena.borrow_mut().customs[index as usize] = op;
        (name, grads)
    };
    let Some(grads) = grads else {
        panic!(
            "grad: the custom op '{name}' has no recorded backward rule, so its gradient cannot be \
             differentiated again; implement CustomOp::backward_recorded"
        );
    };
    assert!(grads.len() == inputs.len(), "{name}: backward_recorded returned {} gradients for {} inputs", grads.len(), inputs.len());
    for (x, d) in inputs.iter().zip(grads) {
        let (want, got) = (x.shape(), d.shape());
        assert!(
            numel(&want) == numel(&got),
            "{name}: backward_recorded returned a gradient of shape {:?} for an input of shape {:?}",
            &got[..],
            &want[..]
        );
        out.push((x.index() as u32, d.reshape(&want)));
    }
}

/// Forward mode: the op's `jvp`, or a panic naming the op when it has none.
pub(crate) fn jvp<T: Float>(index: u32, start: u32, len: u32, j: &Jvp<'_, T>, d: usize, out: &mut [T]) {
    let ids: Vec<u32> = j.aux[start as usize..(start + len) as usize].iter().map(|&i| i as u32).collect();
    let xs: Vec<&[T]> = ids.iter().map(|&i| j.x(i)).collect();
    let ss: Vec<&[usize]> = ids.iter().map(|&i| j.shape_of(i)).collect();
    let ts: Vec<&[T]> = ids.iter().map(|&i| j.t(i, d)).collect();
    out.fill(T::ZERO);
    let op = &j.customs[index as usize];
    if !op.jvp(&xs, &ss, j.y, &ts, out) {
        panic!("jvp: the custom op '{}' has no forward-mode rule; implement CustomOp::jvp", op.name());
    }
}

/// Stands in for a custom op while its recorded rule runs.
struct Placeholder;

impl<T: Float> CustomOp<T> for Placeholder {
    fn name(&self) -> &str {
        "custom op (running its recorded rule)"
    }
    fn output_shape(&self, _: &[&[usize]]) -> Result<Vec<usize>, String> {
        Err("placeholder".into())
    }
    fn forward(&self, _: &[&[T]], _: &[&[usize]], _: &mut [T]) {}
    fn backward(&self, _: &[&[T]], _: &[&[usize]], _: &[T], _: &[T], _: &mut [Vec<T>]) {}
}
