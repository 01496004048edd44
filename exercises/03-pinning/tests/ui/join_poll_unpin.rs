// Must not compile: `poll_unpin` (like `select!` and other APIs that poll in place) requires
// `Unpin`. An async block that borrows from itself is `!Unpin`, so a Join holding one must be.
use std::task::{Context, Waker};

use futures::FutureExt;
use pinning::join;

fn main() {
    let borrowing = async {
        let numbers = [1, 2];
        let first = &numbers[0];
        std::future::ready(()).await;
        *first
    };
    let mut joined = join(borrowing, std::future::ready(2));
    let _ = joined.poll_unpin(&mut Context::from_waker(Waker::noop()));
}
