//! What must hold across one environment of a rendered tree, beyond each object's schema.

use std::collections::{BTreeMap, BTreeSet};

use platform_core::labels;
use platform_core::model::ChartVersion;
use platform_core::model::check_repo_url;
use serde_json::Value;

use crate::report::Finding;
use crate::tree::{RenderedObject, RenderedTree};

/// Which chart installs the CRDs of an API group.
const CRD_PROVIDERS: &[(&str, &str)] = &[
    ("argoproj.io", "argo-cd"),
    ("external-secrets.io", "external-secrets"),
    ("kyverno.io", "kyverno"),
    ("metallb.io", "metallb"),
    ("monitoring.coreos.com", "kube-prometheus-stack"),
];

/// Kinds that are not namespaced.
const CLUSTER_SCOPED: &[&str] = &[
    "Namespace",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "ClusterPolicy",
    "ClusterSecretStore",
    "ClusterExternalSecret",
    "PersistentVolume",
    "StorageClass",
    "PriorityClass",
    "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration",
];

/// Kinds that run pods, and where their pod template's metadata is.
const WORKLOADS: &[(&str, &str)] = &[
    ("Deployment", "/spec/template/metadata"),
    ("StatefulSet", "/spec/template/metadata"),
    ("DaemonSet", "/spec/template/metadata"),
    ("Job", "/spec/template/metadata"),
    ("CronJob", "/spec/jobTemplate/spec/template/metadata"),
    ("Pod", ""),
];

const SKIP_DRY_RUN: &str = "SkipDryRunOnMissingResource=true";

pub fn check(tree: &RenderedTree) -> Vec<Finding> {
    tree.environments()
        .into_iter()
        .flat_map(|env| Environment::new(tree, env).check())
        .collect()
}

struct Environment<'a> {
    name: &'a str,
    tree: &'a RenderedTree,
    objects: Vec<&'a RenderedObject>,
    /// Child Applications by name.
    applications: BTreeMap<&'a str, &'a RenderedObject>,
    waves: BTreeMap<&'a str, i64>,
    findings: Vec<Finding>,
}

impl<'a> Environment<'a> {
    fn new(tree: &'a RenderedTree, name: &'a str) -> Self {
        let objects: Vec<&RenderedObject> = tree.in_env(name).collect();
        let applications: BTreeMap<&str, &RenderedObject> = objects
            .iter()
            .filter(|o| o.is_child_application())
            .map(|o| (o.name(), *o))
            .collect();
        let waves = applications
            .iter()
            .filter_map(|(name, app)| {
                let wave = app.object["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"]
                    .as_str()?
                    .parse()
                    .ok()?;
                Some((*name, wave))
            })
            .collect();
        Self {
            name,
            tree,
            objects,
            applications,
            waves,
            findings: Vec::new(),
        }
    }

    fn check(mut self) -> Vec<Finding> {
        self.applications_are_ordered_and_sourced();
        self.no_secret_values();
        self.namespaces_exist_in_time();
        self.custom_resources_follow_their_crds();
        self.external_secrets_read_a_store_they_may_read();
        self.workload_secrets_exist_in_time();
        self.objects_are_unique();
        self.workloads_carry_cost_labels();
        self.applications_stay_within_their_projects();
        self.findings
    }

    fn finding(
        &mut self,
        object: &RenderedObject,
        pointer: &str,
        rule: &str,
        value: &Value,
        message: String,
    ) {
        self.findings
            .push(Finding::new(&object.file, pointer, rule, value, message));
    }

    fn wave_of(&self, object: &RenderedObject) -> Option<i64> {
        object
            .app
            .as_deref()
            .and_then(|app| self.waves.get(app).copied())
    }

    fn root_repo(&self) -> Option<&'a str> {
        self.objects
            .iter()
            .find(|o| o.is_application() && o.app.is_none())
            .and_then(|root| root.object["spec"]["source"]["repoURL"].as_str())
    }

    fn applications_are_ordered_and_sourced(&mut self) {
        let repo = self.root_repo();
        if repo.is_none()
            && let Some(first) = self.objects.first()
        {
            let file = format!("{}/bootstrap/root-app.yaml", self.name);
            self.findings.push(Finding::new(
                &file,
                "",
                "root-application",
                &Value::String(first.env.clone()),
                "the environment has no root Application, so nothing says which Git repository it lives in".to_owned(),
            ));
        }
        if let Some(url) = repo
            && let Err(message) = check_repo_url(url)
        {
            let root = self
                .objects
                .iter()
                .copied()
                .find(|o| o.is_application() && o.app.is_none());
            if let Some(root) = root {
                self.finding(
                    root,
                    "/spec/source/repoURL",
                    "repo-url",
                    &Value::String(url.to_owned()),
                    message,
                );
            }
        }
        let applications: Vec<&RenderedObject> = self.applications.values().copied().collect();
        for app in applications {
            let wave = &app.object["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"];
            if wave.as_str().and_then(|w| w.parse::<i64>().ok()).is_none() {
                self.finding(app, "/metadata/annotations/argocd.argoproj.io~1sync-wave", "sync-wave", wave, "a child Application needs an integer sync wave, or the root Application orders nothing".to_owned());
            }
            for (pointer, source) in app.sources() {
                if let Some(path) = source["path"].as_str() {
                    let folder = path.strip_prefix("rendered/").map(|p| format!("{p}/"));
                    let exists = folder.as_ref().is_some_and(|folder| {
                        self.tree
                            .files
                            .iter()
                            .any(|f| f.starts_with(folder.as_str()))
                    });
                    if !exists {
                        self.finding(
                        app,
                        "/spec/source/path",
                        "app-path",
                        &source["path"],
                        format!(
                            "`{path}` holds no rendered file; Argo CD would sync nothing, or fail"
                        ),
                    );
                    }
                    if let (Some(expected), Some(actual)) = (repo, source["repoURL"].as_str())
                        && expected != actual
                    {
                        self.finding(app, &format!("{pointer}/repoURL"), "app-repo", &source["repoURL"], format!("the environment's manifests live in {expected}, the root Application's repository"));
                    }
                }
                if source["chart"].is_string() {
                    let version = source["targetRevision"].as_str().unwrap_or_default();
                    if ChartVersion::try_from(version).is_err() {
                        self.finding(app, &format!("{pointer}/targetRevision"), "helm-pinned", &source["targetRevision"], "a Helm source must pin an exact chart version, or a new release changes the cluster without a commit".to_owned());
                    }
                }
            }
        }
    }

    fn no_secret_values(&mut self) {
        let secrets: Vec<&RenderedObject> = self
            .objects
            .iter()
            .copied()
            .filter(|o| o.api_version() == "v1" && o.kind() == "Secret")
            .collect();
        for secret in secrets {
            for field in ["data", "stringData"] {
                if secret.object.get(field).is_some_and(|v| !v.is_null()) {
                    self.finding(secret, &format!("/{field}"), "secret-values", &Value::String("<redacted>".into()), "a Secret in Git carries its values; secrets reach the cluster only through ExternalSecrets".to_owned());
                }
            }
        }
    }

    /// Namespaces, and the wave from which each exists.
    fn namespaces(&self) -> BTreeMap<&'a str, i64> {
        let mut namespaces: BTreeMap<&str, i64> = BTreeMap::new();
        let mut add = |name: &'a str, wave: i64| {
            let entry = namespaces.entry(name).or_insert(wave);
            *entry = (*entry).min(wave);
        };
        for object in &self.objects {
            if object.api_version() == "v1"
                && object.kind() == "Namespace"
                && let Some(wave) = self.wave_of(object)
            {
                add(object.name(), wave);
            }
        }
        for (name, app) in &self.applications {
            let creates = app.object["spec"]["syncPolicy"]["syncOptions"]
                .as_array()
                .is_some_and(|o| o.iter().any(|o| o == "CreateNamespace=true"));
            if creates
                && let (Some(namespace), Some(wave)) = (
                    app.object["spec"]["destination"]["namespace"].as_str(),
                    self.waves.get(name),
                )
            {
                add(namespace, *wave);
            }
        }
        namespaces
    }

    fn namespaces_exist_in_time(&mut self) {
        let namespaces = self.namespaces();
        let objects: Vec<&RenderedObject> = self
            .objects
            .iter()
            .copied()
            .filter(|o| !o.is_application() && !CLUSTER_SCOPED.contains(&o.kind()))
            .collect();
        for object in objects {
            let Some(wave) = self.wave_of(object) else {
                continue;
            };
            let Some(namespace) = object.namespace() else {
                self.finding(
                    object,
                    "/metadata/namespace",
                    "namespace",
                    &Value::Null,
                    format!("a namespaced {} needs metadata.namespace", object.kind()),
                );
                continue;
            };
            match namespaces.get(namespace) {
                None => self.finding(object, "/metadata/namespace", "namespace", &Value::String(namespace.into()), format!("namespace `{namespace}` is neither rendered nor created by an Application (CreateNamespace=true)")),
                Some(created) if *created > wave => self.finding(object, "/metadata/namespace", "wave-deadlock", &Value::String(namespace.into()), format!("namespace `{namespace}` appears in wave {created}, after this object's wave {wave}")),
                Some(_) => {}
            }
        }
    }

    fn custom_resources_follow_their_crds(&mut self) {
        let providers: BTreeMap<&str, (&str, i64)> = self
            .applications
            .iter()
            .flat_map(|(name, app)| {
                app.sources()
                    .into_iter()
                    .filter_map(|(_, source)| source["chart"].as_str())
                    .filter_map(|chart| Some((chart, (*name, *self.waves.get(name)?))))
                    .collect::<Vec<_>>()
            })
            .collect();
        let resources: Vec<&RenderedObject> = self
            .objects
            .iter()
            .copied()
            .filter(|o| {
                !o.is_application() && o.group().contains('.') && !o.group().ends_with(".k8s.io")
            })
            .collect();
        for resource in resources {
            let group = resource.group();
            let Some(wave) = self.wave_of(resource) else {
                continue;
            };
            let chart = CRD_PROVIDERS
                .iter()
                .find(|(g, _)| *g == group)
                .map(|(_, c)| *c);
            let installer = chart.and_then(|c| providers.get(c));
            match installer {
                None => self.finding(resource, "/apiVersion", "crd-order", &resource.object["apiVersion"], format!("no Application of this environment installs the CRD of {} ({group})", resource.kind())),
                Some((app, crd_wave)) if *crd_wave >= wave => self.finding(resource, "/apiVersion", "crd-order", &resource.object["apiVersion"], format!("its CRD comes with `{app}` in wave {crd_wave}, not before this object's wave {wave}")),
                Some(_) => {
                    let options = &resource.object["metadata"]["annotations"]["argocd.argoproj.io/sync-options"];
                    if !options.as_str().is_some_and(|o| o.split(',').any(|o| o.trim() == SKIP_DRY_RUN)) {
                        self.finding(resource, "/metadata/annotations/argocd.argoproj.io~1sync-options", "crd-dry-run", options, format!("a custom resource whose CRD another Application installs needs `{SKIP_DRY_RUN}`, or the first sync's dry run fails"));
                    }
                }
            }
        }
    }

    fn stores(&self) -> BTreeMap<&'a str, (&'a RenderedObject, Option<i64>)> {
        self.objects
            .iter()
            .filter(|o| o.kind() == "ClusterSecretStore")
            .map(|o| (o.name(), (*o, self.wave_of(o))))
            .collect()
    }

    fn external_secrets_read_a_store_they_may_read(&mut self) {
        let stores = self.stores();
        let external_secrets: Vec<&RenderedObject> = self
            .objects
            .iter()
            .copied()
            .filter(|o| o.kind() == "ExternalSecret")
            .collect();
        for secret in external_secrets {
            let store_ref = &secret.object["spec"]["secretStoreRef"];
            let store_name = store_ref["name"].as_str().unwrap_or_default();
            let Some((store, store_wave)) = stores.get(store_name) else {
                self.finding(
                    secret,
                    "/spec/secretStoreRef/name",
                    "secret-store",
                    &store_ref["name"],
                    format!("no ClusterSecretStore `{store_name}` is rendered in this environment"),
                );
                continue;
            };
            if let (Some(store_wave), Some(wave)) = (store_wave, self.wave_of(secret))
                && *store_wave >= wave
            {
                self.finding(secret, "/spec/secretStoreRef/name", "wave-deadlock", &store_ref["name"], format!("store `{store_name}` syncs in wave {store_wave}, not before this ExternalSecret's wave {wave}"));
            }
            let mount = store.object["spec"]["provider"]["vault"]["path"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let data = secret.object["spec"]["data"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            for (i, item) in data.iter().enumerate() {
                let key = item["remoteRef"]["key"].as_str().unwrap_or_default();
                let escapes = key.is_empty()
                    || key.starts_with('/')
                    || key.split('/').any(|s| s == ".." || s == ".");
                if escapes {
                    self.finding(secret, &format!("/spec/data/{i}/remoteRef/key"), "secret-path", &item["remoteRef"]["key"], format!("the store's role may read `{mount}/*` only; expected a key relative to that mount"));
                }
            }
        }
    }

    /// Every Secret a workload mounts or reads is produced, in time, in its namespace.
    fn workload_secrets_exist_in_time(&mut self) {
        let mut produced: BTreeMap<(&str, &str), Option<i64>> = BTreeMap::new();
        for object in &self.objects {
            let namespace = object.namespace().unwrap_or_default();
            let name = match object.kind() {
                "ExternalSecret" => object.object["spec"]["target"]["name"]
                    .as_str()
                    .unwrap_or(object.name()),
                "Secret" => object.name(),
                _ => continue,
            };
            produced.insert((namespace, name), self.wave_of(object));
        }
        let workloads: Vec<&RenderedObject> = self
            .objects
            .iter()
            .copied()
            .filter(|o| WORKLOADS.iter().any(|(k, _)| *k == o.kind()))
            .collect();
        for workload in workloads {
            let namespace = workload.namespace().unwrap_or_default();
            let wave = self.wave_of(workload);
            let manual: Vec<&str> = workload.object["metadata"]["annotations"]
                [labels::MANUAL_SECRETS_ANNOTATION]
                .as_str()
                .map(|names| names.split(',').map(str::trim).collect())
                .unwrap_or_default();
            for (pointer, name) in secret_references(&workload.object) {
                if manual.contains(&name.as_str()) {
                    continue;
                }
                match produced.get(&(namespace, name.as_str())) {
                    None => self.finding(workload, &pointer, "wave-deadlock", &Value::String(name.clone()), format!("Secret `{name}` is produced by nothing in namespace `{namespace}`; the pod would never start")),
                    Some(Some(at)) if wave.is_some_and(|w| *at > w) => self.finding(workload, &pointer, "wave-deadlock", &Value::String(name.clone()), format!("Secret `{name}` appears in wave {at}, after the workload")),
                    Some(_) => {}
                }
            }
        }
    }

    fn objects_are_unique(&mut self) {
        let mut seen: BTreeMap<(String, String, String, String), String> = BTreeMap::new();
        let objects: Vec<&RenderedObject> = self.objects.clone();
        for object in objects {
            let key = (
                object.group().to_owned(),
                object.kind().to_owned(),
                object.namespace().unwrap_or_default().to_owned(),
                object.name().to_owned(),
            );
            if let Some(first) = seen.get(&key) {
                let message =
                    format!("the same object as {first}; two Applications would fight over it");
                self.finding(
                    object,
                    "/metadata/name",
                    "unique-object",
                    &object.object["metadata"]["name"],
                    message,
                );
            } else {
                seen.insert(key, object.file.clone());
            }
        }
    }

    fn workloads_carry_cost_labels(&mut self) {
        let workloads: Vec<(&RenderedObject, &str)> = self
            .objects
            .iter()
            .filter_map(|o| {
                WORKLOADS
                    .iter()
                    .find(|(k, _)| *k == o.kind())
                    .map(|(_, t)| (*o, *t))
            })
            .collect();
        for (workload, template) in workloads {
            let places: BTreeSet<&str> = ["/metadata", template]
                .into_iter()
                .filter(|p| !p.is_empty())
                .collect();
            for place in places {
                let labels_value = workload
                    .object
                    .pointer(&format!("{place}/labels"))
                    .cloned()
                    .unwrap_or(Value::Null);
                for key in labels::COST_ALLOCATION {
                    let value = labels_value
                        .get(key)
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    if value.is_empty() {
                        self.finding(workload, &format!("{place}/labels"), "cost-labels", &labels_value, format!("missing the cost-allocation label `{key}`, so OpenCost cannot allocate this workload's cost"));
                    }
                }
            }
        }
    }
}

impl Environment<'_> {
    /// Argo CD refuses what a project does not permit; find it here, not at sync time.
    fn applications_stay_within_their_projects(&mut self) {
        let projects: BTreeMap<&str, &RenderedObject> = self
            .objects
            .iter()
            .filter(|o| o.kind() == "AppProject")
            .map(|o| (o.name(), *o))
            .collect();
        let applications: Vec<&RenderedObject> = self.applications.values().copied().collect();
        let mut owned_by: BTreeMap<&str, Vec<&RenderedObject>> = BTreeMap::new();
        for object in self
            .objects
            .iter()
            .copied()
            .filter(|o| !o.is_child_application())
        {
            if let Some(app) = object.app.as_deref() {
                owned_by.entry(app).or_default().push(object);
            }
        }
        for app in applications {
            let project_name = app.object["spec"]["project"].as_str().unwrap_or_default();
            if project_name == "default" {
                continue;
            }
            let Some(project) = projects.get(project_name) else {
                self.finding(
                    app,
                    "/spec/project",
                    "app-project",
                    &app.object["spec"]["project"],
                    format!("no AppProject `{project_name}` is rendered in this environment"),
                );
                continue;
            };
            let spec = &project.object["spec"];
            let destination = &app.object["spec"]["destination"];
            let server = destination["server"].as_str().unwrap_or_default();
            let namespace = destination["namespace"].as_str().unwrap_or_default();
            if !permits_destination(spec, server, namespace) {
                self.finding(
                    app,
                    "/spec/destination",
                    "project-destination",
                    destination,
                    format!(
                        "project `{project_name}` does not permit {server} namespace `{namespace}`"
                    ),
                );
            }
            for object in owned_by.get(app.name()).into_iter().flatten().copied() {
                let group = object.group();
                let kind = object.kind();
                let permitted = if CLUSTER_SCOPED.contains(&kind) {
                    listed(
                        &spec["clusterResourceWhitelist"],
                        group,
                        kind,
                        object.name(),
                    )
                } else {
                    let in_namespace = object
                        .namespace()
                        .is_some_and(|ns| permits_destination(spec, server, ns));
                    let kind_ok = spec["namespaceResourceWhitelist"].is_null()
                        || listed(
                            &spec["namespaceResourceWhitelist"],
                            group,
                            kind,
                            object.name(),
                        );
                    in_namespace && kind_ok
                };
                if !permitted {
                    self.finding(
                        object,
                        "",
                        "project-resource",
                        &Value::String(format!("{kind} {}", object.name())),
                        format!("project `{project_name}` does not permit this {kind} here"),
                    );
                }
            }
        }
    }
}

/// Argo CD's glob: `*` matches any run of characters.
fn glob(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((prefix, rest)) => {
            let Some(remainder) = text.strip_prefix(prefix) else {
                return false;
            };
            (0..=remainder.len())
                .filter(|i| remainder.is_char_boundary(*i))
                .any(|i| glob(rest, &remainder[i..]))
        }
    }
}

fn permits_destination(project: &Value, server: &str, namespace: &str) -> bool {
    project["destinations"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|d| {
            glob(d["server"].as_str().unwrap_or("*"), server)
                && glob(d["namespace"].as_str().unwrap_or("*"), namespace)
        })
}

fn listed(list: &Value, group: &str, kind: &str, name: &str) -> bool {
    list.as_array().into_iter().flatten().any(|item| {
        glob(item["group"].as_str().unwrap_or_default(), group)
            && glob(item["kind"].as_str().unwrap_or_default(), kind)
            && item["name"]
                .as_str()
                .is_none_or(|pattern| glob(pattern, name))
    })
}

/// Secret names a pod reads, with the JSON pointer of each reference.
fn secret_references(workload: &Value) -> Vec<(String, String)> {
    let spec_pointer = match workload["kind"].as_str() {
        Some("Pod") => "/spec",
        Some("CronJob") => "/spec/jobTemplate/spec/template/spec",
        _ => "/spec/template/spec",
    };
    let Some(spec) = workload.pointer(spec_pointer) else {
        return Vec::new();
    };
    let mut references = Vec::new();
    for list in ["initContainers", "containers"] {
        for (c, container) in spec[list].as_array().into_iter().flatten().enumerate() {
            for (e, source) in container["envFrom"]
                .as_array()
                .into_iter()
                .flatten()
                .enumerate()
            {
                if let Some(name) = source["secretRef"]["name"].as_str() {
                    references.push((
                        format!("{spec_pointer}/{list}/{c}/envFrom/{e}/secretRef/name"),
                        name.to_owned(),
                    ));
                }
            }
            for (e, variable) in container["env"]
                .as_array()
                .into_iter()
                .flatten()
                .enumerate()
            {
                if let Some(name) = variable["valueFrom"]["secretKeyRef"]["name"].as_str() {
                    references.push((
                        format!("{spec_pointer}/{list}/{c}/env/{e}/valueFrom/secretKeyRef/name"),
                        name.to_owned(),
                    ));
                }
            }
        }
    }
    for (v, volume) in spec["volumes"].as_array().into_iter().flatten().enumerate() {
        if let Some(name) = volume["secret"]["secretName"].as_str() {
            references.push((
                format!("{spec_pointer}/volumes/{v}/secret/secretName"),
                name.to_owned(),
            ));
        }
    }
    references
}
