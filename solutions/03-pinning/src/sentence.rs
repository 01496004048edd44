//! A self-referential struct: a buffer of text, and a pointer to the first word *inside that
//! buffer*. It is what the compiler builds for an `async` block that keeps a borrow of one of
//! its own locals across an `.await`.

use std::fmt;
use std::marker::PhantomPinned;
use std::pin::Pin;

/// A short text kept inline (in the struct itself, not in a separate heap buffer), with a
/// pointer to its first word.
///
/// The pointer points into `bytes`, a field of this same struct. If the struct moved, `bytes`
/// would move with it, but the pointer would still hold the old address. So a `Sentence` is
/// only ever handed out pinned (`Sentence::new` returns `Pin<Box<Sentence>>`), and
/// `PhantomPinned` makes it `!Unpin`, so that safe code cannot move it out of its pin again.
pub struct Sentence {
    /// The text's bytes (valid UTF-8 up to `len`). Inline, so they move if the struct moves.
    bytes: [u8; Sentence::CAPACITY],
    len: usize,
    /// Points into `bytes`: the first word of the text, words being separated by whitespace as
    /// `char::is_whitespace` defines it. With no word, an empty string at the start of the
    /// text, still inside `bytes`. Valid for as long as the struct stays where it was built.
    first_word: *const str,
    /// Opts out of `Unpin`: a pinned `Sentence` must stay where it is until it is dropped.
    _pinned: PhantomPinned,
}

impl Sentence {
    /// The most bytes of text a `Sentence` holds.
    pub const CAPACITY: usize = 64;

    /// Copies `text` into a new sentence on the heap and points `first_word` at its first word.
    ///
    /// # Panics
    ///
    /// If `text` is longer than [`Sentence::CAPACITY`] bytes.
    pub fn new(text: &str) -> Pin<Box<Sentence>> {
        assert!(
            text.len() <= Self::CAPACITY,
            "Sentence::new: the text is {} bytes long; a Sentence holds at most {}",
            text.len(),
            Self::CAPACITY
        );
        let mut bytes = [0; Self::CAPACITY];
        bytes[..text.len()].copy_from_slice(text.as_bytes());

        // 1. Put the sentence in its final place first, with a placeholder pointer. A pointer
        //    taken before this point would point at the stack copy that `Box::pin` moves from.
        let mut sentence = Box::pin(Sentence {
            bytes,
            len: text.len(),
            first_word: "",
            _pinned: PhantomPinned,
        });

        // 2. Point into the buffer where it now lives, for good.
        // SAFETY: we need `&mut Sentence` to write the pointer field. We only assign a plain
        // raw pointer through it; nothing is moved out of the sentence or swapped into it, and
        // the reference does not outlive this statement block.
        let this = unsafe { sentence.as_mut().get_unchecked_mut() };
        let word: *const str = {
            let text = this.text();
            text.split_whitespace().next().unwrap_or(&text[..0])
        };
        this.first_word = word;
        sentence
    }

    /// The whole text, read straight from the buffer (not through the pointer): every byte given
    /// to `new`, a `'\0'` included (a `&str` may contain one; it does not end the text).
    pub fn text(&self) -> &str {
        std::str::from_utf8(&self.bytes[..self.len]).expect("a Sentence holds valid UTF-8")
    }

    /// The first word, read through the stored pointer.
    ///
    /// It takes `Pin<&Self>` to say so in the signature: the pointer is only valid because the
    /// sentence is pinned where it was built.
    pub fn first_word(self: Pin<&Self>) -> &str {
        // SAFETY: `first_word` was set in `new` to a subslice of `self.bytes`, after the
        // sentence reached its final place on the heap. A `Sentence` only exists pinned (`new`
        // is the only constructor and returns `Pin<Box<_>>`) and `!Unpin`, so it has not moved
        // since, and `bytes` is never written after `new`: the pointer still points at the
        // same valid UTF-8 bytes, which live as long as `self`.
        unsafe { &*self.get_ref().first_word }
    }

    /// The address the stored pointer holds, for tests: it must lie inside [`Sentence::text`].
    pub fn first_word_ptr(&self) -> *const u8 {
        self.first_word.cast()
    }
}

impl fmt::Debug for Sentence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The pointer is printed as an address: reading through it is only sound when pinned.
        f.debug_struct("Sentence")
            .field("text", &self.text())
            .field("first_word", &self.first_word_ptr())
            .finish()
    }
}
