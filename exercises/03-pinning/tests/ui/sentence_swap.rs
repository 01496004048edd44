// Must not compile: swapping two pinned sentences would move each one into the other's place,
// and both first-word pointers would point at a buffer that is no longer theirs. A `Sentence`
// is `!Unpin`, so `Pin<Box<Sentence>>` gives no `&mut Sentence` to swap with.
#![allow(unused_mut)] // `mut` is needed only where the swap compiles (an `Unpin` Sentence)

use pinning::Sentence;

fn main() {
    let mut first = Sentence::new("first sentence");
    let mut second = Sentence::new("second sentence");
    std::mem::swap(&mut *first, &mut *second);
}
