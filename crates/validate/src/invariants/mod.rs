//! What must hold across one environment of a rendered tree, beyond each object's schema.

mod admission;
mod applications;
mod cost;
mod ordering;
mod projects;
mod resources;
mod secrets;
mod uniqueness;

use std::collections::{BTreeMap, BTreeSet};

use platform_syntax::{check_published_version, check_repo_url};
use serde_json::Value;

use crate::Conventions;
use crate::report::Finding;
use crate::tree::{RenderedObject, RenderedTree};
pub use admission::AdmissionMemo;

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

/// The kinds whose content beyond `apiVersion`, `kind` and `metadata` some invariant reads:
/// Applications and AppProjects (sources, waves, destinations, permissions), Secrets (values
/// that must not be there), the stores and ExternalSecrets (what reads what), and workloads
/// (their pods' labels and the Secrets they read). Every other object is checked by its
/// identity and metadata alone.
pub fn read_in_full(kind: &str) -> bool {
    matches!(
        kind,
        "Application"
            | "AppProject"
            | "Secret"
            | "ExternalSecret"
            | "ClusterSecretStore"
            | "ClusterPolicy"
            | "Policy"
            | "PersistentVolumeClaim"
            | "Service"
            | "Certificate"
    ) || WORKLOADS.iter().any(|(workload, _)| *workload == kind)
}

/// What the invariants need of an object: all of it for a kind they read in full, else its
/// `apiVersion`, `kind` and the part of its `metadata` they read: name and namespace, the
/// sync options Argo CD reads (a custom resource's dry run), and a Namespace's labels (what
/// Kyverno's namespace selectors and cost allocation see). A renderer that keeps only this
/// for the check holds a fraction of the memory, with the same findings (a test compares them
/// over every mutation of the validation corpus).
pub fn needed(object: Value) -> Value {
    let kind = object["kind"].as_str().unwrap_or_default();
    if read_in_full(kind) {
        return object;
    }
    let keeps_labels = kind == "Namespace";
    let Value::Object(mut map) = object else {
        return object;
    };
    map.retain(|key, _| matches!(key.as_str(), "apiVersion" | "kind" | "metadata"));
    if let Some(Value::Object(metadata)) = map.get_mut("metadata") {
        metadata.retain(|key, _| match key.as_str() {
            "name" | "namespace" | "annotations" => true,
            "labels" => keeps_labels,
            _ => false,
        });
        if let Some(Value::Object(annotations)) = metadata.get_mut("annotations") {
            annotations.retain(|key, _| key == SYNC_OPTIONS);
            if annotations.is_empty() {
                metadata.remove("annotations");
            }
        }
    }
    Value::Object(map)
}

const SYNC_OPTIONS: &str = "argocd.argoproj.io/sync-options";

/// The findings, and the warnings (what Kyverno would admit but report).
/// Environments share nothing: they are checked side by side, one thread each up to the
/// cores there are, and their findings gathered in environment order.
pub fn check(tree: &RenderedTree, conventions: &Conventions) -> (Vec<Finding>, Vec<Finding>) {
    check_with(tree, conventions, None)
}

/// [`check`], reusing the admission verdicts `memo` kept from the last check where the
/// policies, the workload and its namespace's labels are those it judged then.
pub fn check_with(
    tree: &RenderedTree,
    conventions: &Conventions,
    memo: Option<&AdmissionMemo>,
) -> (Vec<Finding>, Vec<Finding>) {
    let environments = tree.environments();
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .min(environments.len());
    let checked: Vec<(Vec<Finding>, Vec<Finding>)> = if threads <= 1 {
        environments
            .iter()
            .map(|env| Environment::new(tree, env, conventions, memo).check())
            .collect()
    } else {
        let chunk = environments.len().div_ceil(threads);
        std::thread::scope(|scope| {
            let workers: Vec<_> = environments
                .chunks(chunk)
                .map(|part| {
                    scope.spawn(|| {
                        part.iter()
                            .map(|env| Environment::new(tree, env, conventions, memo).check())
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            workers
                .into_iter()
                .flat_map(|worker| worker.join().expect("a checking thread does not panic"))
                .collect()
        })
    };
    let mut findings = Vec::new();
    let mut warnings = Vec::new();
    for (mut found, mut warned) in checked {
        findings.append(&mut found);
        warnings.append(&mut warned);
    }
    (findings, warnings)
}

struct Environment<'a> {
    name: &'a str,
    conventions: &'a Conventions,
    tree: &'a RenderedTree,
    objects: Vec<&'a RenderedObject>,
    /// Child Applications by name.
    applications: BTreeMap<&'a str, &'a RenderedObject>,
    waves: BTreeMap<&'a str, i64>,
    /// The labels each namespace gets, from its Namespace or the Application that creates
    /// it: read by two checks, found in one pass.
    namespace_labels: BTreeMap<String, BTreeMap<String, String>>,
    admission_memo: Option<&'a AdmissionMemo>,
    findings: Vec<Finding>,
    warnings: Vec<Finding>,
}

impl<'a> Environment<'a> {
    fn new(
        tree: &'a RenderedTree,
        name: &'a str,
        conventions: &'a Conventions,
        admission_memo: Option<&'a AdmissionMemo>,
    ) -> Self {
        let objects: Vec<&RenderedObject> = tree.in_env(name).collect();
        let applications: BTreeMap<&str, &RenderedObject> = objects
            .iter()
            .filter(|o| o.is_child_application())
            // By file, not by metadata.name: where environments share an Argo CD, names carry
            // a prefix, while files and the folders of their manifests are the component's.
            .map(|o| (o.app.as_deref().unwrap_or(o.name()), *o))
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
        let namespace_labels = crate::tree::namespace_labels(objects.iter().map(|o| &*o.object));
        Self {
            name,
            conventions,
            tree,
            objects,
            applications,
            waves,
            namespace_labels,
            admission_memo,
            findings: Vec::new(),
            warnings: Vec::new(),
        }
    }

    fn check(mut self) -> (Vec<Finding>, Vec<Finding>) {
        self.applications_are_ordered_and_sourced();
        self.no_secret_values();
        self.namespaces_exist_in_time();
        self.custom_resources_follow_their_crds();
        self.external_secrets_read_a_store_they_may_read();
        self.workload_secrets_exist_in_time();
        self.objects_are_unique();
        self.workloads_carry_cost_labels();
        self.applications_stay_within_their_projects();
        self.chart_containers_have_requests_and_limits();
        self.workload_containers_have_requests_and_limits();
        self.workloads_pass_admission();
        (self.findings, self.warnings)
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
}
