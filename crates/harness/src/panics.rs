//! Check one step for a panic, and only that step.

use std::any::Any;
use std::panic::{self, AssertUnwindSafe};

/// Runs `step` and returns its value, or the message it panicked with.
///
/// Tests that check "this call panics" use it around the one call under test, after driving
/// (and asserting) every step before it: a stub that panics earlier, in a constructor's
/// `todo!()` say, then fails on that earlier step instead of passing as if it had panicked for
/// the right reason.
///
/// ```
/// let message = harness::catch_panic(|| -> () { panic!("polled after completion") });
/// assert_eq!(message.unwrap_err(), "polled after completion");
/// assert_eq!(harness::catch_panic(|| 7), Ok(7));
/// ```
pub fn catch_panic<T>(step: impl FnOnce() -> T) -> Result<T, String> {
    panic::catch_unwind(AssertUnwindSafe(step)).map_err(|payload| panic_message(&*payload))
}

/// The text of a panic's payload (`panic!("...")` gives a `&str` or a `String`).
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "(a panic whose payload is not text)".to_owned()
    }
}
