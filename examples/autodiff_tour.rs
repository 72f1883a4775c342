//! A walk through the tape: record an expression, look at the tape, sweep it backward, check the
//! gradient, export the graph for Graphviz, differentiate a gradient, and then the other half of
//! autodiff on one small function: `jvp`, `jacfwd`, `jacrev`, `hessian` and `hvp`.
//!
//! Run with `cargo run --release --example autodiff_tour [OUT_DIR]`; it writes `tour.dot` and
//! `tour_grads.dot` into OUT_DIR (default: the system's temp directory).

use tapegrad::tape::DotOptions;
use tapegrad::{gradcheck, Tape, Tensor};

fn main() {
    let out_dir = std::env::args().nth(1).map(std::path::PathBuf::from).unwrap_or_else(std::env::temp_dir);

    // 1. Record. Every op appends one node to the tape; `w`, `x` and `b` are leaves.
    let tape = Tape::<f64>::new();
    let x = tape.constant(Tensor::from_vec(vec![1.0, 2.0], &[1, 2]));
    let w = tape.var(Tensor::from_vec(vec![0.5, -0.25], &[2, 1]));
    let b = tape.var(Tensor::scalar(0.1));
    let z = x.matmul(w) + b; // z = x w + b, shape [1, 1]
    let p = z.sigmoid(); // p = 1 / (1 + e^-z)
    let loss = -(p.log()).sum(); // -log p: the cross-entropy of the label 1

    // 2. Look at the tape: one row per node, in creation order.
    println!("The tape after the forward pass:\n{tape}\n");

    // 3. One reverse sweep gives the gradient of the loss with respect to every node.
    let grads = loss.backward();
    let first_order_nodes = tape.len();
    println!("dloss/dw = {:?}   (by hand: (p - 1) * x = {:?})", &grads[w], {
        let pv = p.item();
        [(pv - 1.0) * 1.0, (pv - 1.0) * 2.0]
    });
    println!("dloss/db = {:?}", &grads[b]);
    println!("dloss/dz = {:?}  (an intermediate has a gradient too)", &grads[z]);

    // 4. Prove it against central differences.
    let report = gradcheck(
        |v| {
            let x = v[0].tape().constant(Tensor::from_vec(vec![1.0, 2.0], &[1, 2]));
            -((x.matmul(v[0]) + v[1]).sigmoid().log()).sum()
        },
        &[w.value(), b.value()],
    )
    .expect("the tape's gradient matches central differences");
    println!("gradcheck: {} elements, largest error {:.2e}", report.elements, report.max_abs_error);

    // 5. Export the graph: `dot -Tpng tour.dot -o tour.png`.
    let plain = tape.to_dot(&DotOptions::default());
    let with_grads = tape.to_dot(&DotOptions { values: true, grads: Some(&grads), max_values: 4 });
    for (name, text) in [("tour.dot", plain), ("tour_grads.dot", with_grads)] {
        let path = out_dir.join(name);
        match std::fs::write(&path, text) {
            Ok(()) => println!("wrote {}", path.display()),
            Err(e) => eprintln!("could not write {}: {e}", path.display()),
        }
    }
    // 6. Differentiate a gradient: `grad` records dloss/dw as ops on the tape, so it can be swept
    //    backward again. With a direction v, d/dw <dloss/dw, v> is the Hessian-vector product H v.
    let dw = loss.grad(&[w])[0];
    let v = tape.constant(Tensor::from_vec(vec![1.0, 0.0], &[2, 1]));
    let hv = (dw * v).sum().backward();
    let pv = p.item();
    println!(
        "Hessian-vector product H v = {:?}  (by hand: p(1-p) x x^T v = {:?})",
        &hv[w],
        [pv * (1.0 - pv) * 1.0, pv * (1.0 - pv) * 2.0]
    );
    println!("the tape grew from {first_order_nodes} to {} nodes while recording the gradient graph", tape.len());

    // 7. Forward mode and the toolbox, on f(x) = [x0 x1, sin(x0) + x1^2] from R^2 to R^2 and on
    //    the scalar g(x) = x0^2 x1 + sin(x1).
    use tapegrad::autodiff::{hessian, hvp, jacfwd, jacrev, jvp};
    use tapegrad::Var;
    fn f<'t>(v: &[Var<'t, f64>]) -> Var<'t, f64> {
        let (x0, x1) = (v[0].gather(0, &[0]), v[0].gather(0, &[1]));
        Var::concat(&[x0 * x1, x0.sin() + x1.square()], 0)
    }
    fn g<'t>(v: &[Var<'t, f64>]) -> Var<'t, f64> {
        let (x0, x1) = (v[0].gather(0, &[0]), v[0].gather(0, &[1]));
        (x0.square() * x1 + x1.sin()).sum()
    }
    let x = [Tensor::from_vec(vec![0.5, 2.0], &[2])];
    let (y, t) = jvp(f, &x, &[Tensor::from_vec(vec![1.0, 0.0], &[2])]);
    println!("\nf(x) = {y}\nJ e0 by one forward pass (jvp) = {t}");
    println!("J by forward mode (jacfwd):\n{}", jacfwd(f, &x)[0]);
    println!("J by reverse mode (jacrev):\n{}", jacrev(f, &x)[0]);
    println!("Hessian of g (forward over reverse):\n{}", hessian(g, &x)[0][0]);
    println!("H v with v = [1, 1] (hvp, no Hessian formed) = {}", hvp(g, &x, &[Tensor::ones(&[2])])[0]);
}
