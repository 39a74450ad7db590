//! `cargo xtask schemas import FILE...`: upstream CRDs and chart files into schemas/.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use platform_checkout::Checkout;
use platform_validate::import::{SchemaFile, crd_schema_files, kubernetes_schema_file};

use crate::Failure;

/// The files of a chart that validation reads, by their upstream names.
const CHART_FILES: &[&str] = &["Chart.yaml", "values.yaml", "values.schema.json"];

pub fn run(
    checkout: &Checkout,
    into: Option<PathBuf>,
    inputs: &[PathBuf],
) -> Result<ExitCode, Failure> {
    let folder = into.unwrap_or_else(|| checkout.root().join("schemas"));
    let mut planned: BTreeMap<String, String> = BTreeMap::new();
    let mut errors = Vec::new();
    for input in inputs {
        match convert(input) {
            Ok(files) => {
                for (path, text) in files {
                    if let Some(previous) = planned.insert(path.clone(), text.clone())
                        && previous != text
                    {
                        errors.push(format!(
                            "{}: {path} is also produced, differently, by an earlier file",
                            input.display()
                        ));
                    }
                }
            }
            Err(message) => errors.push(format!("{}: {message}", input.display())),
        }
    }
    if !errors.is_empty() {
        for error in &errors {
            eprintln!("error: {error}");
        }
        return Err(Failure::Usage(format!(
            "{} input(s) not imported; nothing was written",
            errors.len()
        )));
    }
    for (path, text) in &planned {
        let target = folder.join(path);
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent)
                .map_err(|e| Failure::Io(format!("creating {}: {e}", parent.display())))?;
        }
        let written = platform_writer::write_file(&target, text)
            .map_err(|e| Failure::Io(format!("writing {}: {e}", target.display())))?;
        let state = if written { "written" } else { "unchanged" };
        println!("{}: {state}", checkout.display(&target));
    }
    println!(
        "say where each file came from (repository, path, tag, commit, license) in {}",
        checkout.display(&folder.join("README.md"))
    );
    Ok(ExitCode::SUCCESS)
}

/// One input as schema-folder files.
fn convert(input: &Path) -> Result<Vec<SchemaFile>, String> {
    let text = fs::read_to_string(input).map_err(|e| e.to_string())?;
    let file_name = input
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    if CHART_FILES.contains(&file_name) {
        let chart = chart_name(input)?;
        return Ok(vec![(format!("charts/{chart}/{file_name}"), text)]);
    }
    if file_name.ends_with(".json") && input.with_file_name("_definitions.json").is_file() {
        return kubernetes_schema(input, file_name, &text).map(|file| vec![file]);
    }
    if !(file_name.ends_with(".yaml") || file_name.ends_with(".yml")) {
        return Err(format!(
            "not an input this imports; expected a CRD manifest (.yaml), a kind's schema from kubernetes-validate's <version>-local-strict/ folder, or one of {}",
            CHART_FILES.join(", ")
        ));
    }
    crd_schema_files(&text)
}

/// A kind's schema from kubernetes-validate's `v<version>-local-strict/` folder, whose
/// `_definitions.json` it refers to, as `kubernetes/v<version>-standalone-strict/<file>`.
fn kubernetes_schema(input: &Path, file_name: &str, text: &str) -> Result<SchemaFile, String> {
    let folder = input
        .parent()
        .and_then(Path::file_name)
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_suffix("-local-strict"))
        .ok_or("a Kubernetes schema is read from kubernetes-validate's v<version>-local-strict/ folder")?;
    let definitions_path = input.with_file_name("_definitions.json");
    let definitions = fs::read_to_string(&definitions_path)
        .map_err(|e| format!("{}: {e}", definitions_path.display()))?;
    let standalone = kubernetes_schema_file(text, &definitions)?;
    Ok((
        format!("kubernetes/{folder}-standalone-strict/{file_name}"),
        standalone,
    ))
}

/// A chart's name, from the Chart.yaml beside its files: charts are laid out by name.
fn chart_name(input: &Path) -> Result<String, String> {
    let chart_yaml = input.with_file_name("Chart.yaml");
    let text = fs::read_to_string(&chart_yaml).map_err(|e| {
        format!(
            "a chart file is filed under the chart's name, read from {}: {e}",
            chart_yaml.display()
        )
    })?;
    let chart: serde_json::Value = serde_yaml::from_str(&text)
        .map_err(|e| format!("{} is not YAML: {e}", chart_yaml.display()))?;
    chart["name"]
        .as_str()
        .filter(|n| !n.is_empty() && !n.contains(['/', '\\', '.']))
        .map(str::to_owned)
        .ok_or_else(|| format!("{} has no plain `name`", chart_yaml.display()))
}
