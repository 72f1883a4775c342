//! Two-way fork-join on a persistent helper thread: memory-bound loops over large buffers (SGD's
//! update of a large weight, elementwise ops on large values) and the two halves of a
//! convolution's batch.
//!
//! The helper is one thread of a [`thread_tree`] pool (the crate matrixmultiply's own threads come
//! from), started on first use and parked between jobs. A fresh `std::thread::scope` spawn per call
//! cost an MLP step about 0.2 ms of its 9 (a stack to map, a clone, a TLB shootdown when it was
//! unmapped); waking a parked thread costs a few microseconds.

use std::sync::OnceLock;
use thread_tree::ThreadTree;

/// The cores this process may use, read once: `std::thread::available_parallelism` reads the
/// cgroup files on every call (about 23 us here), too slow for the per-call threading decisions
/// of the convolution kernels.
pub(crate) fn cores() -> usize {
    static CORES: OnceLock<usize> = OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// The pool: one helper thread, or none on a one-core machine.
fn pool() -> &'static ThreadTree {
    static POOL: OnceLock<Box<ThreadTree>> = OnceLock::new();
    POOL.get_or_init(|| ThreadTree::new_with_level(usize::from(cores() > 1)))
}

/// `acc += a + b`, the two contributions computed on two threads ([`join`]): `a` adds into `acc`
/// itself, `b` into a zeroed buffer of its own, summed into `acc` once both are done (a
/// gradient accumulated over the two halves of a batch).
pub(crate) fn join_summed<T, A, B>(acc: &mut [T], other: &mut [T], a: A, b: B)
where
    T: Copy + std::ops::AddAssign + Send,
    A: FnOnce(&mut [T]) + Send,
    B: FnOnce(&mut [T]) + Send,
{
    join(|| a(acc), || b(other));
    acc.iter_mut().zip(other.iter()).for_each(|(d, &o)| *d += o);
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

/// From this many elements an elementwise op's loop runs in two halves on two threads (a
/// 256 x 1024 activation of an MLP step is one such buffer; a waking helper costs microseconds,
/// the loop about a hundred).
pub(crate) const SPLIT_LEN: usize = 1 << 18;

/// `f(start, part)` over `out` in two halves on two threads when it holds at least `min_len`
/// elements, else `f(0, out)` on this thread; `start` is the part's offset in `out`, for `f` to
/// read the same range of its inputs. Elementwise loops give the same bits either way.
pub(crate) fn split_in_two<T: Send>(out: &mut [T], min_len: usize, f: impl Fn(usize, &mut [T]) + Sync) {
    if out.len() < min_len {
        f(0, out);
        return;
    }
    let half = out.len() / 2;
    let (a, b) = out.split_at_mut(half);
    join(|| f(0, a), || f(half, b));
}

#[cfg(test)]
mod tests {
    use super::{join, split_in_two, SPLIT_LEN};

    #[test]
    fn split_in_two_covers_every_element_once_with_its_offset() {
        for len in [0, 5, SPLIT_LEN - 1, SPLIT_LEN, SPLIT_LEN + 3] {
            let mut out = vec![0usize; len];
            split_in_two(&mut out, SPLIT_LEN, |start, part| part.iter_mut().enumerate().for_each(|(i, o)| *o += start + i + 1));
            assert!(out.iter().enumerate().all(|(i, &o)| o == i + 1), "len {len}");
        }
    }

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
