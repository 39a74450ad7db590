//! The charts the tests hydrate with: the real Helm over the vendored charts when it is
//! installed (always in CI), else, on a machine without Helm, the chart objects the committed
//! `rendered/` holds, so that every test still runs over the hydrated environments. Either way
//! each chart is templated once per test binary for one set of values.

use std::collections::BTreeMap;
use std::sync::{Mutex, OnceLock};

use platform::hydrate::ChartTemplater;
use platform_helm::{HelmApplication, TemplateError, Templated, VendoredCharts};

/// The templater every hydrating render of the tests uses.
pub fn charts() -> &'static dyn ChartTemplater {
    static CHARTS: OnceLock<Memo> = OnceLock::new();
    CHARTS.get_or_init(|| {
        let inner: Box<dyn ChartTemplater + Send> = match crate::helm() {
            Some(helm) => {
                let charts = VendoredCharts::new(helm.clone(), &crate::schemas_dir())
                    .unwrap_or_else(|e| panic!("{e}"));
                Box::new(match platform_helm::cache_beside_this_build() {
                    Some(cache) => charts.cached_in(cache),
                    None => charts,
                })
            }
            None => {
                eprintln!(
                    "the hydrated environments' chart objects are read from the committed rendered/, not templated"
                );
                Box::new(Committed::read())
            }
        };
        Memo {
            inner,
            done: Mutex::new(BTreeMap::new()),
        }
    })
}

/// Remembers what was templated for one set of inputs: the tests render prod many times.
struct Memo {
    inner: Box<dyn ChartTemplater + Send>,
    done: Mutex<BTreeMap<String, Result<Templated, TemplateError>>>,
}

fn key(app: &HelmApplication) -> String {
    format!(
        "{}/{} {} {} {} {} {}",
        app.environment,
        app.name,
        app.chart,
        app.version,
        app.release_name,
        app.namespace,
        app.values
    )
}

impl ChartTemplater for Memo {
    fn template(&self, releases: &[HelmApplication]) -> Vec<Result<Templated, TemplateError>> {
        let missing: Vec<HelmApplication> = {
            let done = self.done.lock().expect("no test panics holding it");
            releases
                .iter()
                .filter(|app| !done.contains_key(&key(app)))
                .cloned()
                .collect()
        };
        let templated = self.inner.template(&missing);
        let mut done = self.done.lock().expect("no test panics holding it");
        for (app, result) in missing.iter().zip(templated) {
            done.insert(key(app), result);
        }
        releases.iter().map(|app| done[&key(app)].clone()).collect()
    }

    fn templated_by(&self) -> String {
        self.inner.templated_by()
    }
}

/// The chart objects of the committed `rendered/`: each file that says which Helm templated
/// it from which template. The chart's Application is found by its folder.
struct Committed {
    templated_by: String,
    /// By environment and folder: each object's template and text.
    folders: BTreeMap<(String, String), Vec<(String, String)>>,
}

impl Committed {
    fn read() -> Self {
        let mut templated_by = None;
        let mut folders: BTreeMap<(String, String), Vec<(String, String)>> = BTreeMap::new();
        let rendered = crate::workspace_root().join("rendered");
        let committed = platform_checkout::read_tree(&rendered)
            .unwrap_or_else(|e| panic!("{}: {e}", rendered.display()));
        for (path, text) in committed.files {
            let Some((by, template)) = platform::render::chart_provenance_of(&text) else {
                continue;
            };
            let (by, template) = (by.to_owned(), template.to_owned());
            templated_by.get_or_insert(by);
            let mut parts = path.split('/');
            let (Some(env), Some("manifests"), Some(folder)) =
                (parts.next(), parts.next(), parts.next())
            else {
                panic!("{path}: a chart object outside manifests/<app>/");
            };
            folders
                .entry((env.to_owned(), folder.to_owned()))
                .or_default()
                .push((template, text));
        }
        Self {
            templated_by: templated_by.unwrap_or_else(|| "Helm (none committed)".to_owned()),
            folders,
        }
    }

    /// The folder of an Application: its name, less the environment's prefix on a hub.
    fn objects_of(&self, app: &HelmApplication) -> Option<&Vec<(String, String)>> {
        let env = app.environment.clone();
        self.folders
            .get(&(env.clone(), app.name.clone()))
            .or_else(|| {
                let folder = app.name.strip_prefix(&format!("{env}-"))?;
                self.folders.get(&(env, folder.to_owned()))
            })
    }
}

impl ChartTemplater for Committed {
    fn template(&self, releases: &[HelmApplication]) -> Vec<Result<Templated, TemplateError>> {
        releases
            .iter()
            .map(|app| {
                let Some(objects) = self.objects_of(app) else {
                    return Err(TemplateError::Output {
                        application: app.id(),
                        message: "nothing: rendered/ holds no hydrated object of it, and Helm is not installed to template it".to_owned(),
                    });
                };
                let text: String = objects
                    .iter()
                    .map(|(template, text)| format!("---\n# Source: {template}\n{text}"))
                    .collect();
                Templated::parse(&text).map_err(|message| TemplateError::Output {
                    application: app.id(),
                    message,
                })
            })
            .collect()
    }

    fn templated_by(&self) -> String {
        self.templated_by.clone()
    }
}
