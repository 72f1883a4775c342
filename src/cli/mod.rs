//! The command line's subcommands. Each returns `Err(message)`: one line for the user, printed by
//! `main` before a non-zero exit.

pub mod losses;
pub mod model;
pub mod study;

/// Replaces Rust's panic report with one line, so an internal error never prints a trace.
pub fn quiet_panics() {
    std::panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("unknown panic");
        // `tapegrad study | head`: the reader left; stop quietly as a SIGPIPE would.
        if msg.contains("Broken pipe") {
            std::process::exit(141);
        }
        let at = info.location().map(|l| format!(" (at {}:{})", l.file(), l.line())).unwrap_or_default();
        eprintln!("error: internal error: {msg}{at}");
    }));
}
