//! The platform's security policies. Each applies to Pods; Kyverno's auto-generation extends
//! it to the pod templates of Deployments, StatefulSets, DaemonSets, Jobs and CronJobs.

use serde_json::{Value, json};

use platform_core::application::metadata;
use platform_core::labels;
use platform_core::model::{FailureAction, PolicySettings};
use platform_core::names;

use crate::cluster_policy::{
    ClusterPolicy, ClusterPolicySpec, MatchResources, ResourceDescription, ResourceFilter, Rule,
    Validation,
};

/// Every ClusterPolicy the platform renders.
pub fn all(settings: &PolicySettings) -> Vec<ClusterPolicy> {
    let action = settings.failure_action;
    vec![
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
                    "Images need an explicit tag, so every node runs the same image.",
                    Pattern::One(json!({ "spec": { "containers": [{ "image": "*:*" }] } })),
                ),
                rule(
                    "validate-image-tag",
                    action,
                    "The mutable tag `latest` is not allowed: pin a version.",
                    Pattern::One(json!({ "spec": { "containers": [{ "image": "!*:latest" }] } })),
                ),
            ],
        ),
        policy(
            "require-cost-allocation-labels",
            vec![rule(
                "cost-allocation-labels",
                action,
                &format!(
                    "Workloads must carry the cost-allocation labels {}, which OpenCost allocates cost by.",
                    labels::COST_ALLOCATION
                        .map(|l| format!("`{l}`"))
                        .join(" and ")
                ),
                Pattern::One(json!({ "metadata": { "labels": cost_allocation_pattern() } })),
            )],
        ),
    ]
}

enum Pattern {
    One(Value),
    Any(Vec<Value>),
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
    let (pattern, any_pattern) = match pattern {
        Pattern::One(value) => (Some(value), Vec::new()),
        Pattern::Any(values) => (None, values),
    };
    Rule {
        name: name.to_owned(),
        match_resources: MatchResources {
            any: vec![ResourceFilter {
                resources: ResourceDescription {
                    kinds: vec!["Pod".to_owned()],
                    namespaces: Vec::new(),
                },
            }],
        },
        // The platform's own components (MetalLB's speaker, node exporters) legitimately need
        // host access; the policies govern the teams' workloads.
        exclude: Some(MatchResources {
            any: vec![ResourceFilter {
                resources: ResourceDescription {
                    kinds: Vec::new(),
                    namespaces: names::namespace::SYSTEM
                        .iter()
                        .chain(names::namespace::PLATFORM.iter())
                        .map(|n| (*n).to_owned())
                        .collect(),
                },
            }],
        }),
        validate: Validation {
            failure_action: action.as_str().to_owned(),
            message: message.to_owned(),
            pattern,
            any_pattern,
        },
    }
}
