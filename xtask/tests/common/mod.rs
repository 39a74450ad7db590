//! What the xtask integration tests share: the checkout under test, scratch repositories and
//! snapshots of trees on disk.

#![allow(dead_code)] // each test binary uses a part

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The checkout under test: cargo sets `CARGO_MANIFEST_DIR` when it runs the test, so this is
/// the checkout `cargo test` was invoked in, not the one the binary was first built from.
pub fn repository() -> PathBuf {
    Path::new(&std::env::var_os("CARGO_MANIFEST_DIR").expect("run by cargo test"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// A fresh folder for one test, under cargo's scratch folder for tests (in the target dir,
/// not the often slow system temp folder).
pub fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// A repository with this checkout's environment files, its `schemas/` (linked: the charts
/// hydrating environments template) and nothing rendered: enough for every command (a root
/// is a folder with `Cargo.toml` and `environments/`). On a machine without Helm (never in
/// CI, which installs it) the copies do not hydrate their charts, so that what these tests
/// check of the commands is still checked.
pub fn repository_copy(root: &Path) {
    fs::create_dir_all(root.join("environments")).unwrap();
    fs::write(root.join("Cargo.toml"), "[workspace]\n").unwrap();
    std::os::unix::fs::symlink(repository().join("schemas"), root.join("schemas")).unwrap();
    let hydrate = helm_is_installed();
    for entry in fs::read_dir(repository().join("environments")).unwrap() {
        let path = entry.unwrap().path();
        let mut text = fs::read_to_string(&path).unwrap();
        if !hydrate {
            text = text.replace("hydrate: true", "hydrate: false");
        }
        fs::write(
            root.join("environments").join(path.file_name().unwrap()),
            text,
        )
        .unwrap();
    }
}

/// Whether the Helm the commands would run is there; in CI it must be.
pub fn helm_is_installed() -> bool {
    static FOUND: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *FOUND.get_or_init(|| match platform_helm::Helm::locate() {
        Ok(_) => true,
        Err(missing) if std::env::var_os("CI").is_none() => {
            eprintln!("{missing}; the scratch environments do not hydrate their charts");
            false
        }
        Err(missing) => panic!("CI installs Helm: {missing}"),
    })
}

/// The xtask binary, run on the checkout at `root`.
pub fn xtask_at(root: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("--root")
        .arg(root)
        .args(args)
        .output()
        .unwrap()
}

/// Every file below `dir` with its bytes.
pub fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    if !dir.exists() {
        return files;
    }
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        for entry in fs::read_dir(&current).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.insert(path.clone(), fs::read(&path).unwrap());
            }
        }
    }
    files
}

/// Runs git in `root` as a test user; panics when it fails.
pub fn git(root: &Path, args: &[&str]) {
    let status = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["-c", "user.name=test", "-c", "user.email=test@example.org"])
        .args(args)
        .status()
        .unwrap();
    assert!(status.success(), "git {args:?}");
}

/// A scratch repository whose HEAD commit holds this checkout's environment files.
pub fn committed_repository_copy(name: &str) -> PathBuf {
    let root = scratch(name);
    repository_copy(&root);
    git(&root, &["init", "-q"]);
    git(&root, &["add", "."]);
    git(&root, &["commit", "-q", "-m", "base"]);
    root
}
