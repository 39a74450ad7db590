//! The typed environment: what an `environments/<name>.yaml` file says, after parsing.
//!
//! Every field is documented; the documentation becomes the editor schema's descriptions.
//! Unknown fields are rejected everywhere, so a typo is an error rather than a silent default.

mod check;
mod values;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use check::{ModelError, check};
pub use values::{ChartVersion, DnsLabel, Duration, ImageRef, Quantity, explain_invalid};

/// One environment: a cluster, the platform components on it and the teams' apps.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Environment {
    /// The Git repository Argo CD reads this environment's rendered manifests from.
    pub git: GitSource,
    /// The cluster this environment deploys to.
    pub cluster: Cluster,
    /// Argo CD, which manages itself once bootstrapped.
    #[serde(default)]
    pub argocd: ArgoCdSettings,
    /// MetalLB, which gives LoadBalancer Services an address on clusters without a cloud load balancer.
    #[serde(default)]
    pub metallb: MetallbSettings,
    /// HashiCorp Vault, the source of every secret.
    pub vault: VaultSettings,
    /// How External Secrets Operator reads Vault: one source of truth for the ClusterSecretStore and Vault's auth setup.
    pub secrets: SecretStoreSettings,
    /// Kyverno and the platform's security policies.
    pub policies: PolicySettings,
    /// Prometheus, which OpenCost reads.
    #[serde(default)]
    pub prometheus: PrometheusSettings,
    /// OpenCost, which allocates cost by the team and cost-center labels.
    #[serde(default)]
    pub opencost: OpenCostSettings,
    /// What resources cost: OpenCost's custom pricing and the forecast of `cargo xtask cost`
    /// use the same prices, so the forecast and the bill agree.
    #[serde(default)]
    pub cost: CostSettings,
    /// Grafana, with Prometheus as its datasource and the platform's dashboards.
    #[serde(default)]
    pub grafana: GrafanaSettings,
    /// Alertmanager, and the alert rules Prometheus evaluates for the platform and each team.
    #[serde(default)]
    pub alerting: AlertingSettings,
    /// NetworkPolicies derived from the component graph.
    #[serde(default)]
    pub network: NetworkSettings,
    /// Chart versions that replace the pinned defaults, per component; leave unset to use the tested pins.
    #[serde(default)]
    pub charts: ChartVersions,
    /// Defaults for every user app.
    #[serde(default)]
    pub workloads: WorkloadDefaults,
    /// Teams that own apps; each is billed to a cost center.
    pub teams: Vec<Team>,
    /// The team (one of `teams`) the platform's own cost is booked to: the namespaces Argo CD
    /// creates for platform components, and the platform's own pods, carry its labels.
    pub platform_team: DnsLabel,
    /// User applications, deployed after the whole platform.
    #[serde(default)]
    pub apps: Vec<App>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GitSource {
    /// URL of the Git repository that holds `rendered/`, as Argo CD clones it.
    pub repo_url: String,
    /// Branch, tag or commit Argo CD tracks, e.g. `main` or `v1.2.0`.
    pub target_revision: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Cluster {
    /// What kind of cluster this is: `kind` for a local cluster created from the rendered kind config, `remote` for any other.
    pub provider: ClusterProvider,
    /// Cluster name; for kind, the name `kind create cluster` gives it.
    pub name: DnsLabel,
    /// API server URL Argo CD deploys to; `https://kubernetes.default.svc` is the cluster Argo CD runs in.
    pub server: String,
}

impl Cluster {
    /// The port `server` names, or 443 when it names none; `None` when the URL is not
    /// `https://host[:port][/path]` with a port of 1 to 65535.
    pub fn api_port(&self) -> Option<u16> {
        let rest = self.server.strip_prefix("https://")?;
        let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
        // An IPv6 literal is bracketed; its colons are not the port's.
        let after_host = match authority.strip_prefix('[') {
            Some(bracketed) => bracketed.split_once(']')?.1,
            None => authority.find(':').map_or("", |at| &authority[at..]),
        };
        match after_host.strip_prefix(':') {
            None if after_host.is_empty() => Some(443),
            None => None,
            Some(port) => port.parse().ok().filter(|&port| port != 0),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ClusterProvider {
    /// A local kind cluster.
    Kind,
    /// Any other cluster, reached at `cluster.server`.
    Remote,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ArgoCdSettings {
    /// Render the self-managed `argocd` Application.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// How often Argo CD polls Git (`timeout.reconciliation` in argocd-cm).
    #[serde(default = "ArgoCdSettings::default_reconciliation")]
    pub reconciliation_timeout: Duration,
    /// Retries of a failed sync, with exponential backoff; absent means Argo CD's default
    /// for auto-sync (5 retries).
    #[serde(default)]
    pub sync_retry: Option<SyncRetry>,
    /// The Argo CD this environment is served by, when it shares one with other environments
    /// (hub and spoke: one Argo CD deploying to several clusters). Its Applications and
    /// AppProjects then take the environment's name as a prefix (`prod-vault`), so that
    /// environments on one hub never take over each other's; and exactly one environment of
    /// a hub keeps `enabled: true`, managing the Argo CD it runs in. That Argo CD runs in the
    /// managing environment's cluster: its egress admits every environment's API server (at
    /// `cluster.server`'s port, in `network.api_server_cidrs`, which must then hold the
    /// address `cluster.server` resolves to from that cluster), and that environment's
    /// Prometheus evaluates Argo CD's alerts for all of them. Unset: a lone Argo CD.
    #[serde(default)]
    pub hub: Option<DnsLabel>,
    /// Address ranges of the Git and chart repositories Argo CD clones (on 443 and 22): the
    /// only egress to the outside any platform component has. Required on a remote cluster
    /// that runs Argo CD (`0.0.0.0/0` is allowed, but must be written); kind defaults it to
    /// anywhere.
    #[serde(default)]
    pub repository_cidrs: Option<Vec<String>>,
    /// Sovereign mode: template every chart at render time, from the chart vendored under
    /// `schemas/charts/` with the pinned Helm (v4.3.1; `render` then needs Helm), and commit
    /// its objects, one file each, under `rendered/<env>/manifests/<app>/`. Each Application
    /// then has one source, this Git repository, and the AppProjects trust no chart
    /// repository: Argo CD needs nothing else to sync, and every object it applies is
    /// reviewed, validated and diffed before merge. A chart that would render a Secret with
    /// data (a generated password, a TLS key) stops the render. Off: Argo CD's repo-server
    /// downloads and templates each chart at sync time.
    #[serde(default)]
    pub hydrate: bool,
    /// Not read from the file: every environment this one's Argo CD deploys, itself
    /// included, resolved when the environments are loaded (the environments of its hub, or
    /// itself alone); empty where the environment does not run Argo CD. The hub's Argo CD
    /// runs in the managing environment's cluster, so its egress, its scrape and its alert
    /// rules are that environment's, and they must know every cluster it deploys to.
    #[serde(skip)]
    #[schemars(skip)]
    pub serves: Vec<ServedEnvironment>,
}

/// An environment as the Argo CD that deploys it sees it: where its API server is, and how
/// its Applications and AppProjects are named and owned.
#[derive(Clone, Debug, PartialEq)]
pub struct ServedEnvironment {
    /// The environment's name (its file's).
    pub name: String,
    /// Whether its Argo CD is shared (`argocd.hub`), so its Applications and AppProjects
    /// carry its name as a prefix.
    pub shared: bool,
    /// `cluster.server`.
    pub server: String,
    /// The port of `cluster.server`: 443 unless the URL names one.
    pub api_port: u16,
    /// The API server's address ranges, as declared or, on kind, by default.
    pub api_server_cidrs: Vec<String>,
    /// The team that answers for the platform's own Applications.
    pub platform_team: DnsLabel,
    /// The teams with apps, in declaration order: each has an AppProject of its own.
    pub app_teams: Vec<DnsLabel>,
    /// How long an Application may be degraded or out of sync before it alerts.
    pub thresholds: AlertThresholds,
}

impl ServedEnvironment {
    pub fn of(name: &str, env: &Environment) -> Self {
        let mut app_teams: Vec<DnsLabel> = Vec::new();
        for team in &env.teams {
            if env.apps.iter().any(|app| app.team == team.name) {
                app_teams.push(team.name.clone());
            }
        }
        Self {
            name: name.to_owned(),
            shared: env.argocd.hub.is_some(),
            server: env.cluster.server.clone(),
            api_port: env.cluster.api_port().unwrap_or(443),
            api_server_cidrs: env.network_ranges().api_server.to_vec(),
            platform_team: env.platform_team.clone(),
            app_teams,
            thresholds: env.alerting.thresholds.clone(),
        }
    }

    /// An Argo CD object's name in this environment: prefixed with the environment's name
    /// where its Argo CD is shared.
    pub fn argo_name(&self, name: &str) -> String {
        crate::application::RenderedPaths {
            env_name: &self.name,
            shared_argocd: self.shared,
        }
        .argo_name(name)
    }
}

impl ArgoCdSettings {
    fn default_reconciliation() -> Duration {
        Duration::try_from("180s").expect("valid literal")
    }
}

impl Default for ArgoCdSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            reconciliation_timeout: Self::default_reconciliation(),
            sync_retry: None,
            hub: None,
            repository_cidrs: None,
            hydrate: false,
            serves: Vec::new(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SyncRetry {
    /// How many times a failed sync is retried.
    pub limit: u32,
    /// The first delay.
    pub backoff: Duration,
    /// Each delay is the previous one times this factor.
    pub factor: u32,
    /// The longest delay.
    pub max_backoff: Duration,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MetallbSettings {
    /// Render MetalLB and its address pool; only kind clusters need it.
    #[serde(default)]
    pub enabled: bool,
    /// Address ranges MetalLB hands to LoadBalancer Services, inside the kind Docker network (`docker network inspect kind`), e.g. `172.18.255.200-172.18.255.250`.
    #[serde(default)]
    pub addresses: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VaultSettings {
    /// Render the `vault` Application.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// `dev`: one in-memory, unsealed server with a root token (local kind clusters only); `ha`: Raft-replicated servers that must be initialised and unsealed.
    pub mode: VaultMode,
    /// Vault servers in `ha` mode; ignored in `dev` mode, which always runs one.
    #[serde(default = "VaultSettings::default_replicas")]
    pub replicas: u32,
    /// Serve Vault's web UI.
    #[serde(default)]
    pub ui: bool,
    /// Type of Vault's Service; `LoadBalancer` needs MetalLB or a cloud load balancer.
    #[serde(default = "VaultSettings::default_service_type")]
    pub service_type: ServiceType,
}

impl VaultSettings {
    fn default_replicas() -> u32 {
        3
    }

    fn default_service_type() -> ServiceType {
        ServiceType::ClusterIP
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum VaultMode {
    /// In-memory, unsealed, root token `root`: never outside a local cluster.
    Dev,
    /// Highly available with integrated Raft storage.
    Ha,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum ServiceType {
    ClusterIP,
    LoadBalancer,
}

impl ServiceType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClusterIP => "ClusterIP",
            Self::LoadBalancer => "LoadBalancer",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SecretStoreSettings {
    /// Render External Secrets Operator.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Mount path of Vault's KV version 2 engine; every app secret lives under it.
    pub kv_mount: DnsLabel,
    /// Mount path of Vault's kubernetes auth method.
    pub auth_mount: DnsLabel,
    /// Vault policy that grants read and list on the KV mount.
    pub policy: DnsLabel,
    /// Vault kubernetes-auth role bound to ESO's service account.
    pub role: DnsLabel,
    /// How often ExternalSecrets re-read Vault.
    pub refresh_interval: Duration,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicySettings {
    /// Render Kyverno and the security policies.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// `Audit` reports violations; `Enforce` blocks non-compliant pods.
    pub failure_action: FailureAction,
    /// How often Kyverno re-checks existing resources against the policies.
    pub background_scan_interval: Duration,
    /// Replicas of Kyverno's admission controller. Its webhooks fail closed, so with one
    /// replica every pod creation waits on that pod; Kyverno recommends 3 for HA.
    #[serde(default = "PolicySettings::default_admission_replicas")]
    #[schemars(range(min = 1, max = 7))]
    pub admission_replicas: u32,
    /// Where the teams' pods may pull images from, as Kyverno wildcards over the whole image
    /// reference, e.g. `ghcr.io/example-org/*`. Rendered as the `restrict-image-registries`
    /// policy; empty allows any registry.
    #[serde(default)]
    pub allowed_registries: Vec<String>,
}

impl PolicySettings {
    fn default_admission_replicas() -> u32 {
        1
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum FailureAction {
    Audit,
    Enforce,
}

impl FailureAction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Audit => "Audit",
            Self::Enforce => "Enforce",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PrometheusSettings {
    /// Render Prometheus.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Default interval between two scrapes of a target.
    #[serde(default = "PrometheusSettings::default_scrape_interval")]
    pub scrape_interval: Duration,
    /// How long samples are kept.
    #[serde(default = "PrometheusSettings::default_retention")]
    pub retention: Duration,
}

impl PrometheusSettings {
    fn default_scrape_interval() -> Duration {
        Duration::try_from("15s").expect("valid literal")
    }

    fn default_retention() -> Duration {
        Duration::try_from("15d").expect("valid literal")
    }
}

impl Default for PrometheusSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            scrape_interval: Self::default_scrape_interval(),
            retention: Self::default_retention(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenCostSettings {
    /// Render OpenCost.
    #[serde(default = "yes")]
    pub enabled: bool,
}

impl Default for OpenCostSettings {
    fn default() -> Self {
        Self { enabled: true }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CostSettings {
    /// ISO 4217 code of the prices, e.g. EUR: OpenCost reports in it.
    #[serde(default = "CostSettings::default_currency")]
    pub currency: String,
    #[serde(default)]
    pub pricing: Pricing,
    /// Refuse to render when a team's forecast at requests exceeds its `monthly_budget`
    /// (otherwise a warning). Each team namespace's ResourceQuota also caps what its budget buys.
    #[serde(default)]
    pub enforce_budgets: bool,
    /// Nodes that run the per-node pods (node exporter, MetalLB's speaker), for the forecast.
    #[serde(default = "CostSettings::default_nodes")]
    #[schemars(range(min = 1))]
    pub nodes: u32,
}

impl CostSettings {
    fn default_currency() -> String {
        "USD".to_owned()
    }

    fn default_nodes() -> u32 {
        1
    }
}

impl Default for CostSettings {
    fn default() -> Self {
        Self {
            currency: Self::default_currency(),
            pricing: Pricing::default(),
            enforce_budgets: false,
            nodes: Self::default_nodes(),
        }
    }
}

/// Prices of the cluster's resources. The defaults are OpenCost's own (`configs/default.json`).
/// OpenCost bills CPU, memory and storage to six decimals of an hour (`core::billing`), and so
/// does the forecast; a price it would bill as 0 is an error.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Pricing {
    /// Per vCPU (one core of `requests.cpu`) and hour.
    #[schemars(range(min = 0))]
    pub cpu_per_vcpu_hour: f64,
    /// Per GiB of memory and hour.
    #[schemars(range(min = 0))]
    pub memory_per_gib_hour: f64,
    /// Per GiB of persistent volume and month (730 hours).
    #[schemars(range(min = 0))]
    pub storage_per_gib_month: f64,
    /// Per Service of type LoadBalancer and hour.
    #[schemars(range(min = 0))]
    pub load_balancer_per_hour: f64,
}

impl Default for Pricing {
    fn default() -> Self {
        Self {
            cpu_per_vcpu_hour: 0.031611,
            memory_per_gib_hour: 0.004237,
            storage_per_gib_month: 0.04,
            load_balancer_per_hour: 0.025,
        }
    }
}

/// Hours in the month every monthly figure is computed over, as OpenCost and its UI do.
pub const HOURS_PER_MONTH: f64 = 730.0;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GrafanaSettings {
    /// Render Grafana.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Key, inside the KV mount, of the Vault secret that holds Grafana's admin login in the
    /// fields `admin-user` and `admin-password`. Grafana never starts with the chart's default.
    #[serde(default = "GrafanaSettings::default_admin_secret")]
    pub admin_secret: String,
}

impl GrafanaSettings {
    fn default_admin_secret() -> String {
        "platform/grafana-admin".to_owned()
    }
}

impl Default for GrafanaSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            admin_secret: Self::default_admin_secret(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertingSettings {
    /// Render Alertmanager and the alert rules.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Where alerts are sent. Each receiver's URL, key or token is read from Vault.
    #[serde(default)]
    pub receivers: Vec<AlertReceiver>,
    /// Which receiver gets which alerts, by team and severity; the first route that matches
    /// takes an alert.
    #[serde(default)]
    pub routes: Vec<AlertRoute>,
    /// The receiver of alerts no route takes. Unset: they are dropped (a local cluster's
    /// alerts are read in Alertmanager's UI).
    #[serde(default)]
    pub default_receiver: Option<DnsLabel>,
    /// How long a condition lasts before its alert fires.
    #[serde(default)]
    pub thresholds: AlertThresholds,
}

impl Default for AlertingSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            receivers: Vec::new(),
            routes: Vec::new(),
            default_receiver: None,
            thresholds: AlertThresholds::default(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertReceiver {
    /// The receiver's name, which routes refer to.
    pub name: DnsLabel,
    /// `slack` (an incoming-webhook URL, read from the secret's field `url`), `pagerduty` (an
    /// Events API v2 routing key, field `routing_key`) or `webhook` (`url` below, with the
    /// bearer token in field `token`).
    #[serde(rename = "type")]
    pub kind: ReceiverKind,
    /// Key, inside the KV mount, of the Vault secret with the receiver's credential.
    pub secret: String,
    /// The Slack channel, e.g. `#platform-alerts`; Slack receivers only.
    #[serde(default)]
    pub channel: Option<String>,
    /// The https URL alerts are posted to; webhook receivers only.
    #[serde(default)]
    pub url: Option<String>,
    /// Address ranges Alertmanager may reach the receiver at, on 443; the only egress to the
    /// outside Alertmanager gets.
    pub egress_cidrs: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReceiverKind {
    Slack,
    Pagerduty,
    Webhook,
}

impl ReceiverKind {
    /// The field of the receiver's Vault secret that holds its credential.
    pub fn secret_field(self) -> &'static str {
        match self {
            Self::Slack => "url",
            Self::Pagerduty => "routing_key",
            Self::Webhook => "token",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertRoute {
    /// One of `receivers`.
    pub receiver: DnsLabel,
    /// Teams whose alerts take this route; empty: every team.
    #[serde(default)]
    pub teams: Vec<DnsLabel>,
    /// Severities that take this route; empty: every severity.
    #[serde(default)]
    pub severities: Vec<Severity>,
    /// Environments whose alerts take this route, by the `environment` label that the Argo
    /// CD alerts of a hub carry (the managing environment's Alertmanager receives every hub
    /// environment's); empty: alerts of any environment, or none.
    #[serde(default)]
    pub environments: Vec<DnsLabel>,
}

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Someone must act now.
    Critical,
    /// Someone must act today.
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Critical => "critical",
            Self::Warning => "warning",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertThresholds {
    /// An Application degraded this long.
    #[serde(default = "AlertThresholds::default_degraded")]
    pub degraded: Duration,
    /// An Application out of sync this long (an automated one syncs within minutes).
    #[serde(default = "AlertThresholds::default_out_of_sync")]
    pub out_of_sync: Duration,
    /// An ExternalSecret not ready this long.
    #[serde(default = "AlertThresholds::default_secret_not_ready")]
    pub secret_not_ready: Duration,
    /// A scrape target down this long.
    #[serde(default = "AlertThresholds::default_target_down")]
    pub target_down: Duration,
    /// A team's run rate above its budget this long.
    #[serde(default = "AlertThresholds::default_over_budget")]
    pub over_budget: Duration,
}

impl AlertThresholds {
    fn default_degraded() -> Duration {
        Duration::try_from("10m").expect("valid literal")
    }
    fn default_out_of_sync() -> Duration {
        Duration::try_from("30m").expect("valid literal")
    }
    fn default_secret_not_ready() -> Duration {
        Duration::try_from("15m").expect("valid literal")
    }
    fn default_target_down() -> Duration {
        Duration::try_from("10m").expect("valid literal")
    }
    fn default_over_budget() -> Duration {
        Duration::try_from("1h").expect("valid literal")
    }
}

impl Default for AlertThresholds {
    fn default() -> Self {
        Self {
            degraded: Self::default_degraded(),
            out_of_sync: Self::default_out_of_sync(),
            secret_not_ready: Self::default_secret_not_ready(),
            target_down: Self::default_target_down(),
            over_budget: Self::default_over_budget(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Team {
    /// Team name: the value of every workload's `team` label.
    pub name: DnsLabel,
    /// Cost center the team's spend is booked to: the value of the `cost-center` label.
    pub cost_center: DnsLabel,
    /// What the team may spend a month, in OpenCost's currency: an alert fires while the
    /// team's run rate (OpenCost's hourly cost of its pods × 730) stays above it.
    #[serde(default)]
    #[schemars(range(min = 0))]
    pub monthly_budget: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct App {
    /// App name: its Application, Deployment and Service name.
    pub name: DnsLabel,
    /// The team that owns the app; must be one of `teams`.
    pub team: DnsLabel,
    /// Namespace the app runs in; defaults to the app's name.
    #[serde(default)]
    pub namespace: Option<DnsLabel>,
    /// Container image, pinned to a tag or digest.
    pub image: ImageRef,
    /// Port the container listens on; the Service exposes the same port.
    pub port: u16,
    /// Pod replicas; defaults to `workloads.replicas`.
    #[serde(default)]
    pub replicas: Option<u32>,
    /// CPU and memory the container requests and may use at most.
    pub resources: Resources,
    /// Secrets read from Vault through ExternalSecrets and exposed as environment variables.
    #[serde(default)]
    pub secrets: Vec<AppSecret>,
    /// Other apps this app connects to; each edge becomes an egress and an ingress policy.
    #[serde(default)]
    pub calls: Vec<AppCall>,
    /// Apps of other teams that may call this app: a call across teams needs the caller's
    /// `calls` entry and the callee's consent here. Apps of the same team need no entry.
    #[serde(default)]
    pub allow_from: Vec<DnsLabel>,
    /// Addresses outside the cluster this app connects to.
    #[serde(default)]
    pub egress: Vec<ExternalEgress>,
    /// Mount a service account token and allow egress to the Kubernetes API. Off by default:
    /// an app that does not call the API gets no token to leak.
    #[serde(default)]
    pub api_access: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AppCall {
    /// Name of another app in `apps`; platform components cannot be named here.
    pub app: DnsLabel,
    /// The port of that app, as its `port` says.
    pub port: u16,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExternalEgress {
    /// IPv4 range in CIDR notation, e.g. `203.0.113.0/24`.
    pub cidr: String,
    /// TCP ports.
    pub ports: Vec<u16>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NetworkSettings {
    /// Render default-deny NetworkPolicies and one allow per declared edge. The cluster's CNI
    /// must enforce them (kind's kindnet does since kind 0.24; Calico and Cilium do).
    #[serde(default = "yes")]
    pub policies: bool,
    /// Where the Kubernetes API server is (the control plane's addresses, e.g. its subnet),
    /// for egress to it and for the webhooks it calls. The API server is not a pod, so only an
    /// address range can name it. Required on a remote cluster; kind defaults it to Docker's
    /// address pool, which holds the kind network.
    #[serde(default)]
    pub api_server_cidrs: Option<Vec<String>>,
    /// The pod network, cut out of every address-range rule so that a rule meant for the API
    /// server or the outside never admits a pod. Required on a remote cluster; kind defaults
    /// it to its own, which the rendered kind config sets.
    #[serde(default)]
    pub pod_cidrs: Option<Vec<String>>,
    /// Where the nodes are, for what runs on them outside the pod network: the kubelet
    /// (10250), which Prometheus scrapes directly for node and cAdvisor metrics since chart
    /// 28.7.0, and the node exporters (9100). Required on a remote cluster; kind defaults it
    /// like `api_server_cidrs`.
    #[serde(default)]
    pub node_cidrs: Option<Vec<String>>,
}

impl Default for NetworkSettings {
    fn default() -> Self {
        Self {
            policies: true,
            api_server_cidrs: None,
            pod_cidrs: None,
            node_cidrs: None,
        }
    }
}

/// The address ranges NetworkPolicies name, as declared or, on kind, by default.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NetworkRanges<'a> {
    pub api_server: &'a [String],
    pub pods: &'a [String],
    pub nodes: &'a [String],
}

/// kind's pod subnet (`networking.podSubnet`), which the rendered kind config pins.
pub const KIND_POD_CIDR: &str = "10.244.0.0/16";
/// Docker's default address pool for user networks, from which the `kind` network, and so
/// the API server's and every node's address, is allocated.
pub const KIND_NODE_CIDR: &str = "172.16.0.0/12";

static KIND_POD_CIDRS: std::sync::LazyLock<Vec<String>> =
    std::sync::LazyLock::new(|| vec![KIND_POD_CIDR.to_owned()]);
static KIND_NODE_CIDRS: std::sync::LazyLock<Vec<String>> =
    std::sync::LazyLock::new(|| vec![KIND_NODE_CIDR.to_owned()]);

impl App {
    pub fn namespace(&self) -> &DnsLabel {
        self.namespace.as_ref().unwrap_or(&self.name)
    }

    pub fn replicas(&self, defaults: &WorkloadDefaults) -> u32 {
        self.replicas.unwrap_or(defaults.replicas)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkloadDefaults {
    /// Pod replicas of every app that does not set its own.
    #[serde(default = "WorkloadDefaults::default_replicas")]
    pub replicas: u32,
    /// Render a PodDisruptionBudget per app, keeping all but one replica up during node drains.
    #[serde(default)]
    pub pod_disruption_budget: bool,
    /// The most an app's namespace may use, as a ResourceQuota the platform renders: what a
    /// team cannot exceed by editing its own manifests. An app's replicas, with one more
    /// during a rolling update, must fit.
    #[serde(default)]
    pub namespace_quota: NamespaceQuota,
    /// Requests and limits of a container that declares none, as the namespace's LimitRange;
    /// without it the quota would reject such a pod outright.
    #[serde(default = "WorkloadDefaults::default_container_defaults")]
    pub container_defaults: Resources,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NamespaceQuota {
    /// The sum of every pod's requests.
    pub requests: ResourceAmounts,
    /// The sum of every pod's limits.
    pub limits: ResourceAmounts,
    /// Pods, counting those of a rolling update.
    pub pods: u32,
}

fn amounts(cpu: &str, memory: &str) -> ResourceAmounts {
    ResourceAmounts {
        cpu: Quantity::try_from(cpu).expect("valid literal"),
        memory: Quantity::try_from(memory).expect("valid literal"),
    }
}

impl Default for NamespaceQuota {
    fn default() -> Self {
        Self {
            requests: amounts("2", "4Gi"),
            limits: amounts("4", "8Gi"),
            pods: 20,
        }
    }
}

impl WorkloadDefaults {
    fn default_replicas() -> u32 {
        1
    }
}

impl WorkloadDefaults {
    fn default_container_defaults() -> Resources {
        Resources {
            requests: amounts("50m", "64Mi"),
            limits: amounts("500m", "256Mi"),
        }
    }
}

impl Default for WorkloadDefaults {
    fn default() -> Self {
        Self {
            replicas: Self::default_replicas(),
            pod_disruption_budget: false,
            namespace_quota: NamespaceQuota::default(),
            container_defaults: Self::default_container_defaults(),
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChartVersions {
    /// Version of the argo-cd chart.
    #[serde(default)]
    pub argocd: Option<ChartVersion>,
    /// Version of the metallb chart.
    #[serde(default)]
    pub metallb: Option<ChartVersion>,
    /// Version of the cert-manager chart (written without the `v` its releases carry).
    #[serde(default)]
    pub cert_manager: Option<ChartVersion>,
    /// Version of the vault chart.
    #[serde(default)]
    pub vault: Option<ChartVersion>,
    /// Version of the external-secrets chart.
    #[serde(default)]
    pub external_secrets: Option<ChartVersion>,
    /// Version of the kyverno chart.
    #[serde(default)]
    pub kyverno: Option<ChartVersion>,
    /// Version of the prometheus chart.
    #[serde(default)]
    pub prometheus: Option<ChartVersion>,
    /// Version of the opencost chart.
    #[serde(default)]
    pub opencost: Option<ChartVersion>,
    /// Version of the alertmanager chart.
    #[serde(default)]
    pub alertmanager: Option<ChartVersion>,
    /// Version of the grafana chart.
    #[serde(default)]
    pub grafana: Option<ChartVersion>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Resources {
    pub requests: ResourceAmounts,
    pub limits: ResourceAmounts,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResourceAmounts {
    /// CPU, e.g. `250m` or `1`.
    pub cpu: Quantity,
    /// Memory, e.g. `128Mi` or `1Gi`.
    pub memory: Quantity,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AppSecret {
    /// Name of the Kubernetes Secret ESO creates (and of its ExternalSecret).
    pub name: DnsLabel,
    /// Vault path of the secret, starting with the KV mount, e.g. `secret/finops-db-creds`.
    pub vault_path: String,
    /// Keys read from the Vault secret; each becomes an environment variable of the same
    /// name, or a file of that name under `mount_path`.
    pub keys: Vec<String>,
    /// Mount the keys as files in this directory instead of environment variables, e.g.
    /// `/var/run/secrets/finops-db-creds`. Files never show up in a process listing or a crash
    /// dump of the environment, and the kubelet updates them when ESO refreshes the Secret;
    /// environment variables change only when the pod restarts.
    #[serde(default)]
    pub mount_path: Option<String>,
}

fn yes() -> bool {
    true
}

impl Environment {
    /// The field that switches a platform component on or off, e.g. `vault.enabled`.
    pub fn toggle_path(component: &str) -> Option<&'static str> {
        use crate::names::app;
        Some(match component {
            app::ARGOCD => "argocd.enabled",
            app::METALLB | app::METALLB_CONFIG => "metallb.enabled",
            app::CERT_MANAGER => "vault.mode",
            app::VAULT => "vault.enabled",
            app::EXTERNAL_SECRETS | app::VAULT_CONFIG => "secrets.enabled",
            app::KYVERNO | app::SECURITY_POLICIES => "policies.enabled",
            app::PROMETHEUS => "prometheus.enabled",
            app::OPENCOST => "opencost.enabled",
            app::GRAFANA => "grafana.enabled",
            app::ALERTMANAGER => "alerting.enabled",
            _ => return None,
        })
    }

    pub fn team(&self, name: &DnsLabel) -> Option<&Team> {
        self.teams.iter().find(|team| &team.name == name)
    }

    /// The cost-allocation labels of the platform's own objects.
    pub fn platform_cost_labels(&self) -> std::collections::BTreeMap<String, String> {
        self.team(&self.platform_team)
            .map_or_else(std::collections::BTreeMap::new, |team| {
                crate::labels::cost_allocation(team.name.as_str(), team.cost_center.as_str())
            })
    }

    /// Whether Vault serves TLS: in HA mode, where its servers and clients talk across the
    /// pod network. A dev-mode Vault on kind serves plain HTTP on a throwaway cluster.
    pub fn vault_tls(&self) -> bool {
        self.vault.enabled && self.vault.mode == VaultMode::Ha
    }

    /// Whether MetalLB gives this cluster its LoadBalancer addresses.
    pub fn uses_metallb(&self) -> bool {
        self.metallb.enabled
    }

    /// The address ranges of the API server, the pods and the nodes: as declared, or kind's
    /// own on a kind cluster. A remote cluster that declares none gets none (the model's
    /// check reports it), never a guess.
    pub fn network_ranges(&self) -> NetworkRanges<'_> {
        let kind = self.cluster.provider == ClusterProvider::Kind;
        NetworkRanges {
            api_server: declared_or(&self.network.api_server_cidrs, kind, &KIND_NODE_CIDRS),
            pods: declared_or(&self.network.pod_cidrs, kind, &KIND_POD_CIDRS),
            nodes: declared_or(&self.network.node_cidrs, kind, &KIND_NODE_CIDRS),
        }
    }

    /// The namespaces of a team's apps that read secrets from Vault, in declaration order:
    /// the namespaces its store admits and its Vault role is bound to.
    pub fn secret_namespaces<'a>(
        &'a self,
        team: &'a DnsLabel,
    ) -> impl Iterator<Item = &'a DnsLabel> + 'a {
        self.apps
            .iter()
            .filter(move |app| &app.team == team && !app.secrets.is_empty())
            .map(App::namespace)
    }

    /// The address ranges of the Git and chart repositories Argo CD reads.
    pub fn repository_cidrs(&self) -> &[String] {
        let kind = self.cluster.provider == ClusterProvider::Kind;
        declared_or(&self.argocd.repository_cidrs, kind, &ANYWHERE_RANGE)
    }
}

fn declared_or<'a>(
    declared: &'a Option<Vec<String>>,
    kind: bool,
    kind_default: &'static [String],
) -> &'a [String] {
    match declared {
        Some(ranges) => ranges,
        None if kind => kind_default,
        None => &[],
    }
}

static ANYWHERE_RANGE: std::sync::LazyLock<Vec<String>> =
    std::sync::LazyLock::new(|| vec!["0.0.0.0/0".to_owned()]);

impl AppSecret {
    /// The secret's key inside the KV mount: `vault_path` without the leading `<mount>/`.
    pub fn kv_key<'a>(&'a self, kv_mount: &DnsLabel) -> Option<&'a str> {
        self.vault_path
            .strip_prefix(kv_mount.as_str())
            .and_then(|rest| rest.strip_prefix('/'))
            .filter(|key| !key.is_empty())
    }
}
