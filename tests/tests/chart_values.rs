//! The values the platform gives each chart, compared with the chart's own `values.yaml` at
//! the pinned version: every key exists there (Helm ignores a key it does not know, silently),
//! and no value merely restates the chart's default unless it says why it is pinned.

use std::collections::BTreeMap;

use platform_tests::{load_all, schemas_dir};
use serde_json::Value;

/// Values equal to the chart's default that are set on purpose, with the reason.
const PINNED_DEFAULTS: &[(&str, &str, &str)] = &[
    (
        "grafana",
        "/admin/userKey",
        "the ExternalSecret writes exactly this key (component_grafana::ADMIN_USER_KEY)",
    ),
    (
        "grafana",
        "/admin/passwordKey",
        "the ExternalSecret writes exactly this key (component_grafana::ADMIN_PASSWORD_KEY)",
    ),
    (
        "kyverno",
        "/features/backgroundScan/backgroundScanInterval",
        "the environment file owns it (policies.background_scan_interval)",
    ),
    (
        "prometheus",
        "/server/global/scrape_interval",
        "the environment file owns it (prometheus.scrape_interval)",
    ),
    (
        "prometheus",
        "/server/retention",
        "the environment file owns it (prometheus.retention)",
    ),
    (
        "vault",
        "/server/ha/replicas",
        "the environment file owns it (vault.replicas)",
    ),
    (
        "vault",
        "/ui/enabled",
        "the environment file owns it (vault.ui)",
    ),
    (
        "vault",
        "/server/service/type",
        "the environment file owns it (vault.service_type)",
    ),
    (
        "vault",
        "/server/ha/enabled",
        "set with the mode the environment file chooses (vault.mode)",
    ),
    (
        "vault",
        "/server/ha/raft/enabled",
        "set with the mode the environment file chooses (vault.mode)",
    ),
    (
        "vault",
        "/server/dev/enabled",
        "set with the mode the environment file chooses (vault.mode)",
    ),
    (
        "kyverno",
        "/admissionController/replicas",
        "the environment file owns it (policies.admission_replicas)",
    ),
    (
        "opencost",
        "/opencost/ui/enabled",
        "the UI on 9090 is part of the platform's contract, whatever the chart's default",
    ),
    (
        "opencost",
        "/opencost/prometheus/internal/enabled",
        "OpenCost reads the platform's own Prometheus, whatever the chart's default",
    ),
    (
        "opencost",
        "/opencost/prometheus/internal/serviceName",
        "the platform's Prometheus Service (core::names::PROMETHEUS), the chart's default by coincidence",
    ),
    (
        "opencost",
        "/opencost/prometheus/internal/port",
        "the platform's Prometheus port (core::names::PROMETHEUS), the chart's default by coincidence",
    ),
    (
        "opencost",
        "/opencost/ui/uiPort",
        "the UI on 9090 is part of the platform's contract (core::names::OPENCOST_UI)",
    ),
    (
        "prometheus",
        "/kube-state-metrics/enabled",
        "cost allocation by label rests on kube-state-metrics; it must not go with a chart default",
    ),
    (
        "external-secrets",
        "/installCRDs",
        "the CRDs of every ExternalSecret come with this Application (HelmChart::crd_groups)",
    ),
    (
        "vault",
        "/server/service/port",
        "ESO and the port-forwards reach Vault on 8200 (core::names::VAULT)",
    ),
];

/// Maps whose defaults are examples, not the list of keys: any key is the user's. The maps
/// a chart renders whole are too (`platform_tests::RENDERED_WHOLE`).
const OPEN_MAPS: &[(&str, &str, &str)] = &[
    (
        "alertmanager",
        "/config",
        "Alertmanager's own configuration: the chart writes the map out as alertmanager.yml (its `enabled` switch aside), which amtool checks in CI",
    ),
    (
        "prometheus",
        "/kube-state-metrics",
        "a subchart: its values are its own chart's, not in prometheus' values.yaml",
    ),
    (
        "prometheus",
        "/prometheus-node-exporter",
        "a subchart: its values are its own chart's, not in prometheus' values.yaml",
    ),
];

/// Keys a chart documents in `values.yaml` as a comment, without a default.
const COMMENTED_KEYS: &[(&str, &str, &str)] = &[(
    "vault",
    "/server/service/type",
    "values.yaml at v0.34.1 documents it commented out: `#type: ClusterIP`",
)];

/// Chart keys whose default is an empty map or list: free-form, any key is the user's.
fn free_form(default: &Value) -> bool {
    matches!(default, Value::Object(map) if map.is_empty())
        || matches!(default, Value::Array(_))
        || default.is_null()
}

/// A container's `resources`, which the platform sets whole from its size
/// (`core::sizing`): a part that happens to equal the chart's default is not restated, and
/// a resource the chart's default leaves out (a CPU limit) is still a resource.
fn sized_by_the_platform(chart: &str, path: &str) -> bool {
    platform::catalog::CHARTS
        .iter()
        .filter(|c| c.name == chart)
        .flat_map(|c| c.pods.iter())
        .flat_map(|pod| pod.containers)
        .any(|container| format!("/{}", container.resources.replace('.', "/")) == path)
}

fn walk(
    chart: &str,
    ours: &Value,
    default: Option<&Value>,
    path: &str,
    problems: &mut Vec<String>,
) {
    if sized_by_the_platform(chart, path) {
        return;
    }
    match (ours, default) {
        (Value::Object(map), Some(Value::Object(defaults)))
            if !defaults.is_empty()
                && !platform_tests::rendered_whole(chart, path)
                && !OPEN_MAPS.iter().any(|(c, p, _)| *c == chart && *p == path) =>
        {
            for (key, value) in map {
                let pointer = format!("{path}/{}", key.replace('~', "~0").replace('/', "~1"));
                let commented = COMMENTED_KEYS
                    .iter()
                    .any(|(c, p, _)| *c == chart && *p == pointer);
                match defaults.get(key) {
                    None if commented || sized_by_the_platform(chart, &pointer) => {}
                    None => problems.push(format!(
                        "{chart}: {pointer} is not a value of the chart; Helm would ignore it"
                    )),
                    Some(default) => walk(chart, value, Some(default), &pointer, problems),
                }
            }
        }
        (_, Some(default)) if !free_form(default) && ours == default => {
            let pinned = PINNED_DEFAULTS
                .iter()
                .any(|(c, p, _)| *c == chart && *p == path);
            if !pinned {
                problems.push(format!(
                    "{chart}: {path} = {ours} restates the chart's default; drop it, or say in PINNED_DEFAULTS why it is pinned"
                ));
            }
        }
        _ => {}
    }
}

#[test]
fn every_value_is_a_key_of_its_chart_and_none_merely_restates_a_default() {
    let mut problems = Vec::new();
    let mut checked = BTreeMap::new();
    for loaded in load_all() {
        // Every chart, whether Argo CD templates it or the environment hydrates it.
        for release in platform::hydrate::helm_releases(&loaded).unwrap() {
            let chart = release.chart.as_str();
            let text = std::fs::read_to_string(
                schemas_dir().join("charts").join(chart).join("values.yaml"),
            )
            .unwrap();
            let defaults: Value = serde_yaml::from_str(&text).unwrap();
            walk(chart, &release.values, Some(&defaults), "", &mut problems);
            *checked.entry(chart.to_owned()).or_insert(0) += 1;
        }
    }
    problems.sort();
    problems.dedup();
    assert_eq!(
        checked.len(),
        platform::catalog::CHARTS.len(),
        "{checked:?}"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
