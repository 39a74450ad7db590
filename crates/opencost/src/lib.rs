//! OpenCost: reads the in-cluster Prometheus and allocates cost by the platform's
//! cost-allocation labels.

use platform_core::component::{Component, HelmChart, HelmRelease, Layer, Source, tier};
use platform_core::labels;
use platform_core::model::Environment;
use platform_core::names;
use platform_core::traffic::{Port, Traffic};
use serde::Serialize;

pub const CHART: HelmChart = HelmChart {
    repo_url: "https://opencost.github.io/opencost-helm-chart",
    name: "opencost",
    version: "2.5.17",
};

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
    pub custom_pricing: CustomPricing,
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

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomPricing {
    pub enabled: bool,
    /// Merged by Helm over the chart's default prices, which stay as they are.
    pub cost_model: LabelMapping,
}

/// Which labels OpenCost reads for its team and department allocation properties.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LabelMapping {
    pub team_label: String,
    /// OpenCost's "department" is this platform's cost center.
    pub department_label: String,
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
            custom_pricing: CustomPricing {
                enabled: true,
                cost_model: LabelMapping {
                    team_label: labels::TEAM.to_owned(),
                    department_label: labels::COST_CENTER.to_owned(),
                },
            },
        },
    }
}

pub fn components(env: &Environment) -> Vec<Component> {
    if !env.opencost.enabled {
        return Vec::new();
    }
    vec![
        Component::new(
            names::app::OPENCOST,
            names::namespace::OPENCOST,
            Layer::MonitoringAndCost,
            Source::Helm(
                HelmRelease::new(CHART, names::app::OPENCOST, &values(env))
                    .with_version(env.charts.opencost.as_ref()),
            ),
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
