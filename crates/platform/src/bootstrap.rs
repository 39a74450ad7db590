//! What a person applies once by hand to start an environment: the kind cluster, Argo CD's
//! install values, and the root Application.

use serde::Serialize;

use platform_core::model::{ClusterProvider, Environment};

/// kind's cluster configuration (`kind.x-k8s.io/v1alpha4`).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KindCluster {
    pub kind: &'static str,
    pub api_version: &'static str,
    pub name: String,
    pub networking: KindNetworking,
    pub nodes: Vec<KindNode>,
}

/// The cluster's pod range, set from the environment's so that the range the NetworkPolicies
/// cut out of every address rule is the one kind gives its pods.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KindNetworking {
    pub pod_subnet: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct KindNode {
    pub role: &'static str,
}

/// The kind cluster of a kind environment; `None` for any other provider.
pub fn kind_cluster(env: &Environment) -> Option<KindCluster> {
    (env.cluster.provider == ClusterProvider::Kind).then(|| KindCluster {
        kind: "Cluster",
        api_version: "kind.x-k8s.io/v1alpha4",
        name: env.cluster.name.to_string(),
        networking: KindNetworking {
            pod_subnet: env
                .network_ranges()
                .pods
                .first()
                .cloned()
                .unwrap_or_else(|| platform_core::model::KIND_POD_CIDR.to_owned()),
        },
        nodes: vec![KindNode {
            role: "control-plane",
        }],
    })
}

/// The values `helm install` uses for Argo CD: exactly those of the self-managed `argocd`
/// Application, so its first sync changes nothing.
/// Argo CD's values for the first `helm install`: exactly those of the Application that then
/// manages it, requests and limits included.
pub fn argocd_values(env: &Environment) -> serde_json::Value {
    platform_core::component::HelmRelease::new(
        component_argocd::CHART,
        "argocd",
        &component_argocd::values(env),
    )
    .values
}
