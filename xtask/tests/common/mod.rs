//! What xtask's integration tests share: copying the fixture course.

use std::fs;
use std::path::Path;

/// Copies the directory `from` to `to`, leaving out `target/` and any top-level entry named in
/// `skip`.
pub fn copy_dir(from: &Path, to: &Path, skip: &[&str]) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name == "target" || skip.iter().any(|s| name == *s) {
            continue;
        }
        let dest = to.join(&name);
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &dest, &[]);
        } else {
            fs::copy(entry.path(), &dest).unwrap();
        }
    }
}

/// A fresh copy of the fixture course (`<tmp>/<name>/course`) and, beside it, a student-style
/// submission of it (no `solutions/`, the doubler solved): `(course, submission, out)`.
#[allow(dead_code)] // not every test file grades submissions
pub fn course_and_submission(
    name: &str,
) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
    let base = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = fs::remove_dir_all(&base);
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixture");
    let (course, submission) = (base.join("course"), base.join("submission"));
    copy_dir(&fixture, &course, &[]);
    copy_dir(&fixture, &submission, &["solutions"]);
    fs::copy(
        fixture.join("solutions/02-doubler/src/lib.rs"),
        submission.join("exercises/02-doubler/src/lib.rs"),
    )
    .unwrap();
    (course, submission, base.join("out"))
}

/// What a finished command printed: stdout, then stderr.
#[allow(dead_code)] // not every test file runs commands this way
pub fn output_text(output: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The stage called `name` in a grade.json.
#[allow(dead_code)] // not every test file reads grades
pub fn stage<'a>(grade: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    grade["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap()
}
