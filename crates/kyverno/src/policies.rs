//! The platform's security policies. Each applies to Pods; Kyverno's auto-generation extends
//! it to the pod templates of Deployments, StatefulSets, DaemonSets, Jobs and CronJobs.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use platform_core::application::metadata;
use platform_core::labels;
use platform_core::model::{FailureAction, PolicySettings, Team};

use crate::cluster_policy::{
    AnyConditions, ClusterPolicy, ClusterPolicySpec, Condition, Deny, LabelSelector,
    MatchResources, ResourceDescription, ResourceFilter, Rule, Validation,
};

/// Every ClusterPolicy the platform renders; `teams` are billed by the labels of their
/// namespaces' pods.
pub fn all(settings: &PolicySettings, teams: &[Team]) -> Vec<ClusterPolicy> {
    let action = settings.failure_action;
    let mut cost_rules = vec![rule(
        "cost-allocation-labels",
        action,
        &format!(
            "Workloads must carry the cost-allocation labels {}, which OpenCost allocates cost by.",
            labels::COST_ALLOCATION
                .map(|l| format!("`{l}`"))
                .join(" and ")
        ),
        Pattern::One(json!({ "metadata": { "labels": cost_allocation_pattern() } })),
    )];
    cost_rules.extend(teams.iter().map(|team| team_billing(team, action)));
    let mut policies = vec![
        policy(
            "disallow-privileged-containers",
            vec![rule(
                "privileged-containers",
                action,
                "Privileged containers are not allowed: remove securityContext.privileged or set it to false.",
                Pattern::One(json!({
                    "spec": {
                        "=(ephemeralContainers)": [{ "=(securityContext)": { "=(privileged)": "false" } }],
                        "=(initContainers)": [{ "=(securityContext)": { "=(privileged)": "false" } }],
                        "containers": [{ "=(securityContext)": { "=(privileged)": "false" } }]
                    }
                })),
            )],
        ),
        policy(
            "require-run-as-non-root",
            vec![rule(
                "run-as-non-root",
                action,
                "Containers must run as a non-root user: set securityContext.runAsNonRoot to true on the pod or on every container.",
                Pattern::Any(vec![
                    json!({
                        "spec": {
                            "securityContext": { "runAsNonRoot": "true" },
                            "=(ephemeralContainers)": [{ "=(securityContext)": { "=(runAsNonRoot)": "true" } }],
                            "=(initContainers)": [{ "=(securityContext)": { "=(runAsNonRoot)": "true" } }],
                            "containers": [{ "=(securityContext)": { "=(runAsNonRoot)": "true" } }]
                        }
                    }),
                    json!({
                        "spec": {
                            "=(ephemeralContainers)": [{ "securityContext": { "runAsNonRoot": "true" } }],
                            "=(initContainers)": [{ "securityContext": { "runAsNonRoot": "true" } }],
                            "containers": [{ "securityContext": { "runAsNonRoot": "true" } }]
                        }
                    }),
                ]),
            )],
        ),
        policy(
            "require-requests-limits",
            vec![rule(
                "cpu-memory-requests-limits",
                action,
                "Every container needs CPU and memory requests and limits, so it can be scheduled and its cost allocated.",
                Pattern::One(json!({
                    "spec": {
                        "containers": [{
                            "resources": {
                                "requests": { "cpu": "?*", "memory": "?*" },
                                "limits": { "cpu": "?*", "memory": "?*" }
                            }
                        }]
                    }
                })),
            )],
        ),
        policy(
            "disallow-latest-tag",
            vec![
                rule(
                    "require-image-tag",
                    action,
                    "Images need an explicit tag or digest, so every node runs the same image.",
                    Pattern::Deny(images_not_matching(TAGGED_IMAGE)),
                ),
                rule(
                    "validate-image-tag",
                    action,
                    "The mutable tag `latest` is not allowed: pin a version.",
                    Pattern::Deny(images_matching(LATEST_IMAGE)),
                ),
            ],
        ),
        policy("require-cost-allocation-labels", cost_rules),
    ];
    if !settings.allowed_registries.is_empty() {
        let allowed = settings.allowed_registries.join(" | ");
        let image = json!([{ "image": allowed }]);
        policies.push(policy(
            "restrict-image-registries",
            vec![rule(
                "allowed-registries",
                action,
                &format!(
                    "Images may come only from the platform's approved registries: {}.",
                    settings.allowed_registries.join(", ")
                ),
                Pattern::One(json!({
                    "spec": {
                        "=(ephemeralContainers)": image,
                        "=(initContainers)": image,
                        "containers": image
                    }
                })),
            )],
        ));
    }
    policies
}

/// The field of an app's entry in the environment file that decides whether its workload
/// passes `policy`: where the pre-flight points when Kyverno would refuse it. `None` for what
/// the platform sets itself (security contexts), not the environment.
pub fn app_field(policy: &str) -> Option<&'static str> {
    match policy {
        "disallow-latest-tag" | "restrict-image-registries" => Some("image"),
        "require-requests-limits" => Some("resources"),
        "require-cost-allocation-labels" => Some("team"),
        _ => None,
    }
}

enum Pattern {
    One(Value),
    Any(Vec<Value>),
    /// Deny when any condition holds.
    Deny(Condition),
}

/// Every image of a pod: containers, init containers and ephemeral containers. Projections
/// drop the lists a pod does not have; the pipe ends the projection so the filter sees the
/// whole list. Kyverno's auto-generation rewrites `request.object.spec` for pod controllers.
const IMAGES: &str = "request.object.spec.[ephemeralContainers, initContainers, containers][]";

/// An image with a tag (after the last `/`, so `registry:5000/app` has none) or a digest.
/// No `{n}` counts: a brace inside `{{ }}` would end Kyverno's variable early.
pub const TAGGED_IMAGE: &str =
    "^(([^/]*/)*[^/:@]+:[^/:@]+(@sha256:[0-9a-f]+)?|[^@]+@sha256:[0-9a-f]+)$";

/// An image whose tag is `latest`.
pub const LATEST_IMAGE: &str = "^([^/]*/)*[^/:@]+:latest(@sha256:[0-9a-f]+)?$";

/// Holds when some image of the pod does not match `regex`.
fn images_not_matching(regex: &str) -> Condition {
    count_of_images(&format!("!regex_match('{regex}', image)"))
}

/// Holds when some image of the pod matches `regex`.
fn images_matching(regex: &str) -> Condition {
    count_of_images(&format!("regex_match('{regex}', image)"))
}

fn count_of_images(filter: &str) -> Condition {
    Condition {
        key: format!("{{{{ {IMAGES} | [?{filter}] | length(@) }}}}"),
        operator: "GreaterThan".to_owned(),
        value: json!(0),
    }
}

/// A pod in one of `team`'s namespaces is billed to `team` and its cost center. OpenCost
/// lets a pod's own labels win over its namespace's when it allocates by label (opencost
/// `pkg/costmodel/allocation_helpers.go`, `applyLabels`: node, then namespace, then pod
/// labels), while the dashboards and budgets read the namespace's: a pod labelled for another
/// team would be billed to it by one and not the other.
fn team_billing(team: &Team, action: FailureAction) -> Rule {
    let billed = labels::cost_allocation(team.name.as_str(), team.cost_center.as_str());
    let mut rule = rule(
        &format!("cost-allocation-labels-{}", team.name),
        action,
        &format!(
            "Pods in team {}'s namespaces are billed to it: labels `{}: {}` and `{}: {}`.",
            team.name,
            labels::TEAM,
            team.name,
            labels::COST_CENTER,
            team.cost_center
        ),
        Pattern::One(json!({ "metadata": { "labels": billed } })),
    );
    for filter in &mut rule.match_resources.any {
        if let Some(selector) = filter.resources.namespace_selector.as_mut() {
            selector
                .match_labels
                .insert(labels::TEAM.to_owned(), team.name.to_string());
        }
    }
    rule
}

fn cost_allocation_pattern() -> Value {
    Value::Object(
        labels::COST_ALLOCATION
            .iter()
            .map(|key| ((*key).to_owned(), Value::String("?*".to_owned())))
            .collect(),
    )
}

fn policy(name: &str, rules: Vec<Rule>) -> ClusterPolicy {
    ClusterPolicy {
        metadata: metadata(name, None),
        spec: ClusterPolicySpec {
            background: true,
            rules,
        },
    }
}

fn rule(name: &str, action: FailureAction, message: &str, pattern: Pattern) -> Rule {
    let (pattern, any_pattern, deny) = match pattern {
        Pattern::One(value) => (Some(value), Vec::new(), None),
        Pattern::Any(values) => (None, values, None),
        Pattern::Deny(condition) => (
            None,
            Vec::new(),
            Some(Deny {
                conditions: AnyConditions {
                    any: vec![condition],
                },
            }),
        ),
    };
    Rule {
        name: name.to_owned(),
        // Pods of the teams' namespaces, by the label the platform gives them: its own
        // components (MetalLB's speaker, node exporters need host access) and whatever else
        // runs on the cluster are not the policies' to judge.
        match_resources: MatchResources {
            any: vec![ResourceFilter {
                resources: ResourceDescription {
                    kinds: vec!["Pod".to_owned()],
                    namespaces: Vec::new(),
                    namespace_selector: Some(LabelSelector {
                        match_labels: BTreeMap::from([(
                            labels::TENANT.to_owned(),
                            labels::TENANT_VALUE.to_owned(),
                        )]),
                    }),
                },
            }],
        },
        exclude: None,
        validate: Validation {
            failure_action: action.as_str().to_owned(),
            message: message.to_owned(),
            pattern,
            any_pattern,
            deny,
        },
    }
}
