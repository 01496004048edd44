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
