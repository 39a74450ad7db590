//! HashiCorp Vault, the source of every secret: a single in-memory dev server on kind, or a
//! Raft-replicated HA cluster elsewhere.

pub mod bootstrap;
pub mod tls;

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    PodSecurityContext, SecretVolumeSource, SecurityContext, Volume, VolumeMount,
};

use platform_core::component::{
    ChartContainer, ChartPod, ChartVolume, Component, HelmChart, Layer, PinnedValue, Replicas,
    Toggle, tier,
};
use platform_core::hardening;
use platform_core::model::{Environment, ServiceType, VaultMode};
use platform_core::names;
use platform_core::scanner::{self, ChartWaiver};
use platform_core::sizing::Size;
use platform_core::traffic::{Port, Traffic};
use serde::Serialize;

pub const CHART: HelmChart = HelmChart {
    repo_url: "https://helm.releases.hashicorp.com",
    name: "vault",
    version: "0.34.1",
    crd_groups: &[],
    // vault-helm v0.34.1 server-statefulset.yaml; the injector is off. The kubernetes auth
    // method reviews tokens with the API.
    pods: &[ChartPod::api_client("vault", VAULT_PODS)
        .runs(&[
            ChartContainer::new("vault", "server.resources", Size::Large)
                .listening(&[8200, 8201, 8202]),
        ])
        .replicas(Replicas::WhenEnabled {
            enabled: "server.ha.enabled",
            replicas: "server.ha.replicas",
            default: 3,
        })],
    pods_verified_at: "0.34.1",
    volumes: &[ChartVolume {
        workload: "vault",
        size: "server.dataStorage.size",
        default_size: "10Gi",
        enabled: "server.dataStorage.enabled",
        enabled_default: true,
        // vault-helm 0.34.1 statefulset.yaml: no volumeClaimTemplates in dev mode.
        unless: Some("server.dev.enabled"),
    }],
    service_types: &["server.service.type", "ui.serviceType"],
    pinned_values: &[
        PinnedValue {
            path: "server.service.port",
            why: "port 8200, as the platform's names and policies give it; the chart's default today",
        },
        PinnedValue {
            path: "server.ha.replicas",
            why: "the environment owns how many Vault servers run (the cost forecast and the raft peers count them), even where it equals the chart's 3",
        },
    ],
    scanner_waivers: &[
        ChartWaiver {
            check: scanner::SERVICE_ACCOUNT_TOKEN,
            objects: &["StatefulSet/vault"],
            reason: "Vault's kubernetes auth method reviews the tokens clients present (TokenReview) with its own, and its service registration labels its pods active or standby",
        },
        ChartWaiver {
            check: scanner::HIGH_UID,
            objects: &["StatefulSet/vault"],
            reason: "runs as user 100, the vault user of the Vault image, as the chart pins it; another UID would need a rebuilt image",
        },
        ChartWaiver {
            check: scanner::READ_ONLY_ROOT,
            objects: &["StatefulSet/vault"],
            reason: "the chart's start command writes the server configuration to /tmp/storageconfig.hcl in the image's filesystem (vault-helm v0.34.1 _helpers.tpl)",
        },
        ChartWaiver {
            check: scanner::LIVENESS_PROBE,
            objects: &["StatefulSet/vault"],
            reason: "a sealed Vault fails /v1/sys/health, and a restarted one is sealed again: a liveness probe would restart it forever; readiness keeps a sealed Vault out of its Service",
        },
    ],
};

const VAULT_PODS: &[(&str, &str)] = &[("app.kubernetes.io/instance", "vault")];

/// Values of the vault chart this platform sets.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Values {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub global: Option<Global>,
    pub injector: Toggle,
    pub server: Server,
    pub ui: Ui,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Global {
    /// `false` switches the chart's `VAULT_ADDR`, `VAULT_API_ADDR` and probes to https.
    pub tls_disable: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Server {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dev: Option<Toggle>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ha: Option<HighAvailability>,
    pub service: Service,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<Volume>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub volume_mounts: Vec<VolumeMount>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub extra_environment_vars: BTreeMap<String, String>,
    pub stateful_set: StatefulSet,
}

/// Vault's pod and container contexts. The chart writes the pod's in full when a value is
/// given (vault-helm v0.34.1 `_helpers.tpl`, `server.statefulSet.securityContext.pod`), so
/// this is its default (user 100, group 1000) with the runtime's seccomp profile. The
/// container holds no capability: the chart disables mlock (`disable_mlock = true` appended
/// to the configuration) and sets `SKIP_SETCAP`, so Vault needs no `IPC_LOCK`. Its root
/// filesystem stays writable: the start command writes `/tmp/storageconfig.hcl`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatefulSet {
    pub security_context: StatefulSetContexts,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StatefulSetContexts {
    pub pod: PodSecurityContext,
    pub container: SecurityContext,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HighAvailability {
    pub enabled: bool,
    pub replicas: u32,
    pub raft: Raft,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Raft {
    pub enabled: bool,
    /// Names each Raft node after its pod, so `vault operator raft list-peers` reads.
    pub set_node_id: bool,
    /// Vault's server configuration (HCL).
    pub config: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Service {
    #[serde(rename = "type")]
    pub service_type: String,
    pub port: u16,
}

/// The chart's `vault-ui` Service (`ui-service.yaml`): port 8200 only, the API and the UI.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Ui {
    pub enabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_type: Option<String>,
}

pub fn values(env: &Environment) -> Values {
    let settings = &env.vault;
    let tls = env.vault_tls();
    let (dev, ha) = match settings.mode {
        VaultMode::Dev => (Some(Toggle { enabled: true }), None),
        VaultMode::Ha => (
            None,
            Some(HighAvailability {
                enabled: true,
                replicas: settings.replicas,
                raft: Raft {
                    enabled: true,
                    set_node_id: true,
                    config: raft_config(settings.replicas, settings.ui, tls, metrics_scraped(env)),
                },
            }),
        ),
    };
    let (volumes, volume_mounts, extra_environment_vars) = if tls {
        (
            vec![Volume {
                name: names::VAULT_TLS_SECRET.to_owned(),
                secret: Some(SecretVolumeSource {
                    secret_name: Some(names::VAULT_TLS_SECRET.to_owned()),
                    ..SecretVolumeSource::default()
                }),
                ..Volume::default()
            }],
            vec![VolumeMount {
                name: names::VAULT_TLS_SECRET.to_owned(),
                mount_path: tls::MOUNT_PATH.to_owned(),
                read_only: Some(true),
                ..VolumeMount::default()
            }],
            // The `vault` CLI in each pod (probes, `vault operator init`) trusts the CA.
            BTreeMap::from([(
                "VAULT_CACERT".to_owned(),
                format!("{}/{}", tls::MOUNT_PATH, names::VAULT_TLS_CA_KEY),
            )]),
        )
    } else {
        (Vec::new(), Vec::new(), BTreeMap::new())
    };
    Values {
        global: tls.then_some(Global { tls_disable: false }),
        // Apps get secrets through External Secrets, never through the sidecar injector.
        injector: Toggle { enabled: false },
        server: Server {
            dev,
            ha,
            // The server's Service always publishes the Raft port 8201 too
            // (vault-0.34.1 `server-service.yaml`), so a LoadBalancer is the `vault-ui`
            // Service instead, which publishes 8200 alone.
            service: Service {
                service_type: ServiceType::ClusterIP.as_str().to_owned(),
                port: names::VAULT.port,
            },
            volumes,
            volume_mounts,
            extra_environment_vars,
            stateful_set: StatefulSet {
                security_context: StatefulSetContexts {
                    pod: hardening::pod(VAULT_UID, VAULT_GID),
                    container: hardening::container_writing_its_image(),
                },
            },
        },
        ui: match settings.service_type {
            ServiceType::LoadBalancer => Ui {
                enabled: true,
                service_type: Some(ServiceType::LoadBalancer.as_str().to_owned()),
            },
            ServiceType::ClusterIP => Ui {
                enabled: settings.ui,
                service_type: None,
            },
        },
    }
}

/// The user and group the chart runs Vault as (`server.uid`, `server.gid` defaults).
const VAULT_UID: i64 = 100;
const VAULT_GID: i64 = 1000;

/// Whether Prometheus scrapes Vault's metrics, for the alert rules.
fn metrics_scraped(env: &Environment) -> bool {
    env.alerting.enabled && env.prometheus.enabled
}

/// Server configuration for Raft: every server retries joining each of its peers, so the
/// cluster forms by itself once the first server is initialised and unsealed. With TLS, the
/// listener serves the certificate from `vault-tls`, and joins verify peers with its CA. With
/// `metrics`, Vault keeps Prometheus-format metrics and serves `/v1/sys/metrics` without a
/// token (as a dev server does by itself): the NetworkPolicy admits Prometheus alone.
fn raft_config(replicas: u32, ui: bool, tls: bool, metrics: bool) -> String {
    let service = names::VAULT.service;
    let port = names::VAULT.port;
    let scheme = if tls { "https" } else { "http" };
    let files = tls::MOUNT_PATH;
    let ca = names::VAULT_TLS_CA_KEY;
    let joins: String = (0..replicas)
        .map(|i| {
            let trust = if tls {
                format!("    leader_ca_cert_file = \"{files}/{ca}\"\n")
            } else {
                String::new()
            };
            format!(
                "  retry_join {{\n    leader_api_addr = \"{scheme}://{service}-{i}.{service}-internal:{port}\"\n{trust}  }}\n"
            )
        })
        .collect();
    let listener_tls = if tls {
        format!(
            "  tls_disable = 0\n  tls_cert_file = \"{files}/tls.crt\"\n  tls_key_file = \"{files}/tls.key\"\n"
        )
    } else {
        "  tls_disable = 1\n".to_owned()
    };
    let (listener_telemetry, telemetry) = if metrics {
        (
            "  telemetry {\n    unauthenticated_metrics_access = true\n  }\n",
            "telemetry {\n  prometheus_retention_time = \"24h\"\n  disable_hostname = true\n}\n",
        )
    } else {
        ("", "")
    };
    format!(
        "ui = {ui}\n\
         listener \"tcp\" {{\n{listener_tls}  address = \"[::]:{port}\"\n  cluster_address = \"[::]:8201\"\n{listener_telemetry}}}\n\
         storage \"raft\" {{\n  path = \"/vault/data\"\n{joins}}}\n\
         service_registration \"kubernetes\" {{}}\n{telemetry}"
    )
}

/// Raft's cluster port, on which HA servers replicate and forward requests.
const CLUSTER_PORT: u16 = 8201;

/// The kubernetes auth method reviews ESO's token with the API. HA servers forward requests
/// (8200) and replicate Raft (8201) among themselves, on those ports only; a dev server is
/// alone, but its bootstrap hook (a pod of the release) configures it on 8200. Who else may
/// call Vault is declared by the caller: only External Secrets does; a LoadBalancer (dev's,
/// for a person's `vault` CLI and the UI) is reached from outside the cluster.
fn traffic(env: &Environment) -> Traffic {
    let api = Port::tcp(names::VAULT.port);
    let mut traffic = Traffic::release(names::app::VAULT).calls_kubernetes_api();
    if env.vault.service_type == ServiceType::LoadBalancer {
        // A LoadBalancer is there to be reached from outside, on the API's port alone.
        traffic = traffic.exposed_on(&[api]);
    }
    match env.vault.mode {
        VaultMode::Ha => traffic.among_themselves_on(&[api, Port::tcp(CLUSTER_PORT)]),
        VaultMode::Dev => traffic.among_themselves_on(&[api]),
    }
}

pub fn components(env: &Environment) -> Vec<Component> {
    if !env.vault.enabled {
        return Vec::new();
    }
    let mut vault = Component::helm(
        CHART,
        names::app::VAULT,
        names::namespace::VAULT,
        Layer::Secrets,
        &values(env),
        env.charts.vault.as_ref(),
    )
    .earliest_wave(tier::FOUNDATION)
    .traffic(traffic(env));
    if env.vault.service_type == ServiceType::LoadBalancer && env.uses_metallb() {
        // Vault's LoadBalancer Service gets its address from MetalLB.
        vault = vault.depends_on(&[names::app::METALLB]);
    }
    if env.vault.mode == VaultMode::Dev {
        // A dev server starts empty: configure it after every sync, so the environment comes
        // up with no manual Vault command.
        vault.extra_manifests.extend(bootstrap::hook(env));
    }
    if env.vault_tls() {
        vault = vault.depends_on(&[names::app::CERT_MANAGER]);
        vault.extra_manifests.extend(tls::manifests());
    }
    vec![vault]
}
