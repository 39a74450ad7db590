//! The only code that writes to `rendered/`.
//!
//! Each environment's tree is written in full to a staging folder beside its target, and only
//! when every environment has been staged are they swapped into place, one rename each. A
//! failure before the swap leaves `rendered/` exactly as it was; files that are no longer
//! rendered disappear with the old tree; nothing outside `rendered/<env>/` is touched.

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// The files of one environment: path relative to `rendered/<name>/`, and contents.
#[derive(Clone, Copy, Debug)]
pub struct Tree<'a> {
    pub name: &'a str,
    pub files: &'a BTreeMap<String, String>,
}

/// How a file on disk differs from what would be rendered.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Drift {
    /// Would be written but is not on disk.
    Missing(PathBuf),
    /// On disk but would not be written.
    Extra(PathBuf),
    /// On disk with other contents.
    Differs(PathBuf),
}

impl fmt::Display for Drift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing(path) => write!(f, "missing: {}", path.display()),
            Self::Extra(path) => write!(f, "extra:   {}", path.display()),
            Self::Differs(path) => write!(f, "differs: {}", path.display()),
        }
    }
}

/// Replaces `root/<name>/` of every tree with exactly the tree's files.
pub fn write(root: &Path, trees: &[Tree<'_>]) -> io::Result<()> {
    fs::create_dir_all(root)?;
    let mut staged = Vec::new();
    for tree in trees {
        check_relative(tree)?;
        let staging = root.join(format!(".{}.staging", tree.name));
        match stage(&staging, tree) {
            Ok(()) => staged.push((staging, root.join(tree.name))),
            Err(error) => {
                let _ = fs::remove_dir_all(&staging);
                for (staging, _) in &staged {
                    let _ = fs::remove_dir_all(staging);
                }
                return Err(error);
            }
        }
    }
    for (staging, target) in staged {
        swap(&staging, &target)?;
    }
    Ok(())
}

/// Compares `root/<name>/` of every tree with the tree's files, writing nothing.
pub fn check(root: &Path, trees: &[Tree<'_>]) -> io::Result<Vec<Drift>> {
    let mut drift = Vec::new();
    for tree in trees {
        let dir = root.join(tree.name);
        let on_disk = read_tree(&dir)?;
        for (path, contents) in tree.files {
            match on_disk.get(path) {
                None => drift.push(Drift::Missing(dir.join(path))),
                Some(existing) if existing != contents.as_bytes() => {
                    drift.push(Drift::Differs(dir.join(path)));
                }
                Some(_) => {}
            }
        }
        for path in on_disk.keys() {
            if !tree.files.contains_key(path) {
                drift.push(Drift::Extra(dir.join(path)));
            }
        }
    }
    drift.sort();
    Ok(drift)
}

/// Replaces one file outside `rendered/` (the editor schema): written beside it, then renamed.
pub fn write_file(path: &Path, contents: &str) -> io::Result<()> {
    let staging = path.with_file_name(format!(
        ".{}.staging",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("file")
    ));
    fs::write(&staging, contents)?;
    fs::rename(&staging, path).inspect_err(|_| {
        let _ = fs::remove_file(&staging);
    })
}

/// How a single file differs from `contents`, if it does.
pub fn check_file(path: &Path, contents: &str) -> io::Result<Option<Drift>> {
    match fs::read(path) {
        Ok(existing) if existing == contents.as_bytes() => Ok(None),
        Ok(_) => Ok(Some(Drift::Differs(path.to_path_buf()))),
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            Ok(Some(Drift::Missing(path.to_path_buf())))
        }
        Err(error) => Err(error),
    }
}

fn check_relative(tree: &Tree<'_>) -> io::Result<()> {
    let invalid = |what: &str| io::Error::new(io::ErrorKind::InvalidInput, what.to_owned());
    if tree.name.is_empty() || tree.name.contains(['/', '\\']) || tree.name.starts_with('.') {
        return Err(invalid(&format!(
            "`{}` is not a plain folder name",
            tree.name
        )));
    }
    for path in tree.files.keys() {
        let escapes = Path::new(path)
            .components()
            .any(|c| !matches!(c, std::path::Component::Normal(_)));
        if escapes {
            return Err(invalid(&format!(
                "`{path}` would be written outside rendered/{}/",
                tree.name
            )));
        }
    }
    Ok(())
}

fn stage(staging: &Path, tree: &Tree<'_>) -> io::Result<()> {
    if staging.exists() {
        fs::remove_dir_all(staging)?;
    }
    fs::create_dir_all(staging)?;
    for (path, contents) in tree.files {
        let file = staging.join(path);
        if let Some(parent) = file.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::write(&file, contents)?;
    }
    Ok(())
}

/// Moves the old tree aside, the staged tree in, and deletes the old one.
fn swap(staging: &Path, target: &Path) -> io::Result<()> {
    let previous = target.with_file_name(format!(
        ".{}.previous",
        target
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("tree")
    ));
    if previous.exists() {
        fs::remove_dir_all(&previous)?;
    }
    let had_previous = target.exists();
    if had_previous {
        fs::rename(target, &previous)?;
    }
    if let Err(error) = fs::rename(staging, target) {
        if had_previous {
            let _ = fs::rename(&previous, target);
        }
        return Err(error);
    }
    if had_previous {
        fs::remove_dir_all(&previous)?;
    }
    Ok(())
}

/// Every file under `dir`, keyed by its path relative to `dir` with `/` separators.
fn read_tree(dir: &Path) -> io::Result<BTreeMap<String, Vec<u8>>> {
    let mut files = BTreeMap::new();
    if dir.exists() {
        collect(dir, dir, &mut files)?;
    }
    Ok(files)
}

fn collect(base: &Path, dir: &Path, files: &mut BTreeMap<String, Vec<u8>>) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            collect(base, &path, files)?;
        } else {
            let relative = path
                .strip_prefix(base)
                .map_err(|e| io::Error::other(e.to_string()))?
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            files.insert(relative, fs::read(&path)?);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_root(test: &str) -> PathBuf {
        let root =
            std::env::temp_dir().join(format!("platform-writer-{test}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        root
    }

    fn files(entries: &[(&str, &str)]) -> BTreeMap<String, String> {
        entries
            .iter()
            .map(|(p, c)| ((*p).to_owned(), (*c).to_owned()))
            .collect()
    }

    #[test]
    fn write_replaces_the_tree_and_removes_stale_files() {
        let root = temp_root("replace");
        let first = files(&[("apps/a.yaml", "a"), ("apps/stale.yaml", "old")]);
        write(
            &root,
            &[Tree {
                name: "dev",
                files: &first,
            }],
        )
        .unwrap();
        fs::write(root.join("untouched.txt"), "keep").unwrap();

        let second = files(&[("apps/a.yaml", "a2"), ("bootstrap/root.yaml", "r")]);
        write(
            &root,
            &[Tree {
                name: "dev",
                files: &second,
            }],
        )
        .unwrap();

        assert_eq!(read_tree(&root.join("dev")).unwrap().len(), 2);
        assert_eq!(
            fs::read_to_string(root.join("dev/apps/a.yaml")).unwrap(),
            "a2"
        );
        assert!(!root.join("dev/apps/stale.yaml").exists());
        assert_eq!(
            fs::read_to_string(root.join("untouched.txt")).unwrap(),
            "keep"
        );
        assert!(
            check(
                &root,
                &[Tree {
                    name: "dev",
                    files: &second
                }]
            )
            .unwrap()
            .is_empty()
        );
        let _ = fs::remove_dir_all(&root);
    }

    #[test]
    fn check_reports_missing_extra_and_different_files() {
        let root = temp_root("check");
        let on_disk = files(&[("a.yaml", "a"), ("b.yaml", "b")]);
        write(
            &root,
            &[Tree {
                name: "dev",
                files: &on_disk,
            }],
        )
        .unwrap();
        let wanted = files(&[("a.yaml", "changed"), ("c.yaml", "c")]);
        let drift = check(
            &root,
            &[Tree {
                name: "dev",
                files: &wanted,
            }],
        )
        .unwrap();
        let dir = root.join("dev");
        assert_eq!(
            drift,
            vec![
                Drift::Missing(dir.join("c.yaml")),
                Drift::Extra(dir.join("b.yaml")),
                Drift::Differs(dir.join("a.yaml")),
            ]
        );
        let _ = fs::remove_dir_all(&root);
    }

    #[test]
    fn a_path_outside_the_tree_is_refused_before_anything_is_written() {
        let root = temp_root("escape");
        let good = files(&[("a.yaml", "a")]);
        write(
            &root,
            &[Tree {
                name: "dev",
                files: &good,
            }],
        )
        .unwrap();
        let bad = files(&[("../escaped.yaml", "x")]);
        let error = write(
            &root,
            &[
                Tree {
                    name: "dev",
                    files: &good,
                },
                Tree {
                    name: "prod",
                    files: &bad,
                },
            ],
        );
        assert!(error.is_err());
        assert!(!root.join("escaped.yaml").exists());
        assert!(!root.join("prod").exists());
        assert_eq!(fs::read_to_string(root.join("dev/a.yaml")).unwrap(), "a");
        let _ = fs::remove_dir_all(&root);
    }
}
