//! Ctrl-C, SIGTERM and a closed stdout: end cleanly, never leave a process behind.
//!
//! Every process xtask starts goes through `sandbox::spawn_registered` into its own process
//! group (`runner::run`), so the registry of live children is also the list of groups to kill.
//! On SIGINT or SIGTERM the handler (a thread of its own, from `ctrlc`):
//! 1. calls `sandbox::stop_all()` (so `requested()` is true), after which `spawn_registered`
//!    refuses to start anything;
//! 2. kills every registered group (builds and tests), again every 50 ms, so a process that
//!    was being spawned at that moment is caught too;
//! 3. gives the main thread up to 3 s to save progress and return `Interrupted` (exit 130),
//!    then exits 130 itself (a main thread blocked on input has nothing left to save).
//!
//! A closed stdout (`cargo xtask hint | head`) makes `println!` panic; the panic hook turns
//! that into the same clean end: children killed, exit 141 (128 + SIGPIPE), no message.
//! Commands save their state before they print, so nothing is lost.

use crate::exec::sandbox;
use std::time::{Duration, Instant};

/// The error a command returns when it stopped because of Ctrl-C or SIGTERM.
#[derive(Debug)]
pub struct Interrupted;

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("interrupted")
    }
}

impl std::error::Error for Interrupted {}

/// Exit status after Ctrl-C, as shells report it (128 + SIGINT).
pub const EXIT_CODE: u8 = 130;

/// Whether Ctrl-C or SIGTERM arrived.
pub fn requested() -> bool {
    sandbox::stopping()
}

/// `Err(Interrupted)` once Ctrl-C or SIGTERM arrived.
pub fn check() -> anyhow::Result<()> {
    if requested() {
        return Err(Interrupted.into());
    }
    Ok(())
}

/// Marks the interruption as handled in place (e.g. a raw-mode Ctrl-C key in `watch`).
pub fn request() {
    sandbox::stop_all();
}

/// Installs the signal handler and the closed-pipe hook. Call once, after the sandbox
/// launcher dispatch (that process must stay single-threaded).
pub fn install() {
    let _ = ctrlc::set_handler(|| {
        request();
        restore_terminal();
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(3) {
            std::thread::sleep(Duration::from_millis(50));
            sandbox::kill_live_groups();
        }
        std::process::exit(i32::from(EXIT_CODE));
    });
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if message.contains("failed printing to stdout") {
            sandbox::kill_live_groups();
            restore_terminal();
            std::process::exit(141);
        }
        default(info);
    }));
}

/// Leaves raw mode and shows the cursor, in case `watch` had the terminal.
pub fn restore_terminal() {
    if crossterm::terminal::is_raw_mode_enabled().unwrap_or(false) {
        let _ = crossterm::terminal::disable_raw_mode();
        let _ = crossterm::execute!(std::io::stderr(), crossterm::cursor::Show);
    }
}
