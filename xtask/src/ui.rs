//! How xtask prints: colour, headings, check lines and details. Imports nothing from the
//! crate: commands and reports call it, lower layers never print.
//!
//! Colour follows the usual conventions (`anstream`'s choice for stdout): never with
//! `NO_COLOR`, always with `CLICOLOR_FORCE`, never with `CLICOLOR=0` or `TERM=dumb`, otherwise
//! only on a terminal.

use std::io::Write;
use std::sync::OnceLock;

/// The help heading of a command's options that only an instructor uses (`grade
/// --submissions`): a starter repository, which has no instructor, hides every option under it.
pub const INSTRUCTOR_OPTIONS: &str = "Instructor options";

pub fn colour() -> bool {
    static COLOUR: OnceLock<bool> = OnceLock::new();
    *COLOUR.get_or_init(|| {
        anstream::AutoStream::choice(&std::io::stdout()) != anstream::ColorChoice::Never
    })
}

fn paint(text: &str, code: &str) -> String {
    if colour() {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_owned()
    }
}

pub fn green(text: &str) -> String {
    paint(text, "32")
}

pub fn red(text: &str) -> String {
    paint(text, "1;31")
}

pub fn bold(text: &str) -> String {
    paint(text, "1")
}

pub fn dim(text: &str) -> String {
    paint(text, "2")
}

fn cyan(text: &str) -> String {
    paint(text, "36")
}

/// A small markdown renderer for the terminal (stage READMEs): headings bold and underlined,
/// code blocks indented and tinted, `inline code` tinted with its backticks kept (so tables
/// stay aligned), `**bold**` bold. Without
/// colour (a pipe, `NO_COLOR`), the text comes out as written.
pub fn markdown(text: &str) -> String {
    if !colour() {
        return text.to_owned();
    }
    let mut out = String::new();
    let mut in_code = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code {
            out.push_str(&format!("    {}\n", cyan(line)));
        } else if let Some(heading) = line.strip_prefix('#') {
            let title = heading.trim_start_matches('#').trim();
            out.push_str(&format!("{}\n", paint(title, "1;4")));
        } else {
            out.push_str(&inline(line));
            out.push('\n');
        }
    }
    out
}

fn inline(line: &str) -> String {
    let mut out = String::new();
    let pieces: Vec<&str> = line.split('`').collect();
    for (i, piece) in pieces.iter().enumerate() {
        if i % 2 == 1 && i + 1 < pieces.len() {
            out.push_str(&cyan(&format!("`{piece}`")));
        } else {
            if i % 2 == 1 {
                out.push('`');
            }
            let mut bold_on = false;
            for (j, part) in piece.split("**").enumerate() {
                if j > 0 {
                    bold_on = !bold_on;
                }
                out.push_str(&if bold_on { bold(part) } else { part.to_owned() });
            }
        }
    }
    out
}

pub fn flush() {
    let _ = std::io::stdout().flush();
}

pub fn heading(text: &str) {
    println!("{}", bold(text));
    flush();
}

/// One finished check: `  stub      ok    every test fails on the stub`, then its detail
/// (indented) if there is any.
pub fn line(column: &str, ok: bool, what: &str, detail: &str) {
    let verdict = if ok { green("ok  ") } else { red("FAIL") };
    println!("  {column:<9} {verdict}  {what}");
    if !detail.is_empty() {
        self::detail(detail);
    }
    flush();
}

/// Indented supporting text under a line.
pub fn detail(text: &str) {
    for line in text.trim_end().lines() {
        println!("                  {line}");
    }
    flush();
}
