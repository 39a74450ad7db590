//! What a pod costs, in PromQL over OpenCost's metrics: one definition for Grafana's cost
//! dashboard and the budget alerts, so the panel a team reads and the alert it gets agree.
//!
//! OpenCost (1.120, `pkg/metrics`) exports each container's allocation,
//! `container_cpu_allocation` (cores) and `container_memory_allocation_bytes`, labelled
//! `namespace`, `pod`, `container`, `node`; and each node's prices, `node_cpu_hourly_cost` (per
//! core-hour) and `node_ram_hourly_cost` (per GiB-hour), labelled `node`. Prometheus scrapes
//! OpenCost with `honor_labels`, so `namespace` and `pod` are the container's own. The team and
//! cost center come from kube-state-metrics' `kube_namespace_labels` (every namespace the
//! platform creates carries both, and the forecast books by namespace too), the app from
//! `kube_pod_labels`; kube-state-metrics exports exactly the labels the prometheus component
//! allowlists, as `label_<name>` (`-` and `.` become `_`).

use crate::labels;

/// Hours in a month, as OpenCost's monthly rates count them (365 × 24 / 12).
pub const HOURS_PER_MONTH: u32 = 730;

/// Bytes in a GiB: OpenCost prices memory per GiB-hour.
const GIB: u64 = 1 << 30;

/// The label kube-state-metrics gives a pod label in `kube_pod_labels`.
pub fn kube_state_metrics_label(label: &str) -> String {
    let sanitized: String = label
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!("label_{sanitized}")
}

/// The hourly cost of every pod, by `namespace` and `pod`: CPU and memory allocation priced
/// at its node's rates.
pub fn pod_hourly_cost() -> String {
    format!(
        "sum by (namespace, pod) (\
sum by (namespace, pod, node) (container_cpu_allocation) \
* on (node) group_left () avg by (node) (node_cpu_hourly_cost) \
+ sum by (namespace, pod, node) (container_memory_allocation_bytes) / {GIB} \
* on (node) group_left () avg by (node) (node_ram_hourly_cost))"
    )
}

/// Where a cost-allocation label is read: the pod's own labels (`kube_pod_labels`), or its
/// namespace's (`kube_namespace_labels`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LabelSource {
    Pod,
    Namespace,
}

impl LabelSource {
    fn metric(self) -> (&'static str, &'static str) {
        match self {
            Self::Pod => ("kube_pod_labels", "namespace, pod"),
            Self::Namespace => ("kube_namespace_labels", "namespace"),
        }
    }
}

/// The hourly cost by a label (`team`, `cost-center`, `app.kubernetes.io/name`) of the pods
/// or of their namespaces, under the series label `by` (`team`, `cost_center`, `app`); pods
/// without the label are left out. `matcher` narrows the label's values, e.g. `="finops"`;
/// empty: every value.
pub fn hourly_cost_by_label(label: &str, source: LabelSource, by: &str, matcher: &str) -> String {
    let exported = kube_state_metrics_label(label);
    let matcher = if matcher.is_empty() {
        "!=\"\"".to_owned()
    } else {
        matcher.to_owned()
    };
    let (metric, on) = source.metric();
    format!(
        "sum by ({by}) (label_replace({pods} * on ({on}) group_left ({exported}) \
max by ({on}, {exported}) ({metric}{{{exported}{matcher}}}), \
\"{by}\", \"$1\", \"{exported}\", \"(.+)\"))",
        pods = pod_hourly_cost(),
    )
}

/// The hourly cost of each team's pods, by `team`. A team is the team of the namespace, as
/// the forecast books it: the platform labels every namespace it creates (the platform's
/// own too), while chart pods carry only the labels their chart gives them.
pub fn hourly_cost_by_team(matcher: &str) -> String {
    hourly_cost_by_label(labels::TEAM, LabelSource::Namespace, labels::TEAM, matcher)
}

/// The hourly cost of each cost center's pods, by `cost_center`, from their namespaces.
pub fn hourly_cost_by_cost_center() -> String {
    hourly_cost_by_label(
        labels::COST_CENTER,
        LabelSource::Namespace,
        "cost_center",
        "",
    )
}

/// The hourly cost of each app's pods (`app.kubernetes.io/name`), by `app`.
pub fn hourly_cost_by_app() -> String {
    hourly_cost_by_label(labels::NAME, LabelSource::Pod, "app", "")
}

/// An hourly cost as a monthly run rate.
pub fn monthly(hourly: &str) -> String {
    format!("({hourly}) * {HOURS_PER_MONTH}")
}

/// What an hourly cost adds up to over a dashboard's time range (Grafana's `$__range`, e.g.
/// month to date): one sample per hour, summed.
pub fn over_dashboard_range(hourly: &str) -> String {
    format!("sum_over_time(({hourly})[$__range:1h])")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kube_state_metrics_sanitizes_label_names() {
        assert_eq!(kube_state_metrics_label("cost-center"), "label_cost_center");
        assert_eq!(
            kube_state_metrics_label("app.kubernetes.io/name"),
            "label_app_kubernetes_io_name"
        );
    }
}
