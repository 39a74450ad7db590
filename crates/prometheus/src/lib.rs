//! Prometheus, the metrics store OpenCost computes cost from.

use platform_core::component::{ChartPod, Component, HelmChart, Layer, Toggle, tier};
use platform_core::labels;
use platform_core::manifest::to_yaml;
use platform_core::model::Environment;
use platform_core::names;
use platform_core::traffic::{Peer, Port, Traffic};
use serde::Serialize;

pub const CHART: HelmChart = HelmChart {
    repo_url: "https://prometheus-community.github.io/helm-charts",
    name: "prometheus",
    version: "29.27.0",
    crd_groups: &[],
    // prometheus-29.27.0 `prometheus.common.matchLabels`, and its subcharts'; node-exporter
    // (prometheus-node-exporter 4.56) runs on the host network.
    pods: &[
        ChartPod::api_client("prometheus-server", PROMETHEUS_PODS),
        ChartPod::api_client("prometheus-kube-state-metrics", PROMETHEUS_PODS),
        ChartPod::api_client("prometheus-prometheus-node-exporter", PROMETHEUS_PODS)
            .on_host_network(),
    ],
    pods_verified_at: "29.27.0",
};

const PROMETHEUS_PODS: &[(&str, &str)] = &[("app.kubernetes.io/instance", "prometheus")];

/// Values of the prometheus chart this platform sets.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Values {
    pub server: Server,
    /// Alerting is a later step of the platform; until then Alertmanager would run idle.
    pub alertmanager: Toggle,
    #[serde(rename = "prometheus-pushgateway")]
    pub pushgateway: Toggle,
    #[serde(rename = "kube-state-metrics")]
    pub kube_state_metrics: KubeStateMetrics,
    /// Scrape jobs beyond the chart's Kubernetes service discovery, as Prometheus YAML.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extra_scrape_configs: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Server {
    pub global: Global,
    pub retention: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Global {
    pub scrape_interval: String,
}

/// Values of the kube-state-metrics subchart.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KubeStateMetrics {
    pub enabled: bool,
    /// Labels exported as `label_*` of `kube_<resource>_labels`, as `resource=[label,...]`.
    /// kube-state-metrics exports none by default; cost allocation by label needs them.
    pub metric_labels_allowlist: Vec<String>,
}

/// Resources whose cost-allocation labels Prometheus must hold for OpenCost.
const LABELLED_RESOURCES: [&str; 3] = ["pods", "namespaces", "deployments"];

/// One job of Prometheus's `scrape_configs`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ScrapeConfig {
    pub job_name: String,
    pub honor_labels: bool,
    pub metrics_path: String,
    pub static_configs: Vec<StaticConfig>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StaticConfig {
    pub targets: Vec<String>,
}

pub fn values(env: &Environment) -> Values {
    Values {
        server: Server {
            global: Global {
                scrape_interval: env.prometheus.scrape_interval.as_prometheus(),
            },
            retention: env.prometheus.retention.as_prometheus(),
        },
        alertmanager: Toggle { enabled: false },
        pushgateway: Toggle { enabled: false },
        kube_state_metrics: KubeStateMetrics {
            enabled: true,
            metric_labels_allowlist: LABELLED_RESOURCES
                .iter()
                .map(|resource| format!("{resource}=[{}]", labels::COST_ALLOCATION.join(",")))
                .collect(),
        },
        extra_scrape_configs: scrape_configs(env),
    }
}

/// OpenCost's cost metrics are only in Prometheus if Prometheus scrapes OpenCost.
fn scrape_configs(env: &Environment) -> Option<String> {
    if !env.opencost.enabled {
        return None;
    }
    let endpoint = names::OPENCOST_METRICS;
    let jobs = vec![ScrapeConfig {
        job_name: names::app::OPENCOST.to_owned(),
        // OpenCost's metrics carry their own namespace and pod labels.
        honor_labels: true,
        metrics_path: "/metrics".to_owned(),
        static_configs: vec![StaticConfig {
            targets: vec![format!("{}:{}", endpoint.host(), endpoint.port)],
        }],
    }];
    Some(to_yaml(&jobs))
}

/// The server scrapes its own release (kube-state-metrics), discovers targets through the API,
/// scrapes node exporters on the nodes' host network, and scrapes OpenCost.
fn traffic(env: &Environment) -> Traffic {
    let mut traffic = Traffic::release(names::app::PROMETHEUS)
        .among_themselves()
        .calls_kubernetes_api();
    for cidr in env.network_ranges().nodes {
        traffic = traffic.calls(
            Peer::External { cidr: cidr.clone() },
            &[Port::tcp(NODE_EXPORTER_PORT), Port::tcp(KUBELET_PORT)],
        );
    }
    if env.opencost.enabled {
        traffic = traffic.calls_component(
            names::app::OPENCOST,
            &[Port::tcp(names::OPENCOST_METRICS.port)],
        );
    }
    traffic
}

/// Node exporters listen on each node's address, outside the pod network.
const NODE_EXPORTER_PORT: u16 = 9100;
/// The kubelet, which the chart's `kubernetes-nodes` and `kubernetes-nodes-cadvisor` jobs
/// scrape at each node's address (`role: node`, no API server proxy; chart 29.27.0
/// values.yaml): OpenCost's CPU, memory and network usage come from there.
const KUBELET_PORT: u16 = 10250;

pub fn components(env: &Environment) -> Vec<Component> {
    if !env.prometheus.enabled {
        return Vec::new();
    }
    vec![
        Component::helm(
            CHART,
            names::app::PROMETHEUS,
            names::PROMETHEUS.namespace,
            Layer::MonitoringAndCost,
            &values(env),
            env.charts.prometheus.as_ref(),
        )
        .earliest_wave(tier::OPERATORS)
        .traffic(traffic(env)),
    ]
}
