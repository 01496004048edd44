//! Bounds on what the source gate will read, checked before anything recursive runs.
//!
//! `syn` parses recursively: a file nested 400 000 brackets deep overflows any stack. So every
//! file first goes through [`prescan`], a loop with a counter and no recursion, which refuses
//! a file whose brackets nest deeper than [`MAX_DEPTH`] or a stage with more than
//! [`MAX_TOKENS`] tokens or [`MAX_BYTES`] bytes. Invariant: a file that passes has at most
//! `MAX_DEPTH` levels of `()[]{}` outside comments and literals, so every recursion over its
//! syntax tree or token trees is bounded by it (and `gate::guarded` runs it on a thread with a
//! stack sized for it).
//!
//! The same limits keep what the gate writes small: [`cap`] keeps at most [`MAX_FINDINGS`]
//! messages of at most [`MAX_FINDING_BYTES`] each, and says how many were left out.

use crate::outcome::Problem;

/// The deepest nesting of `()`, `[]` and `{}` a file may have. The course's own code nests
/// fewer than 20 levels.
pub const MAX_DEPTH: usize = 256;
/// Tokens (words, numbers, literals, punctuation) over all of one stage's files.
pub const MAX_TOKENS: usize = 400_000;
/// Bytes over all of one stage's files.
pub const MAX_BYTES: usize = 4 << 20;
/// Messages one gate keeps per stage.
pub const MAX_FINDINGS: usize = 40;
/// Bytes one message keeps.
pub const MAX_FINDING_BYTES: usize = 400;

/// Reads `text` once, without recursion: its number of tokens, or why the gate will not parse
/// it (`LINE: why`).
pub fn prescan(text: &str) -> Result<usize, Problem> {
    let bytes = text.as_bytes();
    let (mut at, mut line, mut depth, mut tokens) = (0, 1, 0usize, 0usize);
    while at < bytes.len() {
        let byte = bytes[at];
        let next = bytes.get(at + 1).copied();
        let start = at;
        at = match byte {
            b'/' if next == Some(b'/') => skip_line(bytes, at),
            b'/' if next == Some(b'*') => skip_block_comment(bytes, at),
            b'"' => skip_string(bytes, at + 1),
            b'r' | b'b' | b'c' if raw_string_at(bytes, at).is_some() => {
                tokens += 1;
                raw_string_at(bytes, at).unwrap_or(bytes.len())
            }
            b'\'' => skip_char_or_lifetime(bytes, at),
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(format!(
                        "{line}: brackets nested more than {MAX_DEPTH} deep; the grader does \
                         not read code nested this deep (write it flatter)"
                    )
                    .into());
                }
                at + 1
            }
            b')' | b']' | b'}' => {
                depth = depth.saturating_sub(1);
                at + 1
            }
            _ if is_word(byte) => {
                let mut end = at;
                while end < bytes.len() && is_word(bytes[end]) {
                    end += 1;
                }
                end
            }
            _ => at + 1,
        };
        if !byte.is_ascii_whitespace() && !matches!(byte, b'/' if matches!(next, Some(b'/' | b'*')))
        {
            tokens += 1;
        }
        line += bytes[start..at.min(bytes.len())]
            .iter()
            .filter(|b| **b == b'\n')
            .count();
    }
    Ok(tokens)
}

/// Keeps at most [`MAX_FINDINGS`] messages of at most [`MAX_FINDING_BYTES`] each; the last
/// says how many more there were.
pub fn cap(mut found: Vec<String>) -> Vec<String> {
    let more = found.len().saturating_sub(MAX_FINDINGS);
    found.truncate(MAX_FINDINGS);
    for message in &mut found {
        if message.len() > MAX_FINDING_BYTES {
            let mut cut = MAX_FINDING_BYTES;
            while !message.is_char_boundary(cut) {
                cut -= 1;
            }
            message.truncate(cut);
            message.push_str(" …");
        }
    }
    if more > 0 {
        found.push(format!("… {more} more"));
    }
    found
}

fn is_word(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_' || byte >= 0x80
}

fn skip_line(bytes: &[u8], at: usize) -> usize {
    bytes[at..]
        .iter()
        .position(|b| *b == b'\n')
        .map_or(bytes.len(), |p| at + p)
}

/// Block comments nest in Rust; counted, not recursed.
fn skip_block_comment(bytes: &[u8], mut at: usize) -> usize {
    let mut open = 0usize;
    while at < bytes.len() {
        match (bytes[at], bytes.get(at + 1)) {
            (b'/', Some(b'*')) => {
                open += 1;
                at += 2;
            }
            (b'*', Some(b'/')) => {
                open -= 1;
                at += 2;
                if open == 0 {
                    return at;
                }
            }
            _ => at += 1,
        }
    }
    at
}

/// After the opening quote: past the closing one (escapes skipped).
fn skip_string(bytes: &[u8], mut at: usize) -> usize {
    while at < bytes.len() {
        match bytes[at] {
            b'\\' => at += 2,
            b'"' => return at + 1,
            _ => at += 1,
        }
    }
    bytes.len()
}

/// `r"…"`, `r#"…"#`, `br"…"`, `cr"…"` starting at `at` (not inside a longer word): the index
/// past its end.
fn raw_string_at(bytes: &[u8], at: usize) -> Option<usize> {
    if at > 0 && is_word(bytes[at - 1]) {
        return None;
    }
    let mut i = at;
    if matches!(bytes[i], b'b' | b'c') {
        i += 1;
    }
    if bytes.get(i) != Some(&b'r') {
        return None;
    }
    i += 1;
    let hashes = bytes[i..].iter().take_while(|b| **b == b'#').count();
    i += hashes;
    if bytes.get(i) != Some(&b'"') {
        return None;
    }
    i += 1;
    while i < bytes.len() {
        if bytes[i] == b'"'
            && bytes[i + 1..]
                .iter()
                .take(hashes)
                .filter(|b| **b == b'#')
                .count()
                == hashes
        {
            return Some(i + 1 + hashes);
        }
        i += 1;
    }
    Some(bytes.len())
}

/// `'x'`, `'\n'`, `'\u{..}'` are skipped whole; `'a` (a lifetime or label) is one token.
fn skip_char_or_lifetime(bytes: &[u8], at: usize) -> usize {
    if bytes.get(at + 1) == Some(&b'\\') {
        let close = bytes[at + 2..].iter().take(12).position(|b| *b == b'\'');
        return close.map_or(at + 1, |p| at + 3 + p);
    }
    // One character (1-4 bytes in UTF-8), then a quote: a char literal.
    for width in 1..=4 {
        if bytes.get(at + 1 + width) == Some(&b'\'') {
            return at + 2 + width;
        }
    }
    at + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_nesting_is_refused_without_recursion() {
        let deep = format!(
            "const X: u8 = {}0{};",
            "(".repeat(400_000),
            ")".repeat(400_000)
        );
        let why = prescan(&deep).unwrap_err();
        assert!(why.starts_with("1: brackets nested more than 256"), "{why}");
        let fine = format!("const X: u8 = {}0{};", "(".repeat(200), ")".repeat(200));
        assert!(prescan(&fine).is_ok());
    }

    #[test]
    fn brackets_in_comments_and_literals_do_not_count() {
        let text = format!(
            "// {0}\n/* /* {0} */ */\nconst A: &str = \"{0}\\\"\";\nconst B: &str = r#\"{0}\"#;\n\
             const C: char = '(';\nconst D: char = '\\'';\nfn f<'a>(x: &'a u8) -> &'a u8 {{ x }}\n",
            "(".repeat(300)
        );
        assert!(prescan(&text).is_ok(), "{:?}", prescan(&text));
    }

    #[test]
    fn the_line_of_the_deep_bracket_is_named() {
        let text = format!("fn f() {{}}\n\nconst X: () = {};", "[".repeat(300));
        assert!(prescan(&text).unwrap_err().starts_with("3: "));
    }

    #[test]
    fn findings_are_capped_in_number_and_length() {
        let found = cap((0..100)
            .map(|i| format!("{i}: {}", "x".repeat(1000)))
            .collect());
        assert_eq!(found.len(), MAX_FINDINGS + 1);
        assert_eq!(found.last().unwrap(), "… 60 more");
        assert!(found.iter().all(|f| f.len() <= MAX_FINDING_BYTES + 4));
    }
}
