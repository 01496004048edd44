//! `cargo xtask watch`: re-run a stage whenever one of its files is saved.
//!
//! Runs go through the isolated runner (`learner::run_stage`), so a test that hangs is reported
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

use super::args::WatchArgs;
use super::learner::{self, StageRun};
use crate::course::points;
use crate::course::progress::Progress;
use crate::course::standing;
use crate::course::{Course, Stage};
use crate::exec::interrupt;
use crate::outcome::Outcome;
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

pub fn watch(root: &Path, args: &WatchArgs) -> Result<Outcome> {
    let (name, manual, clippy) = (args.stage.as_deref(), args.manual, args.clippy);
    let course = Course::load(root)?;
    let (tx, files) = mpsc::channel::<Input>();
    let mut session = Session {
        root,
        keys: Keys::start(),
        watcher: file_watcher(tx, manual),
        watched: None,
        stage: standing::pick(&course, root, name)?.clone(),
        course: &course,
    };
    loop {
        session.watch_stage_dir();
        if session.keys.screen {
            clear()?;
        }
        let live = if session.keys.screen {
            learner::Live::Quiet
        } else {
            learner::Live::Lines
        };
        let run = learner::run_stage(root, &session.stage, &[], live)?;
        let help = key_help(&session.stage, session.watcher.is_some());
        if session.keys.screen {
            draw(&session.stage, &run, "", &help)?;
        } else {
            learner::print_summary(&session.stage, &run);
        }
        if clippy {
            learner::run_clippy(root, &session.stage)?;
        }
        if run.all_passed() {
            match session.on_to_next_stage()? {
                Some(done) => return Ok(done),
                None => continue,
            }
        }
        if !session.keys.screen {
            println!("\n{help}");
        }
        if !session.wait_for_a_run(&files, &run, &help)? {
            return Ok(Outcome::Passed);
        }
    }
}

/// File events, unless asked not to (or the platform cannot deliver them).
fn file_watcher(tx: mpsc::Sender<Input>, manual: bool) -> Option<notify::RecommendedWatcher> {
    if manual {
        return None;
    }
    match notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if event.is_ok_and(|e| e.kind.is_modify() || e.kind.is_create() || e.kind.is_remove()) {
            let _ = tx.send(Input::Changed);
        }
    }) {
        Ok(watcher) => Some(watcher),
        Err(err) => {
            println!("File watching is not available here ({err}); press r to run instead.");
            None
        }
    }
}

/// One `watch`: the stage being watched, and where its events come from.
struct Session<'a> {
    root: &'a Path,
    course: &'a Course,
    keys: Keys,
    watcher: Option<notify::RecommendedWatcher>,
    watched: Option<PathBuf>,
    stage: Stage,
}

impl Session<'_> {
    /// Watches the current stage's `src/` (and no longer the previous stage's).
    fn watch_stage_dir(&mut self) {
        let dir = self.stage.exercise_dir(self.root).join("src");
        let Some(watcher) = self.watcher.as_mut() else {
            return;
        };
        if self.watched.as_deref() == Some(dir.as_path()) {
            return;
        }
        if let Some(old) = self.watched.take() {
            let _ = watcher.unwatch(&old);
        }
        if let Err(err) = watcher.watch(&dir, RecursiveMode::Recursive) {
            println!(
                "Cannot watch {} ({err}); press r to run instead.",
                dir.display()
            );
        }
        self.watched = Some(dir);
    }

    /// The stage passed: moves on to the next unfinished one (`None`: run it), or says the
    /// course is done (`Some(Passed)`).
    fn on_to_next_stage(&mut self) -> Result<Option<Outcome>> {
        let progress = Progress::load(self.root);
        let Some(next) = standing::next_stage(self.root, self.course, &progress) else {
            println!("{}", ui::green("\nEvery stage is done. Well built!"));
            return Ok(Some(Outcome::Passed));
        };
        println!(
            "{}",
            ui::green(&format!(
                "\nOn to stage {}: {} (cargo xtask readme {})",
                next.order, next.title, next.name
            ))
        );
        self.stage = next.clone();
        let mut progress = progress;
        progress.current = Some(self.stage.name.clone());
        progress.save()?;
        if self.keys.screen {
            // Let the learner read the news before the next stage's screen.
            thread::sleep(Duration::from_secs(2));
        }
        Ok(None)
    }

    /// Waits for a reason to run again: `true` to run, `false` to quit.
    fn wait_for_a_run(
        &mut self,
        files: &Receiver<Input>,
        run: &StageRun,
        help: &str,
    ) -> Result<bool> {
        loop {
            match self.keys.next(files)? {
                Input::Changed => {
                    // Debounce: swallow the rest of this burst of saves.
                    while let Ok(Input::Changed) = files.recv_timeout(DEBOUNCE) {}
                    return Ok(true);
                }
                Input::Key(key) => match key.as_str() {
                    "" | "r" => return Ok(true),
                    "q" => return Ok(false),
                    "h" => self.show_hint(run, help)?,
                    "l" => {
                        if self.keys.screen {
                            draw(&self.stage, run, "", "")?;
                        }
                        let _shown = learner::status(self.root)?;
                        println!("\n{help}");
                    }
                    "n" => {
                        if self.skip_to_next_stage()? {
                            return Ok(true);
                        }
                        println!("This is the last stage.");
                    }
                    other => println!("Unknown key `{other}`. {help}"),
                },
                // stdin closed (not a terminal): with file events we keep watching, otherwise
                // there is nothing left that could make us run again.
                Input::Closed if self.watcher.is_none() => return Ok(false),
                Input::Closed => {}
            }
        }
    }

    /// `h`: the next hint, drawn under the run (or printed).
    fn show_hint(&self, run: &StageRun, help: &str) -> Result<()> {
        let (text, last) = learner::reveal_hint(self.root, &self.stage, false)?;
        let more = if last {
            "That was the last hint; `cargo xtask hint --again` shows them all."
        } else {
            "Press h again for the next hint."
        };
        let extra = format!("{text}{more}");
        if self.keys.screen {
            draw(&self.stage, run, &extra, help)?;
        } else {
            println!("{extra}\n\n{help}");
        }
        Ok(())
    }

    /// `n`: the next stage in order, if there is one.
    fn skip_to_next_stage(&mut self) -> Result<bool> {
        let index = self
            .course
            .stages
            .iter()
            .position(|s| s.name == self.stage.name)
            .unwrap_or(0);
        let Some(next) = self.course.stages.get(index + 1) else {
            return Ok(false);
        };
        self.stage = next.clone();
        let mut progress = Progress::load(self.root);
        progress.current = Some(self.stage.name.clone());
        progress.save()?;
        Ok(true)
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
            points::show(run.points),
            points::show(stage.points)
        );
        let parts = learner::by_part(&run.results);
        for (part, results) in &parts {
            let passed = results.iter().filter(|r| r.status.passed()).count();
            let mark = if passed == results.len() {
                ui::green("✓")
            } else {
                " ".to_owned()
            };
            println!(
                " {mark} {}: {part}  {passed}/{}",
                learner::part_label(run, part),
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
