//! A test file with only some of its tests: what a known bug's build compiles.
//!
//! A bug is judged by the few tests its `caught-by` lines name, yet compiling a whole test
//! file costs as much as its every test: each `#[test]` function is a root of code generation,
//! with everything it instantiates. Compiling Stage 2's `part3_executor.rs` (24 tests) takes
//! 1.2 s of CPU; the same file with one test left, 0.2 s. Over the 380 bugs of a course most of
//! a cold `verify` is that (ARCHITECTURE.md, "Build and feedback times").
//!
//! [`keep_only`] blanks out every top-level `#[test]` function (with its attributes and doc
//! comments) whose name is not kept. It replaces those lines by empty ones, so every line that
//! is left keeps its number: a message that names `part3_executor.rs:212` names the same line
//! as in the file the learner has. Helpers that only the removed tests used become dead code,
//! which the version package allows (`batch.rs`) and which is never generated.
//!
//! It reads the file as rustfmt writes it (the course's test files pass `cargo fmt --check`):
//! a top-level item starts in column 0, and a function whose body spans several lines ends at
//! the first later line that is exactly `}`. Whenever the file does not look like that (a kept
//! test not found at the top level, a removed range whose braces do not balance), it answers
//! `None` and the caller compiles the whole file: pruning only ever saves time, it never
//! decides a verdict.

use std::collections::BTreeSet;

/// `text` with only the top-level tests named in `keep` (and every item that is not a test),
/// or `None` if that cannot be done safely.
pub fn keep_only(text: &str, keep: &BTreeSet<&str>) -> Option<String> {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let starts = line_starts(text)?;
    let mut blank = vec![false; lines.len()];
    let mut found = BTreeSet::new();
    let mut i = 0;
    while i < lines.len() {
        let Some(item) = test_item_at(&lines, &starts, i) else {
            i += 1;
            continue;
        };
        if keep.contains(item.name) {
            found.insert(item.name);
        } else {
            blank[item.first..=item.last].fill(true);
        }
        i = item.last + 1;
    }
    if found.len() != keep.len() {
        return None;
    }
    Some(
        lines
            .iter()
            .zip(&blank)
            .map(|(line, &blank)| {
                if blank {
                    if line.ends_with('\n') { "\n" } else { "" }
                } else {
                    line
                }
            })
            .collect(),
    )
}

/// A top-level `#[test]` function: its name and its lines, attributes and doc comments
/// included.
struct TestItem<'a> {
    name: &'a str,
    first: usize,
    last: usize,
}

/// Where each line starts: at the top level of the file (outside every delimiter, string and
/// comment), or not. One entry per line, and one more for the end of the file.
type Starts = Vec<bool>;

/// The test function whose attributes or doc comments start at line `first`, if that is one.
fn test_item_at<'a>(lines: &[&'a str], top: &Starts, first: usize) -> Option<TestItem<'a>> {
    let mut j = first;
    let mut is_test = false;
    // Attributes (one may span lines: rustfmt breaks long ones) and comments, in any order.
    loop {
        if !top[j] {
            return None;
        }
        let line = *lines.get(j)?;
        if line.starts_with("#[") {
            let start = j;
            j = next_top(top, j)?;
            if j == start + 1 && attribute_is_test(line) {
                is_test = true;
            }
        } else if line.starts_with("//") && !line.starts_with("//!") {
            j += 1;
        } else {
            break;
        }
    }
    if !is_test {
        return None;
    }
    let signature = lines.get(j)?;
    let rest = signature
        .strip_prefix("async fn ")
        .or_else(|| signature.strip_prefix("fn "))?;
    let name_len = rest
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    let name = &rest[..name_len];
    if name.is_empty() {
        return None;
    }
    let last = next_top(top, j)? - 1;
    Some(TestItem { name, first, last })
}

/// The first line after `line` that starts at the top level.
fn next_top(top: &Starts, line: usize) -> Option<usize> {
    (line + 1..top.len()).find(|&k| top[k])
}

/// `#[test]`, possibly followed by a comment.
fn attribute_is_test(line: &str) -> bool {
    line.strip_prefix("#[test]")
        .is_some_and(|rest| rest.trim().is_empty() || rest.trim_start().starts_with("//"))
}

/// For each line of `text` (and the end of the file), whether it starts at the top level:
/// outside every `()`, `[]` and `{}`, string, char literal and comment. `None` when the file
/// does not end at the top level (something this reading did not understand).
fn line_starts(text: &str) -> Option<Starts> {
    let chars: Vec<char> = text.chars().collect();
    let mut reader = Reader {
        state: In::Code,
        depth: 0,
    };
    let mut starts = vec![true];
    let mut i = 0;
    while i < chars.len() {
        i = reader.step(&chars, i);
        if chars.get(i) == Some(&'\n') {
            if reader.state == In::Line {
                reader.state = In::Code;
            }
            starts.push(reader.at_top());
        }
        i += 1;
    }
    if !text.ends_with('\n') {
        starts.push(reader.at_top());
    }
    (reader.state == In::Code && reader.depth == 0).then_some(starts)
}

/// For each character of `text`, whether it is code: outside every string, char literal and
/// comment (`bug_crate.rs` rewrites paths only there). `None` when the file ends inside a
/// string or a block comment (something this reading did not understand).
pub fn code_mask(text: &str) -> Option<Vec<bool>> {
    let chars: Vec<char> = text.chars().collect();
    let mut reader = Reader {
        state: In::Code,
        depth: 0,
    };
    let mut mask = vec![false; chars.len()];
    let mut i = 0;
    while i < chars.len() {
        let was_code = reader.state == In::Code;
        let last = reader.step(&chars, i);
        if was_code && reader.state == In::Code && chars[i] != '\'' {
            mask[i..=last].fill(true);
        }
        if chars[last] == '\n' && reader.state == In::Line {
            reader.state = In::Code;
        }
        i = last + 1;
    }
    matches!(reader.state, In::Code | In::Line).then_some(mask)
}

/// What the reader is in.
#[derive(PartialEq)]
enum In {
    Code,
    Str,
    /// A raw string closed by `"` and this many `#`.
    Raw(usize),
    /// Nested block comments.
    Block(usize),
    Line,
}

/// Where `line_starts` is in the file.
struct Reader {
    state: In,
    /// Open delimiters, all kinds together (rustfmt output nests them properly).
    depth: i64,
}

impl Reader {
    fn at_top(&self) -> bool {
        self.state == In::Code && self.depth == 0
    }

    /// Reads the token at `i`; answers the index of its last character.
    fn step(&mut self, chars: &[char], mut i: usize) -> usize {
        let (c, next) = (chars[i], chars.get(i + 1).copied());
        match self.state {
            In::Code => return self.code(chars, i),
            In::Str => match c {
                '\\' => i += 1,
                '"' => self.state = In::Code,
                _ => {}
            },
            In::Raw(hashes) => {
                let closing = chars[i + 1..].iter().take(hashes).filter(|&&h| h == '#');
                if c == '"' && closing.count() == hashes {
                    self.state = In::Code;
                    i += hashes;
                }
            }
            In::Block(level) => {
                if c == '*' && next == Some('/') {
                    self.state = if level == 1 {
                        In::Code
                    } else {
                        In::Block(level - 1)
                    };
                    i += 1;
                } else if c == '/' && next == Some('*') {
                    self.state = In::Block(level + 1);
                    i += 1;
                }
            }
            In::Line => {}
        }
        i
    }

    /// `step` in code.
    fn code(&mut self, chars: &[char], mut i: usize) -> usize {
        let (c, next) = (chars[i], chars.get(i + 1).copied());
        match c {
            '"' => self.state = In::Str,
            '/' if next == Some('/') => self.state = In::Line,
            '/' if next == Some('*') => {
                self.state = In::Block(1);
                i += 1;
            }
            'r' if !chars[..i]
                .last()
                .is_some_and(|&p| p.is_alphanumeric() || p == '_') =>
            {
                let hashes = chars[i + 1..].iter().take_while(|&&h| h == '#').count();
                if chars.get(i + 1 + hashes) == Some(&'"') {
                    self.state = In::Raw(hashes);
                    i += 1 + hashes;
                }
            }
            // A char literal ('{', '\'', '\u{7b}'); a lifetime ('a) is left alone.
            '\'' => {
                if next == Some('\\') {
                    i += 2;
                    while chars.get(i).is_some_and(|&x| x != '\'') {
                        i += 1;
                    }
                } else if chars.get(i + 2) == Some(&'\'') {
                    i += 2;
                }
            }
            '(' | '[' | '{' => self.depth += 1,
            ')' | ']' | '}' => self.depth -= 1,
            _ => {}
        }
        i
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "//! Part 1.\n\
mod common;\n\
use stage::Thing;\n\
\n\
fn helper() -> u8 {\n    1\n}\n\
\n\
/// Doc.\n\
#[test]\n\
fn first() {\n    let s = \"}\";\n    assert_eq!(helper(), 1);\n}\n\
\n\
#[test]\n\
#[should_panic(\n    expected = \"x]\"\n)]\n\
fn second() {\n    if true {\n        panic!(\"x]\");\n    }\n}\n\
\n\
// A comment about the third.\n\
#[test]\n\
fn third() {\n    let c = '{';\n}\n";

    #[test]
    fn only_the_kept_tests_are_left_and_every_line_keeps_its_number() {
        let pruned = keep_only(FILE, &["second"].into()).unwrap();
        assert_eq!(pruned.lines().count(), FILE.lines().count());
        assert!(pruned.contains("fn second()") && pruned.contains("expected = \"x]\""));
        assert!(!pruned.contains("fn first") && !pruned.contains("fn third"));
        assert!(!pruned.contains("/// Doc.") && !pruned.contains("'{'"));
        assert!(pruned.contains("fn helper()") && pruned.contains("mod common;"));
        for (old, new) in FILE.lines().zip(pruned.lines()) {
            assert!(new.is_empty() || new == old, "{old:?} became {new:?}");
        }
        let line = |text: &str| text.lines().position(|l| l.starts_with("fn second"));
        assert_eq!(line(&pruned), line(FILE));
    }

    #[test]
    fn keeping_every_test_changes_nothing() {
        let all = ["first", "second", "third"].into();
        assert_eq!(keep_only(FILE, &all).as_deref(), Some(FILE));
    }

    #[test]
    fn a_kept_test_it_cannot_find_at_the_top_level_means_the_whole_file() {
        assert_eq!(keep_only(FILE, &["inner::nested"].into()), None);
        let nested = "mod inner {\n    #[test]\n    fn nested() {}\n}\n";
        assert_eq!(keep_only(nested, &["nested"].into()), None);
    }

    #[test]
    fn strings_chars_and_comments_do_not_end_a_function() {
        let raw = "#[test]\nfn a() {\n    let s = r#\"\n}\n\"#;\n    /* }\n} */\n}\n\n#[test]\nfn b() {}\n";
        let pruned = keep_only(raw, &["b"].into()).unwrap();
        assert_eq!(pruned.trim(), "#[test]\nfn b() {}");
        let text = "#[test]\nfn a() {\n    let c = '}';\n    let l: &'static str = \"\\\"}\";\n}\n#[test]\nfn b() {}\n";
        assert_eq!(
            keep_only(text, &["b"].into()).unwrap().trim(),
            "#[test]\nfn b() {}"
        );
    }

    #[test]
    fn a_file_it_cannot_read_to_its_end_means_the_whole_file() {
        assert_eq!(keep_only("#[test]\nfn a() {\n", &BTreeSet::new()), None);
        assert_eq!(keep_only("const S: &str = \"\n", &BTreeSet::new()), None);
    }
}
