//! The symbol gate: what the compiled library of a stage links against.
//!
//! The source gate reads code; this one reads what the compiler made of it, to catch what a
//! source pass can miss (a path the source gate did not recognise, code from a macro). It
//! opens the stage's `.rlib` (an `ar` archive of object files), and refuses:
//! * undefined symbols that end or replace the process or signal others: C's `exit`,
//!   `_exit`, the `exec` family, `fork`, `kill`, `syscall`, ..., and std's
//!   `std::process::*`, `std::os::unix::process::*`;
//! * constructor sections (`.init_array`, `.ctors`, ...): code that runs before `main`;
//! * unmangled global definitions, which interpose on the C library (`write`, `exit`).
//!
//! Blind spots (written down in ARCHITECTURE.md): inline assembly makes no symbol; generic
//! or inlined functions are compiled into the test binary, not the library; and the test
//! binary itself legitimately links std's process machinery, so it cannot be checked this way.

use std::fs;
use std::path::Path;

use object::read::archive::ArchiveFile;
use object::{Object, ObjectSection, ObjectSymbol};

/// C functions a course library never calls.
const C_NAMES: &[&str] = &[
    "exit",
    "_exit",
    "_Exit",
    "abort",
    "execv",
    "execve",
    "execvp",
    "execvpe",
    "execl",
    "execle",
    "execlp",
    "fexecve",
    "posix_spawn",
    "posix_spawnp",
    "fork",
    "vfork",
    "clone",
    "clone3",
    "kill",
    "killpg",
    "tgkill",
    "ptrace",
    "syscall",
    "setsid",
    "setpgid",
    "prctl",
    "unshare",
    "mount",
    "dlopen",
    "dlsym",
    "dup2",
    "dup3",
];

/// Prefixes of demangled std paths (crate disambiguators removed) a course library never
/// calls.
const STD_PATHS: &[&str] = &[
    // Not `std::process::abort`: std's own `Arc` calls it on a reference-count overflow, and
    // an abort is a crash (a failed test), never a forged pass.
    "std::process::exit",
    "std::process::Command",
    "std::process::Child",
    "std::os::unix::process::",
    "std::sys::process::",
    "std::sys::pal::unix::process::",
    "std::io::stdio::stdout",
    "std::io::stdio::stderr",
    "std::env::set_var",
    "std::panicking::set_hook",
];

const CONSTRUCTOR_SECTIONS: &[&str] = &[
    ".init_array",
    ".ctors",
    ".fini_array",
    ".preinit_array",
    ".dtors",
];

/// Checks one compiled library; returns what it found, as sentences.
pub fn check_rlib(path: &Path) -> Vec<String> {
    let data = match fs::read(path) {
        Ok(data) => data,
        Err(error) => return vec![format!("cannot read the compiled library: {error}")],
    };
    let Ok(archive) = ArchiveFile::parse(&*data) else {
        return vec!["the compiled library is not an archive the grader can read".to_owned()];
    };
    let mut found = Vec::new();
    for member in archive.members() {
        let Ok(member) = member else { continue };
        let name = String::from_utf8_lossy(member.name()).into_owned();
        if !name.ends_with(".o") {
            continue; // lib.rmeta
        }
        let Ok(bytes) = member.data(&*data) else {
            continue;
        };
        let Ok(file) = object::File::parse(bytes) else {
            continue;
        };
        check_object(&file, &mut found);
    }
    found.sort();
    found.dedup();
    found
}

fn check_object(file: &object::File<'_>, found: &mut Vec<String>) {
    for section in file.sections() {
        let Ok(name) = section.name() else { continue };
        if CONSTRUCTOR_SECTIONS.iter().any(|c| name.starts_with(c)) {
            found.push(format!(
                "the compiled code has a `{name}` section: code that runs before the tests start"
            ));
        }
    }
    for symbol in file.symbols() {
        let Ok(raw) = symbol.name() else { continue };
        if symbol.is_undefined() {
            if let Some(why) = forbidden_reference(raw) {
                found.push(why);
            }
        } else if symbol.is_global()
            && symbol.is_definition()
            && !symbol.is_weak()
            && symbol.scope() == object::SymbolScope::Dynamic
            && !is_mangled(raw)
            && !raw.starts_with("DW.ref.")
        {
            found.push(format!(
                "the compiled code defines the unmangled symbol `{raw}`, which would replace a \
                 C library function"
            ));
        }
    }
}

fn is_mangled(raw: &str) -> bool {
    raw.starts_with("_ZN")
        || raw.starts_with("_R")
        || raw.starts_with("__rust")
        || raw.starts_with("rust_")
}

/// Why an undefined symbol is refused, if it is.
fn forbidden_reference(raw: &str) -> Option<String> {
    // C names, with or without a symbol version (`exit@GLIBC_2.2.5`).
    let plain = raw.split('@').next().unwrap_or(raw);
    if C_NAMES.contains(&plain) {
        return Some(format!(
            "the compiled code calls the C function `{plain}`, which can end the process or \
             start another"
        ));
    }
    if !is_mangled(raw) {
        return None;
    }
    let path = strip_disambiguators(&format!("{:#}", rustc_demangle::demangle(raw)));
    STD_PATHS
        .iter()
        .any(|prefix| {
            path.starts_with(prefix)
                || path.contains(&format!(" {prefix}"))
                || path.contains(&format!("<{prefix}"))
        })
        .then(|| format!("the compiled code calls `{path}`"))
}

/// `std[3f2a…]::process::exit` -> `std::process::exit`.
fn strip_disambiguators(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut depth = 0usize;
    for c in path.chars() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn std_and_c_references_are_recognised() {
        assert!(forbidden_reference("_exit").is_some());
        assert!(forbidden_reference("execvp@GLIBC_2.2.5").is_some());
        assert!(forbidden_reference("write").is_none());
        // v0 mangling of std::process::exit (crate disambiguator included).
        assert!(forbidden_reference("_RNvNtCs1234abcd_3std7process4exit").is_some());
        assert!(forbidden_reference("_RNvNtCs1234abcd_3std4sync5mutex").is_none());
        assert_eq!(
            strip_disambiguators("std[3f2a]::process::exit"),
            "std::process::exit"
        );
    }
}
