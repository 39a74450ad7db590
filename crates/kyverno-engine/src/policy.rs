//! The parts of `kyverno.io/v1` ClusterPolicy and Policy the evaluator reads.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

/// A ClusterPolicy or a (namespaced) Policy.
#[derive(Debug, Clone, Deserialize)]
pub struct Policy {
    pub kind: String,
    pub metadata: Metadata,
    pub spec: Spec,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Metadata {
    pub name: String,
    #[serde(default)]
    pub namespace: Option<String>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Spec {
    #[serde(default)]
    pub validation_failure_action: Option<String>,
    /// Rules stay JSON: auto-generation rewrites them as documents, the way Kyverno does.
    #[serde(default)]
    pub rules: Vec<Value>,
}

/// One rule, read after auto-generation.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rule {
    pub name: String,
    #[serde(default, rename = "match")]
    pub match_resources: MatchResources,
    #[serde(default)]
    pub exclude: Option<MatchResources>,
    #[serde(default)]
    pub context: Vec<Value>,
    #[serde(default)]
    pub preconditions: Option<Value>,
    #[serde(default)]
    pub validate: Option<Validation>,
    #[serde(default)]
    pub generate: Option<Value>,
    #[serde(default)]
    pub mutate: Option<Value>,
    #[serde(default)]
    pub verify_images: Option<Value>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct MatchResources {
    pub any: Vec<ResourceFilter>,
    pub all: Vec<ResourceFilter>,
    /// The older form: one filter written directly in the block.
    #[serde(flatten)]
    pub filter: ResourceFilter,
}

impl MatchResources {
    /// Every resource description this block names.
    pub fn descriptions(&self) -> impl Iterator<Item = &ResourceDescription> {
        self.filter
            .resources
            .iter()
            .chain(
                self.any
                    .iter()
                    .filter_map(|filter| filter.resources.as_ref()),
            )
            .chain(
                self.all
                    .iter()
                    .filter_map(|filter| filter.resources.as_ref()),
            )
    }

    /// The kinds this block names, in all its forms.
    pub fn kinds(&self) -> Vec<&str> {
        self.descriptions()
            .flat_map(|description| description.kinds.iter().map(String::as_str))
            .collect()
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ResourceFilter {
    pub resources: Option<ResourceDescription>,
    pub subjects: Vec<Value>,
    pub roles: Vec<String>,
    pub cluster_roles: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ResourceDescription {
    pub kinds: Vec<String>,
    pub name: Option<String>,
    pub names: Vec<String>,
    pub namespaces: Vec<String>,
    pub annotations: Option<BTreeMap<String, String>>,
    pub selector: Option<LabelSelector>,
    pub namespace_selector: Option<LabelSelector>,
    pub operations: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct LabelSelector {
    pub match_labels: BTreeMap<String, String>,
    pub match_expressions: Vec<LabelRequirement>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LabelRequirement {
    pub key: String,
    pub operator: String,
    #[serde(default)]
    pub values: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Validation {
    pub message: Option<String>,
    pub failure_action: Option<String>,
    pub pattern: Option<Value>,
    pub any_pattern: Option<Value>,
    pub deny: Option<Deny>,
    pub foreach: Option<Vec<ForEach>>,
    pub pod_security: Option<PodSecurity>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Deny {
    pub conditions: Option<Value>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ForEach {
    pub list: String,
    #[serde(default)]
    pub context: Vec<Value>,
    #[serde(default)]
    pub element_scope: Option<bool>,
    #[serde(default)]
    pub preconditions: Option<Value>,
    #[serde(default)]
    pub pattern: Option<Value>,
    #[serde(default)]
    pub any_pattern: Option<Value>,
    #[serde(default)]
    pub deny: Option<Deny>,
    #[serde(default)]
    pub foreach: Option<Vec<ForEach>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodSecurity {
    pub level: String,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub exclude: Vec<PodSecurityExclusion>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodSecurityExclusion {
    pub control_name: String,
    #[serde(default)]
    pub images: Vec<String>,
    #[serde(default)]
    pub restricted_field: Option<String>,
    #[serde(default)]
    pub values: Vec<String>,
}

impl Policy {
    /// Reads a policy document; `None` when it is not a Kyverno `kyverno.io` policy.
    pub fn from_value(document: &Value) -> Result<Option<Policy>, String> {
        let api_version = document
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let kind = document
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !api_version.starts_with("kyverno.io/") || !matches!(kind, "ClusterPolicy" | "Policy") {
            return Ok(None);
        }
        serde_json::from_value(document.clone())
            .map(Some)
            .map_err(|error| format!("{kind} is not a valid Kyverno policy: {error}"))
    }

    /// Whether a failure of a rule with `rule_action` blocks admission.
    pub fn enforces(&self, rule_action: Option<&str>) -> bool {
        rule_action
            .or(self.spec.validation_failure_action.as_deref())
            .is_some_and(|action| action.eq_ignore_ascii_case("enforce"))
    }
}
