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

mod disk;
pub mod ledger;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

pub use disk::{Mode, mode_of};

/// The files of one environment: path relative to `rendered/<name>/`, and contents.
#[derive(Clone, Copy, Debug)]
pub struct Tree<'a> {
    pub name: &'a str,
    pub files: &'a BTreeMap<String, String>,
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
/// exist yet; returns whether it did. Nothing reads a staging folder: [`write_staged`] renames
/// it into place, or [`discard_staged`] removes it, once every environment is known good.
/// So a tree can be staged while the others still render.
pub fn stage(root: &Path, tree: &Tree<'_>) -> io::Result<bool> {
    check_relative(tree)?;
    if root.join(tree.name).exists() {
        return Ok(false);
    }
    let staging = staging(root, tree.name);
    if staging.exists() {
        fs::remove_dir_all(&staging).map_err(at(&staging))?;
    }
    let mut folders: BTreeSet<PathBuf> = BTreeSet::new();
    for (path, contents) in tree.files {
        let target = staging.join(path);
        if let Some(folder) = target.parent()
            && folders.insert(folder.to_path_buf())
        {
            fs::create_dir_all(folder).map_err(at(folder))?;
        }
        disk::write_unseen(&target, contents, Mode::of_contents(contents)).map_err(at(&target))?;
    }
    Ok(true)
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
    write_staged(root, trees, scope, &BTreeSet::new(), None)
}

/// [`write`], where the trees named in `staged` were written ahead by [`stage`] in this run;
/// with a fingerprint, also records the ledger ([`ledger::record`]) from the listing the
/// write made anyway and the files it wrote, without listing the tree again.
pub fn write_staged(
    root: &Path,
    trees: &[Tree<'_>],
    scope: Scope,
    staged: &BTreeSet<String>,
    record: Option<u64>,
) -> io::Result<Outcome> {
    for tree in trees {
        check_relative(tree)?;
    }
    fs::create_dir_all(root).map_err(at(root))?;
    // What the last full render recorded spares reading the files it vouches for.
    let ledger = ledger::Ledger::load(root);
    let (drift, mut stamps) = compare(root, trees, scope, ledger.as_ref())?;
    let wanted: BTreeMap<PathBuf, &str> = trees
        .iter()
        .flat_map(|tree| {
            tree.files
                .iter()
                .map(|(path, contents)| (root.join(tree.name).join(path), contents.as_str()))
        })
        .collect();
    let mut outcome = Outcome::default();
    // An environment whose folder does not exist yet is written whole into a hidden staging
    // folder, then renamed into place: one rename rather than one per file, and the folder
    // appears complete or not at all. A killed run leaves the hidden folder, which the next
    // run removes.
    let fresh: Vec<&Tree<'_>> = trees
        .iter()
        .filter(|tree| !root.join(tree.name).exists())
        .collect();
    for tree in &fresh {
        if !staged.contains(tree.name) {
            stage(root, tree)?;
        }
        let dir = root.join(tree.name);
        fs::rename(staging(root, tree.name), &dir).map_err(at(&dir))?;
        outcome
            .written
            .extend(tree.files.keys().map(|path| dir.join(path)));
    }
    let written_whole = |target: &Path| {
        fresh
            .iter()
            .any(|tree| target.starts_with(root.join(tree.name)))
    };
    // Every write before any removal: a run killed in between leaves stale files, never
    // missing ones, and the next run removes them.
    let mut folders: BTreeSet<&Path> = BTreeSet::new();
    for difference in drift
        .iter()
        .filter(|d| !matches!(d, Drift::Extra(_)) && !written_whole(d.path()))
    {
        let target = difference.path();
        let contents = wanted[target];
        if let Some(folder) = target.parent()
            && folders.insert(folder)
        {
            fs::create_dir_all(folder).map_err(at(folder))?;
        }
        disk::replace_in_folder(target, contents, Mode::of_contents(contents))
            .map_err(at(target))?;
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
    for tree in trees {
        let dir = root.join(tree.name);
        disk::remove_empty_folders(&dir).map_err(at(&dir))?;
    }
    if let Some(fingerprint) = record {
        for written in &outcome.written {
            let metadata = fs::metadata(written).map_err(at(written))?;
            let key = written
                .strip_prefix(root)
                .map_err(|e| io::Error::other(e.to_string()))?
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            let time = ledger::nanos(metadata.modified().map_err(at(written))?);
            stamps.insert(key, (metadata.len(), time));
        }
        ledger::record_stamps(root, fingerprint, trees, &stamps).map_err(at(root))?;
    }
    outcome.unchanged = wanted.len() - outcome.written.len();
    outcome.written.sort();
    outcome.removed.sort();
    Ok(outcome)
}

/// Compares the disk with the trees, writing nothing.
pub fn check(root: &Path, trees: &[Tree<'_>], scope: Scope) -> io::Result<Vec<Drift>> {
    // A check trusts nothing but contents.
    compare(root, trees, scope, None).map(|(drift, _)| drift)
}

/// Every difference between the disk and the trees, sorted: what `write` changes and
/// `check` reports; with the stamps of the trees' files found on disk, by path below `root`.
fn compare(
    root: &Path,
    trees: &[Tree<'_>],
    scope: Scope,
    ledger: Option<&ledger::Ledger>,
) -> io::Result<(Vec<Drift>, BTreeMap<String, ledger::Stamp>)> {
    let mut drift = Vec::new();
    let mut stamps = BTreeMap::new();
    for tree in trees {
        let dir = root.join(tree.name);
        let on_disk = disk::list(&dir).map_err(at(&dir))?;
        for (path, contents) in tree.files {
            let target = dir.join(path);
            let mode = Mode::of_contents(contents);
            let key = format!("{}/{path}", tree.name);
            let vouched = |found: &disk::Listed| {
                ledger
                    .is_some_and(|ledger| ledger.vouches(&key, (found.size, found.time), contents))
            };
            if let Some(found) = on_disk.get(path) {
                stamps.insert(key.clone(), (found.size, found.time));
            }
            match on_disk.get(path) {
                None => drift.push(Drift::Missing(target)),
                Some(found) if vouched(found) && found.mode == mode => {}
                Some(_) if fs::read(&target).map_err(at(&target))? != contents.as_bytes() => {
                    drift.push(Drift::Differs(target));
                }
                Some(found) if found.mode != mode => drift.push(Drift::Mode(target)),
                Some(_) => {}
            }
        }
        for path in on_disk.keys().filter(|p| !tree.files.contains_key(*p)) {
            drift.push(Drift::Extra(dir.join(path)));
        }
    }
    if scope == Scope::Everything && root.exists() {
        drift.extend(
            strangers(root, trees)
                .map_err(at(root))?
                .into_iter()
                .map(Drift::Extra),
        );
    }
    drift.sort();
    Ok((drift, stamps))
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
