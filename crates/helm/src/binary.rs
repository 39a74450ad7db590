//! Finding the Helm binary and knowing its version.

use std::fmt;
use std::path::PathBuf;
use std::process::Command;

/// The oldest Helm whose `template` takes every argument Argo CD passes and reads values
/// from standard input as `--values -`.
pub const MIN_VERSION: (u64, u64) = (3, 14);

/// A Helm binary that answered `helm version`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Helm {
    pub program: PathBuf,
    /// As Helm prints it: `v4.3.1`.
    pub version: String,
}

/// Why no usable Helm was found; its `Display` is the one line a person needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HelmMissing {
    pub reason: String,
}

impl fmt::Display for HelmMissing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: install Helm >= {}.{} (CI uses v4.3.1; README.md, \"Helm\", says how) and put it on PATH or set HELM=/path/to/helm",
            self.reason, MIN_VERSION.0, MIN_VERSION.1
        )
    }
}

impl std::error::Error for HelmMissing {}

impl Helm {
    /// `$HELM` if set, else `helm` on `PATH`, if it runs and is recent enough.
    pub fn locate() -> Result<Self, HelmMissing> {
        let program = std::env::var_os("HELM")
            .filter(|p| !p.is_empty())
            .map_or_else(|| PathBuf::from("helm"), PathBuf::from);
        let output = Command::new(&program)
            .args(["version", "--template", "{{.Version}}"])
            .output()
            .map_err(|e| HelmMissing {
                reason: format!("cannot run {}: {e}", program.display()),
            })?;
        let version = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        if !output.status.success() {
            return Err(HelmMissing {
                reason: format!(
                    "{} version failed: {}",
                    program.display(),
                    String::from_utf8_lossy(&output.stderr).trim()
                ),
            });
        }
        match parse_version(&version) {
            Some(found) if found >= MIN_VERSION => Ok(Self { program, version }),
            _ => Err(HelmMissing {
                reason: format!("{} is Helm {version:?}", program.display()),
            }),
        }
    }
}

/// Major and minor of `v3.14.2`.
fn parse_version(text: &str) -> Option<(u64, u64)> {
    let mut parts = text
        .strip_prefix('v')
        .unwrap_or(text)
        .split(['.', '-', '+']);
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_by_major_then_minor() {
        assert_eq!(parse_version("v4.3.1"), Some((4, 3)));
        assert_eq!(parse_version("v3.14.0-rc.1"), Some((3, 14)));
        assert!(parse_version("v3.9.4").unwrap() < MIN_VERSION);
        assert!(parse_version("v4.0.0").unwrap() > MIN_VERSION);
        assert_eq!(parse_version("garbage"), None);
    }

    #[test]
    fn the_missing_line_says_how_to_install() {
        let line = HelmMissing {
            reason: "cannot run helm: No such file or directory".into(),
        }
        .to_string();
        assert!(
            line.contains("HELM=/path/to/helm") && line.contains(">= 3.14"),
            "{line}"
        );
        assert!(!line.contains('\n'));
    }
}
