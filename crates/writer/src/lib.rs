//! The only code that writes to `rendered/`.
//!
//! A render writes exactly the files whose bytes or mode differ from what is on disk, each
//! atomically: to a hidden temporary file in the same folder, then renamed over the old one.
//! Then it removes what is no longer rendered, temporary files a killed run left behind
//! included, and folders that became empty. So an unchanged re-render touches nothing (no
//! mtime changes, no churn for `git status` or editors), and a render killed at any moment
//! leaves every file whole: each one is either as before or as rendered. What a killed render
//! does not give is a tree that is all old or all new; the next render completes it, and
//! `check` says whether it is complete. Nothing outside `rendered/` is touched.

mod changes;
mod disk;
pub mod ledger;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

pub use changes::write_changes;
pub use disk::{Mode, mode_of};

/// A file's contents, shared: a render that reuses an unchanged object's file, the tree a
/// watch last wrote and the tree it writes next hold one copy of it.
pub type Contents = std::sync::Arc<str>;

/// The files of one environment: path relative to `rendered/<name>/`, and contents.
pub type Files = BTreeMap<String, Contents>;

/// The files of one environment, by name.
#[derive(Clone, Copy, Debug)]
pub struct Tree<'a> {
    pub name: &'a str,
    pub files: &'a Files,
}

/// Which part of `rendered/` the trees describe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Every environment: a folder of `rendered/` that no tree names is stale (its environment
    /// file was deleted or renamed) and goes. Files directly in `rendered/` (a README saying
    /// the tree is generated) are not environments and stay.
    Everything,
    /// Only the named environments; the rest of `rendered/` is left alone.
    OnlyThese,
}

/// How the disk differs from what would be rendered.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Drift {
    /// Would be written but is not on disk.
    Missing(PathBuf),
    /// On disk but would not be written: a stale file, a leftover temporary file, or a whole
    /// environment folder whose environment file is gone.
    Extra(PathBuf),
    /// On disk with other contents.
    Differs(PathBuf),
    /// Right contents, wrong mode (a script that is not executable, or the reverse).
    Mode(PathBuf),
}

impl Drift {
    pub fn path(&self) -> &Path {
        match self {
            Self::Missing(p) | Self::Extra(p) | Self::Differs(p) | Self::Mode(p) => p,
        }
    }

    /// One word for what is wrong: `missing`, `extra`, `differs`, `mode`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Missing(_) => "missing",
            Self::Extra(_) => "extra",
            Self::Differs(_) => "differs",
            Self::Mode(_) => "mode",
        }
    }
}

impl fmt::Display for Drift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind(), self.path().display())
    }
}

/// What a write changed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Files created or replaced.
    pub written: Vec<PathBuf>,
    /// Files and folders removed because nothing renders them any more.
    pub removed: Vec<PathBuf>,
    /// Files already as rendered, left untouched.
    pub unchanged: usize,
}

/// The hidden folder a new environment is written into before it is renamed into place.
fn staging(root: &Path, name: &str) -> PathBuf {
    root.join(format!(".{name}.staging"))
}

/// Writes `tree` ahead, into its hidden staging folder, when its environment folder does not
/// exist yet; returns what the ledger records of the files it wrote (by path below `root`),
/// or `None` when the folder exists. Nothing reads a staging folder: [`write_staged`] renames
/// it into place, or [`discard_staged`] removes it, once every environment is known good. So
/// a tree can be staged while the others still render, and its contents dropped once staged.
pub fn stage(root: &Path, tree: &Tree<'_>) -> io::Result<Option<Staged>> {
    check_relative(tree)?;
    if root.join(tree.name).exists() {
        return Ok(None);
    }
    let staging = staging(root, tree.name);
    if staging.exists() {
        fs::remove_dir_all(&staging).map_err(at(&staging))?;
    }
    let folders: BTreeSet<PathBuf> = tree
        .files
        .keys()
        .filter_map(|path| staging.join(path).parent().map(Path::to_path_buf))
        .collect();
    for folder in &folders {
        fs::create_dir_all(folder).map_err(at(folder))?;
    }
    // Creating a file is mostly the kernel's work, and folders apart take it on several
    // cores: the files are written in as many runs as there are cores.
    let files: Vec<(&String, &Contents)> = tree.files.iter().collect();
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .min(files.len() / 512 + 1);
    let write = |part: &[(&String, &Contents)]| -> io::Result<Vec<(String, ledger::Entry)>> {
        part.iter()
            .map(|(path, contents)| {
                let target = staging.join(path);
                let stamp = disk::write_unseen(&target, contents, Mode::of_contents(contents))
                    .map_err(at(&target))?;
                let key = format!("{}/{path}", tree.name);
                Ok((key, (stamp, ledger::hash_of(contents))))
            })
            .collect()
    };
    let parts: Vec<io::Result<Vec<(String, ledger::Entry)>>> = if threads <= 1 {
        vec![write(&files)]
    } else {
        let chunk = files.len().div_ceil(threads);
        std::thread::scope(|scope| {
            let workers: Vec<_> = files
                .chunks(chunk)
                .map(|part| scope.spawn(move || write(part)))
                .collect();
            workers
                .into_iter()
                .map(|worker| worker.join().expect("a writing thread does not panic"))
                .collect()
        })
    };
    let mut entries = BTreeMap::new();
    for part in parts {
        entries.extend(part?);
    }
    Ok(Some(Staged { entries }))
}

/// Removes what [`stage`] wrote for `names`, and `root` itself if staging created it: a
/// render that will not be written leaves the disk as it was.
pub fn discard_staged<'a>(
    root: &Path,
    names: impl IntoIterator<Item = &'a str>,
    root_existed: bool,
) -> io::Result<()> {
    for name in names {
        let staging = staging(root, name);
        match fs::remove_dir_all(&staging) {
            Err(error) if error.kind() != io::ErrorKind::NotFound => {
                return Err(at(&staging)(error));
            }
            _ => {}
        }
    }
    if !root_existed {
        // Only if empty: anything else in it is not ours to remove.
        let _ = fs::remove_dir(root);
    }
    Ok(())
}

/// Makes `root/<name>/` of every tree hold exactly the tree's files, writing only what
/// differs; with [`Scope::Everything`], also removes what no tree names from `root`.
pub fn write(root: &Path, trees: &[Tree<'_>], scope: Scope) -> io::Result<Outcome> {
    write_staged(root, trees, scope, Ahead::default(), None)
}

/// What was done for some trees before [`write_staged`], while others still rendered: trees
/// staged whole ([`stage`]) and trees compared with their folder ([`compare_ahead`]). Each
/// holds all that the write needs of its tree, so the tree's contents need not be kept: such
/// a tree may be given to [`write_staged`] with no files, by its name alone.
#[derive(Debug, Default)]
pub struct Ahead {
    pub staged: BTreeMap<String, Staged>,
    pub compared: BTreeMap<String, Comparison>,
}

impl Ahead {
    /// How many files the tree of `name` has, if it was done ahead.
    pub fn files(&self, name: &str) -> Option<usize> {
        self.staged
            .get(name)
            .map(Staged::files)
            .or_else(|| self.compared.get(name).map(Comparison::files))
    }
}

/// A tree written whole into its staging folder: what the ledger records of each file, by
/// path below `rendered/`.
#[derive(Debug, Default)]
pub struct Staged {
    entries: BTreeMap<String, ledger::Entry>,
}

impl Staged {
    /// How many files were staged.
    pub fn files(&self) -> usize {
        self.entries.len()
    }
}

/// How one tree's folder differs from the tree, with what a write then needs: the contents of
/// each file to write, and the ledger's entry of each file already current.
#[derive(Debug, Default)]
pub struct Comparison {
    drift: Vec<Drift>,
    /// The tree's files found current on disk, by path below `rendered/`.
    current: BTreeMap<String, ledger::Entry>,
    /// The files to write (missing, different, or of the wrong mode), by target path. With
    /// `current`, every file of the tree; both empty for a comparison that only checks.
    pending: BTreeMap<PathBuf, Pending>,
}

impl Comparison {
    /// How many files the tree has.
    pub fn files(&self) -> usize {
        self.current.len() + self.pending.len()
    }

    fn append(&mut self, other: Comparison) {
        self.drift.extend(other.drift);
        self.current.extend(other.current);
        self.pending.extend(other.pending);
    }
}

/// A file to write: what it is to hold, and its key and hash for the ledger.
#[derive(Debug)]
struct Pending {
    key: String,
    contents: String,
    hash: u64,
}

/// What a comparison is for: a write needs the contents of the files to write and each
/// file's ledger entry; a check needs only the differences, and trusts nothing but contents.
#[derive(Clone, Copy)]
enum Purpose<'l> {
    Write { ledger: Option<&'l ledger::Ledger> },
    Check,
}

/// Compares `root/<name>/` with `tree`, writing nothing: what [`write_staged`] would do first,
/// done while other trees still render. `ledger` is the one [`ledger::Ledger::load`] read
/// before anything was written in this run.
pub fn compare_ahead(
    root: &Path,
    tree: &Tree<'_>,
    ledger: Option<&ledger::Ledger>,
) -> io::Result<Comparison> {
    check_relative(tree)?;
    compare_tree(root, tree, Purpose::Write { ledger })
}

/// [`write`], with what was done ahead for some trees in this run ([`Ahead`]); with a
/// fingerprint, also records the ledger ([`ledger::record`]) from the listing the write made
/// anyway, the hashes it compared by and the files it wrote, without listing the tree again.
///
/// A tree done ahead must still be as it was then: its folder new if it was staged, present
/// if it was compared. Else the error says to render again; nothing is written.
pub fn write_staged(
    root: &Path,
    trees: &[Tree<'_>],
    scope: Scope,
    ahead: Ahead,
    record: Option<u64>,
) -> io::Result<Outcome> {
    for tree in trees {
        check_relative(tree)?;
    }
    fs::create_dir_all(root).map_err(at(root))?;
    // An environment whose folder does not exist yet is written whole into a hidden staging
    // folder, then renamed into place: one rename rather than one per file, and the folder
    // appears complete or not at all. A killed run leaves the hidden folder, which the next
    // run removes. The others are compared with their folder and written file by file.
    let (fresh, existing): (Vec<&Tree<'_>>, Vec<&Tree<'_>>) = trees
        .iter()
        .partition(|tree| !root.join(tree.name).exists());
    let changed = fresh
        .iter()
        .find(|tree| ahead.compared.contains_key(tree.name))
        .map(|tree| (tree.name, "removed"))
        .or_else(|| {
            existing
                .iter()
                .find(|tree| ahead.staged.contains_key(tree.name))
                .map(|tree| (tree.name, "created"))
        });
    if let Some((name, what)) = changed {
        return Err(io::Error::other(format!(
            "{}: {what} while the environment rendered; render again",
            root.join(name).display()
        )));
    }
    let Ahead {
        mut staged,
        mut compared,
    } = ahead;
    // What the last full render recorded spares reading the files it vouches for; read only
    // if some tree is compared now.
    let ledger = existing
        .iter()
        .any(|tree| !compared.contains_key(tree.name))
        .then(|| ledger::Ledger::load(root))
        .flatten();
    let mut all = Comparison::default();
    for tree in &existing {
        match compared.remove(tree.name) {
            Some(comparison) => all.append(comparison),
            None => {
                let ledger = ledger.as_ref();
                all.append(compare_tree(root, tree, Purpose::Write { ledger })?);
            }
        }
    }
    let existing_trees: Vec<Tree<'_>> = existing.iter().map(|tree| **tree).collect();
    if scope == Scope::Everything {
        all.drift.extend(strangers_of(root, trees)?);
    }
    all.drift.sort();
    let mut wanted = all.files();
    let Comparison {
        drift,
        current: mut entries,
        mut pending,
    } = all;
    let mut outcome = Outcome::default();
    for tree in &fresh {
        let written = match staged.remove(tree.name) {
            Some(written) => written,
            None => stage(root, tree)?.unwrap_or_default(),
        };
        let dir = root.join(tree.name);
        fs::rename(staging(root, tree.name), &dir).map_err(at(&dir))?;
        wanted += written.entries.len();
        outcome
            .written
            .extend(written.entries.keys().map(|key| root.join(key)));
        entries.extend(written.entries);
    }
    // Every write before any removal: a run killed in between leaves stale files, never
    // missing ones, and the next run removes them.
    let mut folders: BTreeSet<&Path> = BTreeSet::new();
    for difference in drift.iter().filter(|d| !matches!(d, Drift::Extra(_))) {
        let target = difference.path();
        let file = pending
            .remove(target)
            .expect("a drift other than an extra file is a file to write");
        if let Some(folder) = target.parent()
            && folders.insert(folder)
        {
            fs::create_dir_all(folder).map_err(at(folder))?;
        }
        disk::replace_in_folder(target, &file.contents, Mode::of_contents(&file.contents))
            .map_err(at(target))?;
        if record.is_some() {
            let metadata = fs::metadata(target).map_err(at(target))?;
            let time = ledger::nanos(metadata.modified().map_err(at(target))?);
            entries.insert(file.key, ((metadata.len(), time), file.hash));
        }
        outcome.written.push(target.to_path_buf());
    }
    for difference in drift.iter().filter(|d| matches!(d, Drift::Extra(_))) {
        let stale = difference.path();
        let removed = if stale.is_dir() {
            fs::remove_dir_all(stale)
        } else {
            fs::remove_file(stale)
        };
        match removed {
            // A killed run's staging folder, already replaced and renamed by this one.
            Err(error) if error.kind() == io::ErrorKind::NotFound => continue,
            other => other.map_err(at(stale))?,
        }
        outcome.removed.push(stale.to_path_buf());
    }
    // Only a removal empties a folder: a folder written whole, or where nothing was removed,
    // has none to prune.
    for tree in &existing_trees {
        let dir = root.join(tree.name);
        if outcome
            .removed
            .iter()
            .any(|removed| removed.starts_with(&dir))
        {
            disk::remove_empty_folders(&dir).map_err(at(&dir))?;
        }
    }
    if let Some(fingerprint) = record {
        ledger::record_entries(root, fingerprint, &entries).map_err(at(root))?;
    }
    outcome.unchanged = wanted - outcome.written.len();
    outcome.written.sort();
    outcome.removed.sort();
    Ok(outcome)
}

/// Folders of `root` no tree names, as extra files.
fn strangers_of(root: &Path, trees: &[Tree<'_>]) -> io::Result<Vec<Drift>> {
    if !root.exists() {
        return Ok(Vec::new());
    }
    Ok(strangers(root, trees)
        .map_err(at(root))?
        .into_iter()
        .map(Drift::Extra)
        .collect())
}

/// Compares the disk with the trees, writing nothing: every difference, sorted.
pub fn check(root: &Path, trees: &[Tree<'_>], scope: Scope) -> io::Result<Vec<Drift>> {
    let mut drift = Vec::new();
    for tree in trees {
        check_relative(tree)?;
        drift.extend(compare_tree(root, tree, Purpose::Check)?.drift);
    }
    if scope == Scope::Everything {
        drift.extend(strangers_of(root, trees)?);
    }
    drift.sort();
    Ok(drift)
}

/// How `root/<name>/` differs from `tree`.
fn compare_tree(root: &Path, tree: &Tree<'_>, purpose: Purpose<'_>) -> io::Result<Comparison> {
    let dir = root.join(tree.name);
    let on_disk = disk::list(&dir).map_err(at(&dir))?;
    let (writing, ledger) = match purpose {
        Purpose::Write { ledger } => (true, ledger),
        Purpose::Check => (false, None),
    };
    let mut into = Comparison::default();
    let mut differs = |drift: Drift, key: String, contents: &str, hash: u64| {
        if writing {
            let file = Pending {
                key,
                contents: contents.to_owned(),
                hash,
            };
            into.pending.insert(drift.path().to_path_buf(), file);
        }
        into.drift.push(drift);
    };
    // Both sides are sorted by path: walked side by side, not looked up one in the other.
    let mut disk = on_disk.iter().peekable();
    let mut extra = Vec::new();
    for (path, contents) in tree.files {
        while let Some((found, _)) = disk.next_if(|(found, _)| *found < path) {
            extra.push(Drift::Extra(dir.join(found)));
        }
        let key = format!("{}/{path}", tree.name);
        // The ledger's hash: what a write records, and what the last one vouches by.
        let hash = if writing {
            ledger::hash_of(contents)
        } else {
            0
        };
        let target = || dir.join(path);
        let Some((_, found)) = disk.next_if(|(found, _)| *found == path) else {
            differs(Drift::Missing(target()), key, contents, hash);
            continue;
        };
        let mode = Mode::of_contents(contents);
        let stamp = (found.size, found.time);
        let vouched = ledger.is_some_and(|ledger| ledger.vouches(&key, stamp, hash));
        let differs_in_bytes = !(vouched && found.mode == mode) && {
            let target = target();
            fs::read(&target).map_err(at(&target))? != contents.as_bytes()
        };
        if differs_in_bytes {
            differs(Drift::Differs(target()), key, contents, hash);
        } else if found.mode != mode {
            differs(Drift::Mode(target()), key, contents, hash);
        } else if writing {
            into.current.insert(key, (stamp, hash));
        }
    }
    for (found, _) in disk {
        extra.push(Drift::Extra(dir.join(found)));
    }
    into.drift.extend(extra);
    Ok(into)
}

/// Replaces one file outside `rendered/` (the editor schema) atomically, unless it already
/// holds `contents`. Returns whether it wrote.
pub fn write_file(path: &Path, contents: &str) -> io::Result<bool> {
    let mode = Mode::of_contents(contents);
    let found = mode_of(path).map_err(at(path))?;
    if disk::is_current(path, found.as_ref(), contents, mode).map_err(at(path))? {
        return Ok(false);
    }
    disk::replace(path, contents, mode).map_err(at(path))?;
    Ok(true)
}

/// Makes `dir` hold exactly `files` (paths relative to it, hidden names allowed: a vendored
/// chart's `.helmignore`), writing only what differs and removing the rest. For folders
/// outside `rendered/` that the repository carries from upstream.
pub fn mirror(dir: &Path, files: &BTreeMap<String, String>) -> io::Result<Outcome> {
    let mut outcome = Outcome::default();
    for path in files.keys() {
        let plain = Path::new(path)
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)));
        if !plain {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("`{path}` is not a plain path inside {}", dir.display()),
            ));
        }
    }
    let found = disk::list(dir).map_err(at(dir))?;
    for (path, contents) in files {
        let target = dir.join(path);
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent).map_err(at(parent))?;
        }
        if write_file(&target, contents)? {
            outcome.written.push(target);
        } else {
            outcome.unchanged += 1;
        }
    }
    for path in found.keys().filter(|path| !files.contains_key(*path)) {
        let target = dir.join(path);
        fs::remove_file(&target).map_err(at(&target))?;
        outcome.removed.push(target);
    }
    disk::remove_empty_folders(dir).map_err(at(dir))?;
    Ok(outcome)
}

/// How a single file differs from `contents`, if it does.
pub fn check_file(path: &Path, contents: &str) -> io::Result<Option<Drift>> {
    match fs::read(path) {
        Ok(existing) if existing == contents.as_bytes() => Ok(None),
        Ok(_) => Ok(Some(Drift::Differs(path.to_path_buf()))),
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            Ok(Some(Drift::Missing(path.to_path_buf())))
        }
        Err(error) => Err(at(path)(error)),
    }
}

/// Puts the path an I/O error happened at into its message: `Permission denied` alone does
/// not say which of thousands of files.
fn at(path: &Path) -> impl FnOnce(io::Error) -> io::Error + '_ {
    move |error| io::Error::new(error.kind(), format!("{}: {error}", path.display()))
}

/// Folders of `root` that no tree names: stale environments, leftovers of older writers.
fn strangers(root: &Path, trees: &[Tree<'_>]) -> io::Result<Vec<PathBuf>> {
    let names: BTreeSet<&str> = trees.iter().map(|t| t.name).collect();
    let mut found = Vec::new();
    for entry in fs::read_dir(root)? {
        let entry = entry?;
        let name = entry.file_name();
        if entry.file_type()?.is_dir() && !names.contains(name.to_string_lossy().as_ref()) {
            found.push(entry.path());
        }
    }
    found.sort();
    Ok(found)
}

fn check_relative(tree: &Tree<'_>) -> io::Result<()> {
    let invalid = |what: String| io::Error::new(io::ErrorKind::InvalidInput, what);
    if tree.name.is_empty() || tree.name.contains(['/', '\\']) || tree.name.starts_with('.') {
        return Err(invalid(format!(
            "`{}` is not a plain folder name",
            tree.name
        )));
    }
    for path in tree.files.keys() {
        let plain = Path::new(path).components().all(|c| match c {
            std::path::Component::Normal(part) => !part.to_string_lossy().starts_with('.'),
            _ => false,
        });
        if !plain {
            return Err(invalid(format!(
                "`{path}` is not a plain path inside rendered/{}/ (no `..`, no hidden names)",
                tree.name
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
