//! OpenCost: reads the in-cluster Prometheus and allocates cost by the platform's
//! cost-allocation labels.
//!
//! OpenCost aggregates by any label (`aggregate=label:team`, `label:cost-center`) as long as
//! Prometheus holds the labels: the prometheus component makes kube-state-metrics export
//! exactly the cost-allocation labels of pods and namespaces. A pod's allocation takes its
//! node's, then its namespace's, then its own labels (`pkg/costmodel/allocation_helpers.go`,
//! `applyLabels`), so the platform's chart pods are billed by their namespaces. OpenCost's own `team` property reads the label
//! `team` by default, which is this platform's key too.

use k8s_openapi::api::core::v1::{PodSecurityContext, SecurityContext};
use platform_core::billing::OpenCostPrices;
use platform_core::component::{
    ChartContainer, ChartPod, Component, HelmChart, Layer, PinnedValue, Replicas, Toggle, tier,
};
use platform_core::hardening;
use platform_core::model::{CostSettings, Environment};
use platform_core::names;
use platform_core::scanner::{self, ChartWaiver};
use platform_core::sizing::Size;
use platform_core::traffic::{Port, Traffic};
use serde::Serialize;

pub const CHART: HelmChart = HelmChart {
    repo_url: "https://opencost.github.io/opencost-helm-chart",
    name: "opencost",
    version: "2.5.17",
    crd_groups: &[],
    // opencost-2.5.17 `opencost.selectorLabels`.
    pods: &[ChartPod::api_client("opencost", OPENCOST_PODS)
        .runs(&[
            ChartContainer::new("opencost", "opencost.exporter.resources", Size::Medium)
                .listening(&[9003]),
            ChartContainer::new("opencost-ui", "opencost.ui.resources", Size::Tiny)
                .listening(&[9090]),
        ])
        .replicas(Replicas::At {
            path: "opencost.exporter.replicas",
            default: 1,
        })],
    pods_verified_at: "2.5.17",
    volumes: &[],
    service_types: &[],
    pinned_values: &[
        PinnedValue {
            path: "opencost.prometheus.internal",
            why: "where OpenCost reads Prometheus, from the platform's names (the NetworkPolicies allow exactly that Service); the service name and port equal the chart's defaults today",
        },
        PinnedValue {
            path: "opencost.ui.enabled",
            why: "the UI on 9090, as the platform's names, policies and README give it; the chart's default today",
        },
        PinnedValue {
            path: "opencost.ui.uiPort",
            why: "the UI on 9090, as the platform's names, policies and README give it; the chart's default today",
        },
    ],
    scanner_waivers: &[
        ChartWaiver {
            check: scanner::SERVICE_ACCOUNT_TOKEN,
            objects: &["Deployment/opencost"],
            reason: "OpenCost reads nodes, pods, volumes and services through the API to allocate cost",
        },
        ChartWaiver {
            check: scanner::HIGH_UID,
            objects: &["Deployment/opencost"],
            reason: "runs as user 1001, the user both OpenCost images are built with (pinned in the pod's context); another UID would need rebuilt images",
        },
        ChartWaiver {
            check: scanner::READ_ONLY_ROOT,
            objects: &["Deployment/opencost"],
            reason: "the exporter writes its settings under /var/configs and the UI rewrites its scripts and nginx configuration at start, both in their images' filesystems",
        },
    ],
};

const OPENCOST_PODS: &[(&str, &str)] = &[("app.kubernetes.io/instance", "opencost")];

/// Values of the opencost chart this platform sets.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Values {
    pub opencost: OpenCost,
    /// The chart sets none: both images run as user 1001 (opencost `Dockerfile`, opencost-ui
    /// `Dockerfile` `USER 1001`), so the pod pins that user and non-root, with the runtime's
    /// seccomp profile.
    pub pod_security_context: PodSecurityContext,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OpenCost {
    pub exporter: Exporter,
    pub prometheus: Prometheus,
    pub ui: Ui,
    pub custom_pricing: CustomPricing,
    /// opencost-2.5.17 runs an MCP server for AI agents by default (`values.yaml:224-230`,
    /// port 8081 on the pod and the Service, no authentication): nothing of the platform
    /// reads it, so it does not listen at all.
    pub mcp: Toggle,
}

/// OpenCost's custom pricing: the chart writes `cost_model` into a ConfigMap that OpenCost's
/// `custom` provider reads (opencost-2.5.17 `configmap-custom-pricing.yaml`).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomPricing {
    /// With the chart's `provider: custom` and `createConfigmap: true`.
    pub enabled: bool,
    pub cost_model: CostModel,
}

/// The custom provider's prices, as text (the chart quotes them; OpenCost parses each with
/// `strconv.ParseFloat`). OpenCost reads `CPU`, `spotCPU`, `RAM`, `spotRAM`, `GPU` and
/// `storage` as monthly prices and bills a 730th of each, and the load balancer fields as they
/// are, per hour: [`platform_core::billing`] holds that conversion, and the forecast bills
/// with it too. `CPU` is the node's cost per vCPU, `RAM` per GiB, `storage` the PV cost per
/// GiB (`pkg/cloud/provider/customprovider.go`); a load balancer costs
/// `firstFiveForwardingRulesCost` an hour (one forwarding rule, no data), its two other fields
/// parsed too. On-premises there are no spot nodes, GPUs or metered egress: those are 0.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CostModel {
    pub description: String,
    #[serde(rename = "currencyCode")]
    pub currency_code: String,
    #[serde(rename = "CPU")]
    pub cpu: String,
    #[serde(rename = "spotCPU")]
    pub spot_cpu: String,
    #[serde(rename = "RAM")]
    pub ram: String,
    #[serde(rename = "spotRAM")]
    pub spot_ram: String,
    #[serde(rename = "GPU")]
    pub gpu: String,
    pub storage: String,
    #[serde(rename = "zoneNetworkEgress")]
    pub zone_network_egress: String,
    #[serde(rename = "regionNetworkEgress")]
    pub region_network_egress: String,
    #[serde(rename = "internetNetworkEgress")]
    pub internet_network_egress: String,
    #[serde(rename = "firstFiveForwardingRulesCost")]
    pub first_five_forwarding_rules_cost: String,
    #[serde(rename = "additionalForwardingRuleCost")]
    pub additional_forwarding_rule_cost: String,
    #[serde(rename = "LBIngressDataCost")]
    pub lb_ingress_data_cost: String,
}

/// The environment's prices in OpenCost's units.
pub fn cost_model(cost: &CostSettings) -> CostModel {
    let prices = OpenCostPrices::of(&cost.pricing);
    let zero = || "0".to_owned();
    CostModel {
        description: "Prices from the environment file (cost.pricing), monthly as OpenCost reads them; the forecast of cargo xtask cost bills the same.".to_owned(),
        currency_code: cost.currency.clone(),
        cpu: prices.cpu_per_vcpu_month.clone(),
        spot_cpu: prices.cpu_per_vcpu_month,
        ram: prices.memory_per_gib_month.clone(),
        spot_ram: prices.memory_per_gib_month,
        gpu: zero(),
        storage: prices.storage_per_gib_month,
        zone_network_egress: zero(),
        region_network_egress: zero(),
        internet_network_egress: zero(),
        first_five_forwarding_rules_cost: prices.load_balancer_per_hour.clone(),
        additional_forwarding_rule_cost: prices.load_balancer_per_hour,
        lb_ingress_data_cost: zero(),
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Exporter {
    /// Cluster name in cost reports, so environments are told apart.
    pub default_cluster_id: String,
    /// No privilege escalation, no capability; the root filesystem stays writable, since the
    /// exporter writes its settings under `/var/configs` (opencost `pkg/env/costmodelenv.go`,
    /// `DefaultConfigMountPath`).
    pub security_context: SecurityContext,
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
    /// As the exporter's: the UI rewrites its scripts and nginx configuration at start
    /// (opencost-ui `docker-entrypoint.sh`), so its root filesystem stays writable.
    pub security_context: SecurityContext,
}

pub fn values(env: &Environment) -> Values {
    let prometheus = names::PROMETHEUS;
    Values {
        opencost: OpenCost {
            exporter: Exporter {
                default_cluster_id: env.cluster.name.to_string(),
                security_context: hardening::container_writing_its_image(),
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
                security_context: hardening::container_writing_its_image(),
            },
            custom_pricing: CustomPricing {
                enabled: true,
                cost_model: cost_model(&env.cost),
            },
            mcp: Toggle { enabled: false },
        },
        pod_security_context: hardening::pod_as_image_user(IMAGE_USER),
    }
}

/// The user both OpenCost images run as.
const IMAGE_USER: i64 = 1001;

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

#[cfg(test)]
mod tests {
    use super::*;
    use platform_core::billing::Billed;
    use platform_core::model::Pricing;

    #[test]
    fn compute_prices_reach_opencost_monthly_and_load_balancers_hourly() {
        let cost = CostSettings {
            currency: "EUR".to_owned(),
            pricing: Pricing {
                cpu_per_vcpu_hour: 0.05,
                memory_per_gib_hour: 0.006,
                storage_per_gib_month: 0.073,
                load_balancer_per_hour: 0.02,
            },
            enforce_budgets: false,
            nodes: 1,
        };
        let model = cost_model(&cost);
        assert_eq!(model.currency_code, "EUR");
        assert_eq!(model.cpu, "36.5");
        assert_eq!(model.spot_cpu, "36.5");
        assert_eq!(model.ram, "4.38");
        assert_eq!(model.storage, "0.073");
        assert_eq!(model.first_five_forwarding_rules_cost, "0.02");
        assert_eq!(model.lb_ingress_data_cost, "0");
        let billed = Billed::of(&cost.pricing);
        assert_eq!(billed.cpu_per_vcpu_hour, 0.05);
        assert_eq!(billed.storage_per_gib_hour, 0.0001);
    }

    #[test]
    fn the_defaults_are_opencosts_own() {
        let billed = Billed::of(&CostSettings::default().pricing);
        // configs/default.json of OpenCost: hourly 0.031611, 0.004237 and 0.00005479452.
        assert_eq!(billed.cpu_per_vcpu_hour, 0.031611);
        assert_eq!(billed.memory_per_gib_hour, 0.004237);
        assert_eq!(billed.storage_per_gib_hour, 0.000055);
    }
}
