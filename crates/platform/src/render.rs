//! A planned environment as files: relative path to contents, ready for the writer.

use std::collections::{BTreeMap, HashMap};

use platform_core::application::{RenderedPaths, child_application, root_application};
use platform_core::component::{Component, Layer, Source};
use platform_core::manifest::{Manifest, to_yaml};

use std::sync::Arc;

use platform_memo::Generations;

use crate::hydrate::ChartTemplater;
use crate::incremental::{AppFiles, BuiltFile, EnvironmentMemo, Memo};
use crate::plan::{Plan, PlanError, plan};
use crate::{bootstrap, docs, projects};
use platform_core::model::{App, Environment};
use platform_core::waves::WaveError;
use platform_environments::{Diagnostic, LoadedEnvironment};

/// The files of `rendered/<name>/`, keyed by path relative to that folder.
#[derive(Clone, Debug, PartialEq)]
pub struct RenderedEnvironment {
    pub name: String,
    /// Shared: the writer's thread takes them while the environment's own goes on. Each
    /// file's contents are shared too: an object's file reused from an earlier render is the
    /// same allocation as that render's, and so is the tree a watch last wrote.
    pub files: Arc<BTreeMap<String, Arc<str>>>,
    /// The Kubernetes objects among the files, as built, with their paths, each reduced to
    /// what the invariants read of it: what they are checked on without parsing the YAML
    /// back. [`check`] takes them.
    pub objects: Vec<(String, Arc<serde_json::Value>)>,
    /// What the environment's Kyverno policies would admit but report (`Audit` failures),
    /// and teams over budget where budgets are not enforced.
    pub warnings: Vec<platform_validate::Finding>,
    /// What the environment costs a month, per Application.
    pub forecast: platform_cost::Forecast,
    /// Teams forecast over their budget where budgets are not enforced, at their budget line.
    pub over_budget: Vec<Diagnostic>,
}

/// An environment rendered, with the invariants it breaks; or why it does not render.
pub type Checked = Result<(RenderedEnvironment, Vec<platform_validate::Finding>), Vec<Diagnostic>>;

/// Renders and checks each environment ([`render`], then [`check`]), on up to `jobs`
/// threads, one environment each: environments share nothing. More jobs is faster and holds
/// as many environments in memory at once. Results come in the order of `loaded`, each the
/// files with the invariants they break, or the environment's errors.
///
/// `ready` is called, on the environment's thread, with each environment as soon as it
/// renders, before its invariants are checked: the caller may stage or compare its files
/// where nothing reads them yet while the check and the other environments go on, and may
/// take the files to do so. Whether the environment may be written is known only from the
/// results: one that breaks an invariant, or that the cluster or a budget would refuse, is
/// an error there, and what the caller did ahead with it must be undone.
pub fn render_checked(
    loaded: &[LoadedEnvironment],
    jobs: usize,
    templater: Option<&dyn ChartTemplater>,
    ready: &(dyn Fn(&mut RenderedEnvironment) + Sync),
) -> Vec<Checked> {
    render_checked_incrementally(loaded, jobs, templater, None, ready)
}

/// [`render_checked`], reusing what `memo` kept from earlier renders where what a step reads
/// has not changed ([`crate::incremental`]), and keeping this render's results for the next.
/// The results are those of [`render_checked`], byte for byte.
pub fn render_checked_incrementally(
    loaded: &[LoadedEnvironment],
    jobs: usize,
    templater: Option<&dyn ChartTemplater>,
    memo: Option<&Memo>,
    ready: &(dyn Fn(&mut RenderedEnvironment) + Sync),
) -> Vec<Checked> {
    let one = |environment: &LoadedEnvironment| {
        let Some(memo) = memo else {
            return check_rendered(environment, templater, None, ready);
        };
        let mut kept = memo.take(&environment.name);
        // An environment loaded exactly as last time renders as it did: every step reads
        // nothing but it (and the charts, which a watch does not see change).
        if let Some((tree, findings)) = kept.unchanged(environment) {
            let mut tree = tree.clone();
            let findings = findings.clone();
            ready(&mut tree);
            memo.put(&environment.name, kept, false);
            return Ok((tree, findings));
        }
        let result = check_rendered(environment, templater, Some(&mut kept), ready);
        kept.remember(environment, &result);
        memo.put(&environment.name, kept, true);
        result
    };
    let threads = jobs.min(loaded.len());
    if threads <= 1 {
        return loaded.iter().map(one).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut results: Vec<_> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(environment) = loaded.get(i) else {
                            return done;
                        };
                        done.push((i, one(environment)));
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| worker.join().expect("a render thread does not panic"))
            .collect()
    });
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, result)| result).collect()
}

/// Renders one environment, hands it to `ready`, then checks it.
fn check_rendered(
    environment: &LoadedEnvironment,
    templater: Option<&dyn ChartTemplater>,
    mut memo: Option<&mut EnvironmentMemo>,
    ready: &(dyn Fn(&mut RenderedEnvironment) + Sync),
) -> Checked {
    render_incrementally(environment, templater, memo.as_deref_mut()).and_then(|mut tree| {
        let checked = checked_tree(&mut tree);
        ready(&mut tree);
        let admission = memo.as_deref().map(|memo| &memo.admission);
        let report =
            platform_validate::check_built_with(&checked, &crate::conventions(), admission);
        drop(checked);
        let mut findings = report.findings;
        // A team's app the cluster would refuse is an error in the environment file.
        let mut refused = crate::admission::locate(environment, &mut findings);
        let (over_budget, warned) = crate::budgets::check(environment, &tree.forecast);
        refused.extend(over_budget);
        if !refused.is_empty() {
            return Err(refused);
        }
        tree.warnings = report.warnings;
        tree.over_budget = warned;
        Ok((tree, findings))
    })
}

/// The platform's invariants over one rendered environment, from the objects it was built
/// from; the objects are dropped once checked, since only the files are written.
pub fn check(rendered: &mut RenderedEnvironment) -> platform_validate::Report {
    platform_validate::check_built(&checked_tree(rendered), &crate::conventions())
}

/// What the invariants read of a rendered environment: the paths of its files, and the
/// objects it takes from it. The files themselves stay, free to go to the writer.
fn checked_tree(rendered: &mut RenderedEnvironment) -> platform_validate::RenderedTree {
    let name = rendered.name.clone();
    let prefix = |path: &str| format!("{name}/{path}");
    let files = rendered.files.keys().map(|p| prefix(p)).collect();
    let objects = std::mem::take(&mut rendered.objects)
        .into_iter()
        .map(|(path, object)| (prefix(&path), object))
        .collect();
    platform_validate::RenderedTree::from_objects(files, objects)
}

/// Plans and renders one loaded environment that does not hydrate its charts.
pub fn render(loaded: &LoadedEnvironment) -> Result<RenderedEnvironment, Vec<Diagnostic>> {
    render_with(loaded, None)
}

/// Plans and renders one loaded environment, templating its charts with `templater` where
/// it hydrates them (`argocd.hydrate`).
pub fn render_with(
    loaded: &LoadedEnvironment,
    templater: Option<&dyn ChartTemplater>,
) -> Result<RenderedEnvironment, Vec<Diagnostic>> {
    render_incrementally(loaded, templater, None)
}

/// [`render_with`], reusing the files `memo` kept for objects that serialize as they did.
fn render_incrementally(
    loaded: &LoadedEnvironment,
    templater: Option<&dyn ChartTemplater>,
    memo: Option<&mut EnvironmentMemo>,
) -> Result<RenderedEnvironment, Vec<Diagnostic>> {
    let mut plan = plan_located(loaded)?;
    crate::hydrate::hydrate(loaded, &mut plan, templater)?;
    render_planned(loaded, plan, memo)
}

/// Plans one loaded environment; each error points at the line of the field that caused it.
pub fn plan_located(loaded: &LoadedEnvironment) -> Result<Plan, Vec<Diagnostic>> {
    plan(&loaded.env).map_err(|errors| {
        errors
            .into_iter()
            .map(|error| {
                loaded.diagnostic(blame(&loaded.env, &error).as_deref(), error.to_string())
            })
            .collect()
    })
}

/// The field of the environment that caused a plan error, so the error points at its line.
fn blame(env: &Environment, error: &PlanError) -> Option<String> {
    let app_name = |name: &str| {
        env.apps
            .iter()
            .rposition(|app| app.name.as_str() == name)
            .map(|i| format!("apps[{i}].name"))
    };
    match error {
        PlanError::Duplicate { name } => app_name(name),
        PlanError::Wave(WaveError::DisabledDependency { dependency, .. }) => {
            Environment::toggle_path(dependency).map(str::to_owned)
        }
        PlanError::Wave(WaveError::UnknownDependency { component, .. }) => app_name(component),
        PlanError::Wave(WaveError::Cycle(path)) => path.iter().find_map(|name| app_name(name)),
        PlanError::Dangling { component, .. } => app_name(component),
    }
}

/// Renders an already planned environment.
pub fn render_plan(
    loaded: &LoadedEnvironment,
    plan: Plan,
) -> Result<RenderedEnvironment, Vec<Diagnostic>> {
    render_planned(loaded, plan, None)
}

fn render_planned(
    loaded: &LoadedEnvironment,
    plan: Plan,
    memo: Option<&mut EnvironmentMemo>,
) -> Result<RenderedEnvironment, Vec<Diagnostic>> {
    let env = &loaded.env;
    let paths = RenderedPaths::new(&loaded.name, env);
    let header = header(loaded);
    let (memo_files, memo_apps, app_files_reused) = match memo {
        Some(memo) => (
            Some(&mut memo.files),
            Some(&mut memo.apps),
            Some(&mut memo.app_files_reused),
        ),
        None => (None, None, None),
    };
    let mut files = Files::new(header.clone(), &loaded.source, memo_files);

    // What needs the whole plan first; then each component's objects are moved out of it.
    let mut doc_model = docs::model(loaded, &plan);
    for project in projects::projects(env, &plan, paths) {
        let manifest = Manifest::new(project);
        files.add_manifest(
            format!("apps/projects/{}.yaml", manifest.id.name),
            &manifest,
        );
    }
    let mut apps = memo_apps.map(|memo| AppReuse::new(memo, loaded, &header));
    for planned in plan.components {
        let (component, wave) = (planned.component, planned.wave);
        if let Some(apps) = apps.as_mut()
            && apps.keyed(&component, wave)
        {
            apps.add(&mut files, component, |files, component| {
                files.add_component(component, wave, env, paths)
            });
        } else {
            files.add_component(component, wave, env, paths);
        }
    }
    if let (Some(apps), Some(counted)) = (apps, app_files_reused) {
        *counted = apps.files_reused;
    }

    files.add_manifest(
        "bootstrap/root-app.yaml".to_owned(),
        &Manifest::new(root_application(env, paths)),
    );
    // Only the environment that manages its Argo CD installs it; the others of a hub use it.
    if env.argocd.enabled {
        files.add(
            "bootstrap/argocd-values.yaml".to_owned(),
            to_yaml(&bootstrap::argocd_values(env)),
        );
    }
    if let Some(kind) = bootstrap::kind_cluster(env) {
        files.add("bootstrap/kind-cluster.yaml".to_owned(), to_yaml(&kind));
    }
    if env.vault.enabled {
        // Scripts and policies carry their own header: a shebang must stay first.
        for (name, text) in component_vault::bootstrap::files(env) {
            files.add_verbatim(format!("bootstrap/vault/{name}"), text);
        }
    }

    // The cost is read from what was rendered, as `cargo xtask cost` reads it.
    let forecast = platform_cost::forecast(
        &loaded.name,
        &files.objects,
        &crate::catalog::CHARTS,
        &env.cost,
    );
    doc_model.cost = Some(docs::cost(env, &forecast));
    files.add_verbatim("README.md".to_owned(), platform_docs::readme(&doc_model));
    files.finish(&loaded.name, forecast)
}

/// The comment every rendered YAML file starts with: which files its values come from.
fn header(loaded: &LoadedEnvironment) -> String {
    match loaded.chain.as_slice() {
        [] | [_] => format!(
            "# Rendered by `cargo xtask render` from {}. Edit that file, not this one.\n",
            loaded.source
        ),
        [own, extended @ ..] => format!(
            "# Rendered by `cargo xtask render` from {own} (extends {}). Edit those files, not this one.\n",
            extended.join(", then ")
        ),
    }
}

/// The header of each object of a hydrated chart, in order: the Helm, the chart and the
/// template it came from, then the environment files its values come from.
fn chart_provenance(component: &Component, header: &str) -> Vec<String> {
    let Source::Helm(release) = &component.source else {
        return Vec::new();
    };
    let Some(hydrated) = &release.hydrated else {
        return Vec::new();
    };
    hydrated
        .objects
        .iter()
        .map(|object| {
            format!(
                "{CHART_PROVENANCE} {} from chart {} {} (schemas/charts/{}/), template {}.\n{header}",
                hydrated.templated_by,
                release.chart.name,
                release.version,
                release.chart.name,
                object.template
            )
        })
        .collect()
}

/// How the file of a hydrated chart's object starts: `# Templated by Helm v4.3.1 from chart …`.
pub const CHART_PROVENANCE: &str = "# Templated by";

/// Of a hydrated chart's object's file, what templated it (`Helm v4.3.1`) and the template it
/// came from, as its first line names them; `None` for any other file.
pub fn chart_provenance_of(file: &str) -> Option<(&str, &str)> {
    let rest = file.lines().next()?.strip_prefix(CHART_PROVENANCE)?;
    let (by, rest) = rest.split_once(" from chart ")?;
    let (_, template) = rest.split_once(", template ")?;
    Some((by.trim(), template.trim_end_matches('.')))
}

/// What the invariants read of an object: all of it for some kinds, else its head.
fn read_by_invariants(manifest: &Manifest) -> serde_json::Value {
    let read = if platform_validate::read_in_full(&manifest.id.kind) {
        manifest.to_json()
    } else {
        manifest.head()
    };
    platform_validate::needed_by_invariants(read)
}

/// Collects files and refuses two at the same path, which would silently lose one.
struct Files<'a> {
    header: String,
    source: &'a str,
    files: BTreeMap<String, Arc<str>>,
    objects: Vec<(String, Arc<serde_json::Value>)>,
    collisions: Vec<Diagnostic>,
    /// The objects' files earlier renders built, by path, with what they read.
    memo: Option<&'a mut Generations<String, Arc<BuiltFile>>>,
    /// What the object being added reads, for the memo: one buffer for all.
    input: Vec<u8>,
}

impl<'a> Files<'a> {
    fn new(
        header: String,
        source: &'a str,
        memo: Option<&'a mut Generations<String, Arc<BuiltFile>>>,
    ) -> Self {
        Self {
            header,
            source,
            files: BTreeMap::new(),
            objects: Vec::new(),
            collisions: Vec::new(),
            memo,
            input: Vec::new(),
        }
    }

    fn add(&mut self, path: String, yaml: String) {
        let text = format!("{}{yaml}", self.header);
        self.add_verbatim(path, text);
    }

    /// A Kubernetes object: its YAML is written, and what the invariants read of it kept,
    /// converted to JSON only as far as they read it.
    fn add_manifest(&mut self, path: String, manifest: &Manifest) -> Arc<BuiltFile> {
        let header = std::mem::take(&mut self.header);
        let built = self.add_with_header(path, &header, manifest);
        self.header = header;
        built
    }

    /// An object whose file starts with `header` (its own, for a hydrated chart's object):
    /// its YAML is written, and what the invariants read of it kept, converted to JSON only as
    /// far as they read it. Both are the memo's where the same object was filed at the same
    /// path under the same header before.
    fn add_with_header(
        &mut self,
        path: String,
        header: &str,
        manifest: &Manifest,
    ) -> Arc<BuiltFile> {
        let build = || {
            Arc::new(BuiltFile {
                text: Arc::from(format!("{header}{}", manifest.to_yaml())),
                read: Arc::new(read_by_invariants(manifest)),
            })
        };
        let built = match self.memo.as_deref_mut() {
            None => build(),
            Some(memo) => {
                let input = &mut self.input;
                input.clear();
                input.extend_from_slice(header.as_bytes());
                manifest.identify(input);
                memo.get_or_compute(path.clone(), input, build)
            }
        };
        self.add_built(path, &built);
        built
    }

    /// An object's file as built, by this render or an earlier one.
    fn add_built(&mut self, path: String, built: &BuiltFile) {
        self.add_verbatim(path.clone(), Arc::clone(&built.text));
        self.objects.push((path, Arc::clone(&built.read)));
    }

    /// A component's Application and the objects of its folder; returns their files.
    fn add_component(
        &mut self,
        component: Component,
        wave: i32,
        env: &Environment,
        paths: RenderedPaths<'_>,
    ) -> AppFiles {
        let mut added = Vec::new();
        let application = child_application(&component, wave, env, paths);
        let path = format!("apps/{}.yaml", component.name);
        added.push((
            path.clone(),
            self.add_manifest(path, &Manifest::new(application)),
        ));
        let folder = format!("manifests/{}", component.name);
        let paths: Vec<String> = component
            .folder_manifests()
            .map(|manifest| format!("{folder}/{}", component.file_path(manifest)))
            .collect();
        // A hydrated chart's objects come first, each saying which template it came from.
        let mut provenance = chart_provenance(&component, &self.header).into_iter();
        for (path, manifest) in paths.into_iter().zip(component.into_folder_manifests()) {
            let built = match provenance.next() {
                Some(header) => self.add_with_header(path.clone(), &header, &manifest),
                None => self.add_manifest(path.clone(), &manifest),
            };
            added.push((path, built));
        }
        added
    }

    fn add_verbatim(&mut self, path: String, text: impl Into<Arc<str>>) {
        if self.files.contains_key(&path) {
            self.collisions.push(Diagnostic {
                file: self.source.to_owned(),
                location: None,
                path: None,
                message: format!(
                    "two objects would be written to `{path}`; give them different names"
                ),
            });
            return;
        }
        self.files.insert(path, text.into());
    }

    fn finish(
        self,
        name: &str,
        forecast: platform_cost::Forecast,
    ) -> Result<RenderedEnvironment, Vec<Diagnostic>> {
        if self.collisions.is_empty() {
            Ok(RenderedEnvironment {
                name: name.to_owned(),
                files: std::sync::Arc::new(self.files),
                objects: self.objects,
                warnings: Vec::new(),
                forecast,
                over_budget: Vec::new(),
            })
        } else {
            Err(self.collisions)
        }
    }
}

/// Every environment's files in one map, keyed `<env>/<path>` as they lie under `rendered/`:
/// the tree the validator reads.
pub fn combined(rendered: &[RenderedEnvironment]) -> BTreeMap<String, String> {
    rendered
        .iter()
        .flat_map(|env| {
            env.files
                .iter()
                .map(move |(path, text)| (format!("{}/{path}", env.name), text.to_string()))
        })
        .collect()
}

/// Each app's files, reused whole where neither the app nor what it reads of its environment
/// ([`crate::incremental::app_context`]) changed: such an app is not serialized again, nor
/// its objects fingerprinted one by one.
struct AppReuse<'a> {
    memo: &'a mut Generations<String, Arc<AppFiles>>,
    apps: HashMap<&'a str, &'a App>,
    context: platform_memo::Fingerprint,
    input: Vec<u8>,
    files_reused: usize,
}

impl<'a> AppReuse<'a> {
    fn new(
        memo: &'a mut Generations<String, Arc<AppFiles>>,
        loaded: &'a LoadedEnvironment,
        header: &str,
    ) -> Self {
        Self {
            memo,
            apps: loaded
                .env
                .apps
                .iter()
                .map(|app| (app.name.as_str(), app))
                .collect(),
            context: crate::incremental::app_context(&loaded.name, header, &loaded.env),
            input: Vec::new(),
            files_reused: 0,
        }
    }

    /// Whether `component` is a user app whose files are reused by what they read, which it
    /// then holds for [`Self::add`]: not a platform component, nor an app the plan gave
    /// objects beyond its own.
    fn keyed(&mut self, component: &Component, wave: i32) -> bool {
        let Some(app) = self.apps.get(component.name.as_str()).copied() else {
            return false;
        };
        let own = component.layer == Layer::Applications
            && component.extra_manifests.is_empty()
            && matches!(component.source, Source::Manifests(_));
        if own {
            self.input.clear();
            self.input.extend_from_slice(&self.context.to_bytes());
            self.input.extend_from_slice(&wave.to_le_bytes());
            platform_memo::write_json(&mut self.input, app);
        }
        own
    }

    /// Adds an app's files: the memo's, or those `build` adds.
    fn add(
        &mut self,
        files: &mut Files<'_>,
        component: Component,
        build: impl FnOnce(&mut Files<'_>, Component) -> AppFiles,
    ) {
        let mut built = false;
        let app_files = self
            .memo
            .get_or_compute(component.name.clone(), &self.input, || {
                built = true;
                Arc::new(build(files, component))
            });
        if !built {
            self.files_reused += app_files.len();
            for (path, file) in app_files.iter() {
                files.add_built(path.clone(), file);
            }
        }
    }
}
