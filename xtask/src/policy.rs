//! `cargo xtask policy test PATH...`: runs `kyverno test` suites with the offline evaluator.
//!
//! Finds every `kyverno-test.yaml` under the given paths (or takes the files given), reads the
//! policies, resources and variables each names (relative to it), scores the cases as the Kyverno
//! CLI does and prints a table per test and a total. Exit 1 when agreement is below
//! `--min-agreement` (100% unless given).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use kyverno_engine::suite::{self, Case, TestFile, Values};

use crate::Failure;
use crate::table::Table;

const TEST_FILE_NAMES: [&str; 2] = ["kyverno-test.yaml", "kyverno-test.yml"];

pub fn test(
    paths: &[PathBuf],
    min_agreement: f64,
    only_disagreements: bool,
) -> Result<ExitCode, Failure> {
    let mut files = Vec::new();
    for path in paths {
        collect(path, &mut files)?;
    }
    files.sort();
    if files.is_empty() {
        return Err(Failure::Usage(format!(
            "no kyverno-test.yaml found under {}",
            paths
                .iter()
                .map(|path| path.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let mut total = 0usize;
    let mut agreeing = 0usize;
    let mut broken = Vec::new();
    let mut out = String::new();
    for file in &files {
        match run_file(file) {
            Ok((name, cases)) => {
                total += cases.len();
                agreeing += cases.iter().filter(|case| case.agrees()).count();
                let shown: Vec<&Case> = cases
                    .iter()
                    .filter(|case| !only_disagreements || !case.agrees())
                    .collect();
                if !shown.is_empty() || !only_disagreements {
                    let _ = writeln!(out, "\ntest {name} ({})", file.display());
                    out.push_str(&table(&shown));
                }
            }
            Err(message) => broken.push(format!("{}: {message}", file.display())),
        }
    }
    print!("{out}");
    for message in &broken {
        eprintln!("error: {message}");
    }
    let percent = if total == 0 {
        0.0
    } else {
        100.0 * agreeing as f64 / total as f64
    };
    println!(
        "\n{agreeing}/{total} cases agree ({percent:.1}%) in {} test(s){}",
        files.len(),
        if broken.is_empty() {
            String::new()
        } else {
            format!(", {} test(s) could not run", broken.len())
        }
    );
    if percent + 1e-9 < min_agreement || (!broken.is_empty() && min_agreement >= 100.0) {
        eprintln!("agreement {percent:.1}% is below the required {min_agreement}%");
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

fn collect(path: &Path, files: &mut Vec<PathBuf>) -> Result<(), Failure> {
    let metadata = std::fs::metadata(path)
        .map_err(|error| Failure::Usage(format!("{}: {error}", path.display())))?;
    if metadata.is_file() {
        files.push(path.to_path_buf());
        return Ok(());
    }
    let entries = std::fs::read_dir(path)
        .map_err(|error| Failure::Io(format!("{}: {error}", path.display())))?;
    for entry in entries {
        let entry = entry.map_err(|error| Failure::Io(format!("{}: {error}", path.display())))?;
        let child = entry.path();
        if child.is_dir() {
            collect(&child, files)?;
        } else if child
            .file_name()
            .and_then(|name| name.to_str())
            .is_some_and(|name| TEST_FILE_NAMES.contains(&name))
        {
            files.push(child);
        }
    }
    Ok(())
}

fn read_documents(base: &Path, relative: &str) -> Result<Vec<serde_json::Value>, String> {
    let path = base.join(relative);
    let text =
        std::fs::read_to_string(&path).map_err(|error| format!("{}: {error}", path.display()))?;
    suite::documents(&text).map_err(|error| format!("{}: {error}", path.display()))
}

fn run_file(file: &Path) -> Result<(String, Vec<Case>), String> {
    let text = std::fs::read_to_string(file).map_err(|error| error.to_string())?;
    let test: TestFile =
        serde_yaml::from_str(&text).map_err(|error| format!("not a kyverno test: {error}"))?;
    let base = file.parent().unwrap_or(Path::new("."));
    let mut policies = Vec::new();
    for policy in &test.policies {
        policies.extend(read_documents(base, policy)?);
    }
    let mut resources = Vec::new();
    for resource in &test.resources {
        resources.extend(read_documents(base, resource)?);
    }
    let values = match &test.variables {
        None => Values::default(),
        Some(relative) => {
            let documents = read_documents(base, relative)?;
            match documents.into_iter().next() {
                Some(document) => serde_json::from_value(document)
                    .map_err(|error| format!("{relative}: {error}"))?,
                None => Values::default(),
            }
        }
    };
    let cases = suite::run(&test, &policies, &resources, &values)?;
    Ok((test.name().to_owned(), cases))
}

fn table(cases: &[&Case]) -> String {
    let mut table = Table::new(&["POLICY", "RULE", "RESOURCE", "KIND", "EXPECTED", "GOT", ""]);
    for case in cases {
        table.row(vec![
            case.policy.clone(),
            case.rule.clone(),
            case.resource.clone(),
            case.kind.clone(),
            case.expected.clone(),
            case.got.clone(),
            if case.agrees() {
                "ok".to_owned()
            } else {
                format!("MISMATCH {}", case.message)
            },
        ]);
    }
    table.text()
}
