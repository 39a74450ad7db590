//! `cargo xtask`: the command line of the generator.
//!
//! Exit codes: 0 success; 1 `--check` found a difference; 2 bad input (an environment file
//! that does not parse or check); 3 an I/O error.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use platform::{Diagnostic, EnvironmentFile, RenderedEnvironment};
use platform_writer::Tree;

#[derive(Debug, Parser)]
#[command(
    name = "cargo xtask",
    about = "Render and check the platform's Argo CD manifests"
)]
struct Cli {
    /// Repository root to work in; defaults to the workspace this xtask was built from.
    #[arg(long, global = true, value_name = "DIR", hide = true)]
    root: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Render environments/<env>.yaml into rendered/<env>/ for every environment.
    Render {
        /// Render only this environment.
        #[arg(long, value_name = "NAME")]
        env: Option<String>,
        /// Write nothing; exit 1 listing every file that differs, is missing or is extra
        /// (environments/schema.json included).
        #[arg(long)]
        check: bool,
    },
    /// Write environments/schema.json, the editor schema of environment files.
    Schema {
        /// Write nothing; exit 1 if the schema is out of date.
        #[arg(long)]
        check: bool,
    },
}

/// The editor schema, relative to the repository root.
const SCHEMA_FILE: &str = "environments/schema.json";

enum Failure {
    Input(Vec<Diagnostic>),
    Io(String),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let root = cli.root.unwrap_or_else(workspace_root);
    let result = match cli.command {
        Command::Render { env, check } => render(&root, env.as_deref(), check),
        Command::Schema { check } => schema(&root, check),
    };
    match result {
        Ok(code) => code,
        Err(Failure::Input(diagnostics)) => {
            for diagnostic in &diagnostics {
                eprintln!("error: {diagnostic}");
            }
            eprintln!(
                "{} error{} found; rendered/ was not changed",
                diagnostics.len(),
                if diagnostics.len() == 1 { "" } else { "s" }
            );
            ExitCode::from(2)
        }
        Err(Failure::Io(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(3)
        }
    }
}

/// The repository root: xtask lives one folder below it.
fn workspace_root() -> PathBuf {
    let manifest_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .map_or(manifest_dir.clone(), Path::to_path_buf)
}

fn render(root: &Path, only: Option<&str>, check: bool) -> Result<ExitCode, Failure> {
    let files = read_environment_files(root)?;
    let selected: Vec<EnvironmentFile> = match only {
        None => files,
        Some(name) => {
            let known: Vec<&str> = files.iter().map(EnvironmentFile::name).collect();
            let Some(file) = files.iter().find(|f| f.name() == name) else {
                return Err(Failure::Input(vec![Diagnostic {
                    file: "environments/".to_owned(),
                    location: None,
                    path: None,
                    message: format!(
                        "no environment `{name}`; expected one of: {}",
                        known.join(", ")
                    ),
                }]));
            };
            vec![file.clone()]
        }
    };

    let loaded = platform::load(&selected).map_err(Failure::Input)?;
    let mut rendered = Vec::new();
    let mut diagnostics = Vec::new();
    for environment in &loaded {
        match platform::render(environment) {
            Ok(tree) => rendered.push(tree),
            Err(mut errors) => diagnostics.append(&mut errors),
        }
    }
    if !diagnostics.is_empty() {
        return Err(Failure::Input(diagnostics));
    }

    let output = root.join("rendered");
    let trees: Vec<Tree<'_>> = rendered.iter().map(tree).collect();
    if check {
        let mut drift = platform_writer::check(&output, &trees)
            .map_err(|e| Failure::Io(format!("reading {}: {e}", output.display())))?;
        drift.extend(schema_drift(root)?);
        if drift.is_empty() {
            println!(
                "rendered/ and {SCHEMA_FILE} are current ({} environment(s))",
                trees.len()
            );
            return Ok(ExitCode::SUCCESS);
        }
        for difference in &drift {
            let relative = match difference {
                platform_writer::Drift::Missing(p)
                | platform_writer::Drift::Extra(p)
                | platform_writer::Drift::Differs(p) => p.strip_prefix(root).unwrap_or(p),
            };
            let label = difference.to_string();
            let kind = label.split(':').next().unwrap_or_default();
            println!("{kind}: {}", relative.display());
        }
        eprintln!(
            "{} file(s) out of date: run `cargo xtask render` (and `cargo xtask schema`) and commit them",
            drift.len()
        );
        return Ok(ExitCode::from(1));
    }

    platform_writer::write(&output, &trees)
        .map_err(|e| Failure::Io(format!("writing {}: {e}", output.display())))?;
    for tree in &rendered {
        println!("rendered/{}/: {} files", tree.name, tree.files.len());
    }
    Ok(ExitCode::SUCCESS)
}

fn schema_text() -> String {
    let schema = platform::layer_schema();
    let mut text = serde_json::to_string_pretty(&schema).expect("a schema is JSON");
    text.push('\n');
    text
}

fn schema_drift(root: &Path) -> Result<Option<platform_writer::Drift>, Failure> {
    let path = root.join(SCHEMA_FILE);
    platform_writer::check_file(&path, &schema_text())
        .map_err(|e| Failure::Io(format!("reading {}: {e}", path.display())))
}

fn schema(root: &Path, check: bool) -> Result<ExitCode, Failure> {
    let path = root.join(SCHEMA_FILE);
    if check {
        return Ok(match schema_drift(root)? {
            None => {
                println!("{SCHEMA_FILE} is current");
                ExitCode::SUCCESS
            }
            Some(_) => {
                eprintln!("{SCHEMA_FILE} is out of date: run `cargo xtask schema` and commit it");
                ExitCode::from(1)
            }
        });
    }
    platform_writer::write_file(&path, &schema_text())
        .map_err(|e| Failure::Io(format!("writing {}: {e}", path.display())))?;
    println!("{SCHEMA_FILE}: written");
    Ok(ExitCode::SUCCESS)
}

fn tree(rendered: &RenderedEnvironment) -> Tree<'_> {
    Tree {
        name: &rendered.name,
        files: &rendered.files,
    }
}

/// Every `environments/*.yaml`, sorted by name so output order never depends on the disk.
fn read_environment_files(root: &Path) -> Result<Vec<EnvironmentFile>, Failure> {
    let dir = root.join("environments");
    let entries =
        fs::read_dir(&dir).map_err(|e| Failure::Io(format!("reading {}: {e}", dir.display())))?;
    let mut files = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|e| Failure::Io(format!("reading {}: {e}", dir.display())))?
            .path();
        let is_yaml = path
            .extension()
            .is_some_and(|ext| ext == "yaml" || ext == "yml");
        if !is_yaml {
            continue;
        }
        let contents = fs::read_to_string(&path)
            .map_err(|e| Failure::Io(format!("reading {}: {e}", path.display())))?;
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        files.push(EnvironmentFile {
            path: format!("environments/{name}"),
            contents,
        });
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}
