//! Two-way fork-join on a persistent helper thread: memory-bound loops over large buffers (SGD's
//! update of a large weight, elementwise ops on large values) and the two halves of a
//! convolution's batch.
//!
//! The helper is one thread, started on first use. A fresh `std::thread::scope` spawn per call
//! cost an MLP step about 0.2 ms of its 9 (a stack to map, a clone, a TLB shootdown when it was
//! unmapped). After a job the helper keeps watching for the next one for [`SPIN`] (yielding its
//! core to any other thread that wants it) before it parks: on the 2-core virtual machine of
//! docs/performance.md, waking a parked thread took 23-40 us, a third of a 1M-element `exp`,
//! paid again by every large op that follows a pause (PyTorch's OpenMP threads spin-wait after a
//! parallel region for the same reason).
//!
//! One caller at a time has the helper; a `join` that finds it busy (another thread's `join`, as
//! with tests running in parallel) runs both of its jobs itself rather than wait.

use std::any::Any;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::ptr::null_mut;
use std::sync::atomic::{AtomicBool, AtomicPtr, Ordering};
use std::sync::OnceLock;
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

/// The cores this process may use, read once: `std::thread::available_parallelism` reads the
/// cgroup files on every call (about 23 us here), too slow for the per-call threading decisions
/// of the convolution kernels.
pub(crate) fn cores() -> usize {
    static CORES: OnceLock<usize> = OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// How long the helper watches for a new job after one before it parks.
const SPIN: Duration = Duration::from_micros(300);

/// A job posted to the helper: a closure on the caller's stack, type-erased, and where its panic
/// goes. The caller waits for `Helper::done` before the job leaves its stack.
struct Job {
    call: unsafe fn(*mut ()),
    data: *mut (),
    panic: Option<Box<dyn Any + Send>>,
}

/// The helper thread and its one-job mailbox.
struct Helper {
    thread: Thread,
    /// The posted job, null when there is none; the helper takes it by swapping in null.
    job: AtomicPtr<Job>,
    /// Set by the helper when the taken job has finished (or panicked).
    done: AtomicBool,
    /// Held by the caller that has posted a job, until it has seen `done`.
    busy: AtomicBool,
}

/// Calls the `Option<F>` at `data` once.
///
/// # Safety
/// `data` must point to a live `Option<F>` holding a closure, not used by anyone else meanwhile.
unsafe fn call_once<F: FnOnce()>(data: *mut ()) {
    // SAFETY: the caller's contract.
    let f = unsafe { &mut *data.cast::<Option<F>>() };
    if let Some(f) = f.take() {
        f();
    }
}

/// The helper, started on the first call; `None` on a one-core machine.
fn helper() -> Option<&'static Helper> {
    static HELPER: OnceLock<Option<&'static Helper>> = OnceLock::new();
    *HELPER.get_or_init(|| {
        if cores() < 2 {
            return None;
        }
        let (tx, rx) = std::sync::mpsc::channel::<&'static Helper>();
        let handle = thread::Builder::new()
            .name("tapegrad-helper".into())
            .spawn(move || {
                if let Ok(h) = rx.recv() {
                    work(h);
                }
            })
            .ok()?;
        let h: &'static Helper = Box::leak(Box::new(Helper {
            thread: handle.thread().clone(),
            job: AtomicPtr::new(null_mut()),
            done: AtomicBool::new(false),
            busy: AtomicBool::new(false),
        }));
        tx.send(h).ok()?;
        Some(h)
    })
}

/// The helper's loop: run each posted job, watch for the next for [`SPIN`], then park.
fn work(h: &'static Helper) {
    loop {
        let mut idle_since = Instant::now();
        loop {
            let job = h.job.swap(null_mut(), Ordering::Acquire);
            if !job.is_null() {
                // SAFETY: the poster keeps the job alive and untouched until it sees `done`.
                let job = unsafe { &mut *job };
                // SAFETY: `job.data` is the `Option<F>` that `job.call` was made for.
                if let Err(p) = catch_unwind(AssertUnwindSafe(|| unsafe { (job.call)(job.data) })) {
                    job.panic = Some(p);
                }
                h.done.store(true, Ordering::Release);
                idle_since = Instant::now();
            } else if idle_since.elapsed() > SPIN {
                break;
            } else {
                thread::yield_now();
            }
        }
        // A job posted between the last look and `park` unparks first, and `park` then returns.
        while h.job.load(Ordering::Acquire).is_null() {
            thread::park();
        }
    }
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
/// this thread when there is no helper, or when another thread's `join` has it). A panic in
/// either is propagated here, once both have finished.
///
/// Not for nested use from `b`: a job must not call `join` itself (it would find the helper busy
/// and run both of its parts inline, which is correct but serial).
pub(crate) fn join<A, B>(a: A, b: B)
where
    A: FnOnce() + Send,
    B: FnOnce() + Send,
{
    let Some(h) = helper() else {
        a();
        b();
        return;
    };
    if h.busy.compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed).is_err() {
        a();
        b();
        return;
    }
    let mut b = Some(b);
    let mut job = Job { call: call_once::<B>, data: (&mut b as *mut Option<B>).cast(), panic: None };
    h.done.store(false, Ordering::Relaxed);
    h.job.store(&mut job, Ordering::Release);
    h.thread.unpark();
    let ra = catch_unwind(AssertUnwindSafe(a));
    let mut spins = 0u32;
    while !h.done.load(Ordering::Acquire) {
        if spins < 64 {
            spins += 1;
            std::hint::spin_loop();
        } else {
            thread::yield_now();
        }
    }
    h.busy.store(false, Ordering::Release);
    if let Err(p) = ra {
        resume_unwind(p);
    }
    if let Some(p) = job.panic.take() {
        resume_unwind(p);
    }
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

    /// Callers on several threads at once: whoever finds the helper busy runs both parts itself,
    /// and every caller still gets all of its work done, once.
    #[test]
    fn concurrent_callers_each_get_their_work_done() {
        std::thread::scope(|s| {
            for t in 0..4u64 {
                s.spawn(move || {
                    for round in 0..200u64 {
                        let mut v = vec![0u64; 64];
                        let (lo, hi) = v.split_at_mut(32);
                        join(|| lo.iter_mut().for_each(|x| *x += t + round), || hi.iter_mut().for_each(|x| *x += 2 * (t + round)));
                        assert!(v[..32].iter().all(|&x| x == t + round) && v[32..].iter().all(|&x| x == 2 * (t + round)));
                    }
                });
            }
        });
    }

    /// A job posted after the helper has parked (its watch over) still runs.
    #[test]
    fn a_job_after_the_helper_parked_runs() {
        let mut x = [0; 2];
        for _ in 0..3 {
            std::thread::sleep(super::SPIN * 3);
            let (a, b) = x.split_at_mut(1);
            join(|| a[0] += 1, || b[0] += 2);
        }
        assert_eq!(x, [3, 6]);
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
