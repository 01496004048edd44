//! `cargo xtask watch`: re-run a stage whenever one of its files is saved.
//!
//! Runs go through the isolated runner (`learn::run_stage`), so a test that hangs is reported
//! as a time-out and the loop carries on.
//!
//! Two ways to talk to the learner:
//! * **screen** (stdin and stdout are terminals): single keys in raw mode (crossterm); after
//!   each run the screen is cleared and redrawn: the stage, a progress bar of passing tests,
//!   each part, the first failure in full, the key help. A hint or the list is drawn in place,
//!   under the run. Raw mode is on only while waiting for a key, so a run's output and Ctrl-C
//!   behave as usual; a Ctrl-C key in raw mode is handled as Ctrl-C (exit 130).
//! * **lines** (stdin is a pipe or a file): keys are typed then Enter, output is appended.
//!
//! Keys: `r` or Enter runs now, `h` shows the next hint, `n` moves to the next stage, `l`
//! shows where you stand, `q` quits. `--manual` (or a watcher that fails to start) runs on a
//! key only, for file systems where save events do not arrive.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::Duration;

use anyhow::Result;
use crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
use crossterm::{cursor, execute, terminal};
use notify::{RecursiveMode, Watcher};

use crate::commands::learn::{self, StageRun};
use crate::course::progress::Progress;
use crate::course::{Course, Stage};
use crate::exec::interrupt;
use crate::ui;

/// Saves that arrive within this long of each other are one change (editors write a file in
/// several steps).
const DEBOUNCE: Duration = Duration::from_millis(300);
/// How often a wait looks at Ctrl-C and file events.
const TICK: Duration = Duration::from_millis(100);

enum Input {
    Changed,
    Key(String),
    Closed,
}

/// Where keys come from.
struct Keys {
    screen: bool,
    lines: Option<Receiver<Input>>,
}

impl Keys {
    fn start() -> Keys {
        let screen = std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
        if screen {
            return Keys {
                screen,
                lines: None,
            };
        }
        let (keys_tx, keys_rx) = mpsc::channel();
        thread::spawn(move || {
            for line in std::io::stdin().lock().lines() {
                let Ok(line) = line else { break };
                if keys_tx.send(Input::Key(line.trim().to_owned())).is_err() {
                    return;
                }
            }
            let _ = keys_tx.send(Input::Closed);
        });
        Keys {
            screen,
            lines: Some(keys_rx),
        }
    }

    /// The next key or file change; `Err(Interrupted)` on Ctrl-C.
    fn next(&self, files: &Receiver<Input>) -> Result<Input> {
        if self.screen {
            terminal::enable_raw_mode()?;
        }
        let input = self.wait(files);
        if self.screen {
            terminal::disable_raw_mode()?;
        }
        input
    }

    fn wait(&self, files: &Receiver<Input>) -> Result<Input> {
        loop {
            interrupt::check()?;
            if let Ok(input) = files.try_recv() {
                return Ok(input);
            }
            match &self.lines {
                Some(lines) => match lines.recv_timeout(TICK) {
                    Ok(input) => return Ok(input),
                    Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => return Ok(Input::Closed),
                },
                None => {
                    if !event::poll(TICK)? {
                        continue;
                    }
                    let Event::Key(key) = event::read()? else {
                        continue;
                    };
                    if key.kind != KeyEventKind::Press {
                        continue;
                    }
                    if key.modifiers.contains(KeyModifiers::CONTROL)
                        && matches!(key.code, KeyCode::Char('c' | 'd'))
                    {
                        interrupt::request();
                        return Err(interrupt::Interrupted.into());
                    }
                    return Ok(Input::Key(match key.code {
                        KeyCode::Enter => String::new(),
                        KeyCode::Esc => "q".to_owned(),
                        KeyCode::Char(c) => c.to_string(),
                        _ => continue,
                    }));
                }
            }
        }
    }
}

pub fn watch(root: &Path, name: Option<&str>, manual: bool, clippy: bool) -> Result<bool> {
    let course = Course::load(root)?;
    let (tx, files) = mpsc::channel::<Input>();
    let keys = Keys::start();

    // File events, unless asked not to (or the platform cannot deliver them).
    let sender = tx.clone();
    let mut watcher = if manual {
        None
    } else {
        match notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
            if event.is_ok_and(|e| e.kind.is_modify() || e.kind.is_create() || e.kind.is_remove()) {
                let _ = sender.send(Input::Changed);
            }
        }) {
            Ok(watcher) => Some(watcher),
            Err(err) => {
                println!("File watching is not available here ({err}); press r to run instead.");
                None
            }
        }
    };

    let mut stage = learn::pick(&course, root, name)?.clone();
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
                    "Cannot watch {} ({err}); press r to run instead.",
                    dir.display()
                );
            }
            watched = Some(dir);
        }
        if keys.screen {
            clear()?;
        }
        let live = if keys.screen {
            learn::Live::Quiet
        } else {
            learn::Live::Lines
        };
        let run = learn::run_stage(root, &stage, &[], live)?;
        let help = key_help(&stage, watcher.is_some());
        if keys.screen {
            draw(&stage, &run, "", &help)?;
        } else {
            learn::print_summary(&stage, &run);
        }
        if clippy {
            learn::run_clippy(root, &stage)?;
        }
        if run.all_passed() {
            let progress = Progress::load(root);
            match learn::next_stage(root, &course, &progress) {
                Some(next) => {
                    println!(
                        "{}",
                        ui::green(&format!(
                            "\nOn to stage {}: {} (cargo xtask readme {})",
                            next.order, next.title, next.name
                        ))
                    );
                    stage = next.clone();
                    let mut progress = progress;
                    progress.current = Some(stage.name.clone());
                    progress.save()?;
                    if keys.screen {
                        // Let the learner read the news before the next stage's screen.
                        thread::sleep(Duration::from_secs(2));
                    }
                    continue;
                }
                None => {
                    println!("{}", ui::green("\nEvery stage is done. Well built!"));
                    return Ok(true);
                }
            }
        }
        if !keys.screen {
            println!("\n{help}");
        }
        // Wait for a reason to run again.
        loop {
            match keys.next(&files)? {
                Input::Changed => {
                    // Debounce: swallow the rest of this burst of saves.
                    while let Ok(Input::Changed) = files.recv_timeout(DEBOUNCE) {}
                    break;
                }
                Input::Key(key) => match key.as_str() {
                    "" | "r" => break,
                    "q" => return Ok(true),
                    "h" => {
                        let (text, last) = learn::reveal_hint(root, &stage, false)?;
                        let more = if last {
                            "That was the last hint; `cargo xtask hint --again` shows them all."
                        } else {
                            "Press h again for the next hint."
                        };
                        let extra = format!("{text}{more}");
                        if keys.screen {
                            draw(&stage, &run, &extra, &help)?;
                        } else {
                            println!("{extra}\n\n{help}");
                        }
                    }
                    "l" => {
                        if keys.screen {
                            draw(&stage, &run, "", "")?;
                        }
                        learn::status(root)?;
                        println!("\n{help}");
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
                    other => println!("Unknown key `{other}`. {help}"),
                },
                // stdin closed (not a terminal): with file events we keep watching, otherwise
                // there is nothing left that could make us run again.
                Input::Closed if watcher.is_none() => return Ok(true),
                Input::Closed => {}
            }
        }
    }
}

fn key_help(stage: &Stage, watching: bool) -> String {
    let what = if watching {
        format!(
            "{} exercises/{}/src (save a file to re-run)",
            ui::bold("watching"),
            stage.dir
        )
    } else {
        format!("{} (press r to run)", ui::bold("manual mode"))
    };
    format!("{what}\nr/Enter run · h hint · n next stage · l list · q quit")
}

fn clear() -> Result<()> {
    let mut out = std::io::stdout();
    execute!(
        out,
        terminal::Clear(terminal::ClearType::All),
        terminal::Clear(terminal::ClearType::Purge),
        cursor::MoveTo(0, 0)
    )?;
    out.flush()?;
    Ok(())
}

/// The watch screen: stage, progress bar, parts, the first failure in full, `extra` (a hint),
/// the key help.
fn draw(stage: &Stage, run: &StageRun, extra: &str, help: &str) -> Result<()> {
    clear()?;
    println!(
        "{}  {}",
        ui::bold(&format!("{:02} {}", stage.order, stage.name)),
        stage.title
    );
    if !run.compiled {
        println!("{}", ui::red("does not compile yet:\n"));
        if let Some(error) = run.errors.first() {
            println!("{}", error.trim_end());
        }
        if run.errors.len() > 1 {
            println!("({} more errors)", run.errors.len() - 1);
        }
    } else {
        const WIDTH: usize = 30;
        let filled = (run.passed * WIDTH).checked_div(run.total).unwrap_or(0);
        let bar = format!(
            "{}{}",
            ui::green(&"█".repeat(filled)),
            "░".repeat(WIDTH - filled)
        );
        println!(
            "{bar} {}/{} tests · {}/{} points\n",
            run.passed,
            run.total,
            learn::show_points(run.points),
            learn::show_points(stage.points)
        );
        let parts = learn::by_part(&run.results);
        for (part, results) in &parts {
            let passed = results.iter().filter(|r| r.status.passed()).count();
            let mark = if passed == results.len() {
                ui::green("✓")
            } else {
                " ".to_owned()
            };
            println!(
                " {mark} {}: {part}  {passed}/{}",
                learn::part_label(run, part),
                results.len()
            );
        }
        if let Some(failure) = run.results.iter().find(|r| !r.status.passed()) {
            println!(
                "\n{} {} ({})",
                ui::red("first failure:"),
                ui::bold(&failure.id.to_string()),
                failure.status.label()
            );
            println!("{}", failure.message.trim_end());
        } else if run.total > 0 {
            println!("\n{}", ui::green("every test passes"));
        }
    }
    if !run.warnings.is_empty() {
        println!(
            "\n{} (the first; `cargo xtask run` shows all)",
            ui::bold(&format!("{} warning(s) in your code", run.warnings.len()))
        );
        println!("{}", run.warnings[0].trim_end());
    }
    if !extra.is_empty() {
        println!("\n{}", extra.trim_end());
    }
    if !help.is_empty() {
        println!("\n{help}");
    }
    std::io::stdout().flush()?;
    Ok(())
}
