//! Scratch buffers of the convolution kernels, kept per thread and reused across calls: a
//! convolution lowers every image into buffers of the same sizes on every training step, and
//! allocating them per call cost page faults (each buffer is fresh memory from the system) and the
//! zeroing of memory the lowering overwrites anyway.
//!
//! A buffer is taken out of the thread's pool for as long as it is held ([`Scratch::take`]) and
//! put back when dropped, so nested and concurrent users never share one. Its contents on taking
//! are unspecified (whatever the previous user left): callers write before they read, or ask for
//! zeros ([`Scratch::zeroed`]).

use std::any::Any;
use std::cell::RefCell;
use std::ops::{Deref, DerefMut};

use crate::tensor::Float;

/// Buffers a thread keeps between calls; more are dropped when returned.
const KEEP: usize = 8;

/// Elements of all kinds a thread keeps between calls (a larger buffer is freed when returned):
/// 64 MB of f64, so that a huge one-off convolution does not pin its buffers for the thread's life.
const KEEP_ELEMENTS: usize = 1 << 23;

thread_local! {
    /// Free buffers of this thread, each a `Vec<T>` of some float type `T`.
    static POOL: RefCell<Vec<Box<dyn Any>>> = const { RefCell::new(Vec::new()) };
}

/// A buffer of `len` elements borrowed from the thread's pool (see the module's documentation).
pub(crate) struct Scratch<T: Float> {
    buf: Vec<T>,
    len: usize,
}

impl<T: Float> Scratch<T> {
    /// A buffer of `len` elements, contents unspecified (every element is some value of `T`).
    pub fn take(len: usize) -> Self {
        let found = POOL.with(|p| {
            let mut pool = p.borrow_mut();
            // The best fit: the smallest buffer of this type that holds `len`, else the largest.
            let mut best: Option<(usize, usize)> = None;
            for (i, b) in pool.iter().enumerate() {
                if let Some(v) = b.downcast_ref::<Vec<T>>() {
                    let cap = v.len();
                    let better = match best {
                        None => true,
                        Some((_, c)) if c >= len => cap >= len && cap < c,
                        Some((_, c)) => cap > c,
                    };
                    if better {
                        best = Some((i, cap));
                    }
                }
            }
            best.map(|(i, _)| *pool.swap_remove(i).downcast::<Vec<T>>().expect("the type was checked"))
        });
        let mut buf = found.unwrap_or_default();
        if buf.len() < len {
            buf.resize(len, T::ZERO);
        }
        Scratch { buf, len }
    }

    /// A buffer of `len` zeros.
    pub fn zeroed(len: usize) -> Self {
        let mut s = Self::take(len);
        s.fill(T::ZERO);
        s
    }
}

impl<T: Float> Deref for Scratch<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.buf[..self.len]
    }
}

impl<T: Float> DerefMut for Scratch<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        &mut self.buf[..self.len]
    }
}

impl<T: Float> Drop for Scratch<T> {
    fn drop(&mut self) {
        let buf = std::mem::take(&mut self.buf);
        if buf.is_empty() || buf.len() > KEEP_ELEMENTS {
            return;
        }
        // During thread teardown the pool may be gone: the buffer is then simply freed.
        let _ = POOL.try_with(|p| {
            if let Ok(mut pool) = p.try_borrow_mut() {
                if pool.len() < KEEP {
                    pool.push(Box::new(buf));
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::Scratch;

    #[test]
    fn buffers_are_reused_and_never_shared() {
        let p = {
            let mut a = Scratch::<f32>::zeroed(1000);
            assert!(a.iter().all(|&v| v == 0.0));
            a[3] = 7.0;
            a.as_ptr()
        };
        // The same buffer comes back (contents kept) for a request it holds...
        let a = Scratch::<f32>::take(500);
        assert_eq!((a.as_ptr(), a.len(), a[3]), (p, 500, 7.0));
        // ...but not while it is held, nor for another type.
        let b = Scratch::<f32>::take(500);
        let c = Scratch::<f64>::zeroed(10);
        assert!(b.as_ptr() != a.as_ptr() && c.iter().all(|&v| v == 0.0));
        assert_eq!(Scratch::<f32>::zeroed(2000).len(), 2000);
    }
}
