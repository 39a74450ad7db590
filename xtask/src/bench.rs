//! `cargo xtask bench [--apps N] [--teams T] [--envs E] [--runs R] [--dir DIR]`: how the
//! generator scales, measured as a user meets it.
//!
//! It writes a synthetic environment set (N apps over T teams in `base.yaml`, E environments
//! extending it: the first a kind cluster, the others remote) into a scratch checkout, then
//! times this very binary, run as a child process on that checkout, for each step a user
//! repeats: a render into an empty `rendered/`, an unchanged re-render, a render after one
//! app changed, the same edit saved under `render --watch` (from the save to the watch's line
//! that the tree is written, its 20 ms wait for the save to settle included), `validate` of the tree and `netpol` of one environment. Each step runs R times;
//! the table gives the median wall time and the largest peak resident memory, which each
//! child reports itself (`VmHWM`, Linux). The file-writing floor is the time to write the same
//! files with nothing else to do (create folders, write bytes), as the cdk8s peer's
//! `io-floor.js` measures it.
//!
//! No timed step follows a deletion of many files: ext4 skips inodes freed in the last
//! half minute or so when it allocates new ones (`recently_deleted`), which makes creating
//! files right after deleting as many slow for reasons that have nothing to do with the
//! program measured. So each run that writes a tree from nothing gets a checkout of its own,
//! a previous bench folder is moved aside, and everything is deleted at the end. And the steps
//! after the renders into empty trees start once the kernel has written those trees back
//! (`sync`), which it would otherwise do in the middle of them.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use platform_checkout::Checkout;
use serde_json::{Value, json};

use crate::Failure;
use crate::progress::{Counts, Progress};

/// Where a child writes its peak resident memory, in KiB, when it exits.
const PEAK_MEMORY_FILE: &str = "PLATFORM_BENCH_PEAK_MEMORY_FILE";

#[derive(Clone, Debug)]
pub struct Options {
    pub apps: usize,
    pub teams: usize,
    pub envs: usize,
    pub runs: usize,
    pub dir: Option<PathBuf>,
    /// `render --jobs`, when set.
    pub jobs: Option<u16>,
}

/// Called by `main` as the process ends: the peak resident memory of this process, for the
/// benchmark that started it.
pub fn record_peak_memory() {
    let Some(file) = std::env::var_os(PEAK_MEMORY_FILE) else {
        return;
    };
    let peak = fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmHWM:"))
                .and_then(|value| {
                    value
                        .trim()
                        .trim_end_matches("kB")
                        .trim()
                        .parse::<u64>()
                        .ok()
                })
        });
    if let Some(kib) = peak {
        let _ = fs::write(file, kib.to_string());
    }
}

pub fn run(checkout: &Checkout, options: &Options) -> Result<ExitCode, Failure> {
    if options.apps == 0 || options.teams == 0 || options.envs == 0 || options.runs == 0 {
        return Err(Failure::Usage(
            "--apps, --teams, --envs and --runs must each be at least 1".to_owned(),
        ));
    }
    let dir = options
        .dir
        .clone()
        .unwrap_or_else(|| checkout.root().join("target/bench"));
    let scratch = Scratch::create(&dir, options).map_err(|e| io(&dir, &e))?;
    let outcome = measure(checkout, options, &scratch, &dir);
    scratch.clean_up();
    outcome
}

fn measure(
    checkout: &Checkout,
    options: &Options,
    scratch: &Scratch,
    dir: &Path,
) -> Result<ExitCode, Failure> {
    let binary = std::env::current_exe().map_err(|e| Failure::Io(e.to_string()))?;
    let mut render = vec!["render".to_owned()];
    if let Some(jobs) = options.jobs {
        render.extend(["--jobs".to_owned(), jobs.to_string()]);
    }
    let bench = Bench {
        binary,
        render,
        scratch,
        schemas: checkout.schemas_dir(None),
        runs: options.runs,
        status: Counts::new(),
    };

    println!(
        "# bench: {} apps over {} teams, {} environment(s), {} run(s) per step, in {}",
        options.apps,
        options.teams,
        options.envs,
        options.runs,
        dir.display()
    );
    let status = Arc::clone(&bench.status);
    let progress = Progress::on_terminal(move || format!("bench: {}", status.step()));
    bench.status.set_step("the first render, untimed");
    let mut rows = Vec::new();
    // An untimed render first: its tree is what the floor writes, and it warms the caches.
    let render_args: Vec<&str> = bench.render.iter().map(String::as_str).collect();
    bench
        .run_once(&scratch.checkouts[0], &render_args)
        .map(drop)?;
    let tree = scratch.tree().map_err(|e| io(dir, &e))?;
    let (render, floor, ratio) = bench.render_beside_floor(&tree)?;
    rows.push(render);
    rows.push(floor);
    // Those runs leave hundreds of megabytes of new files for the kernel to write back about
    // half a minute later, right into the steps that follow, which then read and list files
    // slower for reasons that are not theirs: wait for it first, untimed.
    settle();
    rows.push(bench.step("render, nothing changed", &render_args, |_| Ok(()))?);
    let mut toggle = false;
    rows.push(bench.step("render, one app changed", &render_args, |s| {
        toggle = !toggle;
        s.change_one_app(toggle)
    })?);
    rows.push(bench.watch(&mut toggle)?);
    let schemas = bench.schemas.to_string_lossy().into_owned();
    let validate = ["validate", "--schemas", &schemas];
    let ledger = scratch.checkouts[1]
        .join("rendered")
        .join(platform_validate::vouched::FILE);
    rows.push(bench.step(
        "validate rendered/ (every schema checked)",
        &validate,
        |_| match fs::remove_file(&ledger) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        },
    )?);
    // Each run after a render of one app changed (untimed): the schemas of what changed are
    // checked, the rest vouched for by the last validate.
    rows.push(bench.step(
        "validate rendered/, one app changed since the last",
        &validate,
        |s| {
            toggle = !toggle;
            s.change_one_app(toggle)?;
            bench
                .run_once(&s.checkouts[1], &render_args)
                .map(drop)
                .map_err(|e| match e {
                    Failure::Internal(message) | Failure::Io(message) => {
                        std::io::Error::other(message)
                    }
                    _ => std::io::Error::other("the untimed render failed"),
                })
        },
    )?);
    let first = scratch.environments[0].clone();
    rows.push(bench.step(
        &format!("netpol --env {first}"),
        &["netpol", "--env", &first],
        |_| Ok(()),
    )?);

    drop(progress);
    let render = &rows[0];
    let objects = tree.objects();
    println!(
        "{} files, {} objects, {:.1} MiB in rendered/; {:.0} objects/s rendered, {:.1} ms per app; render / floor (median of the runs' ratios): {ratio:.2}",
        tree.files.len(),
        objects,
        tree.bytes() as f64 / f64::from(1 << 20),
        objects as f64 / render.wall.as_secs_f64(),
        render.wall.as_secs_f64() * 1000.0 / options.apps as f64,
    );
    println!();
    print!("{}", table(&rows));
    Ok(ExitCode::SUCCESS)
}

/// Waits until the kernel has written back what is pending (`sync`), where there is one.
fn settle() {
    let _ = Command::new("sync").status();
}

fn io(path: &Path, error: &std::io::Error) -> Failure {
    Failure::Io(format!("{}: {error}", path.display()))
}

/// One measured step.
struct Row {
    step: String,
    wall: Duration,
    peak_kib: Option<u64>,
}

fn table(rows: &[Row]) -> String {
    let mut text = String::from("| step | wall s (median) | peak MiB |\n|---|---|---|\n");
    for row in rows {
        let peak = row
            .peak_kib
            .map_or_else(|| "n/a".to_owned(), |k| format!("{:.0}", k as f64 / 1024.0));
        let _ = writeln!(
            text,
            "| {} | {:.3} | {peak} |",
            row.step,
            row.wall.as_secs_f64()
        );
    }
    text
}

struct Bench<'a> {
    binary: PathBuf,
    /// The arguments of every timed render.
    render: Vec<String>,
    scratch: &'a Scratch,
    schemas: PathBuf,
    runs: usize,
    /// What the status line shows: the step and run under way.
    status: Arc<Counts>,
}

impl Bench<'_> {
    /// Shows the step and run under way on the status line.
    fn at(&self, step: &str, run: usize) {
        self.status
            .set_step(format!("{step}, run {} of {}", run + 1, self.runs));
    }

    /// Runs `args` on the first timed run's checkout `runs` times, `before` each (untimed).
    fn step(
        &self,
        name: &str,
        args: &[&str],
        mut before: impl FnMut(&Scratch) -> std::io::Result<()>,
    ) -> Result<Row, Failure> {
        let mut walls = Vec::new();
        let mut peak = None;
        for run in 0..self.runs {
            self.at(name, run);
            before(self.scratch).map_err(|e| io(&self.scratch.root, &e))?;
            let checkout = &self.scratch.checkouts[1];
            let (wall, kib) = self.run_once(checkout, args).map_err(|e| match e {
                Failure::Internal(message) => {
                    Failure::Internal(format!("bench step `{name}`: {message}"))
                }
                other => other,
            })?;
            walls.push(wall);
            peak = peak.max(kib);
        }
        walls.sort();
        Ok(Row {
            step: name.to_owned(),
            wall: walls[walls.len() / 2],
            peak_kib: peak,
        })
    }

    /// This binary on `checkout` with `args`: its wall time and the peak memory it reports.
    fn run_once(&self, checkout: &Path, args: &[&str]) -> Result<(Duration, Option<u64>), Failure> {
        let peak_file = self.scratch.root.join("peak-memory");
        let _ = fs::remove_file(&peak_file);
        let start = Instant::now();
        let output = Command::new(&self.binary)
            .arg("--root")
            .arg(checkout)
            .args(args)
            .env(PEAK_MEMORY_FILE, &peak_file)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| Failure::Io(format!("{}: {e}", self.binary.display())))?;
        let wall = start.elapsed();
        if !output.status.success() {
            return Err(Failure::Internal(format!(
                "{} failed ({}):\n{}",
                args.join(" "),
                output.status,
                String::from_utf8_lossy(&output.stderr)
            )));
        }
        let kib = fs::read_to_string(&peak_file)
            .ok()
            .and_then(|k| k.trim().parse::<u64>().ok());
        Ok((wall, kib))
    }

    /// `render --watch` on the first timed run's checkout: from the save of one app's change
    /// to the watch's line that the tree is written, `runs` times, in one watch process,
    /// whose peak memory is read from the kernel before it is stopped.
    fn watch(&self, toggle: &mut bool) -> Result<Row, Failure> {
        use std::io::BufRead as _;
        let checkout = &self.scratch.checkouts[1];
        let mut child = Command::new(&self.binary)
            .arg("--root")
            .arg(checkout)
            .arg("render")
            .arg("--watch")
            .args(&self.render[1..])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| Failure::Io(format!("{}: {e}", self.binary.display())))?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut lines = std::io::BufReader::new(stdout).lines();
        let mut rendered = || -> Result<String, Failure> {
            for line in lines.by_ref() {
                let line = line.map_err(|e| Failure::Io(e.to_string()))?;
                if line.starts_with("rendered in ") {
                    return Ok(line);
                }
                if line.starts_with("waiting ") {
                    return Err(Failure::Internal(format!(
                        "the watch did not render: {line}"
                    )));
                }
            }
            Err(Failure::Internal("the watch stopped".to_owned()))
        };
        let measured = (|| {
            rendered()?;
            let mut walls = Vec::new();
            for run in 0..self.runs {
                self.at("render --watch, one app changed", run);
                *toggle = !*toggle;
                let start = Instant::now();
                self.scratch
                    .change_one_app(*toggle)
                    .map_err(|e| io(&self.scratch.root, &e))?;
                rendered()?;
                walls.push(start.elapsed());
            }
            Ok(walls)
        })();
        let peak = fs::read_to_string(format!("/proc/{}/status", child.id()))
            .ok()
            .and_then(|status| {
                let line = status.lines().find_map(|l| l.strip_prefix("VmHWM:"))?;
                line.trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<u64>()
                    .ok()
            });
        let _ = child.kill();
        let _ = child.wait();
        let mut walls = measured?;
        walls.sort();
        Ok(Row {
            step: "render --watch, one app changed (save to tree written)".to_owned(),
            wall: walls[walls.len() / 2],
            peak_kib: peak,
        })
    }

    /// A render into an empty `rendered/` and the floor beside it, run after run, so that
    /// both meet the file system in the same state (how fast it allocates files varies with
    /// what was deleted before); with the median of the runs' ratios.
    fn render_beside_floor(&self, tree: &Tree) -> Result<(Row, Row, f64), Failure> {
        let (mut renders, mut floors, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
        let mut peak = None;
        for run in 0..self.runs {
            self.at("render into an empty rendered/, and the floor", run);
            let floor = self.floor(tree, run)?;
            let args: Vec<&str> = self.render.iter().map(String::as_str).collect();
            let (render, kib) = self.run_once(&self.scratch.checkouts[run + 1], &args)?;
            peak = peak.max(kib);
            ratios.push(render.as_secs_f64() / floor.as_secs_f64());
            renders.push(render);
            floors.push(floor);
        }
        renders.sort();
        floors.sort();
        ratios.sort_by(f64::total_cmp);
        Ok((
            Row {
                step: "render into an empty rendered/".to_owned(),
                wall: renders[renders.len() / 2],
                peak_kib: peak,
            },
            Row {
                step: "file-writing floor (the same files, written one by one)".to_owned(),
                wall: floors[floors.len() / 2],
                peak_kib: None,
            },
            ratios[ratios.len() / 2],
        ))
    }

    /// Writing the rendered files, and nothing else: the floor any renderer stands on.
    fn floor(&self, tree: &Tree, run: usize) -> Result<Duration, Failure> {
        let target = self.scratch.root.join(format!("floor-{run}"));
        let start = Instant::now();
        for (path, text) in &tree.files {
            let path = target.join(path);
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent).map_err(|e| io(parent, &e))?;
            }
            fs::write(&path, text).map_err(|e| io(&path, &e))?;
        }
        Ok(start.elapsed())
    }
}

/// The rendered tree, read back.
struct Tree {
    files: Vec<(PathBuf, Vec<u8>)>,
}

impl Tree {
    fn bytes(&self) -> usize {
        self.files.iter().map(|(_, text)| text.len()).sum()
    }

    /// Kubernetes objects: YAML files, each one object.
    fn objects(&self) -> usize {
        self.files
            .iter()
            .filter(|(path, _)| path.extension().is_some_and(|e| e == "yaml"))
            .count()
    }
}

/// Checkouts of the same synthetic environment files: one per run of a step that writes a
/// tree from nothing, so that none writes where files were just deleted.
struct Scratch {
    root: PathBuf,
    checkouts: Vec<PathBuf>,
    environments: Vec<String>,
    base: String,
    /// A previous bench folder, moved aside to be deleted once everything is measured.
    stale: Option<PathBuf>,
}

impl Scratch {
    fn create(root: &Path, options: &Options) -> std::io::Result<Self> {
        let stale = root.exists().then(|| {
            let mut name = root.as_os_str().to_owned();
            name.push(format!(".stale-{}", std::process::id()));
            PathBuf::from(name)
        });
        if let Some(stale) = &stale {
            fs::rename(root, stale)?;
        }
        let base = serde_yaml::to_string(&base(options)).expect("JSON serializes to YAML");
        let environments: Vec<String> = (0..options.envs).map(|i| format!("bench-{i}")).collect();
        let mut checkouts = Vec::new();
        // The first is rendered once, untimed; then one per timed run.
        for run in 0..=options.runs {
            let checkout = root.join(format!("run-{run}"));
            fs::create_dir_all(checkout.join("environments"))?;
            fs::write(checkout.join("environments/base.yaml"), &base)?;
            for (i, name) in environments.iter().enumerate() {
                let text = serde_yaml::to_string(&environment(i)).expect("JSON serializes to YAML");
                fs::write(checkout.join(format!("environments/{name}.yaml")), text)?;
            }
            checkouts.push(checkout);
        }
        Ok(Self {
            root: root.to_path_buf(),
            checkouts,
            environments,
            base,
            stale,
        })
    }

    /// Everything but the checkout of the first timed run, whose tree is left to look at.
    fn clean_up(&self) {
        if let Some(stale) = &self.stale {
            let _ = fs::remove_dir_all(stale);
        }
        for (i, checkout) in self.checkouts.iter().enumerate() {
            if i != 1 {
                let _ = fs::remove_dir_all(checkout);
            }
        }
        for run in 0..self.checkouts.len() {
            let _ = fs::remove_dir_all(self.root.join(format!("floor-{run}")));
        }
    }

    /// Moves the first app's image to another tag, or back.
    fn change_one_app(&self, changed: bool) -> std::io::Result<()> {
        let text = if changed {
            self.base.replacen(":1.0.0", ":1.0.1", 1)
        } else {
            self.base.clone()
        };
        fs::write(self.checkouts[1].join("environments/base.yaml"), text)
    }

    fn tree(&self) -> std::io::Result<Tree> {
        let rendered = self.checkouts[0].join("rendered");
        let mut files = Vec::new();
        let mut folders = vec![rendered.clone()];
        while let Some(folder) = folders.pop() {
            for entry in fs::read_dir(&folder)? {
                let path = entry?.path();
                // The render's ledger is not part of the tree Argo CD reads.
                if path
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
                {
                    continue;
                }
                if path.is_dir() {
                    folders.push(path);
                } else {
                    let text = fs::read(&path)?;
                    let relative = path.strip_prefix(&rendered).unwrap_or(&path).to_path_buf();
                    files.push((relative, text));
                }
            }
        }
        files.sort();
        Ok(Tree { files })
    }
}

/// What every synthetic environment shares: the platform as the repository's base sets it,
/// `teams` teams and `apps` apps spread over them, each with a secret and, but the last of a
/// team, a call to the team's next app.
fn base(options: &Options) -> Value {
    let team = |i: usize| format!("team-{:02}", i % options.teams);
    let apps: Vec<Value> = (0..options.apps)
        .map(|i| {
            let mut app = json!({
                "name": format!("app-{i:05}"),
                "team": team(i),
                "image": format!("ghcr.io/example-org/app-{i:05}:1.0.0"),
                "port": 8080,
                "resources": {
                    "requests": {"cpu": "50m", "memory": "64Mi"},
                    "limits": {"cpu": "200m", "memory": "128Mi"}
                },
                "secrets": [{
                    "name": "db",
                    "vault_path": format!("secret/app-{i:05}/db"),
                    "keys": ["username", "password"]
                }]
            });
            let next = i + options.teams;
            if next < options.apps {
                app["calls"] = json!([{"app": format!("app-{next:05}"), "port": 8080}]);
            }
            app
        })
        .collect();
    let mut teams: Vec<Value> = (0..options.teams.min(options.apps))
        .map(|i| json!({"name": team(i), "cost_center": format!("cc-{:02}", i)}))
        .collect();
    teams.push(json!({"name": "platform", "cost_center": "cc-platform"}));
    json!({
        "git": {
            "repo_url": "https://github.com/example-org/finops-platform.git",
            "target_revision": "main"
        },
        "secrets": {
            "kv_mount": "secret",
            "auth_mount": "kubernetes",
            "policy": "eso-policy",
            "role": "external-secrets-role",
            "refresh_interval": "1h"
        },
        "policies": {"failure_action": "Enforce", "background_scan_interval": "1h"},
        "teams": teams,
        "platform_team": "platform",
        "apps": apps
    })
}

/// The first environment is a kind cluster with dev-mode Vault; the others are remote, with
/// HA Vault, their own address ranges and their own Argo CD.
fn environment(index: usize) -> Value {
    if index == 0 {
        return json!({
            "extends": "base",
            "cluster": {
                "provider": "kind",
                "name": "bench-0",
                "server": "https://kubernetes.default.svc"
            },
            "vault": {"mode": "dev"},
            "policies": {"failure_action": "Audit"}
        });
    }
    json!({
        "extends": "base",
        "cluster": {
            "provider": "remote",
            "name": format!("bench-{index}"),
            "server": format!("https://bench-{index}.k8s.example.org:6443")
        },
        "vault": {"mode": "ha", "replicas": 3},
        "network": {
            "api_server_cidrs": [format!("10.{}.0.0/28", 100 + index)],
            "node_cidrs": [format!("10.{}.0.0/22", 100 + index)],
            "pod_cidrs": ["10.0.0.0/12"]
        },
        "argocd": {"repository_cidrs": ["0.0.0.0/0"]},
        "workloads": {"replicas": 2}
    })
}
