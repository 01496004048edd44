//! The blocking pool behind `spawn_blocking`: at most `max_blocking_threads` threads; an idle
//! one waits `blocking_keep_alive` for a new job, then exits.
//!
//! Nothing here is public: design it as you like (the README's "The blocking pool" section).
