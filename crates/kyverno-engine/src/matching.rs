//! `match` and `exclude`: kinds, names, namespaces, annotations, selectors and operations.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::policy::{LabelSelector, MatchResources, ResourceDescription, ResourceFilter};
use crate::wildcard;

/// What the matcher knows about the resource and the request.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    pub resource: &'a Value,
    pub operation: &'a str,
    /// Labels of the resource's namespace, when known.
    pub namespace_labels: Option<&'a BTreeMap<String, String>>,
}

impl Target<'_> {
    fn str_at(&self, path: &[&str]) -> &str {
        path.iter()
            .try_fold(self.resource, |value, key| value.get(key))
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    pub fn kind(&self) -> &str {
        self.str_at(&["kind"])
    }

    pub fn api_version(&self) -> &str {
        self.str_at(&["apiVersion"])
    }

    pub fn name(&self) -> &str {
        self.str_at(&["metadata", "name"])
    }

    pub fn namespace(&self) -> &str {
        self.str_at(&["metadata", "namespace"])
    }

    fn labels(&self) -> BTreeMap<String, String> {
        string_map(self.resource.pointer("/metadata/labels"))
    }

    fn annotations(&self) -> BTreeMap<String, String> {
        string_map(self.resource.pointer("/metadata/annotations"))
    }
}

fn string_map(value: Option<&Value>) -> BTreeMap<String, String> {
    value
        .and_then(Value::as_object)
        .map(|map| {
            map.iter()
                .filter_map(|(key, value)| {
                    value.as_str().map(|text| (key.clone(), text.to_owned()))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Whether a rule's `match` selects the target and its `exclude` does not.
pub fn rule_applies(
    matching: &MatchResources,
    exclude: Option<&MatchResources>,
    target: &Target<'_>,
) -> bool {
    if !block_matches(matching, target) {
        return false;
    }
    !exclude.is_some_and(|exclude| block_matches(exclude, target))
}

fn block_matches(block: &MatchResources, target: &Target<'_>) -> bool {
    if !block.any.is_empty() {
        return block
            .any
            .iter()
            .any(|filter| filter_matches(filter, target));
    }
    if !block.all.is_empty() {
        return block
            .all
            .iter()
            .all(|filter| filter_matches(filter, target));
    }
    filter_matches(&block.filter, target)
}

fn filter_matches(filter: &ResourceFilter, target: &Target<'_>) -> bool {
    // Offline there is no requesting user: a filter on users, groups or roles never matches.
    if !filter.subjects.is_empty() || !filter.roles.is_empty() || !filter.cluster_roles.is_empty() {
        return false;
    }
    match &filter.resources {
        Some(description) => description_matches(description, target),
        None => false,
    }
}

fn description_matches(description: &ResourceDescription, target: &Target<'_>) -> bool {
    if description.kinds.is_empty() {
        return false;
    }
    if !description
        .kinds
        .iter()
        .any(|kind| kind_matches(kind, target))
    {
        return false;
    }
    let name = target.name();
    if let Some(pattern) = &description.name
        && !wildcard::matches(pattern, name)
    {
        return false;
    }
    if !description.names.is_empty()
        && !description
            .names
            .iter()
            .any(|pattern| wildcard::matches(pattern, name))
    {
        return false;
    }
    if !description.namespaces.is_empty() {
        // A Namespace is matched on its own name.
        let namespace = if target.kind() == "Namespace" {
            name
        } else {
            target.namespace()
        };
        if !description
            .namespaces
            .iter()
            .any(|pattern| wildcard::matches(pattern, namespace))
        {
            return false;
        }
    }
    if let Some(annotations) = &description.annotations {
        let present = target.annotations();
        let all_found = annotations.iter().all(|(key, value)| {
            present.iter().any(|(have_key, have_value)| {
                wildcard::matches(key, have_key) && wildcard::matches(value, have_value)
            })
        });
        if !all_found {
            return false;
        }
    }
    if let Some(selector) = &description.selector
        && !selector_matches(selector, &target.labels())
    {
        return false;
    }
    if let Some(selector) = &description.namespace_selector {
        let labels = if target.kind() == "Namespace" {
            target.labels()
        } else {
            target.namespace_labels.cloned().unwrap_or_default()
        };
        if !selector_matches(selector, &labels) {
            return false;
        }
    }
    if !description.operations.is_empty()
        && !description
            .operations
            .iter()
            .any(|operation| operation.eq_ignore_ascii_case(target.operation))
    {
        return false;
    }
    true
}

/// `Kind`, `version/Kind`, `group/version/Kind`, each part a wildcard; `Kind/subresource` never
/// matches a whole object.
pub fn kind_matches(selector: &str, target: &Target<'_>) -> bool {
    let (group, version) = match target.api_version().split_once('/') {
        Some((group, version)) => (group, version),
        None => ("", target.api_version()),
    };
    let parts: Vec<&str> = selector.split('/').collect();
    let kind = target.kind();
    match parts.as_slice() {
        [want_kind] => wildcard::matches(want_kind, kind),
        [first, second] => {
            if first.starts_with(|c: char| c.is_ascii_uppercase()) {
                false
            } else {
                wildcard::matches(first, version) && wildcard::matches(second, kind)
            }
        }
        [want_group, want_version, want_kind] => {
            wildcard::matches(want_group, group)
                && wildcard::matches(want_version, version)
                && wildcard::matches(want_kind, kind)
        }
        _ => false,
    }
}

/// The bare kind a selector names (`apps/v1/Deployment` names `Deployment`).
pub fn kind_name(selector: &str) -> &str {
    let parts: Vec<&str> = selector.split('/').collect();
    match parts.as_slice() {
        [kind] => kind,
        [first, _] if first.starts_with(|c: char| c.is_ascii_uppercase()) => first,
        [_, kind] => kind,
        [_, _, kind] => kind,
        [_, _, kind, _] => kind,
        _ => selector,
    }
}

/// A label selector; `matchLabels` may use wildcards in keys and values.
pub fn selector_matches(selector: &LabelSelector, labels: &BTreeMap<String, String>) -> bool {
    let labels_match = selector.match_labels.iter().all(|(key, value)| {
        if wildcard::contains_wildcard(key) || wildcard::contains_wildcard(value) {
            labels.iter().any(|(have_key, have_value)| {
                wildcard::matches(key, have_key) && wildcard::matches(value, have_value)
            })
        } else {
            labels.get(key) == Some(value)
        }
    });
    labels_match
        && selector.match_expressions.iter().all(|requirement| {
            let value = labels.get(&requirement.key);
            match requirement.operator.as_str() {
                "In" => value.is_some_and(|value| requirement.values.contains(value)),
                "NotIn" => value.is_none_or(|value| !requirement.values.contains(value)),
                "Exists" => value.is_some(),
                "DoesNotExist" => value.is_none(),
                _ => false,
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment() -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
               "metadata": {"name": "web", "namespace": "shop", "labels": {"team": "a"}, "annotations": {"x/y": "1"}}})
    }

    fn target(resource: &Value) -> Target<'_> {
        Target {
            resource,
            operation: "CREATE",
            namespace_labels: None,
        }
    }

    #[test]
    fn kind_forms() {
        let resource = deployment();
        let target = target(&resource);
        for selector in [
            "Deployment",
            "apps/v1/Deployment",
            "v1/Deployment",
            "*",
            "apps/*/Deployment",
            "Deploy*",
        ] {
            assert!(kind_matches(selector, &target), "{selector}");
        }
        for selector in ["Pod", "batch/v1/Deployment", "Deployment/scale"] {
            assert!(!kind_matches(selector, &target), "{selector}");
        }
        assert_eq!(kind_name("apps/v1/Deployment"), "Deployment");
        assert_eq!(kind_name("Pod/exec"), "Pod");
    }

    #[test]
    fn names_namespaces_annotations_selectors_operations() {
        let resource = deployment();
        let target = target(&resource);
        let describe = |extra: Value| -> ResourceDescription {
            let mut base = json!({"kinds": ["Deployment"]});
            base.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            serde_json::from_value(base).unwrap()
        };
        assert!(description_matches(
            &describe(json!({"names": ["w*"]})),
            &target
        ));
        assert!(!description_matches(
            &describe(json!({"names": ["api"]})),
            &target
        ));
        assert!(description_matches(
            &describe(json!({"namespaces": ["sh?p"]})),
            &target
        ));
        assert!(!description_matches(
            &describe(json!({"namespaces": ["kube-system"]})),
            &target
        ));
        assert!(description_matches(
            &describe(json!({"annotations": {"x/*": "1"}})),
            &target
        ));
        assert!(description_matches(
            &describe(json!({"selector": {"matchLabels": {"team": "a"}}})),
            &target
        ));
        assert!(!description_matches(
            &describe(
                json!({"selector": {"matchExpressions": [{"key": "team", "operator": "NotIn", "values": ["a"]}]}})
            ),
            &target
        ));
        assert!(description_matches(
            &describe(json!({"operations": ["CREATE", "UPDATE"]})),
            &target
        ));
        assert!(!description_matches(
            &describe(json!({"operations": ["DELETE"]})),
            &target
        ));
    }

    #[test]
    fn namespace_selector_reads_the_namespace_labels() {
        let resource = deployment();
        let labels = BTreeMap::from([("env".to_owned(), "prod".to_owned())]);
        let with_labels = Target {
            resource: &resource,
            operation: "CREATE",
            namespace_labels: Some(&labels),
        };
        let description: ResourceDescription = serde_json::from_value(
            json!({"kinds": ["Deployment"], "namespaceSelector": {"matchLabels": {"env": "prod"}}}),
        )
        .unwrap();
        assert!(description_matches(&description, &with_labels));
        assert!(!description_matches(&description, &target(&resource)));
    }

    #[test]
    fn any_all_and_exclude() {
        let resource = deployment();
        let target = target(&resource);
        let block: MatchResources = serde_json::from_value(json!({"any": [
            {"resources": {"kinds": ["Pod"]}}, {"resources": {"kinds": ["Deployment"]}}]}))
        .unwrap();
        assert!(rule_applies(&block, None, &target));
        let all: MatchResources = serde_json::from_value(json!({"all": [
            {"resources": {"kinds": ["Deployment"]}}, {"resources": {"kinds": ["Deployment"], "names": ["api"]}}]})).unwrap();
        assert!(!rule_applies(&all, None, &target));
        let exclude: MatchResources = serde_json::from_value(
            json!({"any": [{"resources": {"kinds": ["Deployment"], "namespaces": ["shop"]}}]}),
        )
        .unwrap();
        assert!(!rule_applies(&block, Some(&exclude), &target));
        let subjects: MatchResources = serde_json::from_value(json!({"any": [
            {"resources": {"kinds": ["Deployment"]}, "subjects": [{"kind": "User", "name": "x"}]}]})).unwrap();
        assert!(!rule_applies(&subjects, None, &target));
    }
}
