use std::future::Future;

/// Runs `future` to completion on the current thread and returns its output.
///
/// Poll the future in a loop with a waker that does nothing (`std::task::Waker::noop()`),
/// and return the output as soon as `poll` gives `Poll::Ready`. After every `Pending`, poll
/// again at once, whether or not the future woke its waker and however many `Pending`s came
/// before: nothing in the loop may overflow, and no wait between polls may keep growing.
pub fn block_on<F: Future>(future: F) -> F::Output {
    todo!("pin the future, build a Context, and poll until Ready")
}
