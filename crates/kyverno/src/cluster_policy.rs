//! Kyverno's `ClusterPolicy` (group `kyverno.io`, version `v1`), as far as validation rules go.

use serde::Serialize;

use platform_core::custom_resource;

custom_resource! {
    /// Policy rules that apply to resources in every namespace.
    ClusterPolicy, spec: ClusterPolicySpec,
    group: "kyverno.io", version: "v1", kind: "ClusterPolicy", plural: "clusterpolicies",
    scope: ClusterResourceScope, crd: application
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClusterPolicySpec {
    /// Also check existing resources in the periodic background scan, not only admissions.
    pub background: bool,
    pub rules: Vec<Rule>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Rule {
    pub name: String,
    #[serde(rename = "match")]
    pub match_resources: MatchResources,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exclude: Option<MatchResources>,
    pub validate: Validation,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MatchResources {
    pub any: Vec<ResourceFilter>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ResourceFilter {
    pub resources: ResourceDescription,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceDescription {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub kinds: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub namespaces: Vec<String>,
    /// Namespaces by their labels.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace_selector: Option<LabelSelector>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LabelSelector {
    pub match_labels: std::collections::BTreeMap<String, String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Validation {
    /// `Audit` reports a violation; `Enforce` rejects the request.
    pub failure_action: String,
    pub message: String,
    /// A Kyverno pattern: an overlay of the resource with Kyverno's anchors and wildcards,
    /// which no Kubernetes type can express, hence JSON.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pattern: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub any_pattern: Vec<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deny: Option<Deny>,
}

/// Rejects the resource when its conditions hold.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Deny {
    pub conditions: AnyConditions,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AnyConditions {
    pub any: Vec<Condition>,
}

/// `key` (a value, or a JMESPath expression in `{{ }}` over the request) compared with `value`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Condition {
    pub key: String,
    pub operator: String,
    pub value: serde_json::Value,
}
