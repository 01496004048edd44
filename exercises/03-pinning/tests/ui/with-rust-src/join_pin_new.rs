// Must not compile: `Pin::new` is the safe way to pin, so it only accepts `Unpin` types. A Join
// of a `!Unpin` child must itself be `!Unpin`, or safe code could pin it, poll it, and move it.
use std::future::Future;
use std::marker::PhantomPinned;
use std::pin::Pin;
use std::task::{Context, Poll};

use pinning::join;

// A future that is `!Unpin`, like an async block that borrows from itself.
struct NotUnpin {
    _pinned: PhantomPinned,
}

impl Future for NotUnpin {
    type Output = ();

    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        Poll::Ready(())
    }
}

fn main() {
    let not_unpin = NotUnpin {
        _pinned: PhantomPinned,
    };
    let mut joined = join(not_unpin, std::future::ready(1));
    let _pinned = Pin::new(&mut joined);
}
