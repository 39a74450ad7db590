//! Argo CD's `Application` and `AppProject` (group `argoproj.io`, version `v1alpha1`).
//!
//! Only the fields this platform sets are modelled; a test checks every one of them exists in
//! the upstream CRD schema, so the model cannot invent a field Argo CD would drop.

use std::collections::BTreeMap;

use std::fmt;

use schemars::JsonSchema;
use serde::{Serialize, Serializer};

use crate::custom_resource;

custom_resource! {
    /// An Argo CD Application: one Git path or Helm chart synced into one destination.
    Application, spec: ApplicationSpec,
    group: "argoproj.io", version: "v1alpha1", kind: "Application", plural: "applications",
    scope: NamespaceResourceScope, crd: bootstrap
}

custom_resource! {
    /// An Argo CD AppProject: what a group of Applications may deploy, from where, to where.
    AppProject, spec: AppProjectSpec,
    group: "argoproj.io", version: "v1alpha1", kind: "AppProject", plural: "appprojects",
    scope: NamespaceResourceScope, crd: bootstrap
}

/// The annotation that orders Argo CD's sync of resources, including child Applications.
pub const SYNC_WAVE_ANNOTATION: &str = "argocd.argoproj.io/sync-wave";
/// The annotation that sets sync options on a single resource.
pub const SYNC_OPTIONS_ANNOTATION: &str = "argocd.argoproj.io/sync-options";

#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationSpec {
    /// The AppProject the Application belongs to.
    pub project: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<ApplicationSource>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<ApplicationSource>,
    pub destination: ApplicationDestination,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sync_policy: Option<SyncPolicy>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ignore_differences: Vec<ResourceIgnoreDifferences>,
}

#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationSource {
    #[serde(rename = "repoURL")]
    pub repo_url: String,
    /// A directory in a Git repository; absent for a Helm chart source.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// A chart in a Helm repository; absent for a Git source.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chart: Option<String>,
    /// A Git revision, or an exact chart version.
    pub target_revision: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub helm: Option<HelmSource>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub directory: Option<DirectorySource>,
}

#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HelmSource {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub release_name: Option<String>,
    /// Chart values as a structured object, built from each component's typed values.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub values_object: Option<serde_json::Value>,
}

#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DirectorySource {
    pub recurse: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationDestination {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SyncPolicy {
    /// Absent means manual sync: Argo CD reports drift but applies nothing by itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub automated: Option<AutomatedSync>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sync_options: Vec<SyncOption>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry: Option<RetryStrategy>,
    /// Labels Argo CD puts on the namespace it creates (`CreateNamespace=true`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub managed_namespace_metadata: Option<ManagedNamespaceMetadata>,
}

#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct ManagedNamespaceMetadata {
    pub labels: BTreeMap<String, String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AutomatedSync {
    pub prune: bool,
    pub self_heal: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RetryStrategy {
    pub limit: i64,
    pub backoff: Backoff,
}

#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Backoff {
    /// First delay, a Go duration such as `5s`.
    pub duration: String,
    pub factor: i64,
    pub max_duration: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResourceIgnoreDifferences {
    /// API group; empty for the core group.
    pub group: String,
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub json_pointers: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub jq_path_expressions: Vec<String>,
}

impl ResourceIgnoreDifferences {
    /// Ignores the paths, given as jq expressions, on every object of a kind.
    pub fn jq(group: &str, kind: &str, expressions: &[&str]) -> Self {
        Self {
            group: group.to_owned(),
            kind: kind.to_owned(),
            name: None,
            json_pointers: Vec::new(),
            jq_path_expressions: expressions.iter().map(|e| (*e).to_owned()).collect(),
        }
    }

    /// Narrows the rule to the object of that name.
    pub fn named(mut self, name: &str) -> Self {
        self.name = Some(name.to_owned());
        self
    }

    /// Ignores the paths, given as JSON pointers, on every object of a kind.
    pub fn pointers(group: &str, kind: &str, pointers: &[&str]) -> Self {
        Self {
            group: group.to_owned(),
            kind: kind.to_owned(),
            name: None,
            json_pointers: pointers.iter().map(|p| (*p).to_owned()).collect(),
            jq_path_expressions: Vec::new(),
        }
    }
}

/// A sync option Argo CD understands, on an Application or on a single resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, JsonSchema)]
pub enum SyncOption {
    /// Create the destination namespace if it does not exist.
    CreateNamespace,
    /// Apply on the server: needed for CRDs too large for the last-applied annotation.
    ServerSideApply,
    /// Keep `ignoreDifferences` paths untouched when syncing, not only when diffing.
    RespectIgnoreDifferences,
    /// Do not fail the dry run of a custom resource whose CRD is not installed yet.
    SkipDryRunOnMissingResource,
    /// Delete pruned resources only after everything else is synced and healthy.
    PruneLast,
}

impl SyncOption {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CreateNamespace => "CreateNamespace=true",
            Self::ServerSideApply => "ServerSideApply=true",
            Self::RespectIgnoreDifferences => "RespectIgnoreDifferences=true",
            Self::SkipDryRunOnMissingResource => "SkipDryRunOnMissingResource=true",
            Self::PruneLast => "PruneLast=true",
        }
    }
}

impl fmt::Display for SyncOption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for SyncOption {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AppProjectSpec {
    pub description: String,
    pub source_repos: Vec<String>,
    pub destinations: Vec<ApplicationDestination>,
    /// Cluster-scoped kinds the project may deploy; empty denies them all.
    pub cluster_resource_whitelist: Vec<ClusterResource>,
    /// Namespaced kinds the project may deploy; absent allows them all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace_resource_whitelist: Option<Vec<GroupKind>>,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, JsonSchema)]
pub struct GroupKind {
    pub group: String,
    pub kind: String,
}

/// A cluster-scoped kind a project may deploy, optionally only under some names.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, JsonSchema)]
pub struct ClusterResource {
    pub group: String,
    pub kind: String,
    /// Only objects of this name (a glob); absent means any name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}
