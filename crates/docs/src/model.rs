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
    /// The alert rules, one row per alert however many teams' groups hold it.
    pub alerts: Vec<AlertDoc>,
    /// What the environment costs a month, at its prices.
    pub cost: Option<CostDoc>,
    /// Grafana's admin login: where it is in Vault, when Grafana runs.
    pub grafana_admin: Option<String>,
    /// How a person reaches Vault to seed secrets, when Vault runs.
    pub vault_access: Option<String>,
    /// The reachability matrix, when NetworkPolicies are rendered: a line per allowed pair,
    /// or, at scale, a Markdown table with a row per component.
    pub network_matrix: Option<String>,
    /// More apps than [`crate::DETAILED_APPS`]: the README summarizes them (a table where it
    /// would draw a diagram per app, the platform alone in the component diagram).
    pub at_scale: bool,
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

/// The forecast, formatted: amounts in the environment's currency, a month of 730 hours.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CostDoc {
    pub currency: String,
    /// Per team, with its budget where it has one.
    pub teams: Vec<CostRow>,
    /// Per Application (left out at scale: `cargo xtask cost` lists them).
    pub applications: Vec<CostRow>,
    pub total: String,
    pub total_ceiling: String,
    /// The prices, as the environment file states them.
    pub prices: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CostRow {
    pub name: String,
    pub team: String,
    pub cost_center: String,
    pub cpu: String,
    pub memory: String,
    pub storage: String,
    pub monthly: String,
    pub ceiling: String,
    pub budget: String,
}

/// An alert rule, for the README's runbook table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AlertDoc {
    pub name: String,
    pub severity: String,
    /// The teams whose rule groups hold it (the `team` label Alertmanager routes by).
    pub teams: Vec<String>,
    pub summary: String,
    pub runbook: String,
}

/// How one app's secrets travel from Vault into its pods.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SecretFlow {
    pub app: String,
    /// A platform component's own secrets, listed and seeded like an app's but not drawn.
    pub platform: bool,
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
    /// The shell variable each key's value is typed into, in the order of `keys`.
    pub variables: Vec<String>,
    pub refresh: String,
    /// The directory the keys are mounted in as files; environment variables when `None`.
    pub mount_path: Option<String>,
}

impl SecretRef {
    pub fn new(name: &str, vault_path: &str, keys: &[String], refresh: &str) -> Self {
        Self {
            name: name.to_owned(),
            vault_path: vault_path.to_owned(),
            keys: keys.to_vec(),
            variables: seed_variables(keys),
            refresh: refresh.to_owned(),
            mount_path: None,
        }
    }

    /// The keys reach the app as files in `path`.
    pub fn mounted_at(mut self, path: Option<&str>) -> Self {
        self.mount_path = path.map(str::to_owned);
        self
    }
}

/// The shell variables the seeding commands read secret values into: `SEED_` and the key in
/// upper case, anything but letters and digits as `_`, and a number where two keys would meet.
/// The prefix keeps a key named `path`, `home` or `ifs` from overwriting a variable the
/// user's shell depends on (`read PATH` would break the very next command).
pub fn seed_variables(keys: &[String]) -> Vec<String> {
    let mut variables: Vec<String> = Vec::new();
    for key in keys {
        let stem: String = key
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_uppercase()
                } else {
                    '_'
                }
            })
            .collect();
        let base = format!("SEED_{stem}");
        let mut variable = base.clone();
        let mut n = 2;
        while variables.contains(&variable) {
            variable = format!("{base}_{n}");
            n += 1;
        }
        variables.push(variable);
    }
    variables
}

/// What bringing the environment up takes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Bootstrap {
    pub kind_cluster: bool,
    pub argocd_chart_version: String,
    pub argocd_repo: String,
    pub vault_dev_mode: bool,
    /// Whether Vault serves TLS, with the CA in this Secret of its namespace.
    pub vault_tls: bool,
    pub vault_tls_secret: String,
    /// The shared Argo CD that serves the environment, if it shares one.
    pub argocd_hub: Option<String>,
    /// Whether the environment's `argocd` Application manages the Argo CD it runs in.
    pub manages_argocd: bool,
    /// The environments of the hub this one manages, itself included, by name; empty
    /// unless it manages a hub.
    pub hub_environments: Vec<String>,
    /// The name of the root Application.
    pub root_application: String,
    /// How often an auto-sync retries a failed sync, when the environment sets it.
    pub retry_limit: Option<i64>,
    /// The address ranges MetalLB hands out, when it runs.
    pub metallb_addresses: Vec<String>,
    pub vault_replicas: u32,
    /// The Applications that sync only by hand.
    pub manual_sync: Vec<ManualSync>,
    pub token_secret: String,
    pub vault_namespace: String,
    pub git_repo: String,
    pub git_revision: String,
    pub cluster_server: String,
}

/// An Application that syncs only when a person starts it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ManualSync {
    pub name: String,
    /// Its `syncPolicy.syncOptions`, which a sync started by a patch must repeat.
    pub sync_options: Vec<String>,
    /// `kubectl` that starts the sync, with those options.
    pub patch_command: String,
}

impl ManualSync {
    pub fn new(name: &str, argocd_namespace: &str, sync_options: Vec<String>) -> Self {
        let operation = serde_json::json!({
            "operation": {
                "initiatedBy": {"username": "admin"},
                "sync": {"syncOptions": sync_options},
            }
        });
        Self {
            name: name.to_owned(),
            patch_command: format!(
                "kubectl -n {argocd_namespace} patch application {name} --type merge -p '{operation}'"
            ),
            sync_options,
        }
    }
}
