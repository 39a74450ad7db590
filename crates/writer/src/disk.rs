//! File-level operations: listing with modes, comparing, atomic replacement.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Whether a file is executable. A rendered file that starts with `#!` is a script and is
/// written executable, so a documented `rendered/<env>/bootstrap/.../setup.sh` runs as is and
/// Git records mode 100755.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Regular,
    Executable,
}

impl Mode {
    pub fn of_contents(contents: &str) -> Self {
        if contents.starts_with("#!") {
            Self::Executable
        } else {
            Self::Regular
        }
    }

    #[cfg(unix)]
    fn bits(self) -> u32 {
        match self {
            Self::Regular => 0o644,
            Self::Executable => 0o755,
        }
    }
}

/// The mode of a file, `None` when it does not exist.
pub fn mode_of(path: &Path) -> io::Result<Option<Mode>> {
    match fs::metadata(path) {
        Ok(metadata) => Ok(Some(mode_of_metadata(&metadata))),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(error),
    }
}

#[cfg(unix)]
fn mode_of_metadata(metadata: &fs::Metadata) -> Mode {
    use std::os::unix::fs::PermissionsExt;
    if metadata.permissions().mode() & 0o111 != 0 {
        Mode::Executable
    } else {
        Mode::Regular
    }
}

#[cfg(not(unix))]
fn mode_of_metadata(_: &fs::Metadata) -> Mode {
    Mode::Regular
}

/// A file as listed: its mode, size and modification time (nanoseconds since the epoch).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Listed {
    pub mode: Mode,
    pub size: u64,
    pub time: u128,
}

/// Every file below `dir` (hidden ones too: they are leftovers to remove), keyed by its path
/// relative to `dir` with `/` separators.
pub fn list(dir: &Path) -> io::Result<BTreeMap<String, Listed>> {
    let mut files = BTreeMap::new();
    if !dir.is_dir() {
        return Ok(files);
    }
    // Each folder with its path relative to `dir`, so that a file's key is one concatenation.
    let mut pending = vec![(dir.to_path_buf(), String::new())];
    while let Some((current, relative)) = pending.pop() {
        for entry in fs::read_dir(&current)? {
            let entry = entry?;
            let name = entry.file_name();
            let key = format!("{relative}{}", name.to_string_lossy());
            let file_type = entry.file_type()?;
            if file_type.is_dir() {
                pending.push((entry.path(), format!("{key}/")));
                continue;
            }
            let metadata = entry.metadata()?;
            files.insert(
                key,
                Listed {
                    mode: mode_of_metadata(&metadata),
                    size: metadata.len(),
                    time: crate::ledger::nanos(metadata.modified()?),
                },
            );
        }
    }
    Ok(files)
}

/// Whether `path` already holds exactly `contents` with `mode`.
pub fn is_current(
    path: &Path,
    found: Option<&Mode>,
    contents: &str,
    mode: Mode,
) -> io::Result<bool> {
    match found {
        Some(found) if *found == mode => match fs::read(path) {
            Ok(existing) => Ok(existing == contents.as_bytes()),
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(error) => Err(error),
        },
        _ => Ok(false),
    }
}

/// Writes `contents` to a temporary file beside `path`, then renames it over `path`: a reader,
/// or a run killed at any point, sees the old file or the new one, never a part of either.
pub fn replace(path: &Path, contents: &str, mode: Mode) -> io::Result<()> {
    let parent = path
        .parent()
        .ok_or_else(|| io::Error::other(format!("{} has no folder", path.display())))?;
    fs::create_dir_all(parent)?;
    replace_in_folder(path, contents, mode)
}

/// [`replace`] where the folder is known to exist: a write of many files creates each folder
/// once, not once per file.
pub fn replace_in_folder(path: &Path, contents: &str, mode: Mode) -> io::Result<()> {
    let temporary = temporary_beside(path);
    let written = (|| {
        let mut file = create(&temporary, mode)?;
        file.write_all(contents.as_bytes())?;
        drop(file);
        fs::rename(&temporary, path)
    })();
    if written.is_err() {
        let _ = fs::remove_file(&temporary);
    }
    written
}

/// Writes a file that nothing reads yet (inside a staging folder), without a temporary
/// file: the folder is renamed into place once every file in it is whole.
/// Returns the file's stamp, read from the open file: the ledger needs it, and asking the
/// open file spares looking the path up again.
pub fn write_unseen(path: &Path, contents: &str, mode: Mode) -> io::Result<crate::ledger::Stamp> {
    let mut file = create(path, mode)?;
    file.write_all(contents.as_bytes())?;
    let metadata = file.metadata()?;
    Ok((metadata.len(), crate::ledger::nanos(metadata.modified()?)))
}

/// `.<name>.<pid>.tmp`: hidden, so no reader takes it for part of the tree, and unique per
/// process, so two runs never write into each other's file.
fn temporary_beside(path: &Path) -> PathBuf {
    static PROCESS: std::sync::LazyLock<u32> = std::sync::LazyLock::new(std::process::id);
    let name = path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    path.with_file_name(format!(".{name}.{}.tmp", *PROCESS))
}

/// A new file with `mode`'s bits, which the umask may only narrow (Git records only whether a
/// file is executable). A leftover temporary file of a killed run is truncated.
#[cfg(unix)]
fn create(path: &Path, mode: Mode) -> io::Result<fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode.bits())
        .open(path)?;
    if mode == Mode::Executable {
        // A leftover of a killed run keeps its old bits: set them, for the few scripts.
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(fs::Permissions::from_mode(mode.bits()))?;
    }
    Ok(file)
}

#[cfg(not(unix))]
fn create(path: &Path, _: Mode) -> io::Result<fs::File> {
    fs::File::create(path)
}

/// Removes the folders below `dir` (and `dir` itself) that hold no file.
pub fn remove_empty_folders(dir: &Path) -> io::Result<()> {
    if !dir.is_dir() {
        return Ok(());
    }
    fn prune(dir: &Path) -> io::Result<bool> {
        let mut empty = true;
        for entry in fs::read_dir(dir)? {
            let entry = entry?;
            if entry.file_type()?.is_dir() {
                let child = entry.path();
                if prune(&child)? {
                    fs::remove_dir(&child)?;
                } else {
                    empty = false;
                }
            } else {
                empty = false;
            }
        }
        Ok(empty)
    }
    if prune(dir)? {
        fs::remove_dir(dir)?;
    }
    Ok(())
}
