//! Part 3 — `Sentence`: a struct that points into itself.
//!
//! Run just these with `cargo test -p pinning --test part3_sentence`.
//!
//! The tests compare addresses *before* reading through your pointer: reading through a
//! dangling pointer is undefined behaviour, which might even seem to work. An address that is
//! wrong is simply wrong.

use std::marker::PhantomData;
use std::pin::Pin;

use pinning::Sentence;

/// `is_unpin!(T)` tells, at run time, whether the compiler considers `T` to be `Unpin`.
///
/// How: method lookup tries `Probe<T>` itself before `&Probe<T>`, and takes the first method
/// whose trait bounds hold. The `T: Unpin` impl answers true; when `T` is not `Unpin`, lookup
/// falls through to the impl for `&Probe<T>`, which answers false. (This works only for
/// concrete types, as here.)
struct Probe<T>(PhantomData<T>);

// Which of the two traits a test uses depends on the types it probes.
#[allow(dead_code)]
trait UnpinYes {
    fn is_unpin(&self) -> bool {
        true
    }
}

impl<T: Unpin> UnpinYes for Probe<T> {}

#[allow(dead_code)]
trait UnpinNo {
    fn is_unpin(&self) -> bool {
        false
    }
}

impl<T> UnpinNo for &Probe<T> {}

macro_rules! is_unpin {
    ($t:ty) => {
        (&Probe::<$t>(PhantomData)).is_unpin()
    };
}

/// The address range `[start, end)` of the `Sentence` value itself (not of its box's handle,
/// and not of any buffer it might point to).
fn own_range(sentence: &Sentence) -> (usize, usize) {
    let start = std::ptr::from_ref(sentence) as usize;
    (start, start + std::mem::size_of::<Sentence>())
}

/// Checks that `sentence`'s text lies inline, inside the `Sentence` value itself (not in a
/// separate heap buffer).
fn check_text_is_inline(sentence: &Sentence, when: &str) {
    let text = sentence.text();
    let (start, end) = own_range(sentence);
    let (text_start, text_end) = (text.as_ptr() as usize, text.as_ptr() as usize + text.len());
    assert!(
        start <= text_start && text_end <= end,
        "{when}: the bytes of Sentence {text:?} are at {text_start:#x}..{text_end:#x}, outside \
         the Sentence value itself ({start:#x}..{end:#x}, {} bytes). A Sentence keeps its text \
         INLINE, in a fixed-size array field (`bytes: [u8; Sentence::CAPACITY]`), not in a \
         separate heap buffer (`Box`, `Vec`, `String`): the whole point is a struct that \
         points into itself. A pointer into a buffer of its own would survive a move of the \
         struct, and then nothing would need `Pin`.",
        end - start
    );
}

/// Checks that `sentence`'s pointer points at `expected_word`, `offset` bytes into its own
/// buffer, and only then reads through it.
fn check_points_into_itself(
    sentence: Pin<&Sentence>,
    offset: usize,
    expected_word: &str,
    when: &str,
) {
    check_text_is_inline(sentence.get_ref(), when);
    let text = sentence.text();
    let buffer_start = text.as_ptr();
    let expected = buffer_start.wrapping_add(offset);
    let actual = sentence.first_word_ptr();
    assert!(
        actual == expected,
        "{when}: the first-word pointer of Sentence {text:?} holds {actual:?}, but the word \
         starts at {expected:?} ({offset} bytes into the sentence's own buffer, which is at \
         {buffer_start:?} now). It points outside the sentence's own buffer: at a copy of the \
         sentence that was then moved into the Box (take the pointer only after `Box::pin`, from \
         the boxed value), or into the `text` argument (the caller's string, not the \
         sentence's `bytes`). Or it points at another word: the first word is the first run of \
         characters that are not whitespace (`char::is_whitespace`: tabs, newlines and other \
         Unicode spaces count, as for `str::split_whitespace`)."
    );
    assert_eq!(
        sentence.first_word(),
        expected_word,
        "{when}: the pointer is at the right address, but reading through it gave the wrong \
         word. Check the length you stored with it."
    );
}

#[test]
fn first_word_points_into_the_sentence_itself() {
    let sentence = Sentence::new("  pinned values stay put");
    assert_eq!(
        sentence.text(),
        "  pinned values stay put",
        "`text()` must return the text given to `new`, read from the sentence's own buffer"
    );
    check_points_into_itself(sentence.as_ref(), 2, "pinned", "right after Sentence::new");
}

#[test]
fn the_pointer_stays_valid_when_the_box_moves() {
    // Each `Pin<Box<Sentence>>` is moved into the Vec, moved again every time the Vec grows,
    // and two of them are swapped. The boxes move; the sentences they point to must not.
    let mut sentences: Vec<Pin<Box<Sentence>>> = Vec::new();
    for n in 0..50 {
        sentences.push(Sentence::new(&format!(
            "{} word{n} and more",
            " ".repeat(n % 4)
        )));
    }
    sentences.swap(0, 49);
    sentences.reverse();
    for (index, sentence) in sentences.iter().enumerate() {
        let n = match index {
            0 => 0,
            49 => 49,
            _ => 49 - index,
        };
        check_points_into_itself(
            sentence.as_ref(),
            n % 4 + 1,
            &format!("word{n}"),
            &format!("after moving the box of sentence {n} around a growing Vec"),
        );
    }
}

#[test]
fn a_sentence_without_words_has_an_empty_first_word() {
    let blank = Sentence::new("   ");
    assert_eq!(
        blank.as_ref().first_word(),
        "",
        "\"   \" has no word, so its first word is the empty string"
    );
    let one = Sentence::new("solo");
    check_points_into_itself(one.as_ref(), 0, "solo", "a one-word sentence");
}

#[test]
fn a_sentence_keeps_its_text_inline_in_itself() {
    for text in ["inline", "", "  two words", &"w".repeat(Sentence::CAPACITY)] {
        let sentence = Sentence::new(text);
        check_text_is_inline(&sentence, &format!("Sentence::new({text:?})"));
        let (start, end) = own_range(&sentence);
        let pointer = sentence.first_word_ptr() as usize;
        assert!(
            start <= pointer && pointer <= end,
            "Sentence::new({text:?}): the first-word pointer holds {pointer:#x}, outside the \
             Sentence value itself ({start:#x}..{end:#x}): it must point into the sentence's \
             own inline buffer."
        );
    }
}

#[test]
fn a_sentence_without_words_points_at_an_empty_word_inside_itself() {
    for text in ["", " ", "   ", "\t\n", "\r\n \u{3000}"] {
        let sentence = Sentence::new(text);
        let when = format!("Sentence::new({text:?}), a text with no word");
        check_text_is_inline(&sentence, &when);
        let text_start = sentence.text().as_ptr() as usize;
        let text_end = text_start + sentence.text().len();
        let pointer = sentence.first_word_ptr() as usize;
        assert!(
            text_start <= pointer && pointer <= text_end,
            "{when}: the first-word pointer holds {pointer:#x}, but the sentence's text is at \
             {text_start:#x}..={text_end:#x}. With no word the first word is the empty string, \
             and it too lies INSIDE the sentence's own buffer (the reference points at the \
             start of the text: `&text[..0]`), not at a `\"\"` literal in the program's static \
             data: a placeholder pointer left in place reads as \"\" but points elsewhere."
        );
        assert_eq!(
            sentence.as_ref().first_word(),
            "",
            "{when}: the first word of a text with no word is the empty string"
        );
    }
}

#[test]
fn the_first_word_ends_at_any_unicode_whitespace() {
    // (text, where the first word starts, the first word)
    let cases = [
        ("\tpinned values", 1, "pinned"),
        ("\n\nline two", 2, "line"),
        ("tab\tseparated words", 0, "tab"),
        ("first\nsecond", 0, "first"),
        ("\r\nwindows line", 2, "windows"),
        ("\u{3000}ideographic\u{3000}space", 3, "ideographic"),
        ("no\u{a0}break space", 0, "no"),
        ("\u{2003}em\u{2003}space", 3, "em"),
    ];
    for (text, offset, word) in cases {
        let sentence = Sentence::new(text);
        check_points_into_itself(
            sentence.as_ref(),
            offset,
            word,
            &format!(
                "Sentence::new({text:?}): words are separated by any whitespace \
                 (`char::is_whitespace`, as `str::split_whitespace` splits), not only by ' '"
            ),
        );
    }
}

#[test]
fn a_sentence_keeps_every_byte_of_its_text_even_a_nul() {
    let full_last_word = format!("{}z", " ".repeat(Sentence::CAPACITY - 1));
    let accents = "é".repeat(Sentence::CAPACITY / 2);
    // (text, where the first word starts, the first word)
    let cases = [
        ("ab\0cd ef", 0, "ab\0cd"),
        ("\0pinned", 0, "\0pinned"),
        (" x\0", 1, "x\0"),
        (full_last_word.as_str(), Sentence::CAPACITY - 1, "z"),
        (accents.as_str(), 0, accents.as_str()),
    ];
    for (text, offset, word) in cases {
        let sentence = Sentence::new(text);
        assert_eq!(
            sentence.text(),
            text,
            "Sentence::new({text:?}).text() must give back the whole text, every byte of it. \
             A Rust `&str` may contain '\\0' (it is an ordinary character, not an end marker), \
             and a text may fill the whole buffer: keep the text's length in a field of its own \
             instead of looking for the first zero byte."
        );
        check_points_into_itself(
            sentence.as_ref(),
            offset,
            word,
            &format!("Sentence::new({text:?})"),
        );
    }
}

#[test]
fn a_sentence_is_not_unpin() {
    // Building one first, so that the stub fails here with its todo!() like every other test.
    let sentence = Sentence::new("stay");
    check_points_into_itself(sentence.as_ref(), 0, "stay", "right after Sentence::new");
    assert!(
        !is_unpin!(Sentence),
        "Sentence is Unpin, so safe code could move it out of its pin (`mem::swap` through a \
         `Pin<Box<Sentence>>`) and leave its pointer dangling. Add a \
         `std::marker::PhantomPinned` field: a type with one is `!Unpin`."
    );
}

#[test]
fn a_sentence_holds_up_to_its_capacity_and_refuses_more() {
    let full = "x".repeat(Sentence::CAPACITY);
    let sentence = Sentence::new(&full);
    assert_eq!(
        sentence.text(),
        full,
        "a text of exactly CAPACITY ({}) bytes fits, and text() must return all of it",
        Sentence::CAPACITY
    );
    let too_long = "y".repeat(Sentence::CAPACITY + 1);
    let refused = std::panic::catch_unwind(|| Sentence::new(&too_long));
    assert!(
        refused.is_err(),
        "Sentence::new accepted a text of {} bytes, one more than its buffer holds: it must \
         panic (say so with `assert!` before copying) rather than cut the text or write past \
         the buffer",
        Sentence::CAPACITY + 1
    );
}
