//! The environment files of a Git revision, read from the repository's object store with
//! `git show`: no checkout, nothing written. `cost --base` and `diff --base` render them in
//! memory with the current generator.

use std::process::Command;

use platform::EnvironmentFile;
use platform_checkout::Checkout;

use crate::Failure;

/// The environment files of a Git revision, read from the repository's object store.
pub fn environment_files(
    checkout: &Checkout,
    revision: &str,
) -> Result<Vec<EnvironmentFile>, Failure> {
    let git = |args: &[&str]| -> Result<String, Failure> {
        let output = Command::new("git")
            .arg("-C")
            .arg(checkout.root())
            .args(args)
            .output()
            .map_err(|e| Failure::Io(format!("running git: {e}")))?;
        if !output.status.success() {
            return Err(Failure::Usage(format!(
                "git {} failed: {}; expected a revision of this repository, e.g. HEAD or main",
                args.join(" "),
                String::from_utf8_lossy(&output.stderr).trim()
            )));
        }
        String::from_utf8(output.stdout).map_err(|e| Failure::Io(format!("git output: {e}")))
    };
    let listing = git(&["ls-tree", "--name-only", revision, "environments/"])?;
    let mut files = Vec::new();
    for path in listing.lines() {
        if !(path.ends_with(".yaml") || path.ends_with(".yml")) {
            continue;
        }
        let contents = git(&["show", &format!("{revision}:{path}")])?;
        files.push(EnvironmentFile {
            path: path.to_owned(),
            contents,
        });
    }
    Ok(files)
}
