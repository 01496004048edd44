//! Small text helpers the formats share.

/// The first line of a test's output worth showing (not blank, not the panic's header).
pub(super) fn first_line(text: &str) -> String {
    text.lines()
        .find(|l| !l.trim().is_empty() && !l.starts_with("thread '"))
        .unwrap_or("")
        .to_owned()
}

/// Cuts `text` to at most `limit` bytes (on a character boundary), saying so.
pub(super) fn truncate(text: &mut String, limit: usize) {
    if text.len() > limit {
        let mut cut = limit;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push_str(" [truncated]");
    }
}
