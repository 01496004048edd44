//! Is a thread asleep? Ask the kernel, instead of timing it.

use std::path::PathBuf;
use std::thread;
use std::time::{Duration, Instant};

/// How many looks in a row must find the thread blocked, with no context switch in between.
const STEADY_LOOKS: usize = 25;

/// The kernel's view of one thread of this process (Linux `/proc`), to check that it sleeps
/// while it has nothing to do, instead of spinning or napping in a loop.
///
/// Create it *on* the thread to watch ([`ThreadWatch::current`]), hand it to another thread,
/// and ask there. A thread counts as asleep when [`STEADY_LOOKS`] looks in a row, about a
/// millisecond apart, all find it blocked in the kernel (state `S`) and not one context switch
/// happened in between: a thread blocked on a condition variable, a park or a channel stays
/// that way; a loop that spins (`yield_now`) is seen running, and a loop that naps
/// (`sleep(1ms)`) is seen waking up again and again. Only how often to look depends on time,
/// never the verdict.
#[derive(Debug, Clone)]
pub struct ThreadWatch {
    dir: Option<PathBuf>,
}

/// What [`ThreadWatch::wait_until_asleep`] saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Asleep {
    /// Blocked, steadily.
    Yes,
    /// This system has no `/proc/thread-self` (not Linux): nothing can be said.
    Unknown,
    /// Never seen asleep before the limit; what was seen last, in words.
    Never(String),
}

struct Look {
    state: char,
    switches: u64,
}

impl ThreadWatch {
    /// A watch on the calling thread.
    pub fn current() -> ThreadWatch {
        let dir = std::fs::read_link("/proc/thread-self")
            .ok()
            .map(|task| PathBuf::from("/proc").join(task))
            .filter(|dir| dir.join("stat").exists());
        ThreadWatch { dir }
    }

    fn look(&self) -> Option<Look> {
        let dir = self.dir.as_ref()?;
        let stat = std::fs::read_to_string(dir.join("stat")).ok()?;
        // "tid (name) S ...": the name may hold spaces and parentheses; the state follows the
        // last ')'.
        let state = stat[stat.rfind(')')? + 1..].trim_start().chars().next()?;
        let status = std::fs::read_to_string(dir.join("status")).ok()?;
        let switches = status
            .lines()
            .filter(|line| line.contains("ctxt_switches:"))
            .filter_map(|line| line.split_whitespace().last()?.parse::<u64>().ok())
            .sum();
        Some(Look { state, switches })
    }

    /// Waits (up to `limit`) until the thread is seen asleep, steadily.
    ///
    /// When `HARNESS_WATCHDOG_MS` shortens every watchdog (bug variants), the limit is capped
    /// at half of it, so that the verdict comes before the watchdog gives up.
    pub fn wait_until_asleep(&self, limit: Duration) -> Asleep {
        if self.dir.is_none() {
            return Asleep::Unknown;
        }
        let limit = std::env::var("HARNESS_WATCHDOG_MS")
            .ok()
            .and_then(|ms| ms.parse::<u64>().ok())
            .map_or(limit, |ms| limit.min(Duration::from_millis(ms / 2)));
        let deadline = Instant::now() + limit;
        let mut last = "never looked at".to_owned();
        while Instant::now() < deadline {
            let Some(first) = self.look() else {
                return Asleep::Never("the thread ended".to_owned());
            };
            if first.state != 'S' {
                last = format!("running (state {}), not blocked", first.state);
                thread::sleep(Duration::from_micros(500));
                continue;
            }
            let mut steady = true;
            for _ in 0..STEADY_LOOKS {
                thread::sleep(Duration::from_millis(1));
                match self.look() {
                    Some(now) if now.state == 'S' && now.switches == first.switches => {}
                    Some(now) if now.state != 'S' => {
                        last = format!("running (state {}) between two naps", now.state);
                        steady = false;
                        break;
                    }
                    Some(now) => {
                        last = format!(
                            "blocked, but woke up {} time(s) within about {} ms: a loop that \
                             naps and looks again",
                            now.switches - first.switches,
                            STEADY_LOOKS
                        );
                        steady = false;
                        break;
                    }
                    None => return Asleep::Never("the thread ended".to_owned()),
                }
            }
            if steady {
                return Asleep::Yes;
            }
        }
        Asleep::Never(last)
    }
}
