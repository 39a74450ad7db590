//! Names and endpoints that more than one component relies on.
//!
//! When OpenCost reads Prometheus, or the ClusterSecretStore reaches Vault, both sides must
//! agree on a namespace, a Service name and a port. Those agreements live here and nowhere
//! else, so a rename is one edit and every consumer follows.

/// The Kubernetes API server as seen from inside the cluster Argo CD runs in.
pub const IN_CLUSTER_SERVER: &str = "https://kubernetes.default.svc";

/// A Service inside the cluster that another component calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServiceEndpoint {
    pub namespace: &'static str,
    pub service: &'static str,
    pub port: u16,
}

impl ServiceEndpoint {
    /// Cluster DNS name, `service.namespace.svc`.
    pub fn host(&self) -> String {
        format!("{}.{}.svc", self.service, self.namespace)
    }

    pub fn url(&self, scheme: &str) -> String {
        format!("{scheme}://{}:{}", self.host(), self.port)
    }
}

/// Application names of the platform components, which are also their Helm release names.
pub mod app {
    pub const ARGOCD: &str = "argocd";
    pub const METALLB: &str = "metallb";
    pub const METALLB_CONFIG: &str = "metallb-config";
    pub const VAULT: &str = "vault";
    pub const EXTERNAL_SECRETS: &str = "external-secrets";
    pub const KYVERNO: &str = "kyverno";
    pub const PROMETHEUS: &str = "prometheus";
    pub const VAULT_CONFIG: &str = "vault-config";
    pub const SECURITY_POLICIES: &str = "security-policies";
    pub const OPENCOST: &str = "opencost";
    pub const CERT_MANAGER: &str = "cert-manager";
    pub const GRAFANA: &str = "grafana";
    pub const ALERTMANAGER: &str = "alertmanager";

    /// Every platform component, in the order they are documented.
    pub const ALL: [&str; 13] = [
        ARGOCD,
        METALLB,
        CERT_MANAGER,
        METALLB_CONFIG,
        VAULT,
        EXTERNAL_SECRETS,
        KYVERNO,
        PROMETHEUS,
        VAULT_CONFIG,
        SECURITY_POLICIES,
        OPENCOST,
        ALERTMANAGER,
        GRAFANA,
    ];
}

pub mod namespace {
    pub const ARGOCD: &str = "argocd";
    pub const METALLB: &str = "metallb-system";
    pub const VAULT: &str = "vault";
    pub const EXTERNAL_SECRETS: &str = "external-secrets";
    pub const KYVERNO: &str = "kyverno";
    pub const MONITORING: &str = "monitoring";
    pub const OPENCOST: &str = "opencost";
    pub const CERT_MANAGER: &str = "cert-manager";
    pub const GRAFANA: &str = "grafana";
    pub const ALERTMANAGER: &str = "alertmanager";

    /// Namespaces the platform's own components run in.
    pub const PLATFORM: [&str; 10] = [
        ARGOCD,
        METALLB,
        CERT_MANAGER,
        VAULT,
        EXTERNAL_SECRETS,
        KYVERNO,
        MONITORING,
        OPENCOST,
        ALERTMANAGER,
        GRAFANA,
    ];

    /// Namespaces Kubernetes and kind create for themselves.
    pub const SYSTEM: [&str; 4] = [
        "kube-system",
        "kube-public",
        "kube-node-lease",
        "local-path-storage",
    ];
}

/// Vault's API. The chart names its Service after the release.
pub const VAULT: ServiceEndpoint = ServiceEndpoint {
    namespace: namespace::VAULT,
    service: app::VAULT,
    port: 8200,
};

/// The Secret (in Vault's namespace) that holds Vault's TLS certificate, key and `ca.crt`:
/// Vault's servers mount it, ESO verifies Vault with its `ca.crt`.
pub const VAULT_TLS_SECRET: &str = "vault-tls";
/// The key of the CA certificate in that Secret (cert-manager's CA issuer writes it).
pub const VAULT_TLS_CA_KEY: &str = "ca.crt";

/// The Prometheus server's query API. The chart calls the Service `<release>-server` and
/// serves it on port 80.
pub const PROMETHEUS: ServiceEndpoint = ServiceEndpoint {
    namespace: namespace::MONITORING,
    service: "prometheus-server",
    port: 80,
};

/// The Prometheus server pod's port, behind the Service's port 80: what NetworkPolicies see.
pub const PROMETHEUS_SERVER_POD_PORT: u16 = 9090;

/// Argo CD's API server and UI.
pub const ARGOCD_SERVER: ServiceEndpoint = ServiceEndpoint {
    namespace: namespace::ARGOCD,
    service: "argocd-server",
    port: 443,
};

/// OpenCost's UI.
pub const OPENCOST_UI: ServiceEndpoint = ServiceEndpoint {
    namespace: namespace::OPENCOST,
    service: app::OPENCOST,
    port: 9090,
};

/// OpenCost's API, which also serves the `/metrics` Prometheus must scrape for cost data.
pub const OPENCOST_METRICS: ServiceEndpoint = ServiceEndpoint {
    namespace: namespace::OPENCOST,
    service: app::OPENCOST,
    port: 9003,
};

/// Grafana's UI. The chart serves the pod's port 3000 on the Service's port 80.
pub const GRAFANA: ServiceEndpoint = ServiceEndpoint {
    namespace: namespace::GRAFANA,
    service: app::GRAFANA,
    port: 80,
};

/// The Grafana pod's port, behind the Service's port 80.
pub const GRAFANA_POD_PORT: u16 = 3000;

/// Alertmanager's API and UI, where Prometheus sends alerts. The chart names the Service after
/// the release and serves the same port on the pod.
pub const ALERTMANAGER: ServiceEndpoint = ServiceEndpoint {
    namespace: namespace::ALERTMANAGER,
    service: app::ALERTMANAGER,
    port: 9093,
};

/// Argo CD's application controller metrics (`argocd_app_info`, `argocd_app_sync_total`):
/// argo-cd chart 10.1.1 `controller.metrics`, the controller's `metrics` port.
/// cert-manager's controller, cainjector and webhook serve `/metrics` on this pod port
/// (chart value `prometheus` on, the default), which Prometheus scrapes by annotation.
pub const CERT_MANAGER_METRICS_PORT: u16 = 9402;

pub const ARGOCD_METRICS: ServiceEndpoint = ServiceEndpoint {
    namespace: namespace::ARGOCD,
    service: "argocd-application-controller-metrics",
    port: 8082,
};

/// ESO's controller metrics (`externalsecret_status_condition`): external-secrets chart 2.9.0
/// `metrics.service`, the controller's `metrics` port.
pub const ESO_METRICS: ServiceEndpoint = ServiceEndpoint {
    namespace: namespace::EXTERNAL_SECRETS,
    service: "external-secrets-metrics",
    port: 8080,
};

/// Kyverno's admission controller metrics (`kyverno_admission_requests_total`): kyverno chart
/// 3.9.0 `admissionController.metricsService`, created by default, on the metering port.
pub const KYVERNO_METRICS: ServiceEndpoint = ServiceEndpoint {
    namespace: namespace::KYVERNO,
    service: "kyverno-svc-metrics",
    port: 8000,
};

/// Vault's headless Service (vault-helm 0.34.1 `server-headless-service.yaml`), whose DNS name
/// resolves to every server: Prometheus scrapes each, sealed or not.
pub const VAULT_INTERNAL: ServiceEndpoint = ServiceEndpoint {
    namespace: namespace::VAULT,
    service: "vault-internal",
    port: 8200,
};

/// Vault's Prometheus metrics, served without a token to callers the listener admits.
pub const VAULT_METRICS_PATH: &str = "/v1/sys/metrics";

/// The service account ESO's controller runs as; Vault's kubernetes auth role is bound to it.
pub const ESO_SERVICE_ACCOUNT: &str = "external-secrets";

/// The platform's own ClusterSecretStore, open to the platform's namespaces only.
pub const CLUSTER_SECRET_STORE: &str = "vault-backend";

/// What names a team's own objects: its AppProject, Vault policy and Vault role.
pub const TEAM_PREFIX: &str = "team-";

/// A team's AppProject, ClusterSecretStore, Vault policy and Vault kubernetes-auth role:
/// `team-<team>`.
pub fn team_scoped(team: &str) -> String {
    format!("{TEAM_PREFIX}{team}")
}

/// The platform-owned Application that holds what the platform gives a team: its
/// namespaces, their quotas, secret stores and NetworkPolicies.
pub fn tenant_app(team: &str) -> String {
    format!("tenant-{team}")
}

/// The service account in each app namespace whose tokens ESO presents to Vault on the
/// team's behalf; no pod runs as it.
pub const TEAM_VAULT_SERVICE_ACCOUNT: &str = "vault-secrets";

/// Argo CD's finalizer that deletes an Application's resources when the Application goes.
pub const RESOURCES_FINALIZER: &str = "resources-finalizer.argocd.argoproj.io";
