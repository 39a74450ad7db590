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
pub(crate) type Stamp = (u64, u128);

/// What the ledger records of one file: its stamp and the hash of its contents.
pub(crate) type Entry = (Stamp, u64);

/// What the last full render recorded.
#[derive(Clone, Debug, Default)]
pub struct Ledger {
    fingerprint: u64,
    /// When the ledger was written: no entry at least as recent is trusted.
    written_at: u128,
    /// Each file, by path below `rendered/`: its stamp and the hash of its contents.
    files: BTreeMap<String, Entry>,
}

impl Ledger {
    /// The ledger of `root`, if there is one that reads.
    pub fn load(root: &Path) -> Option<Self> {
        let path = root.join(FILE);
        let text = fs::read_to_string(&path).ok()?;
        let written_at = nanos(fs::metadata(&path).ok()?.modified().ok()?);
        let mut lines = text.lines();
        let fingerprint =
            u64::from_str_radix(lines.next()?.strip_prefix("fingerprint ")?, 16).ok()?;
        let mut files = BTreeMap::new();
        for line in lines {
            let mut parts = line.splitn(4, ' ');
            let size = parts.next()?.parse().ok()?;
            let time = parts.next()?.parse().ok()?;
            let hash = u64::from_str_radix(parts.next()?, 16).ok()?;
            files.insert(parts.next()?.to_owned(), ((size, time), hash));
        }
        Some(Self {
            fingerprint,
            written_at,
            files,
        })
    }

    /// The fingerprint the ledger of `root` was recorded for, read from its first line alone:
    /// a render whose inputs changed learns that it must render without parsing an entry per
    /// file.
    fn fingerprint(root: &Path) -> Option<u64> {
        use io::BufRead as _;
        let mut first = String::new();
        io::BufReader::new(fs::File::open(root.join(FILE)).ok()?)
            .read_line(&mut first)
            .ok()?;
        u64::from_str_radix(first.trim_end().strip_prefix("fingerprint ")?, 16).ok()
    }

    /// Whether the file at `path` (below `rendered/`), found with `stamp`, still holds what
    /// the ledger recorded, and that is contents of hash `hash` ([`hash_of`]): then it need
    /// not be read to be compared.
    pub(crate) fn vouches(&self, path: &str, stamp: Stamp, hash: u64) -> bool {
        self.files
            .get(path)
            .is_some_and(|(recorded, recorded_hash)| {
                *recorded == stamp && stamp.1 < self.written_at && *recorded_hash == hash
            })
    }
}

/// Whether `root` holds exactly what the last write recorded for `fingerprint`: then each
/// environment folder is listed with its number of files. `None` when anything differs, or
/// there is no ledger: render, compare and write as usual.
pub fn unchanged(root: &Path, fingerprint: u64) -> io::Result<Option<Vec<(String, usize)>>> {
    if Ledger::fingerprint(root) != Some(fingerprint) {
        return Ok(None);
    }
    let Some(ledger) = Ledger::load(root) else {
        return Ok(None);
    };
    if ledger.fingerprint != fingerprint {
        return Ok(None);
    }
    let on_disk = stamps(root)?;
    if on_disk.len() != ledger.files.len() {
        return Ok(None);
    }
    let mut folders: BTreeMap<String, usize> = BTreeMap::new();
    for (path, stamp) in &on_disk {
        let trusted = ledger
            .files
            .get(path.as_str())
            .is_some_and(|(recorded, _)| recorded == stamp && stamp.1 < ledger.written_at);
        if !trusted {
            return Ok(None);
        }
        if let Some((folder, _)) = path.split_once('/') {
            *folders.entry(folder.to_owned()).or_default() += 1;
        }
    }
    Ok(Some(folders.into_iter().collect()))
}

/// Records what `root` holds now, for `fingerprint`: the stamp of every file, and the hash of
/// the contents `trees` gave it (a file no tree names is left out, so the ledger no longer
/// matches the disk). Written through a temporary file and a rename, like every other file,
/// so a killed run leaves the old ledger or the new one; and rewritten until its own time is
/// later than every file's (file times are as coarse as the kernel's clock tick), so that
/// every entry can be trusted and any later change shows.
pub fn record(root: &Path, fingerprint: u64, trees: &[crate::Tree<'_>]) -> io::Result<()> {
    let stamps = stamps(root)?;
    let mut entries = BTreeMap::new();
    for tree in trees {
        for (path, contents) in tree.files {
            let key = format!("{}/{path}", tree.name);
            if let Some(stamp) = stamps.get(&key) {
                entries.insert(key, (*stamp, hash_of(contents)));
            }
        }
    }
    record_entries(root, fingerprint, &entries)
}

/// [`record`] with each file's entry already known (by path below `rendered/`), as a write
/// knows them from its own listing, what it wrote and the hashes it compared by.
pub(crate) fn record_entries(
    root: &Path,
    fingerprint: u64,
    entries: &BTreeMap<String, Entry>,
) -> io::Result<()> {
    use std::fmt::Write as _;
    let newest = entries
        .values()
        .map(|((_, time), _)| *time)
        .max()
        .unwrap_or(0);
    let mut text = format!("fingerprint {fingerprint:016x}\n");
    for (key, ((size, time), hash)) in entries {
        let _ = writeln!(text, "{size} {time} {hash:016x} {key}");
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

/// A hash of a file's contents, stable within one build of the generator (the fingerprint
/// names the build).
pub(crate) fn hash_of(contents: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::hash::DefaultHasher::new();
    contents.hash(&mut hasher);
    hasher.finish()
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

pub(crate) fn nanos(time: SystemTime) -> u128 {
    time.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    type Files = [(&'static str, &'static str)];

    const FILES: &Files = &[
        ("dev/a.yaml", "a: 1\n"),
        ("dev/sub/b.yaml", "b: 2\n"),
        ("prod/c.yaml", "c\n"),
    ];

    fn scratch(name: &str, files: &Files) -> PathBuf {
        let root = std::env::temp_dir().join(format!("ledger-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        for (path, text) in files {
            let path = root.join(path);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
        }
        root
    }

    /// The trees `files` make, by environment folder.
    fn trees(files: &Files) -> BTreeMap<String, crate::Files> {
        let mut trees: BTreeMap<String, crate::Files> = BTreeMap::new();
        for (path, text) in files {
            let (env, rest) = path.split_once('/').unwrap();
            trees
                .entry(env.to_owned())
                .or_default()
                .insert(rest.to_owned(), crate::Contents::from(*text));
        }
        trees
    }

    fn record_files(root: &Path, fingerprint: u64, files: &Files) {
        let trees = trees(files);
        let trees: Vec<crate::Tree<'_>> = trees
            .iter()
            .map(|(name, files)| crate::Tree { name, files })
            .collect();
        record(root, fingerprint, &trees).unwrap();
    }

    #[test]
    fn a_recorded_tree_is_unchanged_until_anything_about_it_changes() {
        let root = scratch("changes", FILES);
        assert_eq!(unchanged(&root, 7).unwrap(), None, "no ledger yet");
        assert_eq!(Ledger::fingerprint(&root), None);
        record_files(&root, 7, FILES);
        assert_eq!(Ledger::fingerprint(&root), Some(7));
        assert_eq!(
            unchanged(&root, 7).unwrap(),
            Some(vec![("dev".to_owned(), 2), ("prod".to_owned(), 1)])
        );
        assert_eq!(unchanged(&root, 8).unwrap(), None, "other inputs");

        // Same size, new contents: the time says it changed.
        std::thread::sleep(std::time::Duration::from_millis(20));
        fs::write(root.join("dev/a.yaml"), "a: 3\n").unwrap();
        assert_eq!(unchanged(&root, 7).unwrap(), None);
        let changed: &Files = &[
            ("dev/a.yaml", "a: 3\n"),
            ("dev/sub/b.yaml", "b: 2\n"),
            ("prod/c.yaml", "c\n"),
        ];
        record_files(&root, 7, changed);
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
    fn the_ledger_vouches_for_a_file_only_with_its_stamp_and_the_same_contents() {
        let root = scratch("vouches", FILES);
        record_files(&root, 1, FILES);
        let ledger = Ledger::load(&root).unwrap();
        let metadata = fs::metadata(root.join("dev/a.yaml")).unwrap();
        let stamp = (metadata.len(), nanos(metadata.modified().unwrap()));
        assert!(ledger.vouches("dev/a.yaml", stamp, hash_of("a: 1\n")));
        assert!(
            !ledger.vouches("dev/a.yaml", stamp, hash_of("a: 2\n")),
            "other contents"
        );
        assert!(
            !ledger.vouches("dev/a.yaml", (stamp.0, stamp.1 + 1), hash_of("a: 1\n")),
            "another time"
        );
        assert!(
            !ledger.vouches("dev/z.yaml", stamp, hash_of("a: 1\n")),
            "another file"
        );
        let _ = fs::remove_dir_all(&root);
    }

    #[test]
    fn a_file_not_older_than_the_ledger_is_never_trusted() {
        let root = scratch("racy", FILES);
        record_files(&root, 1, FILES);
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
        let rewritten: String = text
            .lines()
            .map(|line| {
                if let Some(rest) = line.strip_suffix(" dev/a.yaml") {
                    let mut parts = rest.split(' ');
                    let (size, _, hash) =
                        (parts.next().unwrap(), parts.next(), parts.next().unwrap());
                    format!("{size} {} {hash} dev/a.yaml\n", nanos(ledger_time))
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
        let ledger = Ledger::load(&root).unwrap();
        let size = fs::metadata(root.join("dev/a.yaml")).unwrap().len();
        assert!(!ledger.vouches("dev/a.yaml", (size, nanos(ledger_time)), hash_of("a: 1\n")));
        let _ = fs::remove_dir_all(&root);
    }
}
