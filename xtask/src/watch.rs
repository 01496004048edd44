//! `cargo xtask watch`: re-run the current stage whenever one of its files is saved.
//!
//! Runs go through the isolated runner (`learn::run_stage`), so a test that hangs is reported
//! as a time-out and the loop carries on. Keys (type, then Enter): Enter or `r` runs now, `h`
//! shows the next hint, `n` moves to the next stage, `l` shows where you stand, `q` quits.
//! Where file events do not arrive (some network drives, WSL on a Windows drive), `--manual`
//! (or a watcher that fails to start) falls back to running on Enter only.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread;
use std::time::Duration;

use anyhow::Result;
use notify::{RecursiveMode, Watcher};

use crate::course::Course;
use crate::learn;
use crate::progress::Progress;
use crate::ui;

/// Saves that arrive within this long of each other are one change (editors write a file in
/// several steps).
const DEBOUNCE: Duration = Duration::from_millis(300);

enum Input {
    Changed,
    Key(String),
    Closed,
}

pub fn watch(root: &Path, manual: bool) -> Result<bool> {
    let course = Course::load(root)?;
    let (tx, inputs) = mpsc::channel::<Input>();

    // Keys, line by line, from stdin.
    let keys = tx.clone();
    thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if keys.send(Input::Key(line.trim().to_owned())).is_err() {
                return;
            }
        }
        let _ = keys.send(Input::Closed);
    });

    // File events, unless asked not to (or the platform cannot deliver them).
    let files = tx.clone();
    let mut watcher = if manual {
        None
    } else {
        match notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
            if event.is_ok_and(|e| e.kind.is_modify() || e.kind.is_create() || e.kind.is_remove()) {
                let _ = files.send(Input::Changed);
            }
        }) {
            Ok(watcher) => Some(watcher),
            Err(err) => {
                println!(
                    "File watching is not available here ({err}); press Enter to run instead."
                );
                None
            }
        }
    };

    let mut stage = learn::pick(&course, root, None)?.clone();
    let mut watched: Option<PathBuf> = None;
    loop {
        if let Some(watcher) = watcher.as_mut()
            && watched.as_deref() != Some(stage.exercise_dir(root).join("src").as_path())
        {
            if let Some(old) = watched.take() {
                let _ = watcher.unwatch(&old);
            }
            let dir = stage.exercise_dir(root).join("src");
            if let Err(err) = watcher.watch(&dir, RecursiveMode::Recursive) {
                println!(
                    "Cannot watch {} ({err}); press Enter to run instead.",
                    dir.display()
                );
            }
            watched = Some(dir);
        }
        let run = learn::run_stage(root, &stage)?;
        if run.all_passed() {
            let progress = Progress::load(root);
            match learn::next_stage(root, &course, &progress) {
                Some(next) => {
                    println!(
                        "{}",
                        ui::green(&format!(
                            "\nOn to stage {}: {} (exercises/{}/README.md)",
                            next.order, next.title, next.dir
                        ))
                    );
                    stage = next.clone();
                    let mut progress = progress;
                    progress.current = Some(stage.name.clone());
                    progress.save()?;
                    continue;
                }
                None => {
                    println!("{}", ui::green("\nEvery stage is done. Well built!"));
                    return Ok(true);
                }
            }
        }
        if watcher.is_some() {
            println!(
                "\n{} exercises/{}/src: save a file to re-run. Enter: run · h: hint · n: next \
                 stage · l: list · q: quit",
                ui::bold("watching"),
                stage.dir
            );
        } else {
            println!(
                "\n{} Enter: run again · h: hint · n: next stage · l: list · q: quit",
                ui::bold("manual mode.")
            );
        }
        // Wait for a reason to run again.
        loop {
            match inputs.recv() {
                Ok(Input::Changed) => {
                    // Debounce: swallow the rest of this burst of saves.
                    loop {
                        match inputs.recv_timeout(DEBOUNCE) {
                            Ok(Input::Changed) => continue,
                            Ok(other) => {
                                let _ = tx.send(other);
                                break;
                            }
                            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => {
                                break;
                            }
                        }
                    }
                    break;
                }
                Ok(Input::Key(key)) => match key.as_str() {
                    "" | "r" => break,
                    "q" => return Ok(true),
                    "h" => {
                        learn::hint(root, Some(&stage.name), false)?;
                    }
                    "l" => {
                        learn::status(root)?;
                    }
                    "n" => {
                        let index = course
                            .stages
                            .iter()
                            .position(|s| s.name == stage.name)
                            .unwrap_or(0);
                        if let Some(next) = course.stages.get(index + 1) {
                            stage = next.clone();
                            let mut progress = Progress::load(root);
                            progress.current = Some(stage.name.clone());
                            progress.save()?;
                            break;
                        }
                        println!("This is the last stage.");
                    }
                    other => println!("Unknown key `{other}`. Enter: run · h · n · l · q"),
                },
                // stdin closed (not a terminal): with file events we keep watching, otherwise
                // there is nothing left that could make us run again.
                Ok(Input::Closed) | Err(_) if watcher.is_none() => return Ok(true),
                Ok(Input::Closed) | Err(_) => {}
            }
        }
    }
}
