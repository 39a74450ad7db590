//! Where the repository is.

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use platform_environments::EnvironmentFile;

/// The root of a checkout: the folder with the workspace's `Cargo.toml` and `environments/`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkout {
    root: PathBuf,
}

/// No checkout around the place the command was asked to act on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocateError {
    searched: Vec<PathBuf>,
}

impl fmt::Display for LocateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let searched: Vec<String> = self
            .searched
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        write!(
            f,
            "no repository found (a folder with Cargo.toml and environments/) at or above {}; run from inside the checkout or pass --root DIR",
            searched.join(" or ")
        )
    }
}

impl std::error::Error for LocateError {}

impl Checkout {
    /// The checkout at exactly `root`, as given with `--root`.
    pub fn at(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The checkout the running command belongs to, in this order:
    /// 1. `CARGO_MANIFEST_DIR` *at run time*: cargo sets it to the package it runs (`cargo
    ///    xtask`, `cargo test`), so it names the checkout cargo was invoked in, whichever
    ///    checkout the shared binary was first built from;
    /// 2. the working directory, for a binary run by hand.
    ///
    /// From each, the nearest folder at or above it that is a repository root.
    pub fn locate() -> Result<Self, LocateError> {
        let starts: Vec<PathBuf> = std::env::var_os("CARGO_MANIFEST_DIR")
            .map(PathBuf::from)
            .into_iter()
            .chain(std::env::current_dir().ok())
            .collect();
        Self::locate_from(&starts)
    }

    /// The nearest repository root at or above the first start that has one.
    pub fn locate_from(starts: &[PathBuf]) -> Result<Self, LocateError> {
        starts
            .iter()
            .find_map(|start| start.ancestors().find(|dir| is_root(dir)))
            .map(Self::at)
            .ok_or_else(|| LocateError {
                searched: starts.to_vec(),
            })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn environments_dir(&self) -> PathBuf {
        self.root.join("environments")
    }

    pub fn rendered_dir(&self) -> PathBuf {
        self.root.join("rendered")
    }

    /// The schema folder: `--schemas`, else `$PLATFORM_SCHEMAS`, else the one the repository
    /// carries.
    pub fn schemas_dir(&self, explicit: Option<PathBuf>) -> PathBuf {
        explicit
            .or_else(|| std::env::var_os(crate::SCHEMAS_ENV).map(PathBuf::from))
            .unwrap_or_else(|| self.root.join("schemas"))
    }

    /// A path below the root as the user should read it: relative when it is inside.
    pub fn display<'a>(&self, path: &'a Path) -> std::path::Display<'a> {
        path.strip_prefix(&self.root).unwrap_or(path).display()
    }

    /// Every environment file (`environments/*.yaml` and `*.yml`), sorted by name so that
    /// output never depends on the order the disk lists them in.
    pub fn environment_files(&self) -> Result<Vec<EnvironmentFile>, String> {
        let dir = self.environments_dir();
        let unreadable = |e: std::io::Error| format!("reading {}: {e}", dir.display());
        let mut files = Vec::new();
        for entry in fs::read_dir(&dir).map_err(unreadable)? {
            let path = entry.map_err(unreadable)?.path();
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            if !is_environment_file(name) {
                continue;
            }
            let contents = fs::read_to_string(&path)
                .map_err(|e| format!("reading {}: {e}", path.display()))?;
            files.push(EnvironmentFile {
                path: format!("environments/{name}"),
                contents,
            });
        }
        files.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(files)
    }
}

/// An environment file by name; editors' backups and hidden files are not.
pub fn is_environment_file(name: &str) -> bool {
    !name.starts_with('.') && (name.ends_with(".yaml") || name.ends_with(".yml"))
}

fn is_root(dir: &Path) -> bool {
    dir.join("Cargo.toml").is_file() && dir.join("environments").is_dir()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nearest_root_above_the_start_wins_and_a_missing_one_is_named() {
        let scratch = std::env::temp_dir().join(format!("checkout-locate-{}", std::process::id()));
        let _ = fs::remove_dir_all(&scratch);
        let inner = scratch.join("outer/inner");
        fs::create_dir_all(inner.join("environments")).unwrap();
        fs::create_dir_all(inner.join("xtask/src")).unwrap();
        fs::create_dir_all(scratch.join("outer/environments")).unwrap();
        fs::write(inner.join("Cargo.toml"), "[workspace]\n").unwrap();
        fs::write(scratch.join("outer/Cargo.toml"), "[workspace]\n").unwrap();

        let found = Checkout::locate_from(&[inner.join("xtask/src")]).unwrap();
        assert_eq!(found.root(), inner);
        let nowhere = scratch.join("elsewhere");
        let error = Checkout::locate_from(std::slice::from_ref(&nowhere)).unwrap_err();
        assert!(error.to_string().contains(&nowhere.display().to_string()));
        let _ = fs::remove_dir_all(&scratch);
    }
}
