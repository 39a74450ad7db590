//! `cargo xtask validate [--schemas DIR] [--format text|json] [PATH]`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use platform_checkout::{Checkout, SchemaFolder, TextTree, read_tree};
use std::sync::Arc;

use platform_validate::{Finding, Report, SchemaLedger, Schemas, vouched};

use crate::Failure;
use crate::progress::{Counts, Progress, thousands};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

/// What PATH is, and so how its files are keyed and which checks apply.
#[derive(Debug, PartialEq, Eq)]
enum Target {
    /// A folder of environment folders (`rendered/`): everything, invariants included.
    Rendered { root: PathBuf },
    /// An environment folder or something below it: the environment is read whole, as context
    /// for the invariants, and findings are reported for files under `prefix` only.
    Environment {
        root: PathBuf,
        env: String,
        prefix: String,
    },
    /// Anything else: every YAML document in it against its schema.
    Plain { root: PathBuf, single_file: bool },
}

/// An environment folder is one the generator wrote: it has the root Application.
fn is_environment(dir: &Path) -> bool {
    dir.join("bootstrap/root-app.yaml").is_file()
}

fn classify(path: &Path) -> Result<Target, String> {
    let path = path
        .canonicalize()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if path.is_dir() {
        let has_environments = std::fs::read_dir(&path)
            .map_err(|e| format!("reading {}: {e}", path.display()))?
            .filter_map(Result::ok)
            .any(|entry| is_environment(&entry.path()));
        if has_environments && !is_environment(&path) {
            return Ok(Target::Rendered { root: path });
        }
    }
    for environment in path.ancestors() {
        if !is_environment(environment) {
            continue;
        }
        let (Some(root), Some(env)) = (environment.parent(), environment.file_name()) else {
            break;
        };
        let env = env.to_string_lossy().into_owned();
        let below = path
            .strip_prefix(environment)
            .map(|p| {
                p.components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/")
            })
            .unwrap_or_default();
        let prefix = if below.is_empty() {
            format!("{env}/")
        } else if path.is_dir() {
            format!("{env}/{below}/")
        } else {
            format!("{env}/{below}")
        };
        return Ok(Target::Environment {
            root: root.to_path_buf(),
            env,
            prefix,
        });
    }
    let single_file = path.is_file();
    Ok(Target::Plain {
        root: path,
        single_file,
    })
}

/// The files of a target, keyed as the validator expects.
fn read(target: &Target) -> Result<TextTree, String> {
    let tree = |dir: &Path| read_tree(dir).map_err(|e| format!("reading {e}"));
    match target {
        Target::Rendered { root } => tree(root),
        Target::Environment { root, env, .. } => {
            let TextTree { files, not_text } = tree(&root.join(env))?;
            Ok(TextTree {
                files: files
                    .into_iter()
                    .map(|(path, text)| (format!("{env}/{path}"), text))
                    .collect(),
                not_text: not_text
                    .into_iter()
                    .map(|path| format!("{env}/{path}"))
                    .collect(),
            })
        }
        Target::Plain {
            root,
            single_file: true,
        } => {
            let name = root
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
            let bytes =
                std::fs::read(root).map_err(|e| format!("reading {}: {e}", root.display()))?;
            Ok(match String::from_utf8(bytes) {
                Ok(text) => TextTree {
                    files: BTreeMap::from([(name, text)]),
                    not_text: Vec::new(),
                },
                Err(_) => TextTree {
                    files: BTreeMap::new(),
                    not_text: vec![name],
                },
            })
        }
        Target::Plain { root, .. } => tree(root),
    }
}

/// A file that is not text cannot be a manifest: a finding, not the end of the run.
fn not_text_findings(tree: &TextTree, target: &Target) -> Vec<Finding> {
    tree.not_text
        .iter()
        .filter(|file| match target {
            Target::Environment { prefix, .. } => file.starts_with(prefix.as_str()),
            _ => true,
        })
        .map(|file| {
            Finding::new(
                file,
                "",
                "text",
                &serde_json::Value::Null,
                "not UTF-8 text, so no manifest; Kubernetes and Argo CD read YAML as UTF-8"
                    .to_owned(),
            )
        })
        .collect()
}

/// `checkout` is only needed for what defaults to it: the schema folder and the tree.
pub fn run(
    checkout: Result<Checkout, Failure>,
    schemas: Option<PathBuf>,
    format: Format,
    path: Option<PathBuf>,
) -> Result<ExitCode, Failure> {
    let schemas =
        schemas.or_else(|| std::env::var_os(platform_checkout::SCHEMAS_ENV).map(PathBuf::from));
    let (schemas, path) = match (schemas, path) {
        (Some(schemas), Some(path)) => (schemas, path),
        (schemas, path) => {
            let checkout = checkout?;
            (
                schemas.unwrap_or_else(|| checkout.schemas_dir(None)),
                path.unwrap_or_else(|| checkout.rendered_dir()),
            )
        }
    };
    let folder = SchemaFolder(schemas);
    if !folder.looks_complete() {
        return Err(Failure::Usage(format!(
            "no upstream schemas at {} (expected kubernetes/ and crds/ in it): pass --schemas DIR or set {} (see README, \"Validation\")",
            folder.0.display(),
            platform_checkout::SCHEMAS_ENV
        )));
    }
    let target = classify(&path).map_err(Failure::Usage)?;
    let counts = Counts::new();
    let status = Arc::clone(&counts);
    let progress = Progress::on_terminal(move || format!("validate: {}", status.step()));
    counts.set_step(format!("reading {}", path.display()));
    let tree = read(&target).map_err(Failure::Io)?;
    let files = &tree.files;
    counts.set_step(format!(
        "checking {} files: schemas, then invariants",
        thousands(files.len())
    ));
    let mut store = Schemas::new(&folder);
    let conventions = platform::conventions();
    let mut vouched = 0;
    let report = match &target {
        Target::Rendered { root } | Target::Environment { root, .. } => {
            let prefix = match &target {
                Target::Environment { prefix, .. } => prefix.as_str(),
                _ => "",
            };
            let checks = checks_fingerprint(&folder.0);
            let mut ledger = load_ledger(root, checks);
            let result = platform_validate::validate_vouched(
                files,
                Some(&mut store),
                &conventions,
                prefix,
                &mut ledger,
            );
            vouched = result.vouched;
            if checks.is_some() {
                keep_ledger(root, &target, files, ledger);
            }
            result.report
        }
        Target::Plain { .. } => platform_validate::validate_plain(files, &mut store),
    };
    drop(progress);
    let not_text = not_text_findings(&tree, &target);
    let report = Report::new(
        report.findings.into_iter().chain(not_text).collect(),
        report.objects,
    )
    .with_warnings(report.warnings);
    if report.objects == 0 && report.is_ok() {
        return Err(Failure::Usage(format!(
            "{} holds no Kubernetes object ({} file(s) read): nothing was validated; expected YAML documents with apiVersion and kind",
            path.display(),
            count_in(&target, files)
        )));
    }
    print(
        &report,
        format,
        count_in(&target, files),
        store.compiled(),
        vouched,
    );
    Ok(if report.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// How many of the files read belong to what was asked for (not the context around it).
fn count_in(target: &Target, files: &BTreeMap<String, String>) -> usize {
    match target {
        Target::Environment { prefix, .. } => files
            .keys()
            .filter(|f| f.starts_with(prefix.as_str()))
            .count(),
        _ => files.len(),
    }
}

fn print(report: &Report, format: Format, files: usize, compiled: usize, vouched: usize) {
    match format {
        Format::Json => println!("{}", report.to_json()),
        Format::Text => {
            for finding in &report.findings {
                println!("{finding}");
            }
            for warning in &report.warnings {
                println!("warning: {warning}");
            }
            let mut summary = format!(
                "{} object(s) in {files} file(s), {compiled} schema(s); {} finding(s), {} warning(s)",
                report.objects,
                report.findings.len(),
                report.warnings.len()
            );
            if vouched > 0 {
                summary.push_str(&format!(
                    "; {vouched} object(s) unchanged since they last passed their schemas, not checked against them again"
                ));
            }
            if report.is_ok() {
                println!("{summary}");
            } else {
                eprintln!("{summary}");
            }
        }
    }
}

/// What a schema check reads besides the file: this validator (by size and time, which every
/// build changes) and the schema folder (every file's name, size and time). `None` when one
/// cannot be read: then no ledger is trusted or written.
fn checks_fingerprint(schemas: &Path) -> Option<u64> {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::hash::DefaultHasher::new();
    crate::render::stamp_generator(&mut hasher)?;
    std::fs::canonicalize(schemas).ok()?.hash(&mut hasher);
    crate::hydrating::stamp_tree(schemas, &mut hasher).ok()?;
    Some(hasher.finish())
}

/// The schema ledger of the rendered tree at `root`, if one was recorded for these checks;
/// else an empty one, which vouches for nothing.
fn load_ledger(root: &Path, checks: Option<u64>) -> SchemaLedger {
    let Some(checks) = checks else {
        return SchemaLedger::default();
    };
    std::fs::read_to_string(root.join(vouched::FILE))
        .ok()
        .and_then(|text| SchemaLedger::parse(&text, checks))
        .unwrap_or_else(|| SchemaLedger::new(checks))
}

/// Writes the ledger back, without the files that are gone. A ledger that cannot be written
/// only means the next validate checks every schema again: it is not an error.
fn keep_ledger(
    root: &Path,
    target: &Target,
    files: &BTreeMap<String, String>,
    mut ledger: SchemaLedger,
) {
    let read_whole = match target {
        Target::Environment { env, .. } => format!("{env}/"),
        _ => String::new(),
    };
    ledger.retain(|path| files.contains_key(path) || !path.starts_with(&read_whole));
    let _ = platform_writer::write_file(&root.join(vouched::FILE), &ledger.to_text());
}
