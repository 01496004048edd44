//! What text a submission controls may look like in a report: bounded and inert.
//!
//! A submission controls its tests' output (panic messages, anything it prints), the
//! compiler's diagnostics about it, the names of its files and the code quoted in the gate's
//! findings. Every report is written from [`bounded`]'s copy of the grade, never from the
//! grade itself, so whatever the submission prints: each text is cut at a stated size (saying
//! how much was left out), each list keeps a stated number of entries ("… N more"), and
//! control characters (ANSI escapes, `\r`, backspace, bidirectional overrides) are shown
//! escaped (`\u{1b}`), so a report cannot redraw a terminal or hide a line. Newlines and tabs
//! stay.

use crate::course::integrity::Finding;

use super::model::{Grade, StageGrade, TestGrade};

/// A test's message.
pub const MESSAGE_BYTES: usize = 8 * 1024;
/// A stage's compiler errors.
pub const COMPILE_BYTES: usize = 16 * 1024;
/// Entries of a list (violations, review evidence, refused files, integrity findings, notes).
pub const LIST_ITEMS: usize = 50;
/// One entry of a list.
pub const ITEM_BYTES: usize = 1024;

/// The copy of `grade` every report is written from.
pub fn bounded(grade: &Grade) -> Grade {
    let integrity: Vec<Finding> = grade
        .integrity
        .iter()
        .take(LIST_ITEMS)
        .map(|f| Finding {
            path: clean(&f.path, ITEM_BYTES),
            change: f.change,
        })
        .collect();
    let mut notes = clean_list(&grade.notes);
    if grade.integrity.len() > LIST_ITEMS {
        notes.push(format!(
            "… {} more protected files differ",
            grade.integrity.len() - LIST_ITEMS
        ));
    }
    Grade {
        submission: clean(&grade.submission, ITEM_BYTES),
        stages: grade.stages.iter().map(bounded_stage).collect(),
        integrity,
        integrity_note: clean(&grade.integrity_note, ITEM_BYTES),
        notes,
        ..grade.clone_without_stages()
    }
}

fn bounded_stage(stage: &StageGrade) -> StageGrade {
    StageGrade {
        compile_error: stage
            .compile_error
            .as_deref()
            .map(|e| clean(e, COMPILE_BYTES)),
        refused: clean_list(&stage.refused),
        violations: clean_list(&stage.violations),
        review: clean_list(&stage.review),
        tests: stage
            .tests
            .iter()
            .map(|t| TestGrade {
                message: clean(&t.message, MESSAGE_BYTES),
                ..t.clone()
            })
            .collect(),
        ..stage.clone_without_texts()
    }
}

/// At most [`LIST_ITEMS`] entries of at most [`ITEM_BYTES`] each, then "… N more".
pub fn clean_list(items: &[String]) -> Vec<String> {
    let mut kept: Vec<String> = items
        .iter()
        .take(LIST_ITEMS)
        .map(|i| clean(i, ITEM_BYTES))
        .collect();
    if items.len() > LIST_ITEMS {
        kept.push(format!("… {} more", items.len() - LIST_ITEMS));
    }
    kept
}

/// `text` with control characters escaped, cut after about `limit` bytes.
pub fn clean(text: &str, limit: usize) -> String {
    let mut out = String::with_capacity(text.len().min(limit) + 32);
    for (at, c) in text.char_indices() {
        if out.len() >= limit {
            out.push_str(&format!(" … [{} more bytes]", text.len() - at));
            return out;
        }
        if c == '\n' || c == '\t' || !(c.is_control() || is_bidi(c)) {
            out.push(c);
        } else {
            out.extend(c.escape_default());
        }
    }
    out
}

/// Unicode's bidirectional overrides and isolates: they reorder what a reader sees.
fn is_bidi(c: char) -> bool {
    matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_and_newlines_kept() {
        let text = "red \u{1b}[31mALL PASS\u{1b}[0m\rover\u{8}\n\tnext \u{202e}evil";
        assert_eq!(
            clean(text, 1000),
            "red \\u{1b}[31mALL PASS\\u{1b}[0m\\rover\\u{8}\n\tnext \\u{202e}evil"
        );
    }

    #[test]
    fn long_text_is_cut_with_what_was_left_out() {
        let text = "é".repeat(10_000);
        let cut = clean(&text, 100);
        assert!(cut.len() < 140, "{}", cut.len());
        assert!(cut.ends_with(" … [19900 more bytes]"), "{cut}");
    }

    #[test]
    fn long_lists_are_capped() {
        let items: Vec<String> = (0..70).map(|i| i.to_string()).collect();
        let kept = clean_list(&items);
        assert_eq!(kept.len(), LIST_ITEMS + 1);
        assert_eq!(kept.last().unwrap(), "… 20 more");
    }
}
