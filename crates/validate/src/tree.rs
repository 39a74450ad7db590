//! A rendered tree as objects: which environment and Application each belongs to.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;

use crate::report::Finding;

/// One Kubernetes object of the tree.
#[derive(Clone, Debug, PartialEq)]
pub struct RenderedObject {
    /// Path relative to the tree's root: `<env>/apps/<app>.yaml`, `<env>/manifests/<app>/…`.
    pub file: String,
    pub env: String,
    /// The child Application it belongs to: the Application itself for `apps/`, the owner of
    /// the folder for `manifests/`; `None` for the root Application.
    pub app: Option<String>,
    /// Shared: a render that reuses an unchanged object's file hands the invariants the
    /// value it kept, not a copy.
    pub object: Arc<Value>,
    /// What every check asks of every object, read once: looking a key up in the object
    /// hashes it each time.
    identity: Identity,
}

#[derive(Clone, Debug, Default, PartialEq)]
struct Identity {
    api_version: String,
    kind: String,
    name: String,
    namespace: Option<String>,
}

impl RenderedObject {
    pub fn new(
        file: String,
        env: String,
        app: Option<String>,
        object: impl Into<Arc<Value>>,
    ) -> Self {
        let object = object.into();
        let text = |value: &Value| value.as_str().map(str::to_owned);
        let metadata = &object["metadata"];
        let identity = Identity {
            api_version: text(&object["apiVersion"]).unwrap_or_default(),
            kind: text(&object["kind"]).unwrap_or_default(),
            name: text(&metadata["name"]).unwrap_or_default(),
            namespace: text(&metadata["namespace"]),
        };
        Self {
            file,
            env,
            app,
            object,
            identity,
        }
    }

    pub fn api_version(&self) -> &str {
        &self.identity.api_version
    }

    pub fn kind(&self) -> &str {
        &self.identity.kind
    }

    pub fn group(&self) -> &str {
        self.api_version()
            .rsplit_once('/')
            .map_or("", |(group, _)| group)
    }

    pub fn name(&self) -> &str {
        &self.identity.name
    }

    pub fn namespace(&self) -> Option<&str> {
        self.identity.namespace.as_deref()
    }

    pub fn is_application(&self) -> bool {
        self.api_version() == "argoproj.io/v1alpha1" && self.kind() == "Application"
    }

    /// An Application's sources, with the JSON pointer of each: `spec.source`, or each of
    /// `spec.sources` for a multi-source Application.
    pub fn sources(&self) -> Vec<(String, &Value)> {
        let spec = &self.object["spec"];
        match spec["sources"].as_array() {
            Some(sources) => sources
                .iter()
                .enumerate()
                .map(|(i, source)| (format!("/spec/sources/{i}"), source))
                .collect(),
            None if spec["source"].is_object() => {
                vec![("/spec/source".to_owned(), &spec["source"])]
            }
            None => Vec::new(),
        }
    }

    /// Whether the object is one of an environment's child Applications (in `apps/`).
    pub fn is_child_application(&self) -> bool {
        self.is_application() && self.file.split('/').nth(1) == Some("apps")
    }
}

/// The objects of a tree, in file order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RenderedTree {
    pub objects: Vec<RenderedObject>,
    /// Every file of the tree, objects or not, sorted: paths must point at something that
    /// exists.
    pub files: Vec<String>,
}

impl RenderedTree {
    pub fn environments(&self) -> Vec<&str> {
        let mut envs: Vec<&str> = self.objects.iter().map(|o| o.env.as_str()).collect();
        envs.dedup();
        envs.sort_unstable();
        envs.dedup();
        envs
    }

    pub fn in_env<'a>(&'a self, env: &'a str) -> impl Iterator<Item = &'a RenderedObject> + 'a {
        self.objects.iter().filter(move |o| o.env == env)
    }

    /// Whether some file's path starts with `folder`: a binary search, as `files` is sorted.
    pub fn has_file_under(&self, folder: &str) -> bool {
        let first = self.files.partition_point(|f| f.as_str() < folder);
        self.files.get(first).is_some_and(|f| f.starts_with(folder))
    }
}

/// Parses a tree in the generator's layout (`<env>/apps/`, `<env>/manifests/<app>/`,
/// `<env>/bootstrap/root-app.yaml`), keyed by path relative to its root. Other files (Helm
/// values, kind's config, documentation) are inputs of other tools and are skipped.
pub fn parse_tree(files: &BTreeMap<String, String>) -> (RenderedTree, Vec<Finding>) {
    let entries: Vec<(&String, &String)> = files.iter().collect();
    let parsed = in_parallel(&entries, |(file, text)| parse_one(file, text));
    let mut tree = RenderedTree {
        files: files.keys().cloned().collect(),
        ..RenderedTree::default()
    };
    let mut findings = Vec::new();
    for outcome in parsed.into_iter().flatten() {
        match outcome {
            Ok(object) => tree.objects.push(object),
            Err(finding) => findings.push(finding),
        }
    }
    (tree, findings)
}

/// One file of the layout as its object, or what is wrong with it; `None` for a file that
/// holds no object of the layout.
fn parse_one(file: &str, text: &str) -> Option<Result<RenderedObject, Finding>> {
    let (env, app) = place(file)?;
    // What block_yaml does not read is read as Argo CD reads it (YAML 1.1, then JSON).
    let parsed =
        crate::block_yaml::read(text).map_or_else(|| platform_kube_yaml::document(text), Ok);
    Some(match parsed {
        Ok(object) if object.get("apiVersion").is_some() && object.get("kind").is_some() => Ok(
            RenderedObject::new(file.to_owned(), env.to_owned(), app, object),
        ),
        Ok(object) => Err(Finding::new(
            file,
            "",
            "object",
            &object,
            "not a Kubernetes object: apiVersion and kind are required".to_owned(),
        )),
        Err(error) => Err(Finding::new(
            file,
            "",
            "yaml",
            &Value::Null,
            format!("not valid YAML: {error}"),
        )),
    })
}

/// `work` over every item, on as many threads as there are cores, results in item order.
/// Parsing YAML is most of what checking a large tree costs, and each file parses alone.
pub(crate) fn in_parallel<T: Sync, R: Send>(items: &[T], work: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .min(items.len() / 256 + 1);
    if threads <= 1 {
        return items.iter().map(&work).collect();
    }
    let chunk = items.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let workers: Vec<_> = items
            .chunks(chunk)
            .map(|part| scope.spawn(|| part.iter().map(&work).collect::<Vec<R>>()))
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| worker.join().expect("a parsing thread does not panic"))
            .collect()
    })
}

/// Where a file of the generator's layout belongs: its environment and, but for the root
/// Application, its child Application; `None` for a file that holds no object of the layout.
fn place(file: &str) -> Option<(&str, Option<String>)> {
    let mut parts = file.split('/');
    let (env, section) = (parts.next()?, parts.next()?);
    let app = match section {
        "apps" => parts
            .next()
            .and_then(|f| f.strip_suffix(".yaml"))
            .map(str::to_owned),
        "manifests" => parts.next().map(str::to_owned),
        "bootstrap" if file.ends_with("/root-app.yaml") => None,
        _ => return None,
    };
    file.ends_with(".yaml").then_some((env, app))
}

impl RenderedTree {
    /// A tree from objects already in memory (as this generator builds them, so nothing is
    /// parsed back): `files` are every file's path, `objects` the objects of those that hold
    /// one, each with its path. Objects outside the layout are left out, as [`parse_tree`]
    /// leaves them.
    pub fn from_objects(mut files: Vec<String>, objects: Vec<(String, Arc<Value>)>) -> Self {
        files.sort_unstable();
        let mut objects: Vec<RenderedObject> = objects
            .into_iter()
            .filter_map(|(file, object)| {
                let (env, app) = place(&file)?;
                let env = env.to_owned();
                Some(RenderedObject::new(file, env, app, object))
            })
            .collect();
        objects.sort_unstable_by(|a, b| a.file.cmp(&b.file));
        Self { objects, files }
    }
}

/// Parses a tree in no particular layout (a flat folder of manifests, a chart's output): every
/// document of every `.yaml`/`.yml` file is an object, with no environment or Application. An
/// object from a multi-document file is named `<file>#<n>` (1-based) in findings.
pub fn parse_plain(files: &BTreeMap<String, String>) -> (RenderedTree, Vec<Finding>) {
    let mut tree = RenderedTree::default();
    let mut findings = Vec::new();
    for (file, text) in files {
        tree.files.push(file.clone());
        if !(file.ends_with(".yaml") || file.ends_with(".yml")) {
            continue;
        }
        // A tree the generator did not write is read exactly as the API server's clients read
        // it: `defaultMode: 0444` is the number 292, `enabled: yes` is true.
        let documents = match platform_kube_yaml::documents(text) {
            Ok(documents) => documents,
            Err(error) => {
                findings.push(Finding::new(
                    file,
                    "",
                    "yaml",
                    &Value::Null,
                    format!("not valid YAML: {error}"),
                ));
                continue;
            }
        };
        let documents: Vec<Value> = documents.into_iter().filter(|d| !d.is_null()).collect();
        let several = documents.len() > 1;
        for (index, object) in documents.into_iter().enumerate() {
            let name = if several {
                format!("{file}#{}", index + 1)
            } else {
                file.clone()
            };
            if object.get("apiVersion").is_some() && object.get("kind").is_some() {
                tree.objects
                    .push(RenderedObject::new(name, String::new(), None, object));
            } else {
                findings.push(Finding::new(
                    &name,
                    "",
                    "object",
                    &object,
                    "not a Kubernetes object: apiVersion and kind are required".to_owned(),
                ));
            }
        }
    }
    (tree, findings)
}

const CREATE_NAMESPACE: &str = "CreateNamespace=true";

/// The labels each namespace of an environment will carry: a rendered Namespace's, and what an
/// Application that creates its destination namespace (`CreateNamespace=true`) sets on it
/// through `managedNamespaceMetadata`. What admission and cost allocation both go by.
pub fn namespace_labels<'a>(
    objects: impl IntoIterator<Item = &'a Value>,
) -> BTreeMap<String, BTreeMap<String, String>> {
    let strings = |value: &Value| -> BTreeMap<String, String> {
        value
            .as_object()
            .into_iter()
            .flatten()
            .filter_map(|(key, value)| value.as_str().map(|text| (key.clone(), text.to_owned())))
            .collect()
    };
    let mut labels: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for object in objects {
        // Read once: most objects are neither kind, and each lookup hashes the key.
        let kind = object["kind"].as_str();
        if kind == Some("Namespace") {
            if let Some(name) = object["metadata"]["name"].as_str() {
                labels
                    .entry(name.to_owned())
                    .or_default()
                    .extend(strings(&object["metadata"]["labels"]));
            }
            continue;
        }
        if kind != Some("Application") {
            continue;
        }
        let spec = &object["spec"];
        if spec["syncPolicy"]["syncOptions"]
            .as_array()
            .is_some_and(|options| {
                options
                    .iter()
                    .any(|option| option.as_str() == Some(CREATE_NAMESPACE))
            })
            && let Some(namespace) = spec["destination"]["namespace"].as_str()
        {
            labels
                .entry(namespace.to_owned())
                .or_default()
                .extend(strings(
                    &spec["syncPolicy"]["managedNamespaceMetadata"]["labels"],
                ));
        }
    }
    labels
}
