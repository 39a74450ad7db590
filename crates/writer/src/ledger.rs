//! What the last complete write left, so that a render whose inputs have not changed can
//! tell, from file metadata alone, that the tree on disk is still exactly what it would
//! write: the way make, cargo and git's index skip work.
//!
//! The ledger, `rendered/.render-ledger` (not committed), holds a fingerprint of the inputs
//! (the caller's: the generator and the environment files) and the size and modification
//! time of every file of every environment. It is trusted only when the fingerprint is the
//! same and every file on disk has the recorded size and time, no file is missing and none
//! is extra. A file modified in the same instant the ledger was written could keep its time;
//! like git's "racily clean" entries, a file whose time is not strictly older than the
//! ledger's own is never trusted, and the next render compares contents instead.
//! `render --check` never reads the ledger.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::Path;
use std::time::SystemTime;

/// The ledger's file name, directly in `rendered/`.
pub const FILE: &str = ".render-ledger";

/// A file's size and modification time, in nanoseconds since the epoch.
type Stamp = (u64, u128);

/// Whether `root` holds exactly what the last write recorded for `fingerprint`: then each
/// environment folder is listed with its number of files. `None` when anything differs, or
/// there is no ledger: render, compare and write as usual.
pub fn unchanged(root: &Path, fingerprint: u64) -> io::Result<Option<Vec<(String, usize)>>> {
    let ledger_path = root.join(FILE);
    let Ok(text) = fs::read_to_string(&ledger_path) else {
        return Ok(None);
    };
    let written_at = nanos(fs::metadata(&ledger_path)?.modified()?);
    let mut lines = text.lines();
    if lines.next() != Some(&format!("fingerprint {fingerprint:016x}")) {
        return Ok(None);
    }
    let mut recorded: BTreeMap<&str, Stamp> = BTreeMap::new();
    for line in lines {
        let mut parts = line.splitn(3, ' ');
        let (Some(size), Some(time), Some(path)) = (parts.next(), parts.next(), parts.next())
        else {
            return Ok(None);
        };
        let (Ok(size), Ok(time)) = (size.parse(), time.parse()) else {
            return Ok(None);
        };
        recorded.insert(path, (size, time));
    }
    let on_disk = stamps(root)?;
    if on_disk.len() != recorded.len() {
        return Ok(None);
    }
    let mut folders: BTreeMap<String, usize> = BTreeMap::new();
    for (path, stamp) in &on_disk {
        let trusted = recorded.get(path.as_str()) == Some(stamp) && stamp.1 < written_at;
        if !trusted {
            return Ok(None);
        }
        if let Some((folder, _)) = path.split_once('/') {
            *folders.entry(folder.to_owned()).or_default() += 1;
        }
    }
    Ok(Some(folders.into_iter().collect()))
}

/// Records what `root` holds now, for `fingerprint`. Written through a temporary file and a
/// rename, like every other file, so a killed run leaves the old ledger or the new one; and
/// rewritten until its own time is later than every file's (file times are as coarse as the
/// kernel's clock tick), so that every entry can be trusted and any later change shows.
pub fn record(root: &Path, fingerprint: u64) -> io::Result<()> {
    let stamps = stamps(root)?;
    let newest = stamps.values().map(|(_, time)| *time).max().unwrap_or(0);
    let mut text = format!("fingerprint {fingerprint:016x}\n");
    for (path, (size, time)) in &stamps {
        text.push_str(&format!("{size} {time} {path}\n"));
    }
    let path = root.join(FILE);
    forget(root)?;
    for _ in 0..100 {
        crate::disk::replace(&path, &text, crate::Mode::Regular)?;
        if nanos(fs::metadata(&path)?.modified()?) > newest {
            return Ok(());
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    // A clock that does not advance: leave no ledger rather than one that cannot be trusted.
    forget(root)
}

/// Forgets the ledger, and any a killed run left half written: the next render compares
/// contents.
pub fn forget(root: &Path) -> io::Result<()> {
    let Ok(entries) = fs::read_dir(root) else {
        return Ok(());
    };
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let leftover = name.starts_with(&format!(".{FILE}.")) && name.ends_with(".tmp");
        if name == FILE || leftover {
            match fs::remove_file(entry.path()) {
                Err(error) if error.kind() != io::ErrorKind::NotFound => return Err(error),
                _ => {}
            }
        }
    }
    Ok(())
}

/// Every file in the environment folders of `root`, hidden ones too, with its stamp.
fn stamps(root: &Path) -> io::Result<BTreeMap<String, Stamp>> {
    let mut stamps = BTreeMap::new();
    if !root.is_dir() {
        return Ok(stamps);
    }
    let mut pending: Vec<(std::path::PathBuf, String)> = Vec::new();
    for entry in fs::read_dir(root)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            pending.push((
                entry.path(),
                entry.file_name().to_string_lossy().into_owned(),
            ));
        }
    }
    while let Some((dir, relative)) = pending.pop() {
        for entry in fs::read_dir(&dir)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = format!("{relative}/{name}");
            let metadata = entry.metadata()?;
            if metadata.is_dir() {
                pending.push((entry.path(), path));
            } else {
                stamps.insert(path, (metadata.len(), nanos(metadata.modified()?)));
            }
        }
    }
    Ok(stamps)
}

fn nanos(time: SystemTime) -> u128 {
    time.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn scratch(name: &str) -> PathBuf {
        let root = std::env::temp_dir().join(format!("ledger-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        for (path, text) in [
            ("dev/a.yaml", "a: 1\n"),
            ("dev/sub/b.yaml", "b: 2\n"),
            ("prod/c.yaml", "c\n"),
        ] {
            let path = root.join(path);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
        }
        root
    }

    #[test]
    fn a_recorded_tree_is_unchanged_until_anything_about_it_changes() {
        let root = scratch("changes");
        assert_eq!(unchanged(&root, 7).unwrap(), None, "no ledger yet");
        record(&root, 7).unwrap();
        assert_eq!(
            unchanged(&root, 7).unwrap(),
            Some(vec![("dev".to_owned(), 2), ("prod".to_owned(), 1)])
        );
        assert_eq!(unchanged(&root, 8).unwrap(), None, "other inputs");

        // Same size, new contents: the time says it changed.
        std::thread::sleep(std::time::Duration::from_millis(20));
        fs::write(root.join("dev/a.yaml"), "a: 3\n").unwrap();
        assert_eq!(unchanged(&root, 7).unwrap(), None);
        record(&root, 7).unwrap();
        assert!(unchanged(&root, 7).unwrap().is_some());

        fs::write(root.join("dev/extra.yaml"), "x").unwrap();
        assert_eq!(unchanged(&root, 7).unwrap(), None, "an extra file");
        fs::remove_file(root.join("dev/extra.yaml")).unwrap();
        fs::remove_file(root.join("prod/c.yaml")).unwrap();
        assert_eq!(unchanged(&root, 7).unwrap(), None, "a missing file");

        forget(&root).unwrap();
        assert!(!root.join(FILE).exists());
        let _ = fs::remove_dir_all(&root);
    }

    #[test]
    fn a_file_not_older_than_the_ledger_is_never_trusted() {
        let root = scratch("racy");
        record(&root, 1).unwrap();
        let ledger_time = fs::metadata(root.join(FILE)).unwrap().modified().unwrap();
        // Modified in the ledger's own instant, keeping the recorded time: the ledger cannot
        // tell, so it must not vouch for the file.
        let file = fs::File::options()
            .write(true)
            .open(root.join("dev/a.yaml"))
            .unwrap();
        file.set_modified(ledger_time).unwrap();
        drop(file);
        let text = fs::read_to_string(root.join(FILE)).unwrap();
        let size = fs::metadata(root.join("dev/a.yaml")).unwrap().len();
        let rewritten: String = text
            .lines()
            .map(|line| {
                if line.ends_with(" dev/a.yaml") {
                    format!("{size} {} dev/a.yaml\n", nanos(ledger_time))
                } else {
                    format!("{line}\n")
                }
            })
            .collect();
        fs::write(root.join(FILE), rewritten).unwrap();
        let file = fs::File::options()
            .write(true)
            .open(root.join(FILE))
            .unwrap();
        file.set_modified(ledger_time).unwrap();
        drop(file);
        assert_eq!(unchanged(&root, 1).unwrap(), None);
        let _ = fs::remove_dir_all(&root);
    }
}
