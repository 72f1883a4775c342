//! Penalties, dropout, noise, normalisation and constraints add no per-element heap allocation
//! to a training step beyond the ops they record on the (reused) tape: what they allocate on the
//! heap per step does not grow with the batch. Counted with a counting global allocator, per
//! thread (the step runs on the test's thread; other threads, such as the test harness's, are not
//! counted).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use tapegrad::layers;
use tapegrad::nn::{
    Activation, ActivityRegularization, BatchNormalization, Constraint, Dense, Dropout, GaussianDropout, GaussianNoise,
    LayerNormalization, Regularizer, Sequential,
};
use tapegrad::optim::Adam;
use tapegrad::train::{LossFn, Model};
use tapegrad::Tensor;

struct Counting;

thread_local! {
    // Const-initialised without a destructor: reading them never allocates.
    static BYTES: Cell<usize> = const { Cell::new(0) };
    static CALLS: Cell<usize> = const { Cell::new(0) };
}

fn count(bytes: usize) {
    let _ = BYTES.try_with(|b| b.set(b.get() + bytes));
    let _ = CALLS.try_with(|c| c.set(c.get() + 1));
}

fn counted() -> (usize, usize) {
    (BYTES.with(Cell::get), CALLS.with(Cell::get))
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const WIDTH: usize = 6;
const HIDDEN: usize = 12;

fn model(with_layers: bool) -> Model<f64> {
    let dense = || Dense::new(HIDDEN).activation(Activation::Relu);
    let layers = if with_layers {
        layers![
            dense()
                .kernel_regularizer(Regularizer::l1_l2(0.01, 0.01).unwrap())
                .bias_regularizer(Regularizer::l2(0.01).unwrap())
                .activity_regularizer(Regularizer::l2(0.001).unwrap())
                .kernel_constraint(Constraint::max_norm(2.0, &[0]).unwrap())
                .bias_constraint(Constraint::non_neg()),
            BatchNormalization::new(),
            Dropout::new(0.3),
            GaussianNoise::new(0.1),
            GaussianDropout::new(0.1),
            LayerNormalization::new(),
            ActivityRegularization::new(0.01, 0.01),
            Dense::new(1),
        ]
    } else {
        layers![dense(), Dense::new(1)]
    };
    let mut m = Sequential::<f64>::with_seed(WIDTH, layers, 1).compile(LossFn::named("mse").unwrap(), Adam::new(0.01), &[]);
    m.set_seed(2);
    m
}

/// Heap bytes and calls of one steady-state training step on a batch of `rows`.
fn step_allocation(with_layers: bool, rows: usize) -> (usize, usize) {
    let x = Tensor::from_vec((0..rows * WIDTH).map(|i| ((i * 7 % 19) as f64 - 9.0) / 5.0).collect(), &[rows, WIDTH]);
    let y = Tensor::from_vec((0..rows).map(|i| (i % 3) as f64).collect(), &[rows, 1]);
    warm_step_allocation(&mut model(with_layers), &x, &y)
}

/// Heap bytes and calls of one training step of `m` on `(x, y)` after three warm-up steps.
fn warm_step_allocation(m: &mut Model<f64>, x: &Tensor<f64>, y: &Tensor<f64>) -> (usize, usize) {
    for _ in 0..3 {
        m.train_on_batch(x, y).unwrap();
    }
    let (b0, c0) = counted();
    m.train_on_batch(x, y).unwrap();
    let (b1, c1) = counted();
    (b1 - b0, c1 - c0)
}

#[test]
fn the_layers_allocate_nothing_per_element() {
    let extra = |rows: usize| {
        let (with_b, with_c) = step_allocation(true, rows);
        let (plain_b, plain_c) = step_allocation(false, rows);
        (with_b as i64 - plain_b as i64, with_c as i64 - plain_c as i64)
    };
    let (small, large) = (extra(16), extra(512));
    // The same few small allocations per step at any batch size (a per-element buffer would add
    // at least 496 rows * 12 features * 8 bytes here).
    assert_eq!(small, large, "extra heap (bytes, calls) per step: batch 16 {small:?}, batch 512 {large:?}");
    assert!(small.0 < 4096, "extra heap per step {small:?}");
}

/// Gradient clipping (clipnorm, clipvalue, global_clipnorm) goes through one buffer the model
/// keeps: once warm, a clipped step allocates exactly what an unclipped one does.
#[test]
fn clipping_allocates_nothing_per_step() {
    let step = |opt: Adam<f64>| {
        let rows = 64;
        let x = Tensor::from_vec((0..rows * WIDTH).map(|i| ((i * 7 % 19) as f64 - 9.0) / 5.0).collect(), &[rows, WIDTH]);
        let y = Tensor::from_vec((0..rows).map(|i| (i % 3) as f64 * 10.0).collect(), &[rows, 1]);
        let net = Sequential::<f64>::with_seed(WIDTH, layers![Dense::new(HIDDEN).activation(Activation::Relu), Dense::new(1)], 1);
        warm_step_allocation(&mut net.compile(LossFn::named("mse").unwrap(), opt, &[]), &x, &y)
    };
    let plain = step(Adam::new(0.01));
    for (label, clipped) in [
        ("clipnorm", Adam::new(0.01).clipnorm(0.5)),
        ("clipvalue", Adam::new(0.01).clipvalue(0.1)),
        ("global_clipnorm", Adam::new(0.01).global_clipnorm(0.5)),
    ] {
        assert_eq!(step(clipped), plain, "{label}: heap (bytes, calls) per step against no clipping");
    }
}
