//! HashiCorp Vault, the source of every secret: a single in-memory dev server on kind, or a
//! Raft-replicated HA cluster elsewhere.

pub mod bootstrap;

use platform_core::component::{Component, HelmChart, Layer, Toggle, tier};
use platform_core::model::{Environment, ServiceType, VaultMode};
use platform_core::names;
use platform_core::traffic::Traffic;
use serde::Serialize;

pub const CHART: HelmChart = HelmChart {
    repo_url: "https://helm.releases.hashicorp.com",
    name: "vault",
    version: "0.34.1",
    crd_groups: &[],
};

/// Values of the vault chart this platform sets.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Values {
    pub injector: Toggle,
    pub server: Server,
    pub ui: Ui,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Server {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dev: Option<Toggle>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ha: Option<HighAvailability>,
    pub service: Service,
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

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Ui {
    pub enabled: bool,
}

pub fn values(env: &Environment) -> Values {
    let settings = &env.vault;
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
                    config: raft_config(settings.replicas, settings.ui),
                },
            }),
        ),
    };
    Values {
        // Apps get secrets through External Secrets, never through the sidecar injector.
        injector: Toggle { enabled: false },
        server: Server {
            dev,
            ha,
            service: Service {
                service_type: settings.service_type.as_str().to_owned(),
                port: names::VAULT.port,
            },
        },
        ui: Ui {
            enabled: settings.ui,
        },
    }
}

/// Server configuration for Raft: every server retries joining each of its peers, so the
/// cluster forms by itself once the first server is initialised and unsealed.
fn raft_config(replicas: u32, ui: bool) -> String {
    let service = names::VAULT.service;
    let port = names::VAULT.port;
    let joins: String = (0..replicas)
        .map(|i| {
            format!(
                "  retry_join {{\n    leader_api_addr = \"http://{service}-{i}.{service}-internal:{port}\"\n  }}\n"
            )
        })
        .collect();
    format!(
        "ui = {ui}\n\
         listener \"tcp\" {{\n  tls_disable = 1\n  address = \"[::]:{port}\"\n  cluster_address = \"[::]:8201\"\n}}\n\
         storage \"raft\" {{\n  path = \"/vault/data\"\n{joins}}}\n\
         service_registration \"kubernetes\" {{}}\n"
    )
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
    // Servers forward requests and replicate Raft among themselves (8200, 8201); the
    // kubernetes auth method reviews ESO's token with the API. Who may call Vault is
    // declared by the caller: only External Secrets does.
    .traffic(
        Traffic::release(names::app::VAULT)
            .among_themselves()
            .calls_kubernetes_api(),
    );
    if env.vault.service_type == ServiceType::LoadBalancer && env.uses_metallb() {
        // Vault's LoadBalancer Service gets its address from MetalLB.
        vault = vault.depends_on(&[names::app::METALLB]);
    }
    if env.vault.mode == VaultMode::Dev {
        // A dev server starts empty: configure it after every sync, so the environment comes
        // up with no manual Vault command.
        vault.extra_manifests.extend(bootstrap::hook(env));
    }
    vec![vault]
}
