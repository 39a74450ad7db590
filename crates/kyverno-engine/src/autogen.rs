//! Auto-generated rules: a Pod rule also guards the Pod templates of controllers.
//!
//! Kyverno rewrites each Pod rule of a policy into `autogen-<rule>` (DaemonSet, Deployment, Job,
//! StatefulSet, ReplicaSet, ReplicationController; pattern under `spec.template`) and
//! `autogen-cronjob-<rule>` (CronJob; under `spec.jobTemplate.spec.template`), with
//! `request.object.spec`/`metadata` paths moved to the template. The annotation
//! `pod-policies.kyverno.io/autogen-controllers` narrows the controllers (`none` disables it).
//! A policy whose rules select Pods by name, selector or annotations, or mix Pods with other
//! kinds, gets no generated rules.

use serde_json::{Value, json};

use crate::matching::kind_name;
use crate::policy::{Policy, ResourceDescription, Rule};

pub const CONTROLLERS_ANNOTATION: &str = "pod-policies.kyverno.io/autogen-controllers";

const POD_CONTROLLERS: [&str; 7] = [
    "DaemonSet",
    "Deployment",
    "Job",
    "StatefulSet",
    "ReplicaSet",
    "ReplicationController",
    "CronJob",
];

const POD_PATHS: [(&str, &str); 4] = [
    ("request.object.spec", "request.object.spec.template.spec"),
    (
        "request.oldObject.spec",
        "request.oldObject.spec.template.spec",
    ),
    (
        "request.object.metadata",
        "request.object.spec.template.metadata",
    ),
    (
        "request.oldObject.metadata",
        "request.oldObject.spec.template.metadata",
    ),
];

const CRONJOB_PATHS: [(&str, &str); 4] = [
    (
        "request.object.spec",
        "request.object.spec.jobTemplate.spec.template.spec",
    ),
    (
        "request.oldObject.spec",
        "request.oldObject.spec.jobTemplate.spec.template.spec",
    ),
    (
        "request.object.metadata",
        "request.object.spec.jobTemplate.spec.template.metadata",
    ),
    (
        "request.oldObject.metadata",
        "request.oldObject.spec.jobTemplate.spec.template.metadata",
    ),
];

/// The policy's rules followed by the rules Kyverno generates from them.
pub fn rules(policy: &Policy) -> Vec<Value> {
    let mut out = policy.spec.rules.clone();
    let Some(controllers) = controllers(policy) else {
        return out;
    };
    let pod_controllers: Vec<&str> = {
        let mut list: Vec<&str> = controllers
            .iter()
            .copied()
            .filter(|kind| *kind != "CronJob")
            .collect();
        list.sort_unstable();
        list
    };
    let mut generated = Vec::new();
    for rule in &policy.spec.rules {
        let name = rule.get("name").and_then(Value::as_str).unwrap_or_default();
        if name.starts_with("autogen-") {
            continue;
        }
        let Some(template_rule) = for_controllers(rule, name, &pod_controllers, &controllers)
        else {
            continue;
        };
        if !pod_controllers.is_empty() {
            generated.push(rewrite_paths(&template_rule, &POD_PATHS));
        }
        if controllers.contains(&"CronJob") {
            let cronjob = wrap(
                &template_rule,
                &truncated(&format!("autogen-cronjob-{name}")),
                "jobTemplate",
                &["CronJob"],
                true,
            );
            generated.push(rewrite_paths(&cronjob, &CRONJOB_PATHS));
        }
    }
    if !generated.is_empty() {
        out.retain(|rule| {
            !rule
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .starts_with("autogen-")
        });
        out.extend(generated);
    }
    out
}

/// The controllers to generate for, or `None` when the policy gets no generated rules.
fn controllers(policy: &Policy) -> Option<Vec<&'static str>> {
    let mut needed = false;
    for raw in &policy.spec.rules {
        let rule: Rule = serde_json::from_value(raw.clone()).ok()?;
        if rule.generate.is_some() {
            return None;
        }
        if rule
            .mutate
            .as_ref()
            .is_some_and(|mutate| mutate.get("patchesJson6902").is_some())
        {
            return None;
        }
        let blocks = std::iter::once(&rule.match_resources).chain(rule.exclude.iter());
        for description in blocks.flat_map(|block| block.descriptions()) {
            if !supports_autogen(description) {
                return None;
            }
            needed |= description
                .kinds
                .iter()
                .any(|kind| kind_name(kind) == "Pod" || POD_CONTROLLERS.contains(&kind_name(kind)));
        }
    }
    if !needed {
        return None;
    }
    match policy.metadata.annotations.get(CONTROLLERS_ANNOTATION) {
        None => Some(POD_CONTROLLERS.to_vec()),
        Some(list) => {
            let chosen: Vec<&'static str> = POD_CONTROLLERS
                .iter()
                .copied()
                .filter(|kind| list.split(',').any(|item| item.trim() == *kind))
                .collect();
            (!chosen.is_empty()).then_some(chosen)
        }
    }
}

fn supports_autogen(description: &ResourceDescription) -> bool {
    let mixes_pod = description.kinds.len() > 1
        && description
            .kinds
            .iter()
            .any(|kind| kind_name(kind) == "Pod");
    description.name.is_none()
        && description.names.is_empty()
        && description.selector.is_none()
        && description.annotations.is_none()
        && !mixes_pod
}

fn selects_pod(block: Option<&Value>) -> Option<bool> {
    let rule_block: crate::policy::MatchResources = serde_json::from_value(block?.clone()).ok()?;
    Some(
        rule_block
            .kinds()
            .iter()
            .any(|kind| kind_name(kind) == "Pod"),
    )
}

/// `autogen-<rule>`, before its paths move to the template; `None` for a rule not on Pods.
fn for_controllers(
    rule: &Value,
    name: &str,
    pod_controllers: &[&str],
    controllers: &[&str],
) -> Option<Value> {
    if !selects_pod(rule.get("match"))? {
        return None;
    }
    if let Some(exclude) = rule.get("exclude") {
        let excluded: crate::policy::MatchResources =
            serde_json::from_value(exclude.clone()).ok()?;
        if !excluded.kinds().is_empty()
            && !excluded.kinds().iter().any(|kind| kind_name(kind) == "Pod")
        {
            return None;
        }
    }
    // A CronJob-only choice still builds the template rule the CronJob rule wraps.
    let kinds: Vec<&str> = if pod_controllers.is_empty() {
        controllers.to_vec()
    } else {
        pod_controllers.to_vec()
    };
    Some(wrap(
        rule,
        &truncated(&format!("autogen-{name}")),
        "template",
        &kinds,
        false,
    ))
}

fn truncated(name: &str) -> String {
    name.chars().take(63).collect()
}

/// Renames the rule, points its kinds at `kinds`, and nests its patterns under `spec.<key>`.
fn wrap(rule: &Value, name: &str, key: &str, kinds: &[&str], every_filter: bool) -> Value {
    let mut out = rule.clone();
    out["name"] = json!(name);
    let kinds_json = json!(kinds);
    for block_name in ["match", "exclude"] {
        let Some(block) = out.get_mut(block_name) else {
            continue;
        };
        let is_exclude = block_name == "exclude";
        let mut handled = false;
        for list in ["any", "all"] {
            if let Some(Value::Array(filters)) = block.get_mut(list) {
                if filters.is_empty() {
                    continue;
                }
                for filter in filters.iter_mut() {
                    let Some(resources) = filter.get_mut("resources") else {
                        continue;
                    };
                    let selects_pod = resources
                        .get("kinds")
                        .and_then(Value::as_array)
                        .is_some_and(|kinds| {
                            kinds
                                .iter()
                                .any(|kind| kind.as_str().map(kind_name) == Some("Pod"))
                        });
                    if every_filter || selects_pod {
                        resources["kinds"] = kinds_json.clone();
                    }
                }
                handled = true;
                break;
            }
        }
        if !handled && let Some(resources) = block.get_mut("resources") {
            let has_kinds = resources
                .get("kinds")
                .and_then(Value::as_array)
                .is_some_and(|kinds| !kinds.is_empty());
            if !is_exclude || has_kinds {
                resources["kinds"] = kinds_json.clone();
            }
        }
    }
    if let Some(validate) = out.get_mut("validate") {
        let nest = |pattern: &Value| json!({"spec": {key: pattern}});
        let mut kept = serde_json::Map::new();
        for field in [
            "message",
            "failureAction",
            "failureActionOverrides",
            "allowExistingViolations",
        ] {
            if let Some(value) = validate.get(field) {
                kept.insert(field.to_owned(), value.clone());
            }
        }
        if let Some(pattern) = validate.get("pattern") {
            kept.insert("pattern".to_owned(), nest(pattern));
        } else if let Some(deny) = validate.get("deny") {
            kept.insert("deny".to_owned(), deny.clone());
        } else if let Some(pod_security) = validate.get("podSecurity") {
            kept.insert("podSecurity".to_owned(), pod_security.clone());
        } else if let Some(Value::Array(patterns)) = validate.get("anyPattern") {
            kept.insert(
                "anyPattern".to_owned(),
                Value::Array(patterns.iter().map(nest).collect()),
            );
        } else if let Some(foreach) = validate.get("foreach") {
            kept.insert("foreach".to_owned(), foreach.clone());
        } else {
            kept = validate.as_object().cloned().unwrap_or_default();
        }
        *validate = Value::Object(kept);
    }
    out
}

/// Moves `request.object.spec`/`metadata` references to the template, as Kyverno does on the
/// rule's JSON text.
fn rewrite_paths(rule: &Value, replacements: &[(&str, &str)]) -> Value {
    let mut text = serde_json::to_string(rule).unwrap_or_default();
    for (from, to) in replacements {
        text = text.replace(from, to);
    }
    serde_json::from_str(&text).unwrap_or_else(|_| rule.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(annotations: Value, rule: Value) -> Policy {
        serde_json::from_value(json!({
            "kind": "ClusterPolicy",
            "metadata": {"name": "p", "annotations": annotations},
            "spec": {"rules": [rule]}
        }))
        .unwrap()
    }

    fn pod_rule() -> Value {
        json!({"name": "check", "match": {"any": [{"resources": {"kinds": ["Pod"]}}]},
               "validate": {"message": "m", "pattern": {"spec": {"containers": [{"image": "!*:latest"}]}}}})
    }

    #[test]
    fn pod_rule_gets_controller_and_cronjob_rules() {
        let rules = rules(&policy(json!({}), pod_rule()));
        let names: Vec<&str> = rules
            .iter()
            .map(|rule| rule["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["check", "autogen-check", "autogen-cronjob-check"]);
        assert_eq!(
            rules[1]["match"]["any"][0]["resources"]["kinds"],
            json!([
                "DaemonSet",
                "Deployment",
                "Job",
                "ReplicaSet",
                "ReplicationController",
                "StatefulSet"
            ])
        );
        assert_eq!(
            rules[1]["validate"]["pattern"]["spec"]["template"]["spec"]["containers"][0]["image"],
            "!*:latest"
        );
        assert_eq!(
            rules[2]["match"]["any"][0]["resources"]["kinds"],
            json!(["CronJob"])
        );
        assert_eq!(
            rules[2]["validate"]["pattern"]["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
                [0]["image"],
            "!*:latest"
        );
    }

    #[test]
    fn deny_paths_move_to_the_template() {
        let rule = json!({"name": "d", "match": {"any": [{"resources": {"kinds": ["Pod"]}}]},
            "validate": {"deny": {"conditions": {"any": [{"key": "{{ request.object.spec.hostNetwork }}", "operator": "Equals", "value": true}]}}}});
        let rules = rules(&policy(json!({}), rule));
        assert_eq!(
            rules[1]["validate"]["deny"]["conditions"]["any"][0]["key"],
            "{{ request.object.spec.template.spec.hostNetwork }}"
        );
        assert_eq!(
            rules[2]["validate"]["deny"]["conditions"]["any"][0]["key"],
            "{{ request.object.spec.jobTemplate.spec.template.spec.hostNetwork }}"
        );
    }

    #[test]
    fn annotation_narrows_or_disables_generation() {
        let rules_for = |annotation: &str| {
            rules(&policy(
                json!({CONTROLLERS_ANNOTATION: annotation}),
                pod_rule(),
            ))
            .iter()
            .map(|rule| rule["name"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
        };
        assert_eq!(rules_for("none"), ["check"]);
        assert_eq!(rules_for("Deployment"), ["check", "autogen-check"]);
        assert_eq!(rules_for("CronJob"), ["check", "autogen-cronjob-check"]);
    }

    #[test]
    fn name_selectors_and_mixed_kinds_disable_generation() {
        let mut named = pod_rule();
        named["match"]["any"][0]["resources"]["names"] = json!(["web"]);
        assert_eq!(rules(&policy(json!({}), named)).len(), 1);
        let mut mixed = pod_rule();
        mixed["match"]["any"][0]["resources"]["kinds"] = json!(["Pod", "Service"]);
        assert_eq!(rules(&policy(json!({}), mixed)).len(), 1);
    }
}
