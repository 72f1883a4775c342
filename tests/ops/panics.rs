//! Catching a panic's message and location in a test. The test crate runs its tests in parallel
//! threads and the panic hook is process-wide, so the hook records a panic only for a thread that
//! is inside [`catch`]; every other panic goes on to the hook that was there before (the test
//! harness prints it as usual).

use std::cell::RefCell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Once;

thread_local! {
    /// `Some` while this thread is inside `catch`: the panic seen so far, if any.
    static CAPTURE: RefCell<Option<Option<(String, String, u32)>>> = const { RefCell::new(None) };
}

fn install_hook() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let capturing = CAPTURE.with(|c| c.borrow().is_some());
            if !capturing {
                return previous(info);
            }
            let msg = if let Some(s) = info.payload().downcast_ref::<&str>() {
                s.to_string()
            } else if let Some(s) = info.payload().downcast_ref::<String>() {
                s.clone()
            } else {
                String::from("<non-string panic>")
            };
            let (file, line) = info.location().map_or((String::new(), 0), |l| (l.file().to_string(), l.line()));
            CAPTURE.with(|c| *c.borrow_mut() = Some(Some((msg, file, line))));
        }));
    });
}

/// Runs `f`, which must panic, and returns the panic's message, file and line.
pub fn catch<R>(f: impl FnOnce() -> R) -> (String, String, u32) {
    install_hook();
    CAPTURE.with(|c| *c.borrow_mut() = Some(None));
    let result = catch_unwind(AssertUnwindSafe(f));
    let seen = CAPTURE.with(|c| c.borrow_mut().take()).flatten();
    assert!(result.is_err(), "expected a panic, but the call returned");
    seen.expect("the panic hook saw no panic")
}
