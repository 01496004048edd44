//! A shared, ordered log of side effects.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// An append-only log that code under test writes to and the test reads.
///
/// Clones share the same log. Tests use it to check *when* side effects happen (not before the
/// first poll) and *how often* (once, however many times the future is polled).
#[derive(Clone, Default)]
pub struct Journal {
    entries: Arc<Mutex<Vec<String>>>,
}

impl Journal {
    /// An empty journal.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends one entry.
    pub fn write(&self, entry: impl Into<String>) {
        self.lock().push(entry.into());
    }

    /// A copy of every entry so far, oldest first.
    pub fn entries(&self) -> Vec<String> {
        self.lock().clone()
    }

    /// How many entries have been written.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether nothing has been written yet.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    fn lock(&self) -> MutexGuard<'_, Vec<String>> {
        // A panic while holding the lock cannot leave a Vec half-pushed; keep the entries.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl fmt::Debug for Journal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.entries()).finish()
    }
}
