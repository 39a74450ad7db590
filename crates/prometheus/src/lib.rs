//! Prometheus, the metrics store OpenCost computes cost from, and that evaluates the
//! platform's alert rules ([`alerts`]) and sends what fires to Alertmanager.

pub mod alerts;
pub mod rules;

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{PodSecurityContext, SecurityContext};
use platform_core::component::{
    ChartContainer, ChartPod, ChartVolume, Component, HelmChart, Layer, PinnedValue, Replicas,
    Toggle, tier,
};
use platform_core::hardening;
use platform_core::labels;
use platform_core::manifest::to_yaml;
use platform_core::model::Environment;
use platform_core::names;
use platform_core::scanner::{self, ChartWaiver};
use platform_core::sizing::Size;
use platform_core::traffic::{Peer, PodSubset, Port, Traffic};
use serde::Serialize;

pub const CHART: HelmChart = HelmChart {
    repo_url: "https://prometheus-community.github.io/helm-charts",
    name: "prometheus",
    version: "29.27.0",
    crd_groups: &[],
    // prometheus-29.27.0 `prometheus.common.matchLabels`, and its subcharts'; node-exporter
    // (prometheus-node-exporter 4.56) runs on the host network.
    pods: &[
        ChartPod::api_client("prometheus-server", SERVER_PODS)
            .runs(&[
                ChartContainer::new("prometheus-server", "server.resources", Size::XLarge)
                    .listening(&[9090]),
                ChartContainer::new(
                    "prometheus-server-configmap-reload",
                    "configmapReload.prometheus.resources",
                    Size::Tiny,
                )
                .listening(&[8080]),
            ])
            .replicas(Replicas::At {
                path: "server.replicaCount",
                default: 1,
            }),
        // A subchart: its values live under its name.
        ChartPod::api_client("prometheus-kube-state-metrics", PROMETHEUS_PODS)
            .runs(&[ChartContainer::new(
                "kube-state-metrics",
                "kube-state-metrics.resources",
                Size::Small,
            )
            .listening(&[8080, 8081])])
            .replicas(Replicas::At {
                path: "kube-state-metrics.replicas",
                default: 1,
            }),
        // It reads the host, not the API: its service account mounts no token
        // (prometheus-node-exporter 4.56.1 `serviceAccount.automountServiceAccountToken`).
        ChartPod::api_client("prometheus-prometheus-node-exporter", PROMETHEUS_PODS)
            .quiet()
            .on_host_network()
            .runs(&[ChartContainer::new(
                "node-exporter",
                "prometheus-node-exporter.resources",
                Size::Tiny,
            )
            .listening(&[9100])])
            .replicas(Replicas::PerNode),
    ],
    pods_verified_at: "29.27.0",
    volumes: &[ChartVolume {
        workload: "prometheus-server",
        size: "server.persistentVolume.size",
        default_size: "8Gi",
        enabled: "server.persistentVolume.enabled",
        enabled_default: true,
        unless: None,
    }],
    service_types: &["server.service.type"],
    pinned_values: &[
        PinnedValue {
            path: "kube-state-metrics.enabled",
            why: "kube-state-metrics carries the team and cost-center labels into the metrics OpenCost and the alerts read; the chart's default today",
        },
        PinnedValue {
            path: "server.retention",
            why: "the environment file owns retention, even where it equals the chart's 15d",
        },
    ],
    scanner_waivers: &[
        ChartWaiver {
            check: scanner::SERVICE_ACCOUNT_TOKEN,
            objects: &["Deployment/prometheus-server"],
            reason: "Prometheus discovers its targets (pods, endpoints, nodes) through the API",
        },
        ChartWaiver {
            check: scanner::SERVICE_ACCOUNT_TOKEN,
            objects: &["Deployment/prometheus-kube-state-metrics"],
            reason: "kube-state-metrics turns the API's objects into metrics: it lists and watches them",
        },
        ChartWaiver {
            check: "CKV_K8S_19",
            objects: &["DaemonSet/prometheus-prometheus-node-exporter"],
            reason: "node-exporter reports the node's own network interfaces, which only the host network namespace has",
        },
        ChartWaiver {
            check: "CKV_K8S_17",
            objects: &["DaemonSet/prometheus-prometheus-node-exporter"],
            reason: "node-exporter reports the node's processes, which only the host PID namespace shows",
        },
    ],
};

const PROMETHEUS_PODS: &[(&str, &str)] = &[("app.kubernetes.io/instance", "prometheus")];
/// The server, the one pod of the release that answers queries (9090): kube-state-metrics
/// and the node exporters are of the same release.
const SERVER_PODS: &[(&str, &str)] = &[
    ("app.kubernetes.io/instance", "prometheus"),
    ("app.kubernetes.io/name", "prometheus"),
    ("app.kubernetes.io/component", "server"),
];

/// Values of the prometheus chart this platform sets.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Values {
    pub server: Server,
    /// The chart's own Alertmanager stays off: the platform's is a release of its own, with
    /// its own Application, namespace and receivers' secrets.
    pub alertmanager: Toggle,
    #[serde(rename = "prometheus-pushgateway")]
    pub pushgateway: Toggle,
    #[serde(rename = "kube-state-metrics")]
    pub kube_state_metrics: KubeStateMetrics,
    #[serde(rename = "prometheus-node-exporter")]
    pub node_exporter: NodeExporter,
    pub configmap_reload: ConfigmapReload,
    /// Scrape jobs beyond the chart's Kubernetes service discovery, as Prometheus YAML.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extra_scrape_configs: Option<String>,
    /// Files of the server's configuration: the alert rules.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub server_files: BTreeMap<String, rules::RuleFile>,
}

/// node-exporter reads the host's `/proc` and `/sys` through read-only mounts as user 65534
/// (prometheus-node-exporter 4.56.1 values): it needs no capability.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeExporter {
    /// Added to the chart's pod context: the runtime's seccomp profile.
    pub security_context: PodSecurityContext,
    /// Added to what the charts set: no capability, not privileged, non-root.
    pub container_security_context: SecurityContext,
}

/// The sidecar that reloads Prometheus when its ConfigMap changes.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ConfigmapReload {
    pub prometheus: ReloadSidecar,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReloadSidecar {
    /// The chart sets none; it only reads the mounted ConfigMap and calls Prometheus.
    pub container_security_context: SecurityContext,
}

/// The file of `serverFiles` the chart's `prometheus.yml` lists in `rule_files`.
pub const ALERTING_RULES_FILE: &str = "alerting_rules.yml";

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Server {
    pub global: Global,
    pub retention: String,
    /// Added to the chart's pod context (user 65534, non-root): the runtime's seccomp profile.
    #[serde(rename = "securityContext")]
    pub security_context: PodSecurityContext,
    /// The chart sets none. Prometheus writes only to its data volume, so its root filesystem
    /// is read-only too.
    #[serde(rename = "containerSecurityContext")]
    pub container_security_context: SecurityContext,
    /// Where alerts go (chart 29.27.0 `server.alertmanagers`, written into `prometheus.yml`'s
    /// `alerting.alertmanagers`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub alertmanagers: Vec<AlertmanagerConfig>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AlertmanagerConfig {
    pub static_configs: Vec<StaticConfig>,
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
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub params: BTreeMap<String, Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheme: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_config: Option<TlsConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub static_configs: Vec<StaticConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dns_sd_configs: Vec<DnsSdConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub kubernetes_sd_configs: Vec<KubernetesSdConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub relabel_configs: Vec<RelabelConfig>,
}

impl ScrapeConfig {
    fn new(job_name: &str, metrics_path: &str) -> Self {
        Self {
            job_name: job_name.to_owned(),
            honor_labels: false,
            metrics_path: metrics_path.to_owned(),
            params: BTreeMap::new(),
            scheme: None,
            tls_config: None,
            static_configs: Vec::new(),
            dns_sd_configs: Vec::new(),
            kubernetes_sd_configs: Vec::new(),
            relabel_configs: Vec::new(),
        }
    }

    /// Every pod behind a Service, each its own target: a Service's address would hand each
    /// scrape to another replica, and counters would jump between them.
    fn endpoints_of(job_name: &str, endpoint: names::ServiceEndpoint) -> Self {
        let mut config = Self::new(job_name, "/metrics");
        config.kubernetes_sd_configs = vec![KubernetesSdConfig {
            role: "endpoints".to_owned(),
            namespaces: Namespaces {
                names: vec![endpoint.namespace.to_owned()],
            },
        }];
        config.relabel_configs = vec![RelabelConfig {
            source_labels: vec!["__meta_kubernetes_service_name".to_owned()],
            regex: endpoint.service.to_owned(),
            action: "keep".to_owned(),
        }];
        config
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TlsConfig {
    pub insecure_skip_verify: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DnsSdConfig {
    pub names: Vec<String>,
    #[serde(rename = "type")]
    pub record_type: String,
    pub port: u16,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct KubernetesSdConfig {
    pub role: String,
    pub namespaces: Namespaces,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Namespaces {
    pub names: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RelabelConfig {
    pub source_labels: Vec<String>,
    pub regex: String,
    pub action: String,
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
            security_context: hardening::runtime_default_seccomp(),
            container_security_context: hardening::container(),
            alertmanagers: if alerting(env) {
                let alertmanager = names::ALERTMANAGER;
                vec![AlertmanagerConfig {
                    static_configs: vec![StaticConfig {
                        targets: vec![format!("{}:{}", alertmanager.host(), alertmanager.port)],
                    }],
                }]
            } else {
                Vec::new()
            },
        },
        alertmanager: Toggle { enabled: false },
        pushgateway: Toggle { enabled: false },
        kube_state_metrics: KubeStateMetrics {
            enabled: true,
            metric_labels_allowlist: LABELLED_RESOURCES
                .iter()
                .map(|resource| {
                    let mut exported = labels::COST_ALLOCATION.to_vec();
                    if *resource == "pods" {
                        // Cost by app: the dashboards group pods by the app they belong to.
                        exported.push(labels::NAME);
                    }
                    format!("{resource}=[{}]", exported.join(","))
                })
                .collect(),
        },
        node_exporter: NodeExporter {
            security_context: hardening::runtime_default_seccomp(),
            // The subchart sets `readOnlyRootFilesystem`, the prometheus chart
            // `allowPrivilegeEscalation: false` (prometheus-29.27.0 values.yaml, line 1239).
            container_security_context: SecurityContext {
                read_only_root_filesystem: None,
                allow_privilege_escalation: None,
                ..hardening::container()
            },
        },
        configmap_reload: ConfigmapReload {
            prometheus: ReloadSidecar {
                container_security_context: hardening::container(),
            },
        },
        extra_scrape_configs: scrape_configs(env),
        server_files: if alerting(env) {
            BTreeMap::from([(ALERTING_RULES_FILE.to_owned(), alerts::rule_file(env))])
        } else {
            BTreeMap::new()
        },
    }
}

/// Whether this environment runs Alertmanager and the alert rules.
fn alerting(env: &Environment) -> bool {
    env.alerting.enabled
}

/// Jobs beyond the chart's own: OpenCost's cost metrics, and the metrics the alert rules
/// read (Argo CD's Applications, ESO's ExternalSecrets, Kyverno's admission requests, Vault's
/// seal status). Each job is named as [`alerts::job`] selects it.
fn scrape_configs(env: &Environment) -> Option<String> {
    let mut jobs = Vec::new();
    if env.opencost.enabled {
        let endpoint = names::OPENCOST_METRICS;
        let mut opencost = ScrapeConfig::new(alerts::job::OPENCOST, "/metrics");
        // OpenCost's metrics carry their own namespace and pod labels.
        opencost.honor_labels = true;
        opencost.static_configs = vec![StaticConfig {
            targets: vec![format!("{}:{}", endpoint.host(), endpoint.port)],
        }];
        jobs.push(opencost);
    }
    if alerting(env) {
        for metrics in metrics_endpoints(env) {
            if metrics.enabled {
                jobs.push(ScrapeConfig::endpoints_of(metrics.job, metrics.endpoint));
            }
        }
        if env.vault.enabled {
            jobs.push(vault_scrape_config(env));
        }
    }
    (!jobs.is_empty()).then(|| to_yaml(&jobs))
}

/// The components whose metrics Service Prometheus scrapes for the alert rules.
fn metrics_endpoints(env: &Environment) -> [MetricsEndpoint; 3] {
    [
        MetricsEndpoint {
            enabled: env.argocd.enabled,
            component: names::app::ARGOCD,
            job: alerts::job::ARGOCD,
            endpoint: names::ARGOCD_METRICS,
        },
        MetricsEndpoint {
            enabled: env.secrets.enabled,
            component: names::app::EXTERNAL_SECRETS,
            job: alerts::job::EXTERNAL_SECRETS,
            endpoint: names::ESO_METRICS,
        },
        MetricsEndpoint {
            enabled: env.policies.enabled,
            component: names::app::KYVERNO,
            job: alerts::job::KYVERNO,
            endpoint: names::KYVERNO_METRICS,
        },
    ]
}

/// A component's metrics Service: the scrape job that reads it, and the component whose pods
/// Prometheus then calls.
struct MetricsEndpoint {
    enabled: bool,
    component: &'static str,
    job: &'static str,
    endpoint: names::ServiceEndpoint,
}

/// Every Vault server through the headless Service, which lists sealed servers too
/// (`publishNotReadyAddresses`), so a sealed one is seen as sealed rather than as gone. Vault
/// serves `/v1/sys/metrics` without a token to the listener's callers (the vault component
/// sets `unauthenticated_metrics_access`; dev mode sets it itself, Vault `command/server.go`);
/// the NetworkPolicy admits Prometheus, which holds no Vault role, so it reads metrics and
/// nothing else. Vault's certificate is signed by a CA that lives only in Vault's namespace;
/// the scrape carries no credential, so it does not verify it.
fn vault_scrape_config(env: &Environment) -> ScrapeConfig {
    let vault = names::VAULT_INTERNAL;
    let tls = env.vault_tls();
    let mut config = ScrapeConfig::new(alerts::job::VAULT, names::VAULT_METRICS_PATH);
    config.params = BTreeMap::from([("format".to_owned(), vec!["prometheus".to_owned()])]);
    if tls {
        config.scheme = Some("https".to_owned());
        config.tls_config = Some(TlsConfig {
            insecure_skip_verify: true,
        });
    }
    config.dns_sd_configs = vec![DnsSdConfig {
        names: vec![vault.host()],
        record_type: "A".to_owned(),
        port: vault.port,
    }];
    config
}

/// The server scrapes its own release (kube-state-metrics), discovers targets through the API,
/// scrapes node exporters on the nodes' host network, and scrapes OpenCost.
fn traffic(env: &Environment) -> Traffic {
    let mut traffic = Traffic::release(names::app::PROMETHEUS)
        .among_themselves()
        .calls_kubernetes_api()
        .listening_on(
            &[Port::tcp(names::PROMETHEUS_SERVER_POD_PORT)],
            &PodSubset::labelled(&SERVER_PODS[1..]),
        );
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
    // cert-manager v1.21.1 annotates its three pods `prometheus.io/scrape: 'true'` on 9402
    // (templates/deployment.yaml, cainjector-deployment.yaml, webhook-deployment.yaml around
    // line 50), which the chart's default `kubernetes-pods` job scrapes: a blocked target is a
    // `ScrapeTargetDown` for ever, and its certificate metrics are the ones worth having.
    if env.vault_tls() {
        traffic = traffic.calls_component(
            names::app::CERT_MANAGER,
            &[Port::tcp(names::CERT_MANAGER_METRICS_PORT)],
        );
    }
    if alerting(env) {
        for metrics in metrics_endpoints(env) {
            if metrics.enabled {
                traffic =
                    traffic.calls_component(metrics.component, &[Port::tcp(metrics.endpoint.port)]);
            }
        }
        if env.vault.enabled {
            traffic = traffic
                .calls_component(names::app::VAULT, &[Port::tcp(names::VAULT_INTERNAL.port)]);
        }
        traffic = traffic.calls_component(
            names::app::ALERTMANAGER,
            &[Port::tcp(names::ALERTMANAGER.port)],
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
