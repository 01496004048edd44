//! The lint part of `verify`: one clippy and one rustfmt run over every stage being checked,
//! attributed to stages by path (rustfmt on the files a variant's patch changed:
//! `exec/verdict.rs`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use anyhow::Result;

use crate::course::Stage;
use crate::exec::cargo;
use crate::exec::versions::timed;

/// One clippy and one rustfmt run over every stage in `stages` (real workspace), the result
/// attributed to stages by the paths in the messages: `(ok, detail)` by stage directory.
pub fn lint_all(root: &Path, stages: &[&Stage]) -> Result<BTreeMap<String, (bool, String)>> {
    let mut packages = Vec::new();
    for stage in stages {
        packages.extend(["-p", stage.solution.as_str(), "-p", stage.name.as_str()]);
    }
    let mut clippy = vec!["clippy", "--locked", "--quiet", "--message-format=short"];
    clippy.extend(&packages);
    clippy.extend(["--all-targets", "--", "-D", "warnings"]);
    let (clippy_ok, clippy_out) = timed(
        || "lint: clippy".to_owned(),
        || cargo::run_checked(root, &clippy),
    )?;
    let mut fmt = vec!["fmt"];
    fmt.extend(&packages);
    fmt.extend(["--check", "--", "--color", "never"]);
    let (fmt_ok, fmt_out) = timed(|| "lint: fmt".to_owned(), || cargo::run_checked(root, &fmt))?;

    let mut results = BTreeMap::new();
    for stage in stages {
        let mine = |text: &str| -> String {
            let marks = [
                format!("exercises/{}/", stage.dir),
                format!("solutions/{}/", stage.dir),
            ];
            text.lines()
                .filter(|line| marks.iter().any(|mark| line.contains(mark.as_str())))
                .collect::<Vec<_>>()
                .join("\n")
        };
        let mut detail = String::new();
        let mut ok = true;
        for (tool_ok, out, name) in [
            (clippy_ok, &clippy_out, "cargo clippy -D warnings"),
            (fmt_ok, &fmt_out, "cargo fmt --check (run `cargo fmt`)"),
        ] {
            if tool_ok {
                continue;
            }
            let lines = mine(out);
            // A failure no line pins on a stage (a build error elsewhere) fails them all.
            let unattributed = stages.iter().all(|s| {
                !out.contains(&format!("exercises/{}/", s.dir))
                    && !out.contains(&format!("solutions/{}/", s.dir))
            });
            if !lines.is_empty() || unattributed {
                ok = false;
                let shown = if lines.is_empty() { out.trim() } else { &lines };
                let _ = writeln!(detail, "{name}:\n{shown}");
            }
        }
        results.insert(stage.dir.clone(), (ok, detail));
    }
    Ok(results)
}
