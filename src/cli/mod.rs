//! The command line's subcommands. Each returns `Err(message)`: one line for the user, printed by
//! `main` before a non-zero exit.

pub mod losses;
pub mod model;
pub mod study;
pub mod table;

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

/// `tapegrad bench`: every performance figure in one process, with its target and ratio.
pub fn bench(json: Option<&std::path::Path>, quick: bool) -> Result<(), String> {
    use tapegrad::perf::{run_bench, BenchOptions};
    let options = if quick { BenchOptions::quick() } else { BenchOptions::default() };
    let report = run_bench(&options);
    println!("{report}");
    if let Some(path) = json {
        tapegrad::io::write_atomic(path, report.to_json().as_bytes()).map_err(|e| e.to_string())?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

/// Creates the folder a file given by `flag` (`--save`, `--out`) goes into, as `--out DIR` creates
/// its folder; an error names the flag, the file and the folder.
pub fn ensure_parent(path: &std::path::Path, flag: &str) -> Result<(), String> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => std::fs::create_dir_all(dir)
            .map_err(|e| format!("{flag} {}: cannot create the folder {}: {e}", path.display(), dir.display())),
        _ => Ok(()),
    }
}

