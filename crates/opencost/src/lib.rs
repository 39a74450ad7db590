//! OpenCost: reads the in-cluster Prometheus and allocates cost by the platform's
//! cost-allocation labels.
//!
//! OpenCost aggregates by any pod label (`aggregate=label:team`, `label:cost-center`) as long
//! as Prometheus holds the pods' labels: the prometheus component makes kube-state-metrics
//! export exactly the cost-allocation labels. OpenCost's own `team` property reads the label
//! `team` by default, which is this platform's key too.

use platform_core::component::{ChartPod, Component, HelmChart, Layer, tier};
use platform_core::model::Environment;
use platform_core::names;
use platform_core::traffic::{Port, Traffic};
use serde::Serialize;

pub const CHART: HelmChart = HelmChart {
    repo_url: "https://opencost.github.io/opencost-helm-chart",
    name: "opencost",
    version: "2.5.17",
    crd_groups: &[],
    // opencost-2.5.17 `opencost.selectorLabels`.
    pods: &[ChartPod::api_client("opencost", OPENCOST_PODS)],
    pods_verified_at: "2.5.17",
};

const OPENCOST_PODS: &[(&str, &str)] = &[("app.kubernetes.io/instance", "opencost")];

/// Values of the opencost chart this platform sets.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Values {
    pub opencost: OpenCost,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OpenCost {
    pub exporter: Exporter,
    pub prometheus: Prometheus,
    pub ui: Ui,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Exporter {
    /// Cluster name in cost reports, so environments are told apart.
    pub default_cluster_id: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Prometheus {
    pub internal: InternalPrometheus,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InternalPrometheus {
    pub enabled: bool,
    pub service_name: String,
    pub namespace_name: String,
    pub port: u16,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Ui {
    pub enabled: bool,
    pub ui_port: u16,
}

pub fn values(env: &Environment) -> Values {
    let prometheus = names::PROMETHEUS;
    Values {
        opencost: OpenCost {
            exporter: Exporter {
                default_cluster_id: env.cluster.name.to_string(),
            },
            prometheus: Prometheus {
                internal: InternalPrometheus {
                    enabled: true,
                    service_name: prometheus.service.to_owned(),
                    namespace_name: prometheus.namespace.to_owned(),
                    port: prometheus.port,
                },
            },
            ui: Ui {
                enabled: true,
                ui_port: names::OPENCOST_UI.port,
            },
        },
    }
}

pub fn components(env: &Environment) -> Vec<Component> {
    if !env.opencost.enabled {
        return Vec::new();
    }
    vec![
        Component::helm(
            CHART,
            names::app::OPENCOST,
            names::namespace::OPENCOST,
            Layer::MonitoringAndCost,
            &values(env),
            env.charts.opencost.as_ref(),
        )
        .earliest_wave(tier::CONFIGURATION)
        .depends_on(&[names::app::PROMETHEUS])
        .traffic(
            Traffic::release(names::app::OPENCOST)
                .calls_component(
                    names::app::PROMETHEUS,
                    &[Port::tcp(names::PROMETHEUS_SERVER_POD_PORT)],
                )
                .calls_kubernetes_api(),
        ),
    ]
}
