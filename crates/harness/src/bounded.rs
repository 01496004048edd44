//! Failure messages that stay a few lines long however broken the code under test is.
//!
//! A wrong implementation can make any list in a message arbitrarily long: an executor that
//! re-queues every pending task polls it millions of times, and a message that lists every
//! step floods the learner's terminal (and, through an insta diff, prints it twice). Every
//! list or multi-line text a test shows goes through one of these, which keep the first and
//! last few items and say how many were left out.

use std::fmt::Display;

/// `items` joined by `", "`, with at most `head` items from the start and `tail` from the end:
/// `1, 2, 3, … 9 995 more …, 9999, 10000`.
pub fn list<T: Display>(items: &[T], head: usize, tail: usize) -> String {
    if items.len() <= head + tail + 1 {
        return join(items.iter());
    }
    let omitted = items.len() - head - tail;
    let mut out = join(items[..head].iter());
    if head > 0 {
        out.push_str(", ");
    }
    out.push_str(&format!("… {} more …", thousands(omitted)));
    if tail > 0 {
        out.push_str(", ");
        out.push_str(&join(items[items.len() - tail..].iter()));
    }
    out
}

/// `text` with at most `head` lines from the start and `tail` from the end, the rest replaced
/// by one line saying how many were left out. A text that fits is returned unchanged.
pub fn lines(text: &str, head: usize, tail: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    if all.len() <= head + tail + 1 {
        return text.to_owned();
    }
    let omitted = all.len() - head - tail;
    let mut out = String::new();
    for line in &all[..head] {
        out.push_str(line);
        out.push('\n');
    }
    out.push_str(&format!("… {} more lines …\n", thousands(omitted)));
    for line in &all[all.len() - tail..] {
        out.push_str(line);
        out.push('\n');
    }
    out
}

fn join<'a, T: Display + 'a>(items: impl Iterator<Item = &'a T>) -> String {
    items
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// `2400000` as `2 400 000`: a count a reader takes in at a glance.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_list_is_shown_whole() {
        assert_eq!(list(&[1, 2, 3], 2, 1), "1, 2, 3");
        assert_eq!(list::<u8>(&[], 2, 1), "");
    }

    #[test]
    fn a_long_list_keeps_its_ends_and_counts_the_rest() {
        let steps: Vec<usize> = (1..=2_400_000).collect();
        assert_eq!(
            list(&steps, 3, 2),
            "1, 2, 3, … 2 399 995 more …, 2399999, 2400000"
        );
    }

    #[test]
    fn a_long_text_keeps_its_first_and_last_lines() {
        let text: String = (1..=1000).map(|i| format!("line {i}\n")).collect();
        let shown = lines(&text, 2, 1);
        assert_eq!(shown, "line 1\nline 2\n… 997 more lines …\nline 1000\n");
        assert_eq!(lines("a\nb\n", 2, 1), "a\nb\n");
    }
}
