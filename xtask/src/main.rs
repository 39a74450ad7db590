//! `cargo xtask`: the command line of the generator.
//!
//! Exit codes: 0 success; 1 `--check` found a difference; 2 bad input (an environment file
//! that does not parse or check); 3 an I/O error.

use std::collections::BTreeMap;
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
    /// Check a rendered tree: every object against its upstream schema, Helm values against
    /// the chart's, and the platform's invariants. Exit 1 listing every finding.
    Validate {
        /// Folder of upstream schemas laid out like ../shared/schemas (kubernetes/, crds/,
        /// charts/); defaults to $PLATFORM_SCHEMAS, then ../shared/schemas beside the repository.
        #[arg(long, value_name = "DIR")]
        schemas: Option<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// The tree to check; defaults to rendered/.
        #[arg(value_name = "PATH")]
        path: Option<PathBuf>,
    },
    /// Print the component graph with waves.
    Graph {
        /// The environment.
        #[arg(long, value_name = "NAME")]
        env: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = GraphFormat::Mermaid)]
        format: GraphFormat,
    },
    /// Print who may reach whom, on which port, as the rendered NetworkPolicies say.
    Netpol {
        /// The environment.
        #[arg(long, value_name = "NAME")]
        env: String,
    },
    /// Render `dev` with N copies of its first app into DIR, for benchmarks.
    #[command(hide = true)]
    Synthesize {
        #[arg(long, default_value_t = 1000)]
        apps: usize,
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    /// Write environments/schema.json, the editor schema of environment files.
    Schema {
        /// Write nothing; exit 1 if the schema is out of date.
        #[arg(long)]
        check: bool,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum GraphFormat {
    Mermaid,
    Dot,
    Json,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    Text,
    Json,
}

/// Where the upstream schemas are when neither `--schemas` nor this variable says.
const SCHEMAS_ENV: &str = "PLATFORM_SCHEMAS";

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
        Command::Synthesize { apps, out } => synthesize(&root, apps, &out),
        Command::Netpol { env } => netpol(&root, &env),
        Command::Graph { env, format } => graph(&root, &env, format),
        Command::Validate {
            schemas,
            format,
            path,
        } => validate(&root, schemas, format, path),
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
    let loaded = match only {
        None => platform::load(&read_environment_files(root)?).map_err(Failure::Input)?,
        Some(name) => vec![load_one(root, name)?],
    };
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

    // The invariants hold for what is about to be written, or nothing is written.
    let report = platform_validate::validate(&combined(&rendered), None);
    if !report.is_ok() {
        for finding in &report.findings {
            eprintln!("error: rendered/{finding}");
        }
        eprintln!(
            "{} invariant(s) broken; rendered/ was not changed",
            report.findings.len()
        );
        return Ok(ExitCode::from(2));
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

/// One environment, with the files it extends; the others are parsed but not checked.
fn load_one(root: &Path, name: &str) -> Result<platform::LoadedEnvironment, Failure> {
    let files = read_environment_files(root)?;
    let loaded = platform::load_matching(&files, |n| n == name).map_err(Failure::Input)?;
    let known: Vec<&str> = files
        .iter()
        .map(EnvironmentFile::name)
        .filter(|n| !n.starts_with("base"))
        .collect();
    loaded.into_iter().next().ok_or_else(|| {
        Failure::Input(vec![Diagnostic {
            file: "environments/".to_owned(),
            location: None,
            path: None,
            message: format!(
                "no environment `{name}`; expected one of: {}",
                known.join(", ")
            ),
        }])
    })
}

fn graph(root: &Path, name: &str, format: GraphFormat) -> Result<ExitCode, Failure> {
    let loaded = load_one(root, name)?;
    let plan = platform::plan(&loaded.env).map_err(|errors| {
        Failure::Input(
            errors
                .into_iter()
                .map(|e| loaded.diagnostic(None, e.to_string()))
                .collect(),
        )
    })?;
    let applications = platform::docs::applications(&plan, &loaded);
    let text = match format {
        GraphFormat::Mermaid => platform_docs::graph::mermaid(&applications),
        GraphFormat::Dot => platform_docs::graph::dot(name, &applications),
        GraphFormat::Json => platform_docs::graph::json(name, &applications),
    };
    print!("{text}");
    Ok(ExitCode::SUCCESS)
}

fn netpol(root: &Path, name: &str) -> Result<ExitCode, Failure> {
    let loaded = load_one(root, name)?;
    let diagnose = |errors: Vec<platform::plan::PlanError>| {
        Failure::Input(
            errors
                .into_iter()
                .map(|e| loaded.diagnostic(None, e.to_string()))
                .collect(),
        )
    };
    let plan = platform::plan(&loaded.env).map_err(diagnose)?;
    let rendered = platform::render(&loaded).map_err(Failure::Input)?;
    let policies = platform::matrix::rendered_policies(&rendered).map_err(Failure::Io)?;
    if policies.is_empty() {
        println!(
            "{name} renders no NetworkPolicies (network.policies is off): every pod may reach every pod"
        );
        return Ok(ExitCode::SUCCESS);
    }
    let endpoints = platform::matrix::endpoints(&plan, &loaded.env.network.api_server_cidrs);
    let matrix = platform::matrix::matrix(endpoints, &policies);
    println!(
        "# {name}: reachability evaluated from {} rendered NetworkPolicies (both egress and ingress must allow)",
        policies.len()
    );
    print!("{}", matrix.to_text());
    Ok(ExitCode::SUCCESS)
}

fn synthesize(root: &Path, apps: usize, out: &Path) -> Result<ExitCode, Failure> {
    let files = read_environment_files(root)?;
    let loaded = platform::load(&files).map_err(Failure::Input)?;
    let Some(mut dev) = loaded.into_iter().find(|e| e.name == "dev") else {
        return Err(Failure::Io(
            "no dev environment to synthesize from".to_owned(),
        ));
    };
    let template = dev.env.apps[0].clone();
    dev.env.apps = (0..apps)
        .map(|i| {
            let mut app = template.clone();
            let name = format!("{}-{i:04}", template.name);
            app.name = name.as_str().try_into().expect("a valid DNS label");
            app
        })
        .collect();
    let rendered = platform::render(&dev).map_err(Failure::Input)?;
    platform_writer::write(out, &[tree(&rendered)])
        .map_err(|e| Failure::Io(format!("writing {}: {e}", out.display())))?;
    println!(
        "{}/{}/: {} files",
        out.display(),
        rendered.name,
        rendered.files.len()
    );
    Ok(ExitCode::SUCCESS)
}

/// Every environment's files in one map, keyed `<env>/<path>` as they lie under rendered/.
fn combined(rendered: &[RenderedEnvironment]) -> BTreeMap<String, String> {
    rendered
        .iter()
        .flat_map(|env| {
            env.files
                .iter()
                .map(move |(path, text)| (format!("{}/{path}", env.name), text.clone()))
        })
        .collect()
}

/// Upstream schemas read from a folder.
struct SchemaFolder(PathBuf);

impl platform_validate::SchemaSource for SchemaFolder {
    fn read(&self, relative: &str) -> Result<Option<String>, String> {
        let path = self.0.join(relative);
        match fs::read_to_string(&path) {
            Ok(text) => Ok(Some(text)),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(format!("reading {}: {error}", path.display())),
        }
    }
}

fn validate(
    root: &Path,
    schemas: Option<PathBuf>,
    format: Format,
    path: Option<PathBuf>,
) -> Result<ExitCode, Failure> {
    let schemas = schemas
        .or_else(|| std::env::var_os(SCHEMAS_ENV).map(PathBuf::from))
        .unwrap_or_else(|| root.join("../shared/schemas"));
    if !schemas.join("kubernetes").is_dir() {
        return Err(Failure::Io(format!(
            "no upstream schemas at {}: pass --schemas DIR or set {SCHEMAS_ENV} (see README, \"Validation\")",
            schemas.display()
        )));
    }
    let tree_root = path.unwrap_or_else(|| root.join("rendered"));
    let files = read_tree(&tree_root)
        .map_err(|e| Failure::Io(format!("reading {}: {e}", tree_root.display())))?;
    let source = SchemaFolder(schemas);
    let mut store = platform_validate::Schemas::new(&source);
    let report = platform_validate::validate(&files, Some(&mut store));
    match format {
        Format::Json => println!("{}", report.to_json()),
        Format::Text => {
            for finding in &report.findings {
                println!("{finding}");
            }
            let summary = format!(
                "{} object(s) in {} file(s), {} schema(s); {} finding(s)",
                report.objects,
                files.len(),
                store.compiled(),
                report.findings.len()
            );
            if report.is_ok() {
                println!("{summary}");
            } else {
                eprintln!("{summary}");
            }
        }
    }
    Ok(if report.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Every file below `dir` except the writer's hidden staging folders, keyed by relative path.
fn read_tree(dir: &Path) -> std::io::Result<BTreeMap<String, String>> {
    let mut files = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        for entry in fs::read_dir(&current)? {
            let entry = entry?;
            let path = entry.path();
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            if entry.file_type()?.is_dir() {
                pending.push(path);
            } else if let Ok(relative) = path.strip_prefix(dir) {
                let key = relative
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                files.insert(key, fs::read_to_string(&path)?);
            }
        }
    }
    Ok(files)
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
