//! Writing what changed between two renders the same process made, without reading the disk.
//!
//! `render --watch` keeps the tree it last wrote. When the next render differs from it in a
//! few files, comparing the new tree with the disk would read or stat every file to find them;
//! comparing it with the kept tree finds them in memory. What this trusts is that the disk
//! still holds the kept tree: the watch wrote it (or found it current) and owns `rendered/`
//! while it runs. Each file is still written atomically, as [`crate::write`] does.

use std::collections::BTreeSet;
use std::fs;
use std::io;
use std::path::Path;

use crate::{Mode, Outcome, Scope, Tree, at, check_relative, disk};

/// Makes the disk, known to hold `before`, hold `after`: writes the files that are new or
/// differ, removes those no longer rendered and folders left empty; with
/// [`Scope::Everything`], removes the folders of environments no longer rendered. A tree of
/// `after` with none of its name in `before` is written with [`crate::write`], which compares
/// it with the disk.
pub fn write_changes(
    root: &Path,
    before: &[Tree<'_>],
    after: &[Tree<'_>],
    scope: Scope,
) -> io::Result<Outcome> {
    for tree in after {
        check_relative(tree)?;
    }
    let mut outcome = Outcome::default();
    for tree in after {
        let Some(kept) = before.iter().find(|kept| kept.name == tree.name) else {
            let written = crate::write(root, std::slice::from_ref(tree), Scope::OnlyThese)?;
            outcome.written.extend(written.written);
            outcome.removed.extend(written.removed);
            outcome.unchanged += written.unchanged;
            continue;
        };
        let dir = root.join(tree.name);
        let mut folders: BTreeSet<&Path> = BTreeSet::new();
        let mut targets = Vec::new();
        for (path, contents) in tree.files {
            if kept.files.get(path) == Some(contents) {
                outcome.unchanged += 1;
                continue;
            }
            targets.push((dir.join(path), contents));
        }
        for (target, contents) in &targets {
            if let Some(folder) = target.parent()
                && folders.insert(folder)
            {
                fs::create_dir_all(folder).map_err(at(folder))?;
            }
            disk::replace_in_folder(target, contents, Mode::of_contents(contents))
                .map_err(at(target))?;
        }
        outcome
            .written
            .extend(targets.into_iter().map(|(target, _)| target));
        // Every write before any removal, as `write` does.
        let mut removed_any = false;
        for path in kept.files.keys().filter(|p| !tree.files.contains_key(*p)) {
            let stale = dir.join(path);
            match fs::remove_file(&stale) {
                Err(error) if error.kind() == io::ErrorKind::NotFound => continue,
                other => other.map_err(at(&stale))?,
            }
            removed_any = true;
            outcome.removed.push(stale);
        }
        if removed_any {
            disk::remove_empty_folders(&dir).map_err(at(&dir))?;
        }
    }
    if scope == Scope::Everything {
        for kept in before {
            if after.iter().any(|tree| tree.name == kept.name) {
                continue;
            }
            let dir = root.join(kept.name);
            match fs::remove_dir_all(&dir) {
                Err(error) if error.kind() == io::ErrorKind::NotFound => continue,
                other => other.map_err(at(&dir))?,
            }
            outcome.removed.push(dir);
        }
    }
    outcome.written.sort();
    outcome.removed.sort();
    Ok(outcome)
}
