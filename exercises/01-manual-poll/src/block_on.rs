use std::future::Future;

/// Runs `future` to completion on the current thread and returns its output.
///
/// Poll the future in a loop with a waker that does nothing (`std::task::Waker::noop()`),
/// and return the output as soon as `poll` gives `Poll::Ready`.
pub fn block_on<F: Future>(future: F) -> F::Output {
    todo!("pin the future, build a Context, and poll until Ready")
}
