//! What the documentation of one environment is made from.

use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DocModel {
    pub env: String,
    /// The environment file, e.g. `environments/dev.yaml`.
    pub source: String,
    pub cluster: String,
    pub applications: Vec<Application>,
    pub access: Vec<Access>,
    /// Commands that report cost by each cost-allocation label, when OpenCost runs.
    pub cost_queries: Vec<String>,
    pub secret_flows: Vec<SecretFlow>,
    /// The reachability matrix, when NetworkPolicies are rendered.
    pub network_matrix: Option<String>,
    pub bootstrap: Bootstrap,
}

/// One child Application, in wave order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Application {
    pub name: String,
    pub namespace: String,
    pub wave: i32,
    pub layer: String,
    /// `chart version` for Helm, or the Git path.
    pub source: String,
    /// `automated` or `manual`.
    pub sync: String,
    pub depends_on: Vec<String>,
}

/// A Service a person reaches with `kubectl port-forward`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Access {
    pub component: String,
    pub namespace: String,
    pub service: String,
    pub service_port: u16,
    pub local_port: u16,
    /// `http` or `https`.
    pub scheme: String,
}

impl Access {
    pub fn command(&self) -> String {
        format!(
            "kubectl -n {} port-forward svc/{} {}:{}",
            self.namespace, self.service, self.local_port, self.service_port
        )
    }
}

/// How one app's secrets travel from Vault into its pods.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SecretFlow {
    pub app: String,
    pub namespace: String,
    pub store: String,
    pub secrets: Vec<SecretRef>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SecretRef {
    /// The Secret (and ExternalSecret) name.
    pub name: String,
    /// Where it lives in Vault, e.g. `secret/finops-db-creds`.
    pub vault_path: String,
    pub keys: Vec<String>,
    pub refresh: String,
}

/// What bringing the environment up takes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Bootstrap {
    pub kind_cluster: bool,
    pub argocd_chart_version: String,
    pub argocd_repo: String,
    pub vault_dev_mode: bool,
    pub vault_replicas: u32,
    /// The Applications that sync only by hand.
    pub manual_sync: Vec<String>,
    pub token_secret: String,
    pub vault_namespace: String,
    pub git_repo: String,
    pub git_revision: String,
    pub cluster_server: String,
}
