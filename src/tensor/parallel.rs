//! Two-way fork-join on a persistent helper thread, for memory-bound loops over large buffers
//! (the optimizers' updates of large weights).
//!
//! The helper is one thread of a [`thread_tree`] pool (the crate matrixmultiply's own threads come
//! from), started on first use and parked between jobs. A fresh `std::thread::scope` spawn per call
//! cost an MLP step about 0.2 ms of its 9 (a stack to map, a clone, a TLB shootdown when it was
//! unmapped); waking a parked thread costs a few microseconds.

use std::sync::OnceLock;
use thread_tree::ThreadTree;

/// The pool: one helper thread, or none on a one-core machine.
fn pool() -> &'static ThreadTree {
    static POOL: OnceLock<Box<ThreadTree>> = OnceLock::new();
    POOL.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        ThreadTree::new_with_level(usize::from(cores > 1))
    })
}

/// Runs `a` on this thread and `b` on the helper thread, and returns when both are done (both on
/// this thread when there is no helper). A panic in either is propagated here.
///
/// Not for nested use: a job must not call `join` itself (the one helper would wait on itself).
pub(crate) fn join<A, B>(a: A, b: B)
where
    A: FnOnce() + Send,
    B: FnOnce() + Send,
{
    pool().top().join(|_| a(), |_| b());
}

#[cfg(test)]
mod tests {
    use super::join;

    #[test]
    fn both_halves_run_and_see_their_own_data() {
        let mut v = vec![1u64; 1000];
        for _ in 0..3 {
            let (lo, hi) = v.split_at_mut(400);
            join(|| lo.iter_mut().for_each(|x| *x *= 2), || hi.iter_mut().for_each(|x| *x += 5));
        }
        assert!(v[..400].iter().all(|&x| x == 8));
        assert!(v[400..].iter().all(|&x| x == 16));
    }

    #[test]
    fn a_panic_in_the_helper_reaches_the_caller() {
        let r = std::panic::catch_unwind(|| join(|| (), || panic!("helper job failed")));
        assert!(r.is_err());
        // The pool still works after a job panicked.
        let mut x = [0; 2];
        let (a, b) = x.split_at_mut(1);
        join(|| a[0] = 1, || b[0] = 2);
        assert_eq!(x, [1, 2]);
    }
}
