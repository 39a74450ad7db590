//! `cargo xtask render --watch`: renders on every save of an environment file, with what the
//! last render built kept in memory.
//!
//! Each save re-renders from the environment files as they are now, through the same checks
//! as `render`, reusing every object's file and every admission verdict whose inputs did not
//! change ([`platform::incremental`]). An edit that does not load, plan or check prints its
//! located errors and writes nothing: the last good tree stays. A good one writes only the
//! files that differ from the tree this process last wrote, found in memory
//! ([`platform_writer::write_changes`]), and prints one line. Saves that come in a burst (an
//! editor's write-then-rename, a `git checkout`) are rendered once, when they are done. When
//! the generator itself is rebuilt, the watch starts again as the new binary.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use platform::incremental::Memo;
use platform_checkout::Checkout;
use platform_writer::Tree;

use crate::Failure;
use crate::render;

/// How long the environment files must be quiet before a burst of saves is rendered: longer
/// than an editor takes between writing a file and renaming it into place, shorter than a
/// person notices.
const QUIET: Duration = Duration::from_millis(20);

pub fn run(
    checkout: &Checkout,
    only: Option<&str>,
    jobs: Option<usize>,
) -> Result<ExitCode, Failure> {
    let generator = std::env::current_exe().map_err(|e| Failure::Io(e.to_string()))?;
    let (sender, events) = std::sync::mpsc::channel();
    let mut watcher = notify::recommended_watcher(sender)
        .map_err(|e| Failure::Io(format!("watching environments/: {e}")))?;
    // Events name absolute paths: so is what they are compared with.
    let environments = checkout.root().join("environments");
    let environments = std::fs::canonicalize(&environments)
        .map_err(|e| Failure::Io(format!("{}: {e}", environments.display())))?;
    use notify::Watcher as _;
    watcher
        .watch(&environments, notify::RecursiveMode::NonRecursive)
        .map_err(|e| Failure::Io(format!("watching {}: {e}", environments.display())))?;
    if let Some(folder) = generator.parent() {
        // A rebuilt binary is renamed or linked into its folder: watched there, by name.
        watcher
            .watch(folder, notify::RecursiveMode::NonRecursive)
            .map_err(|e| Failure::Io(format!("watching {}: {e}", folder.display())))?;
    }
    let mut session = Session::new(checkout, only, jobs);
    println!(
        "watching {} (and the generator); each save renders into rendered/. Ctrl-C stops.",
        checkout.display(&checkout.root().join("environments"))
    );
    session.step();
    loop {
        match next_change(&events, &environments, &generator) {
            Change::Environments => session.step(),
            Change::Generator => restart(&generator),
            Change::Stopped(message) => return Err(Failure::Io(message)),
        }
    }
}

/// What a burst of file events changed.
enum Change {
    Environments,
    Generator,
    Stopped(String),
}

/// Waits for an event on an environment file or the generator, then for the burst it starts
/// to end.
fn next_change(
    events: &Receiver<notify::Result<notify::Event>>,
    environments: &Path,
    generator: &Path,
) -> Change {
    let mut change = None;
    loop {
        let event = if change.is_none() {
            events.recv().map_err(|_| RecvTimeoutError::Disconnected)
        } else {
            events.recv_timeout(QUIET)
        };
        match event {
            Ok(Ok(event)) => {
                if event.kind.is_access() {
                    continue;
                }
                for path in &event.paths {
                    if path == generator {
                        change = Some(Change::Generator);
                    } else if is_environment_file(path, environments) && change.is_none() {
                        change = Some(Change::Environments);
                    }
                }
            }
            Ok(Err(error)) => eprintln!("warning: watching: {error}"),
            Err(RecvTimeoutError::Timeout) => return change.unwrap_or(Change::Environments),
            Err(RecvTimeoutError::Disconnected) => {
                return Change::Stopped("the file watcher stopped".to_owned());
            }
        }
    }
}

/// An environment file, not an editor's swap or backup file beside it.
fn is_environment_file(path: &Path, environments: &Path) -> bool {
    path.parent() == Some(environments)
        && path
            .extension()
            .is_some_and(|extension| extension == "yaml" || extension == "yml")
        && !path
            .file_name()
            .is_some_and(|name| name.to_string_lossy().starts_with('.'))
}

/// Runs the rebuilt generator in this process's place, with the same arguments.
fn restart(generator: &Path) -> ! {
    println!("the generator was rebuilt: restarting");
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt as _;
        let error = std::process::Command::new(generator)
            .args(std::env::args_os().skip(1))
            .exec();
        eprintln!(
            "error: restarting {}: {error}; start the watch again",
            generator.display()
        );
    }
    #[cfg(not(unix))]
    eprintln!("start the watch again to use the rebuilt generator");
    std::process::exit(3)
}

/// A watch: the memo and the tree it last wrote, which the disk holds while it runs.
pub struct Session<'a> {
    checkout: &'a Checkout,
    only: Option<String>,
    jobs: usize,
    memo: Memo,
    written: Option<Vec<WrittenTree>>,
}

/// An environment's name and files, as the watch last wrote them.
type WrittenTree = (String, Arc<platform_writer::Files>);

/// What one good render of a watch did.
#[derive(Debug)]
pub struct Summary {
    pub written: Vec<PathBuf>,
    pub removed: Vec<PathBuf>,
    /// `<env>/<application>` of each Application whose files changed.
    pub applications: BTreeSet<String>,
    pub files_reused: usize,
    pub files_built: usize,
}

impl<'a> Session<'a> {
    pub fn new(checkout: &'a Checkout, only: Option<&str>, jobs: Option<usize>) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        Self {
            checkout,
            only: only.map(str::to_owned),
            jobs: jobs.unwrap_or(cores),
            memo: Memo::new(),
            written: None,
        }
    }

    /// Renders and prints what happened: the errors, or one line.
    pub fn step(&mut self) {
        let started = Instant::now();
        match self.render() {
            Ok(summary) => println!("{}", summary.line(started.elapsed())),
            Err(failure) => {
                failure.report();
                println!("waiting for the next save; rendered/ holds the last good render");
            }
        }
    }

    /// Renders the environment files as they are now and writes what changed, or nothing.
    pub fn render(&mut self) -> Result<Summary, Failure> {
        let inputs = render::Inputs::load(self.checkout, self.only.as_deref())?;
        let (loaded, scope) = (&inputs.loaded, inputs.scope);
        let templater = inputs.templater();
        let diagnostics = inputs.across_environments();
        let results = platform::render_checked_incrementally(
            loaded,
            self.jobs,
            templater,
            Some(&self.memo),
            &|_| {},
        );
        let names: Vec<&str> = loaded.iter().map(|env| env.name.as_str()).collect();
        self.memo.retain(&names);
        let rendered = render::accept(results, diagnostics)?;
        let (files_reused, files_built) = names
            .iter()
            .filter_map(|name| self.memo.reuse(name))
            .fold((0, 0), |(reused, built), reuse| {
                (reused + reuse.files_reused, built + reuse.files_built)
            });

        let output = self.checkout.rendered_dir();
        let after: Vec<Tree<'_>> = rendered.iter().map(render::tree).collect();
        let io = |e: std::io::Error| Failure::Io(format!("writing rendered/: {e}"));
        let outcome = match &self.written {
            None => platform_writer::write(&output, &after, scope).map_err(io)?,
            Some(written) => {
                let before: Vec<Tree<'_>> = written
                    .iter()
                    .map(|(name, files)| Tree { name, files })
                    .collect();
                platform_writer::write_changes(&output, &before, &after, scope).map_err(io)?
            }
        };
        self.written = Some(
            rendered
                .iter()
                .map(|env| (env.name.clone(), Arc::clone(&env.files)))
                .collect(),
        );
        let applications = outcome
            .written
            .iter()
            .chain(&outcome.removed)
            .filter_map(|path| application_of(path.strip_prefix(&output).ok()?))
            .collect();
        Ok(Summary {
            written: outcome.written,
            removed: outcome.removed,
            applications,
            files_reused,
            files_built,
        })
    }
}

/// `<env>/<application>` of a file below `rendered/` that belongs to one Application: its
/// own (`apps/<name>.yaml`) or one of its manifests (`manifests/<name>/…`).
fn application_of(path: &Path) -> Option<String> {
    let parts: Vec<&str> = path.iter().filter_map(|part| part.to_str()).collect();
    match parts.as_slice() {
        [env, "apps", file] => Some(format!("{env}/{}", file.strip_suffix(".yaml")?)),
        [env, "manifests", application, _, ..] => Some(format!("{env}/{application}")),
        _ => None,
    }
}

impl Summary {
    /// `rendered in 58 ms: 1 file written, 0 removed (Applications: dev/prometheus); 751 of 752
    /// objects reused`: an object is reused when its file is, as built for an earlier render.
    pub fn line(&self, took: Duration) -> String {
        let mut line = format!(
            "rendered in {} ms: {} written, {} removed",
            took.as_millis(),
            files(self.written.len()),
            self.removed.len()
        );
        if !self.applications.is_empty() {
            // An edit of base.yaml can touch every app of every environment: one line still.
            let names: Vec<&str> = self
                .applications
                .iter()
                .take(NAMED_APPLICATIONS)
                .map(String::as_str)
                .collect();
            let more = self.applications.len() - names.len();
            let more = if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            };
            line.push_str(&format!(" (Applications: {}{more})", names.join(", ")));
        }
        let objects = self.files_reused + self.files_built;
        line.push_str(&format!(
            "; {} of {objects} objects reused",
            self.files_reused
        ));
        line
    }
}

/// How many Applications the summary names; the rest are counted.
const NAMED_APPLICATIONS: usize = 5;

fn files(count: usize) -> String {
    if count == 1 {
        "1 file".to_owned()
    } else {
        format!("{count} files")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_belongs_to_the_application_whose_folder_or_file_it_is() {
        let of = |path: &str| application_of(Path::new(path));
        assert_eq!(of("dev/apps/vault.yaml").as_deref(), Some("dev/vault"));
        assert_eq!(
            of("dev/manifests/api/deployment-api.yaml").as_deref(),
            Some("dev/api")
        );
        assert_eq!(of("dev/apps/projects/team-a.yaml"), None);
        assert_eq!(of("dev/bootstrap/root-app.yaml"), None);
        assert_eq!(of("dev/README.md"), None);
    }

    #[test]
    fn the_summary_names_a_few_applications_and_counts_the_rest() {
        let summary = |applications: usize| Summary {
            written: vec![PathBuf::from("dev/apps/a.yaml")],
            removed: Vec::new(),
            applications: (0..applications)
                .map(|i| format!("dev/app-{i:02}"))
                .collect(),
            files_reused: 9,
            files_built: 1,
        };
        let took = Duration::from_millis(12);
        assert_eq!(
            summary(1).line(took),
            "rendered in 12 ms: 1 file written, 0 removed (Applications: dev/app-00); 9 of 10 objects reused"
        );
        assert_eq!(
            summary(7).line(took),
            "rendered in 12 ms: 1 file written, 0 removed (Applications: dev/app-00, dev/app-01, dev/app-02, dev/app-03, dev/app-04 and 2 more); 9 of 10 objects reused"
        );
    }

    #[test]
    fn editors_swap_and_backup_files_are_not_environment_files() {
        let environments = Path::new("/repo/environments");
        let is = |name: &str| is_environment_file(&environments.join(name), environments);
        assert!(is("dev.yaml"));
        assert!(is("base.yml"));
        assert!(!is(".dev.yaml.swp"));
        assert!(!is("dev.yaml~"));
        assert!(!is("4913"));
        assert!(!is("schema.json"));
        assert!(!is_environment_file(
            Path::new("/repo/environments/old/dev.yaml"),
            environments
        ));
    }
}
