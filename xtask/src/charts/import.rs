//! `cargo xtask charts import DIR`: a chart folder, as `helm pull --untar` or the upstream
//! repository at the release tag has it, into `schemas/charts/<name>/`.
//!
//! Kept: what `helm template` reads. The chart's `Chart.yaml`, `Chart.lock`, values, values
//! schema, `.helmignore`, licence, `templates/`, `crds/` and any folder templates may read
//! files from; not its README, docs, CI values or unit tests. A subchart some environment
//! enables is kept the same way; one that every environment leaves off is kept as a
//! `Chart.yaml` naming it, which is all Helm reads of a disabled dependency (it checks the
//! dependency is present by name, then drops it). With Helm at hand, every environment's
//! Applications of the chart are templated from the given folder and from what would be
//! kept, and must give the same output.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use platform_checkout::Checkout;
use platform_helm::{Capabilities, Helm, HelmApplication};

use crate::Failure;

/// Files at a chart's root that `helm template` reads.
const ROOT_FILES: &[&str] = &[
    "Chart.yaml",
    "Chart.lock",
    "values.yaml",
    "values.schema.json",
    ".helmignore",
];
/// Folders at a chart's root that hold tests, CI and docs, never read by a template.
const NOT_READ: &[&str] = &[".github", "ci", "test", "tests", "unittests", "docs"];

#[derive(Debug)]
pub struct Options {
    pub dir: PathBuf,
    /// Set `version` and `appVersion` of Chart.yaml, as `helm package --version V
    /// --app-version V` does for a chart whose repository carries a placeholder.
    pub version: Option<String>,
    /// Subcharts to keep as a Chart.yaml naming them although an environment enables them:
    /// a dependency whose release is nowhere to be had, with the reason.
    pub stand_ins: Vec<String>,
}

pub fn run(checkout: &Checkout, options: &Options) -> Result<ExitCode, Failure> {
    let usage = |message: String| Failure::Usage(format!("{}: {message}", options.dir.display()));
    let chart_yaml = read(&options.dir.join("Chart.yaml")).map_err(usage)?;
    let chart_yaml = match &options.version {
        Some(version) => stamp_version(&chart_yaml, version, true),
        None => chart_yaml,
    };
    let meta: serde_json::Value = serde_yaml::from_str(&chart_yaml)
        .map_err(|e| usage(format!("Chart.yaml is not YAML: {e}")))?;
    let name = meta["name"].as_str().unwrap_or_default().to_owned();
    let version = scalar(&meta["version"]);
    let pinned = platform::catalog::CHARTS
        .iter()
        .find(|chart| chart.name == name)
        .ok_or_else(|| {
            usage(format!(
                "chart {name:?} is none the platform installs; expected one of {}",
                platform::catalog::CHARTS
                    .iter()
                    .map(|c| c.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?;
    if version != pinned.version {
        return Err(usage(format!(
            "Chart.yaml is {name} {version}, but the platform pins {} (crates' HelmChart `version`): bump the pin first, or import the pinned release{}",
            pinned.version,
            if version == "v0.0.0" || version == "0.0.0" {
                " (a placeholder version: give the release's with --version)"
            } else {
                ""
            }
        )));
    }
    let applications: Vec<HelmApplication> = super::helm_applications(checkout, None)?
        .into_iter()
        .filter(|app| app.chart == name)
        .collect();
    let mut kept = BTreeMap::new();
    let mut full = BTreeMap::new();
    collect(&options.dir, "", &mut kept, true).map_err(usage)?;
    collect(&options.dir, "", &mut full, false).map_err(usage)?;
    kept.insert("Chart.yaml".to_owned(), chart_yaml.clone());
    full.insert("Chart.yaml".to_owned(), chart_yaml);
    for subchart in subcharts(&options.dir, &applications).map_err(usage)? {
        let folder = options.dir.join("charts").join(&subchart.name);
        let prefix = format!("charts/{}", subchart.name);
        let stand_in = options.stand_ins.contains(&subchart.name);
        if subchart.enabled && !stand_in {
            let found = read(&folder.join("Chart.yaml")).map_err(|e| {
                usage(format!(
                    "subchart {} {} is enabled ({}) but not in charts/: {e}; `helm dependency build` fetches it",
                    subchart.name,
                    subchart.version,
                    subchart.condition.as_deref().unwrap_or("no condition")
                ))
            })?;
            let found: serde_json::Value = serde_yaml::from_str(&found)
                .map_err(|e| usage(format!("{prefix}/Chart.yaml: {e}")))?;
            if scalar(&found["version"]) != subchart.version {
                return Err(usage(format!(
                    "{prefix}/Chart.yaml is version {}, but Chart.lock pins {}",
                    scalar(&found["version"]),
                    subchart.version
                )));
            }
            if fs::read_dir(folder.join("charts")).is_ok_and(|mut d| d.next().is_some()) {
                return Err(usage(format!(
                    "{prefix} has subcharts of its own, which this does not import"
                )));
            }
            collect(&folder, &prefix, &mut kept, true).map_err(usage)?;
            collect(&folder, &prefix, &mut full, false).map_err(usage)?;
        } else {
            let reason = if stand_in {
                "an environment enables it, but its release is nowhere to be had (see schemas/README.md)"
            } else {
                "every environment leaves it off"
            };
            let text = format!(
                "# Written by `cargo xtask charts import`, not upstream: {reason}.\n# Helm reads only that the dependency is here, by name.\napiVersion: v2\nname: {}\nversion: {}\n",
                subchart.name, subchart.version
            );
            kept.insert(format!("{prefix}/Chart.yaml"), text.clone());
            if !folder.join("Chart.yaml").is_file() {
                full.insert(format!("{prefix}/Chart.yaml"), text);
            } else {
                collect(&folder, &prefix, &mut full, false).map_err(usage)?;
            }
        }
    }
    verify(checkout, &name, &applications, &full, &kept)?;
    let root = checkout.schemas_dir(None).join("charts");
    let outcome = platform_writer::mirror(&root.join(&name), &kept)
        .map_err(|e| Failure::Io(e.to_string()))?;
    let bytes: usize = kept.values().map(String::len).sum();
    println!(
        "{}: {} files, {} KiB ({} written, {} removed, {} unchanged)",
        checkout.display(&root.join(&name)),
        kept.len(),
        bytes.div_ceil(1024),
        outcome.written.len(),
        outcome.removed.len(),
        outcome.unchanged
    );
    println!(
        "say where it came from (repository, tag, commit, license) in {}",
        checkout.display(&checkout.schemas_dir(None).join("README.md"))
    );
    Ok(ExitCode::SUCCESS)
}

/// The chart's dependencies, each enabled if any environment's Application turns it on.
fn subcharts(
    dir: &Path,
    applications: &[HelmApplication],
) -> Result<Vec<platform_helm::Subchart>, String> {
    let mut merged = platform_helm::subcharts(dir, &serde_json::Value::Null)?;
    for subchart in &mut merged {
        subchart.enabled = false;
    }
    for app in applications {
        for (merged, found) in merged
            .iter_mut()
            .zip(platform_helm::subcharts(dir, &app.values)?)
        {
            merged.enabled |= found.enabled;
        }
    }
    Ok(merged)
}

/// With Helm at hand: every Application templates the same from the given folder as from
/// what is kept. Both are staged under target/ to be templated.
fn verify(
    checkout: &Checkout,
    name: &str,
    applications: &[HelmApplication],
    full: &BTreeMap<String, String>,
    kept: &BTreeMap<String, String>,
) -> Result<(), Failure> {
    let helm = match Helm::locate() {
        Ok(helm) => helm,
        Err(missing) => {
            eprintln!("warning: not checked that what is kept templates the same: {missing}");
            return Ok(());
        }
    };
    let staging = checkout.root().join("target/charts-import");
    for (folder, files) in [("full", full), ("kept", kept)] {
        platform_writer::mirror(&staging.join(folder).join(name), files)
            .map_err(|e| Failure::Io(e.to_string()))?;
    }
    let capabilities =
        Capabilities::of_platform(&checkout.schemas_dir(None)).map_err(Failure::Io)?;
    for app in applications {
        let template = |folder: &str| {
            helm.template(app, &staging.join(folder).join(name), &capabilities)
                .map(|t| t.to_yaml())
                .map_err(|e| Failure::Usage(e.to_string()))
        };
        if template("full")? != template("kept")? {
            return Err(Failure::Usage(format!(
                "{}: templates differently from what would be kept than from the chart as given; keep what the templates read",
                app.id()
            )));
        }
        println!("{}: templates the same from what is kept", app.id());
    }
    Ok(())
}

/// The files of a chart folder below `prefix`; with `trim`, only what [`ROOT_FILES`] and the
/// folders outside [`NOT_READ`] hold. `charts/` is left to the caller (a disabled
/// subchart's own subcharts are never read: Helm drops it before it would look).
fn collect(
    dir: &Path,
    prefix: &str,
    into: &mut BTreeMap<String, String>,
    trim: bool,
) -> Result<(), String> {
    for (path, file_name, at) in entries(dir, prefix)? {
        if path.is_dir() {
            if file_name == "charts" || (trim && NOT_READ.contains(&file_name.as_str())) {
                continue;
            }
            collect_all(&path, &at, into)?;
        } else if !trim
            || ROOT_FILES.contains(&file_name.as_str())
            || file_name.starts_with("LICENSE")
            || file_name.starts_with("NOTICE")
        {
            into.insert(at, read(&path)?);
        }
    }
    Ok(())
}

/// The entries of `dir` in name order: each path, its file name, and its path below the
/// chart (`<prefix>/<name>`, or the bare name at the chart's root).
fn entries(dir: &Path, prefix: &str) -> Result<Vec<(std::path::PathBuf, String, String)>, String> {
    let mut paths: Vec<_> = fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    paths.sort();
    Ok(paths
        .into_iter()
        .map(|path| {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_owned();
            let at = if prefix.is_empty() {
                name.clone()
            } else {
                format!("{prefix}/{name}")
            };
            (path, name, at)
        })
        .collect())
}

/// Every file below `dir`, as text.
fn collect_all(
    dir: &Path,
    prefix: &str,
    into: &mut BTreeMap<String, String>,
) -> Result<(), String> {
    for (path, _, at) in entries(dir, prefix)? {
        if path.is_dir() {
            collect_all(&path, &at, into)?;
        } else {
            into.insert(at, read(&path)?);
        }
    }
    Ok(())
}

fn read(path: &Path) -> Result<String, String> {
    let bytes = fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    String::from_utf8(bytes).map_err(|_| {
        format!(
            "{} is not text; a packed subchart (.tgz) must be unpacked into charts/<name>/, which keeps it reviewable",
            path.display()
        )
    })
}

/// Chart.yaml with its top-level `version` (and `appVersion`) set, its other lines as they
/// were.
fn stamp_version(chart_yaml: &str, version: &str, app_version: bool) -> String {
    chart_yaml
        .lines()
        .map(|line| {
            if line.starts_with("version:") {
                format!("version: {version}")
            } else if app_version && line.starts_with("appVersion:") {
                format!("appVersion: {version}")
            } else {
                line.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

fn scalar(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_placeholder_version_is_stamped_as_helm_package_does() {
        let stamped = stamp_version(
            "name: cert-manager\n# set by the release tool\nversion: v0.0.0\nappVersion: v0.0.0\n",
            "v1.21.1",
            true,
        );
        assert_eq!(
            stamped,
            "name: cert-manager\n# set by the release tool\nversion: v1.21.1\nappVersion: v1.21.1\n"
        );
    }
}
