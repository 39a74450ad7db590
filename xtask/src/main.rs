//! `cargo xtask`: the command line of the generator. One module per command; this file only
//! parses arguments, finds the checkout and turns failures into exit codes.
//!
//! Exit codes: 0 success; 1 a check found something (`--check` drift, validation findings);
//! 2 bad input (an environment file that does not parse or check, a tree with no objects);
//! 3 an I/O error or no checkout found; 4 a bug in the generator (it contradicts itself).

mod alerts;
mod bench;
mod charts;
mod cost;
mod diff;
mod editor_schema;
mod environments;
mod hydrating;
mod import;
mod inspect;
mod policy;
mod progress;
mod render;
mod revision;
mod table;
mod validate;
mod watch;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use platform::Diagnostic;
use platform_checkout::Checkout;

/// See the workspace manifest: glibc's allocator spent a fifth of a large render consolidating
/// freed chunks.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(
    name = "cargo xtask",
    bin_name = "cargo xtask",
    about = "Render and check the platform's Argo CD manifests"
)]
struct Cli {
    /// Repository root to work in; defaults to the checkout cargo runs this in, else the one
    /// around the working directory.
    #[arg(long, global = true, value_name = "DIR")]
    root: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Render environments/<env>.yaml into rendered/<env>/ for every environment, writing only
    /// the files that change and removing what is no longer rendered.
    Render {
        /// Render only this environment (and leave the others' folders alone).
        #[arg(long, value_name = "NAME")]
        env: Option<String>,
        /// Write nothing; exit 1 listing every file that differs, is missing, is extra or has
        /// the wrong mode (environments/schema.json included).
        #[arg(long)]
        check: bool,
        /// Environments rendered at once, each on a thread of its own. Each holds its objects
        /// in memory while it renders: `--jobs 1` uses the least memory. Defaults to the number
        /// of cores, or to one when every environment's folder is new: writing new folders
        /// whole is bound by the disk, which more renders at once would not make faster (on
        /// a file system as fast as memory, `--jobs 2` would).
        #[arg(long, short = 'j', value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
        jobs: Option<u16>,
        /// Keep running: render again on every save of an environment file, reusing what did
        /// not change, and print the errors or one line of what was written. An edit that
        /// does not render writes nothing; rendered/ keeps the last good render.
        #[arg(long, conflicts_with = "check")]
        watch: bool,
    },
    /// Check manifests: every object against its upstream schema, Helm values against the
    /// chart's, and (for a rendered tree) the platform's invariants. Exit 1 listing every
    /// finding.
    Validate {
        /// Folder of upstream schemas laid out like schemas/ (kubernetes/, crds/, charts/);
        /// defaults to $PLATFORM_SCHEMAS, then the repository's schemas/.
        #[arg(long, value_name = "DIR")]
        schemas: Option<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = validate::Format::Text)]
        format: validate::Format,
        /// What to check: rendered/ (the default), one environment's folder or any folder or
        /// file below it, or any folder or file of manifests (multi-document YAML too).
        #[arg(value_name = "PATH")]
        path: Option<PathBuf>,
    },
    /// Print the component graph with waves.
    Graph {
        /// The environment.
        #[arg(long, value_name = "NAME")]
        env: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = inspect::GraphFormat::Mermaid)]
        format: inspect::GraphFormat,
    },
    /// Print who may reach whom, on which port, as the rendered NetworkPolicies say.
    Netpol {
        /// The environment.
        #[arg(long, value_name = "NAME")]
        env: String,
    },
    /// Measure how rendering scales: write N synthetic apps over T teams into E environment
    /// files in a scratch checkout, then time render (empty, unchanged, one app changed),
    /// validate and netpol as child processes, with their peak memory.
    Bench {
        /// User apps in the synthetic base.yaml.
        #[arg(long, default_value_t = 1000)]
        apps: usize,
        /// Teams the apps are spread over.
        #[arg(long, default_value_t = 10)]
        teams: usize,
        /// Environments extending it: the first a kind cluster, the others remote.
        #[arg(long, default_value_t = 3)]
        envs: usize,
        /// Runs of each step; the table shows the median.
        #[arg(long, default_value_t = 3)]
        runs: usize,
        /// The scratch checkout, replaced on every run; defaults to target/bench/ (keep it off
        /// /tmp where that is slow for many small files).
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
        /// `render --jobs` for every render the bench times; render's default when unset.
        #[arg(long, short = 'j', value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
        jobs: Option<u16>,
    },
    /// Write each rendered environment's alert rules, their unit tests, Alertmanager's
    /// configuration and the Grafana dashboards' queries into DIR/<env>/, for `promtool check
    /// rules`, `promtool test rules` and `amtool check-config`.
    Alerts {
        /// Where to write; created if missing.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    /// What each environment costs a month at its prices (cost.pricing), per team and cost
    /// center and per Application: requests, and limits as the ceiling. Nothing is written.
    Cost {
        /// Only this environment.
        #[arg(long, value_name = "NAME")]
        env: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = cost::Format::Text)]
        format: cost::Format,
        /// Compare with the environment files of this Git revision (rendered in memory, no
        /// checkout): the change per environment, team and Application.
        #[arg(long, value_name = "REV")]
        base: Option<String>,
        /// With --base: exit 1 when the total monthly cost rises by more than AMOUNT.
        #[arg(long, value_name = "AMOUNT", requires = "base")]
        fail_above: Option<f64>,
    },
    /// What a change does, object by object: renders the environment files of REV and of the
    /// working tree in memory and compares them by object, grouped by environment, sync wave
    /// and Application, calling out wave, sync-policy, reachability, permission, Vault and
    /// Kyverno changes. Nothing is written.
    Diff {
        /// The revision to compare with.
        #[arg(long, value_name = "REV", default_value = "HEAD")]
        base: String,
        /// Only this environment.
        #[arg(long, value_name = "NAME")]
        env: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
        format: DiffFormat,
        /// Exit 1 when anything changed.
        #[arg(long)]
        exit_code: bool,
    },
    /// Write environments/schema.json, the editor schema of environment files.
    Schema {
        /// Write nothing; exit 1 if the schema is out of date.
        #[arg(long)]
        check: bool,
    },
    /// Kyverno policies offline: run `kyverno test` suites with the built-in evaluator.
    Policy {
        #[command(subcommand)]
        command: PolicyCommand,
    },
    /// Work on the upstream schemas the repository carries.
    Schemas {
        #[command(subcommand)]
        command: SchemasCommand,
    },
    /// The vendored charts (schemas/charts/), templated by the real Helm as Argo CD would.
    Charts {
        #[command(subcommand)]
        command: ChartsCommand,
    },
}

#[derive(Debug, Subcommand)]
enum ChartsCommand {
    /// Template every Helm Application of every environment (or one) with Helm, with the
    /// release name, namespace, Kubernetes version, API versions, CRDs and values Argo CD
    /// v3.4.4's repo-server passes. Hooks are kept, marked with the phase Argo CD runs them
    /// at. Needs Helm >= 3.14 on PATH or in $HELM.
    Template {
        /// Only this environment.
        #[arg(long, value_name = "NAME")]
        env: Option<String>,
        /// Write DIR/<env>/<application>.yaml; without it, print a line per Application.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Write what a configuration scanner should judge beside rendered/: the objects Argo
        /// CD creates (not the hooks it never runs), each with the chart's waivers as
        /// checkov.io/skip annotations, as the platform's own objects carry them in rendered/.
        /// An environment that hydrates its charts is left out: rendered/ holds its objects.
        #[arg(long, requires = "out")]
        for_scanners: bool,
    },
    /// Vendor a chart into schemas/charts/<name>/ from a folder holding it at its pinned
    /// release (`helm pull --untar`, or the upstream repository at the release tag, with its
    /// subcharts unpacked into charts/): only what `helm template` reads, a disabled
    /// subchart as a Chart.yaml naming it; checked to template the same with Helm at hand.
    Import {
        /// The chart's folder.
        #[arg(value_name = "DIR")]
        dir: PathBuf,
        /// Set Chart.yaml's version and appVersion, as the chart's release does for a
        /// repository that carries a placeholder (cert-manager's v0.0.0).
        #[arg(long, value_name = "VERSION")]
        version: Option<String>,
        /// Keep this enabled subchart as a Chart.yaml naming it: its release is nowhere to
        /// be had. Say why in schemas/README.md.
        #[arg(long = "stand-in", value_name = "SUBCHART")]
        stand_ins: Vec<String>,
    },
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum DiffFormat {
    Text,
    Markdown,
    Json,
}

impl From<DiffFormat> for platform_diff::Format {
    fn from(format: DiffFormat) -> Self {
        match format {
            DiffFormat::Text => Self::Text,
            DiffFormat::Markdown => Self::Markdown,
            DiffFormat::Json => Self::Json,
        }
    }
}

#[derive(Debug, Subcommand)]
enum PolicyCommand {
    /// Run `kyverno test` files (cli.kyverno.io/v1alpha1 Test) found under PATHs, print a table
    /// per test (policy, rule, resource, kind, expected, got) and a total; exit 1 when fewer
    /// cases agree than --min-agreement.
    Test {
        /// Least share of agreeing cases, in percent.
        #[arg(long, value_name = "PERCENT", default_value_t = 100.0)]
        min_agreement: f64,
        /// Print only the cases that disagree.
        #[arg(long)]
        only_disagreements: bool,
        /// Test files, or folders searched for kyverno-test.yaml.
        #[arg(value_name = "PATH", required = true)]
        paths: Vec<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum SchemasCommand {
    /// Turn upstream files into the schemas/ layout: CRD manifests (every served version's
    /// openAPIV3Schema, made strict), a kind's schema from kubernetes-validate's
    /// v<version>-local-strict/ folder (made standalone), and a chart's Chart.yaml,
    /// values.yaml, values.schema.json (a chart's files go to charts/<name from Chart.yaml>/,
    /// so give Chart.yaml with them).
    Import {
        /// Where to write; defaults to the repository's schemas/.
        #[arg(long, value_name = "DIR")]
        into: Option<PathBuf>,
        /// CRD manifests (multi-document YAML), Kubernetes kind schemas and chart files.
        #[arg(value_name = "FILE", required = true)]
        files: Vec<PathBuf>,
    },
}

/// Why a command failed, and so its exit code and closing line.
enum Failure {
    /// Environment files that do not load or render (exit 2). `rendered/` was not written.
    Render(Vec<Diagnostic>),
    /// What was rendered breaks the platform's invariants (exit 2). `rendered/` was not written.
    Invariants(Vec<platform_validate::Finding>),
    /// Input a read-only command cannot act on (exit 2).
    Input(Vec<Diagnostic>),
    /// Bad input that is not an environment file (exit 2).
    Usage(String),
    /// The disk failed us (exit 3).
    Io(String),
    /// The generator contradicts itself: a bug to report, not the user's input (exit 4).
    Internal(String),
}

impl Failure {
    fn report(self) -> ExitCode {
        match self {
            Self::Render(diagnostics) => {
                print_diagnostics(&diagnostics);
                eprintln!("{}; rendered/ was not changed", count(diagnostics.len()));
                ExitCode::from(2)
            }
            Self::Invariants(findings) => {
                for finding in &findings {
                    eprintln!("error: rendered/{finding}");
                }
                eprintln!(
                    "{} invariant(s) broken; rendered/ was not changed",
                    findings.len()
                );
                ExitCode::from(2)
            }
            Self::Input(diagnostics) => {
                print_diagnostics(&diagnostics);
                eprintln!("{}", count(diagnostics.len()));
                ExitCode::from(2)
            }
            Self::Usage(message) => {
                eprintln!("error: {message}");
                ExitCode::from(2)
            }
            Self::Io(message) => {
                eprintln!("error: {message}");
                ExitCode::from(3)
            }
            Self::Internal(message) => {
                eprintln!("internal error: {message}");
                eprintln!(
                    "this is a bug in the generator, not in your environment files; please report it"
                );
                ExitCode::from(4)
            }
        }
    }
}

fn print_diagnostics(diagnostics: &[Diagnostic]) {
    for diagnostic in diagnostics {
        eprintln!("error: {diagnostic}");
    }
}

fn count(errors: usize) -> String {
    format!("{errors} error{} found", if errors == 1 { "" } else { "s" })
}

fn main() -> ExitCode {
    let code = run();
    bench::record_peak_memory();
    code
}

fn run() -> ExitCode {
    let cli = Cli::parse();
    let located = match cli.root {
        Some(root) => Ok(Checkout::at(root)),
        None => Checkout::locate().map_err(|e| Failure::Io(e.to_string())),
    };
    // Only `validate` of an explicit tree against explicit schemas works outside a checkout.
    if let Command::Validate {
        schemas,
        format,
        path,
    } = cli.command
    {
        return validate::run(located, schemas, format, path).unwrap_or_else(Failure::report);
    }
    // Policy tests read only the files they are given.
    if let Command::Policy {
        command:
            PolicyCommand::Test {
                min_agreement,
                only_disagreements,
                paths,
            },
    } = &cli.command
    {
        return policy::test(paths, *min_agreement, *only_disagreements)
            .unwrap_or_else(Failure::report);
    }
    let checkout = match located {
        Ok(checkout) => checkout,
        Err(failure) => return failure.report(),
    };
    let result = match cli.command {
        Command::Render {
            env,
            watch: true,
            jobs,
            ..
        } => watch::run(&checkout, env.as_deref(), jobs.map(usize::from)),
        Command::Render {
            env, check, jobs, ..
        } => render::run(&checkout, env.as_deref(), check, jobs.map(usize::from)),
        Command::Schema { check } => editor_schema::run(&checkout, check),
        Command::Alerts { out } => alerts::run(&checkout, &out),
        Command::Diff {
            base,
            env,
            format,
            exit_code,
        } => diff::run(
            &checkout,
            &diff::Options {
                base,
                env,
                format: format.into(),
                exit_code,
            },
        ),
        Command::Cost {
            env,
            format,
            base,
            fail_above,
        } => cost::run(
            &checkout,
            &cost::Options {
                env,
                format,
                base,
                fail_above,
            },
        ),
        Command::Bench {
            apps,
            teams,
            envs,
            runs,
            dir,
            jobs,
        } => bench::run(
            &checkout,
            &bench::Options {
                apps,
                teams,
                envs,
                runs,
                dir,
                jobs,
            },
        ),
        Command::Netpol { env } => inspect::netpol(&checkout, &env),
        Command::Graph { env, format } => inspect::graph(&checkout, &env, format),
        Command::Validate { .. } | Command::Policy { .. } => unreachable!("handled above"),
        Command::Schemas {
            command: SchemasCommand::Import { into, files },
        } => import::run(&checkout, into, &files),
        Command::Charts {
            command:
                ChartsCommand::Template {
                    env,
                    out,
                    for_scanners,
                },
        } => charts::template::run(
            &checkout,
            &charts::template::Options {
                env,
                out,
                for_scanners,
            },
        ),
        Command::Charts {
            command:
                ChartsCommand::Import {
                    dir,
                    version,
                    stand_ins,
                },
        } => charts::import::run(
            &checkout,
            &charts::import::Options {
                dir,
                version,
                stand_ins,
            },
        ),
    };
    result.unwrap_or_else(Failure::report)
}
