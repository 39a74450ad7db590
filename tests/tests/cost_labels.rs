//! One source of truth for the cost-allocation labels: apps carry them, the policy requires
//! them, and Prometheus keeps them for OpenCost to allocate by.

use platform_core::labels::COST_ALLOCATION;
use platform_tests::{load_all, objects, render};
use serde_json::Value;

fn keys(object: &Value) -> Vec<String> {
    object
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

#[test]
fn apps_policies_and_prometheus_agree_on_the_cost_labels() {
    let expected: Vec<String> = COST_ALLOCATION.iter().map(|k| (*k).to_owned()).collect();
    for env in load_all() {
        let objects = objects(&render(&env));

        let policy = &objects["manifests/security-policies/clusterpolicy-require-cost-allocation-labels.yaml"];
        let mut required =
            keys(&policy["spec"]["rules"][0]["validate"]["pattern"]["metadata"]["labels"]);
        required.sort();
        let mut sorted = expected.clone();
        sorted.sort();
        assert_eq!(
            required, sorted,
            "{}: the policy requires the cost labels",
            env.name
        );

        for app in &env.env.apps {
            let deployment = &objects[&format!("manifests/{0}/deployment-{0}.yaml", app.name)];
            let pod_labels = &deployment["spec"]["template"]["metadata"]["labels"];
            let team = env.env.team(&app.team).unwrap();
            assert_eq!(pod_labels["team"], team.name.as_str());
            assert_eq!(pod_labels["cost-center"], team.cost_center.as_str());
        }

        let values = platform_tests::chart_values(&env, "prometheus");
        let allowlist: Vec<&str> = values["kube-state-metrics"]["metricLabelsAllowlist"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let pods = allowlist
            .iter()
            .find_map(|entry| entry.strip_prefix("pods=["))
            .and_then(|rest| rest.strip_suffix(']'))
            .unwrap_or_default();
        let exported: Vec<&str> = pods.split(',').collect();
        assert!(
            expected
                .iter()
                .all(|label| exported.contains(&label.as_str())),
            "{}: kube-state-metrics exports the pods' cost labels: {allowlist:?}",
            env.name
        );
    }
}

#[test]
fn every_namespace_the_platform_creates_or_renders_carries_the_cost_labels() {
    for loaded in platform_tests::load_all() {
        let objects = platform_tests::objects(&platform_tests::render(&loaded));
        let team = loaded.env.team(&loaded.env.platform_team).unwrap();
        let mut namespaces = 0;
        for (path, object) in &objects {
            let options = &object["spec"]["syncPolicy"]["syncOptions"];
            let creates = options
                .as_array()
                .is_some_and(|o| o.iter().any(|o| o == "CreateNamespace=true"));
            let labels = if object["kind"] == "Application" && creates {
                &object["spec"]["syncPolicy"]["managedNamespaceMetadata"]["labels"]
            } else if object["kind"] == "Namespace" {
                &object["metadata"]["labels"]
            } else {
                continue;
            };
            namespaces += 1;
            for key in platform_core::labels::COST_ALLOCATION {
                assert!(
                    labels[key].as_str().is_some_and(|v| !v.is_empty()),
                    "{}: {path} creates a namespace without `{key}`",
                    loaded.name
                );
            }
            if object["kind"] == "Application" {
                assert_eq!(
                    labels["team"],
                    team.name.as_str(),
                    "{}: {path}",
                    loaded.name
                );
                assert_eq!(labels["cost-center"], team.cost_center.as_str());
            }
        }
        assert!(
            namespaces >= 6,
            "{}: only {namespaces} namespaces",
            loaded.name
        );
    }
}

/// Cost by team and by cost center is read from the namespace (`kube_namespace_labels`), as
/// the forecast books it: chart pods carry no cost labels of their own, so a query on pod
/// labels would leave the platform's whole cost out. Every namespace an Application deploys
/// into carries both labels, and the budget alert and the dashboards join on them.
#[test]
fn cost_by_team_is_read_from_namespaces_that_all_carry_the_labels() {
    for env in load_all() {
        let objects = objects(&render(&env));
        let labels = platform_validate::namespace_labels(objects.values());
        for (path, app) in objects
            .iter()
            .filter(|(p, o)| p.starts_with("apps/") && o["kind"] == "Application")
        {
            let namespace = app["spec"]["destination"]["namespace"].as_str().unwrap();
            let of_namespace = labels.get(namespace);
            for label in COST_ALLOCATION {
                assert!(
                    of_namespace.is_some_and(|l| l.contains_key(label)),
                    "{}: {path} deploys into {namespace}, which has no {label} label",
                    env.name
                );
            }
        }
        let rules =
            platform_tests::chart_values(&env, "prometheus")["serverFiles"]["alerting_rules.yml"]
                .to_string();
        assert!(
            rules.contains("TeamOverBudget") && rules.contains("kube_namespace_labels"),
            "{}: the budget alert joins on namespace labels",
            env.name
        );
    }
}
