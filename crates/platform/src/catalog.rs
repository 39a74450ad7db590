//! Every component crate, asked in turn for its components. This is the one place that knows
//! them all; each crate knows only itself and the core.

use platform_core::component::{Component, HelmChart};
use platform_core::model::Environment;

/// The components an environment enables, in catalog order.
pub fn components(env: &Environment) -> Vec<Component> {
    let crates: [fn(&Environment) -> Vec<Component>; 12] = [
        component_argocd::components,
        component_metallb::components,
        component_cert_manager::components,
        component_vault::components,
        component_eso::components,
        component_kyverno::components,
        component_prometheus::components,
        component_opencost::components,
        component_alertmanager::components,
        component_grafana::components,
        component_tenants::components,
        component_apps::components,
    ];
    crates
        .iter()
        .flat_map(|components| components(env))
        .collect()
}

/// Every chart a component may install, whether or not an environment enables it.
pub const CHARTS: [HelmChart; 10] = [
    component_argocd::CHART,
    component_metallb::CHART,
    component_cert_manager::CHART,
    component_vault::CHART,
    component_eso::CHART,
    component_kyverno::CHART,
    component_prometheus::CHART,
    component_opencost::CHART,
    component_alertmanager::CHART,
    component_grafana::CHART,
];

/// The alert rules of an environment, with what to do when each fires and its unit tests.
pub fn alerts(env: &Environment) -> Vec<component_prometheus::alerts::Alert> {
    component_prometheus::alerts::alerts(env)
}

/// `promtool test rules` tests of every alert, against the rule file at `rule_file_path`.
pub fn alert_tests(
    env: &Environment,
    rule_file_path: &str,
) -> component_prometheus::rules::TestFile {
    component_prometheus::alerts::test_file(env, rule_file_path)
}

/// The file of the prometheus chart's `serverFiles` that holds the alert rules.
pub const ALERTING_RULES_FILE: &str = component_prometheus::ALERTING_RULES_FILE;
