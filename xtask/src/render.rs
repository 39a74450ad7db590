//! `cargo xtask render [--env NAME] [--check]`.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::mpsc::Receiver;

use platform::RenderedEnvironment;
use platform::hydrate::ChartTemplater;
use platform_checkout::Checkout;
use platform_writer::{Ahead, Scope, Tree, ledger};

use crate::environments::{load_all, load_one};
use crate::progress::{Counts, Progress, thousands};
use crate::{Failure, editor_schema, hydrating};

pub fn run(
    checkout: &Checkout,
    only: Option<&str>,
    check: bool,
    jobs: Option<usize>,
) -> Result<ExitCode, Failure> {
    let output = checkout.rendered_dir();
    // A full render whose inputs are those of the last one, over a tree that is still as it
    // left it, has nothing to do. `--check` always compares contents.
    let fingerprint = (only.is_none() && !check)
        .then(|| fingerprint(checkout))
        .flatten();
    if let Some(fingerprint) = fingerprint
        && let Some(folders) = ledger::unchanged(&output, fingerprint)
            .map_err(|e| Failure::Io(format!("reading rendered/: {e}")))?
    {
        for (name, files) in folders {
            println!("rendered/{name}/: {files} files, 0 written");
        }
        return Ok(ExitCode::SUCCESS);
    }
    let inputs = Inputs::load(checkout, only)?;
    let (loaded, scope) = (&inputs.loaded, inputs.scope);
    let templater = inputs.templater();
    let jobs = jobs.unwrap_or_else(|| default_jobs(&output, loaded, check));
    let diagnostics = inputs.across_environments();
    let status = RenderStatus::new(loaded.len());
    let progress = status.show();
    // The invariants hold for what is about to be written, or nothing is written. Each
    // environment is checked as it is rendered, from the objects it was built from, which are
    // then dropped. Its files go to the disk's thread first, which stages or compares them
    // where nothing reads them while the check runs, and keeps of them only what the write
    // will need; if any environment fails, everything staged is removed.
    let (results, staged) = if check {
        let results = platform::render_checked(loaded, jobs, templater, &|tree| {
            status.rendered(tree);
        });
        (results, Staged::nothing(&output))
    } else {
        let disk = DiskAhead::new(&output, Arc::clone(&status.counts));
        let (results, disk) = std::thread::scope(|scope| {
            // Renders run ahead of the disk by no more environments than render at once: one
            // that waits for the disk holds all its files, and rendering another meanwhile
            // only holds more, when the disk is what takes the time.
            let (sender, receiver) = std::sync::mpsc::sync_channel(jobs - 1);
            let worker = scope.spawn(move || disk.run(receiver));
            // The disk's thread writes or compares the files while the environment's own
            // thread goes on to the next environment.
            let results = platform::render_checked(loaded, jobs, templater, &|tree| {
                status.rendered(tree);
                let _ = sender.send((tree.name.clone(), std::mem::take(&mut tree.files)));
            });
            drop(sender);
            let disk = worker.join().expect("the disk's thread does not panic");
            (results, disk)
        });
        (results, disk.finish()?)
    };
    // Warnings and errors are printed from here: the status line goes first.
    drop(progress);
    let rendered = match accept(results, diagnostics) {
        Ok(rendered) => rendered,
        Err(failure) => {
            staged.discard()?;
            return Err(failure);
        }
    };

    let trees: Vec<Tree<'_>> = rendered.iter().map(tree).collect();
    if check {
        return check_only(checkout, &trees, scope);
    }

    let io = |e: std::io::Error| Failure::Io(format!("writing rendered/: {e}"));
    // The files of an environment done ahead were handed over: counted there.
    let counts: Vec<usize> = trees
        .iter()
        .map(|tree| staged.ahead.files(tree.name).unwrap_or(tree.files.len()))
        .collect();
    // No need to forget the ledger first: whatever this writes is newer than the ledger, so
    // the ledger no longer vouches for it; a full render records a new one.
    let outcome = platform_writer::write_staged(&output, &trees, scope, staged.ahead, fingerprint)
        .map_err(io)?;
    for removed in &outcome.removed {
        println!("removed {}", checkout.display(removed));
    }
    for (tree, files) in rendered.iter().zip(counts) {
        let written = outcome
            .written
            .iter()
            .filter(|p| p.starts_with(output.join(&tree.name)))
            .count();
        println!("rendered/{}/: {files} files, {written} written", tree.name);
    }
    Ok(ExitCode::SUCCESS)
}

/// What a render reads: the environments to render (every one, or the one named, with the
/// scope of the write that follows) and the Helm that templates their charts where they
/// hydrate them.
pub struct Inputs {
    pub loaded: Vec<platform::LoadedEnvironment>,
    pub scope: Scope,
    charts: Option<platform_helm::VendoredCharts>,
}

impl Inputs {
    pub fn load(checkout: &Checkout, only: Option<&str>) -> Result<Self, Failure> {
        let (loaded, scope) = match only {
            None => (load_all(checkout, Failure::Render)?, Scope::Everything),
            Some(name) => (
                vec![load_one(checkout, name, Failure::Render)?],
                Scope::OnlyThese,
            ),
        };
        let charts = hydrating::charts(checkout, &loaded)?;
        Ok(Self {
            loaded,
            scope,
            charts,
        })
    }

    pub fn templater(&self) -> Option<&dyn ChartTemplater> {
        self.charts
            .as_ref()
            .map(|charts| charts as &dyn ChartTemplater)
    }

    /// What is wrong across environments (hubs), found only when every one is rendered.
    pub fn across_environments(&self) -> Vec<platform::Diagnostic> {
        if self.scope == Scope::Everything {
            platform::check_hubs(&self.loaded)
        } else {
            Vec::new()
        }
    }
}

/// The environments rendered, if every one is good and `diagnostics` (what was found across
/// them) is empty; else every environment's errors, or, if none has any, every invariant
/// broken. Warnings are printed either way.
pub fn accept(
    results: Vec<platform::render::Checked>,
    mut diagnostics: Vec<platform::Diagnostic>,
) -> Result<Vec<RenderedEnvironment>, Failure> {
    let mut rendered = Vec::new();
    let mut broken = Vec::new();
    for result in results {
        match result {
            Ok((tree, mut findings)) => {
                broken.append(&mut findings);
                rendered.push(tree);
            }
            Err(mut errors) => diagnostics.append(&mut errors),
        }
    }
    for tree in &rendered {
        for warning in &tree.warnings {
            eprintln!("warning: rendered/{warning}");
        }
        for warning in &tree.over_budget {
            eprintln!("warning: {warning}");
        }
    }
    if !diagnostics.is_empty() {
        return Err(Failure::Render(diagnostics));
    }
    if !broken.is_empty() {
        return Err(Failure::Invariants(broken));
    }
    Ok(rendered)
}

fn check_only(checkout: &Checkout, trees: &[Tree<'_>], scope: Scope) -> Result<ExitCode, Failure> {
    let output = checkout.rendered_dir();
    let mut drift = platform_writer::check(&output, trees, scope)
        .map_err(|e| Failure::Io(format!("reading rendered/: {e}")))?;
    drift.extend(editor_schema::drift(checkout)?);
    if drift.is_empty() {
        println!(
            "rendered/ and {} are current ({} environment(s))",
            editor_schema::FILE,
            trees.len()
        );
        return Ok(ExitCode::SUCCESS);
    }
    for difference in &drift {
        println!(
            "{}: {}",
            difference.kind(),
            checkout.display(difference.path())
        );
    }
    eprintln!(
        "{} file(s) out of date: run `cargo xtask render` (and `cargo xtask schema`) and commit them",
        drift.len()
    );
    Ok(ExitCode::from(1))
}

/// What is done on the disk while environments still render, on a thread of its own, as
/// each environment renders and while its invariants are checked: a new environment folder is
/// written whole into a hidden staging folder (renamed into place only if every environment
/// is good), an existing one is compared with its files. Nothing visible changes until the
/// write, and nothing at all if any environment fails.
struct DiskAhead<'a> {
    output: &'a Path,
    output_existed: bool,
    ahead: Ahead,
    failed: Option<std::io::Error>,
    /// The environments done, for the status line.
    counts: Arc<Counts>,
}

/// What the status line of a render counts.
const RENDERED: usize = 0;
const FILES: usize = 1;
const ON_DISK: usize = 2;

/// The status line of a render: environments rendered of all, their files, and how many of
/// them the disk's thread has staged or compared.
struct RenderStatus {
    counts: Arc<Counts>,
    environments: usize,
}

impl RenderStatus {
    fn new(environments: usize) -> Self {
        let counts = Counts::new();
        Self {
            counts,
            environments,
        }
    }

    fn rendered(&self, tree: &RenderedEnvironment) {
        self.counts.add(FILES, tree.files.len());
        self.counts.add(RENDERED, 1);
    }

    fn show(&self) -> Progress {
        let (counts, environments) = (Arc::clone(&self.counts), self.environments);
        Progress::on_terminal(move || {
            format!(
                "rendering: {} of {environments} environment(s) rendered ({} files), {} on disk",
                counts.get(RENDERED),
                thousands(counts.get(FILES)),
                counts.get(ON_DISK),
            )
        })
    }
}

/// What [`DiskAhead`] did.
struct Staged<'a> {
    output: &'a Path,
    output_existed: bool,
    ahead: Ahead,
}

impl<'a> DiskAhead<'a> {
    fn new(output: &'a Path, counts: Arc<Counts>) -> Self {
        Self {
            output,
            output_existed: output.exists(),
            ahead: Ahead::default(),
            failed: None,
            counts,
        }
    }

    /// Stages or compares each environment it is sent, until the sender is dropped; run on a
    /// thread of its own, which hands it back.
    fn run(mut self, environments: Receiver<(String, Arc<platform_writer::Files>)>) -> Self {
        // Read before this thread writes anything.
        let ledger = ledger::Ledger::load(self.output);
        for (name, files) in environments {
            let tree = Tree {
                name: &name,
                files: &files,
            };
            if let Err(error) = self.one(&tree, ledger.as_ref()) {
                self.failed.get_or_insert(error);
            }
            self.counts.add(ON_DISK, 1);
        }
        self
    }

    fn one(&mut self, tree: &Tree<'_>, ledger: Option<&ledger::Ledger>) -> std::io::Result<()> {
        if let Some(staged) = platform_writer::stage(self.output, tree)? {
            self.ahead.staged.insert(tree.name.to_owned(), staged);
        } else {
            let comparison = platform_writer::compare_ahead(self.output, tree, ledger)?;
            self.ahead.compared.insert(tree.name.to_owned(), comparison);
        }
        Ok(())
    }

    /// What was done; an error, with everything staged removed, if anything failed.
    fn finish(self) -> Result<Staged<'a>, Failure> {
        let staged = Staged {
            output: self.output,
            output_existed: self.output_existed,
            ahead: self.ahead,
        };
        match self.failed {
            None => Ok(staged),
            Some(error) => {
                staged.discard()?;
                Err(Failure::Io(format!("writing rendered/: {error}")))
            }
        }
    }
}

impl<'a> Staged<'a> {
    /// Nothing done ahead: `--check` writes nothing.
    fn nothing(output: &'a Path) -> Self {
        Self {
            output,
            output_existed: output.exists(),
            ahead: Ahead::default(),
        }
    }

    /// Removes what was staged: a render that writes nothing leaves the disk as it was.
    fn discard(&self) -> Result<(), Failure> {
        platform_writer::discard_staged(
            self.output,
            self.ahead.staged.keys().map(String::as_str),
            self.output_existed,
        )
        .map_err(|e| Failure::Io(format!("writing rendered/: {e}")))
    }
}

/// Environments rendered at once unless `--jobs` says: one per core, since environments share
/// nothing; but one at a time when every environment is written into a new folder. Such a
/// render is bound by creating files, which the disk's thread does on every core while the
/// next environment renders, and a second render at once would only hold a second
/// environment's objects in memory while the disk catches up.
fn default_jobs(output: &Path, loaded: &[platform::LoadedEnvironment], check: bool) -> usize {
    let all_new = !check && loaded.iter().all(|env| !output.join(&env.name).exists());
    if all_new {
        1
    } else {
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
    }
}

/// What a full render's output depends on: this generator (its executable, by size and
/// time, which every build changes), every environment file, by name and contents, and
/// what hydrating charts reads (`schemas/` and the Helm that would run, by size and time).
/// `None` when one cannot be read, so the render never trusts a ledger.
fn fingerprint(checkout: &Checkout) -> Option<u64> {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::hash::DefaultHasher::new();
    stamp_generator(&mut hasher)?;
    for file in checkout.environment_files().ok()? {
        file.path.hash(&mut hasher);
        file.contents.hash(&mut hasher);
    }
    hydrating::fingerprint(checkout, &mut hasher)?;
    Some(hasher.finish())
}

/// Feeds `hasher` this generator's executable by size and time, which every build changes:
/// what a ledger recorded by another build must not be trusted.
pub(crate) fn stamp_generator(hasher: &mut impl std::hash::Hasher) -> Option<()> {
    use std::hash::Hash;
    let executable = std::fs::metadata(std::env::current_exe().ok()?).ok()?;
    executable.len().hash(hasher);
    executable.modified().ok()?.hash(hasher);
    Some(())
}

pub fn tree(rendered: &RenderedEnvironment) -> Tree<'_> {
    Tree {
        name: &rendered.name,
        files: &rendered.files,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// New folders are written whole, bound by the disk: one environment renders at a time.
    /// Once any folder exists, a render compares, bound by the CPU: one per core. A check
    /// writes nothing, and uses every core.
    #[test]
    fn environments_render_one_at_a_time_only_into_new_folders() {
        let checkout = Checkout::locate().unwrap();
        let Ok(loaded) = load_all(&checkout, Failure::Render) else {
            panic!("the committed environments load");
        };
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        let output = std::env::temp_dir().join(format!("xtask-jobs-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&output);
        assert_eq!(default_jobs(&output, &loaded, false), 1);
        assert_eq!(default_jobs(&output, &loaded, true), cores);
        std::fs::create_dir_all(output.join(&loaded[0].name)).unwrap();
        assert_eq!(default_jobs(&output, &loaded, false), cores);
        std::fs::remove_dir_all(&output).unwrap();
    }

    #[test]
    fn the_check_before_writing_refuses_a_tree_that_breaks_an_invariant() {
        let checkout = Checkout::locate().unwrap();
        let files = checkout.environment_files().unwrap();
        let dev = platform::load_matching(&files, |n| n == "dev").unwrap();
        let rendered = platform::render(&dev[0]).unwrap();
        assert!(platform::check(&mut rendered.clone()).is_ok());

        let mut broken = rendered;
        std::sync::Arc::make_mut(&mut broken.files).remove("bootstrap/root-app.yaml");
        broken
            .objects
            .retain(|(path, _)| path != "bootstrap/root-app.yaml");
        let report = platform::check(&mut broken);
        assert!(
            report.findings.iter().any(|f| f.rule == "root-application"),
            "{:?}",
            report.findings
        );
        assert!(
            broken.objects.is_empty(),
            "the objects are dropped once checked"
        );
    }
}
