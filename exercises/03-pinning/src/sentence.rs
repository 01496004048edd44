//! A self-referential struct: a buffer of text, and a pointer to the first word *inside that
//! buffer*. It is what the compiler builds for an `async` block that keeps a borrow of one of
//! its own locals across an `.await`.

use std::pin::Pin;

/// A short text kept inline (in the struct itself, not in a separate heap buffer), with a
/// pointer to its first word.
///
/// - The text's bytes live in a fixed-size array field (at most [`Sentence::CAPACITY`] bytes).
/// - A raw-pointer field (`*const str` is convenient) points at the first word *inside that
///   array*. Words are separated by whitespace as `char::is_whitespace` defines it (spaces,
///   tabs, newlines and other Unicode spaces: what `str::split_whitespace` splits on). With no
///   word, it points at an empty string that is still inside that array (at the start of the
///   text, say), not at a `""` literal somewhere else.
/// - A `std::marker::PhantomPinned` field makes `Sentence` `!Unpin`: once pinned, safe code
///   cannot move it again, so the pointer stays valid.
/// - The only way to make one is [`Sentence::new`], which returns it already pinned.
#[derive(Debug)]
pub struct Sentence {
    // TODO: the bytes, the length of the text, the pointer, and a PhantomPinned. (If a field
    // type is not `Debug`, replace the derive with an `impl fmt::Debug`.)
    _todo: (),
}

impl Sentence {
    /// The most bytes of text a `Sentence` holds.
    pub const CAPACITY: usize = 64;

    /// Copies `text` into a new sentence on the heap and points the first-word pointer at its
    /// first word, inside the sentence's own buffer.
    ///
    /// Panics if `text` is longer than [`Sentence::CAPACITY`] bytes.
    pub fn new(text: &str) -> Pin<Box<Sentence>> {
        todo!("Box::pin the sentence with a placeholder pointer first, then point into its buffer")
    }

    /// The whole text, read straight from the buffer (not through the pointer): every byte given
    /// to `new`, a `'\0'` included (a `&str` may contain one; it does not end the text).
    pub fn text(&self) -> &str {
        todo!("the first `len` bytes of the buffer, as a &str")
    }

    /// The first word, read through the stored pointer.
    ///
    /// It takes `Pin<&Self>`: the pointer is only valid because the sentence is pinned where
    /// it was built.
    pub fn first_word(self: Pin<&Self>) -> &str {
        todo!("dereference the pointer, in an unsafe block with a // SAFETY: comment")
    }

    /// The address the stored pointer holds (its first byte), for tests: it must lie inside
    /// [`Sentence::text`].
    pub fn first_word_ptr(&self) -> *const u8 {
        todo!("the pointer, cast to *const u8")
    }
}
