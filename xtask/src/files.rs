//! Files and trees of files: a version's sources, walking, copying, writing only what changed.
//! The bottom layer: imports nothing from the crate.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// A version of a stage's sources: file contents by path relative to the crate root.
pub type Sources = BTreeMap<PathBuf, Vec<u8>>;

/// The `src/**` of the crate at `crate_root`.
pub fn read_sources(crate_root: &Path) -> Result<Sources> {
    let mut files = Sources::new();
    for path in walk(&crate_root.join("src"))? {
        let relative = path
            .strip_prefix(crate_root)
            .expect("walked under crate root");
        files.insert(relative.to_owned(), fs::read(&path)?);
    }
    anyhow::ensure!(
        !files.is_empty(),
        "{} has no files under src/",
        crate_root.display()
    );
    Ok(files)
}

pub fn write_if_changed(path: &Path, content: &[u8]) -> Result<()> {
    if fs::read(path).is_ok_and(|old| old == content) {
        return Ok(());
    }
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)?;
    }
    fs::write(path, content).with_context(|| format!("cannot write {}", path.display()))
}

/// Every file under `dir`, recursively (none if it does not exist).
pub fn walk(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    if !dir.exists() {
        return Ok(files);
    }
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            files.extend(walk(&entry.path())?);
        } else {
            files.push(entry.path());
        }
    }
    files.sort();
    Ok(files)
}

/// Copies a tree of plain files and directories, with their mtimes (symbolic links are
/// skipped).
pub fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let dest = to.join(entry.file_name());
        if kind.is_dir() {
            copy_tree(&entry.path(), &dest)?;
        } else if kind.is_file() {
            fs::copy(entry.path(), &dest)?;
            // cargo compares the mtimes of a unit's outputs with its dependencies': keep them.
            let modified = entry.metadata()?.modified()?;
            fs::File::options()
                .write(true)
                .open(&dest)?
                .set_modified(modified)?;
        }
    }
    Ok(())
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Every file under `dir`, recursively, without following symbolic links.
pub fn walk_all(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    if !dir.exists() {
        return Ok(files);
    }
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        if kind.is_dir() {
            files.extend(walk_all(&entry.path())?);
        } else if kind.is_file() {
            files.push(entry.path());
        }
    }
    files.sort();
    Ok(files)
}

/// The names of the `.rs` files directly in `dir`, sorted (none if it cannot be read).
pub fn rust_files(dir: &Path) -> Vec<String> {
    let mut files: Vec<String> = fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .filter(|e| e.path().is_file())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|name| name.ends_with(".rs"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// Writes every file of `files` under `root`, creating folders as needed.
pub fn write_tree(root: &Path, files: &Sources) -> Result<()> {
    for (relative, content) in files {
        let path = root.join(relative);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::write(&path, content).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

/// A `Sources` from `(path, text)` pairs, for tests.
#[cfg(test)]
pub fn sources_of(files: &[(&str, &str)]) -> Sources {
    files
        .iter()
        .map(|(path, text)| (PathBuf::from(path), text.as_bytes().to_vec()))
        .collect()
}

/// Writes `content` to `dir/name` whole, never through a symbolic link: the temporary file is
/// created exclusively (`O_CREAT | O_EXCL | O_NOFOLLOW`) under a name of this call's own in
/// `dir`, then renamed over `name`. `dir` is opened once (`O_DIRECTORY | O_NOFOLLOW`) and every
/// step is relative to that descriptor, so swapping `dir` for a link midway changes nothing.
/// Refused: `dir` a symbolic link, or an existing `dir/name` that is not a regular file (a
/// link included). Whoever can write `dir` could still replace the finished file afterwards;
/// keeping report directories away from what a submission controls is the caller's job.
pub fn write_whole(dir: &Path, name: &str, content: &[u8]) -> Result<()> {
    use std::io::Write as _;
    use std::os::fd::{AsRawFd, FromRawFd};
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let target = dir.join(name);
    anyhow::ensure!(
        !name.contains('/') && !name.is_empty(),
        "cannot write {}: not a plain file name",
        target.display()
    );
    let dir_fd = open_dir_nofollow(dir, &target)?;
    let name_c = c_string(std::ffi::OsStr::new(name))?;
    if !absent_or_regular(&dir_fd, &name_c) {
        anyhow::bail!(
            "refusing to write {}: it exists and is not a regular file (a symbolic link, say)",
            target.display()
        );
    }
    let temporary = format!(
        ".{name}.{}.{}.partial",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let temporary_c = c_string(std::ffi::OsStr::new(&temporary))?;
    // SAFETY: openat reads the NUL-terminated name relative to our directory descriptor;
    // O_EXCL makes it fail on any existing entry (a symbolic link included).
    let raw = unsafe {
        libc::openat(
            dir_fd.as_raw_fd(),
            temporary_c.as_ptr(),
            libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW | libc::O_CLOEXEC,
            0o644 as libc::c_uint,
        )
    };
    if raw < 0 {
        return Err(anyhow::Error::new(std::io::Error::last_os_error())
            .context(format!("cannot create {}", dir.join(&temporary).display())));
    }
    // SAFETY: a descriptor we just opened; the File owns and closes it.
    let mut file = unsafe { fs::File::from_raw_fd(raw) };
    let written = file.write_all(content).map_err(anyhow::Error::new);
    drop(file);
    let renamed = written.and_then(|()| {
        // SAFETY: renameat reads two NUL-terminated names relative to our directory fd.
        let code = unsafe {
            libc::renameat(
                dir_fd.as_raw_fd(),
                temporary_c.as_ptr(),
                dir_fd.as_raw_fd(),
                name_c.as_ptr(),
            )
        };
        if code == 0 {
            Ok(())
        } else {
            Err(std::io::Error::last_os_error().into())
        }
    });
    if renamed.is_err() {
        // SAFETY: unlinkat reads the NUL-terminated name; the directory fd is ours.
        unsafe { libc::unlinkat(dir_fd.as_raw_fd(), temporary_c.as_ptr(), 0) };
    }
    renamed.with_context(|| format!("cannot write {}", target.display()))
}

fn c_string(text: &std::ffi::OsStr) -> Result<std::ffi::CString> {
    std::ffi::CString::new(std::os::unix::ffi::OsStrExt::as_bytes(text))
        .with_context(|| format!("{} has a NUL byte", text.to_string_lossy()))
}

/// `dir` opened as a directory, refused when it is a symbolic link (`target` for the message).
fn open_dir_nofollow(dir: &Path, target: &Path) -> Result<std::os::fd::OwnedFd> {
    use std::os::fd::FromRawFd;
    let dir_c = c_string(dir.as_os_str())?;
    // SAFETY: open reads the NUL-terminated path we own.
    let raw = unsafe {
        libc::open(
            dir_c.as_ptr(),
            libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC,
        )
    };
    if raw >= 0 {
        // SAFETY: `raw` is a descriptor we just opened and nobody else owns.
        return Ok(unsafe { std::os::fd::OwnedFd::from_raw_fd(raw) });
    }
    let error = std::io::Error::last_os_error();
    if matches!(error.raw_os_error(), Some(libc::ELOOP | libc::ENOTDIR)) {
        anyhow::bail!(
            "refusing to write {}: {} is a symbolic link or not a directory",
            target.display(),
            dir.display()
        );
    }
    Err(anyhow::Error::new(error).context(format!("cannot open {}", dir.display())))
}

/// Whether `name` in the directory `dir` does not exist or is a regular file (not followed).
fn absent_or_regular(dir: &std::os::fd::OwnedFd, name: &std::ffi::CStr) -> bool {
    use std::os::fd::AsRawFd;
    // SAFETY: an all-zero `stat` is a valid value of this plain C struct.
    let mut stat: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: fstatat writes into the stat on our stack; the name is NUL-terminated.
    let found = unsafe {
        libc::fstatat(
            dir.as_raw_fd(),
            name.as_ptr(),
            &mut stat,
            libc::AT_SYMLINK_NOFOLLOW,
        )
    };
    found != 0 || stat.st_mode & libc::S_IFMT == libc::S_IFREG
}

/// `path` made absolute, in two spellings: as written (`.` and `..` folded without looking at
/// the disk) and resolved (its longest existing ancestor canonicalized, the rest appended).
/// A directory reached through a symbolic link has two different spellings.
pub fn spellings(path: &Path) -> Vec<PathBuf> {
    use std::path::Component;
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    let mut written = PathBuf::new();
    for component in absolute.components() {
        match component {
            Component::ParentDir => {
                written.pop();
            }
            Component::CurDir => {}
            other => written.push(other),
        }
    }
    let mut existing = written.clone();
    let mut rest = Vec::new();
    let resolved = loop {
        if let Ok(real) = existing.canonicalize() {
            break rest
                .iter()
                .rev()
                .fold(real, |acc: PathBuf, part| acc.join(part));
        }
        match (
            existing.file_name().map(ToOwned::to_owned),
            existing.parent(),
        ) {
            (Some(name), Some(parent)) => {
                rest.push(name);
                existing = parent.to_owned();
            }
            _ => break written.clone(),
        }
    };
    let mut all = vec![written];
    if !all.contains(&resolved) {
        all.push(resolved);
    }
    all
}

/// Whether `a` and `b` are the same directory or one lies inside the other, in any of their
/// [`spellings`].
pub fn overlap(a: &Path, b: &Path) -> bool {
    let (a, b) = (spellings(a), spellings(b));
    a.iter()
        .any(|a| b.iter().any(|b| a.starts_with(b) || b.starts_with(a)))
}
