//! External Secrets Operator, and `vault-config`: the ClusterSecretStore through which every
//! ExternalSecret reads Vault.

use platform_core::application::metadata;
use platform_core::argocd::{ResourceIgnoreDifferences, SyncOption};
use platform_core::component::{ChartPod, Component, HelmChart, Layer, Source, tier};
use platform_core::eso::{
    CaProvider, CaProviderKind, ClusterSecretStore, ClusterSecretStoreSpec, KvVersion,
    SecretStoreProvider, ServiceAccountRef, VaultAuth, VaultKubernetesAuth, VaultProvider,
};
use platform_core::manifest::Manifest;
use platform_core::model::Environment;
use platform_core::names;
use platform_core::traffic::{Port, Traffic};
use serde::Serialize;

/// The port ESO's webhook pod listens on; the API server calls it for validation and CRD
/// conversion.
const WEBHOOK_PORT: u16 = 10250;

pub const CHART: HelmChart = HelmChart {
    repo_url: "https://charts.external-secrets.io",
    name: "external-secrets",
    version: "2.9.0",
    crd_groups: &["external-secrets.io"],
    // external-secrets helm-chart-2.9.0 `*.selectorLabels`.
    pods: &[
        ChartPod::api_client("external-secrets", ESO_PODS),
        ChartPod::api_client("external-secrets-webhook", ESO_PODS).serving_webhook(WEBHOOK_PORT),
        ChartPod::api_client("external-secrets-cert-controller", ESO_PODS),
    ],
    pods_verified_at: "2.9.0",
};

const ESO_PODS: &[(&str, &str)] = &[("app.kubernetes.io/instance", "external-secrets")];

/// Values of the external-secrets chart this platform sets.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Values {
    #[serde(rename = "installCRDs")]
    pub install_crds: bool,
    pub service_account: ServiceAccount,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ServiceAccount {
    /// Fixed, because Vault's kubernetes auth role is bound to this exact name.
    pub name: String,
}

pub fn components(env: &Environment) -> Vec<Component> {
    if !env.secrets.enabled {
        return Vec::new();
    }
    let values = Values {
        install_crds: true,
        service_account: ServiceAccount {
            name: names::ESO_SERVICE_ACCOUNT.to_owned(),
        },
    };
    let operator = Component::helm(
        CHART,
        names::app::EXTERNAL_SECRETS,
        names::namespace::EXTERNAL_SECRETS,
        Layer::Secrets,
        &values,
        env.charts.external_secrets.as_ref(),
    )
    .earliest_wave(tier::OPERATORS)
    .sync_options(&[
        // ESO's CRDs are larger than the annotation client-side apply writes.
        SyncOption::ServerSideApply,
        SyncOption::RespectIgnoreDifferences,
    ])
    // ESO's cert controller writes the CA bundle into its CRDs' conversion webhook and its
    // webhook configurations; without these, the app would be OutOfSync forever.
    .traffic(
        Traffic::release(names::app::EXTERNAL_SECRETS)
            .calls_component(names::app::VAULT, &[Port::tcp(names::VAULT.port)])
            .calls_kubernetes_api()
            .webhooks(&[Port::tcp(WEBHOOK_PORT)]),
    )
    .ignore_differences(vec![
        ResourceIgnoreDifferences::jq(
            "apiextensions.k8s.io",
            "CustomResourceDefinition",
            &[".spec.conversion.webhook.clientConfig"],
        ),
        ResourceIgnoreDifferences::jq(
            "admissionregistration.k8s.io",
            "ValidatingWebhookConfiguration",
            &[".webhooks[]?.clientConfig.caBundle"],
        ),
    ]);

    let store = Component::new(
        names::app::VAULT_CONFIG,
        names::namespace::EXTERNAL_SECRETS,
        Layer::Secrets,
        Source::Manifests(vec![Manifest::new(&cluster_secret_store(env))]),
    )
    .earliest_wave(tier::CONFIGURATION)
    .depends_on(&[names::app::EXTERNAL_SECRETS, names::app::VAULT]);

    vec![operator, store]
}

/// The store every ExternalSecret reads: Vault's KV v2 engine, logged into with ESO's own
/// service account through Vault's kubernetes auth method.
pub fn cluster_secret_store(env: &Environment) -> ClusterSecretStore {
    let settings = &env.secrets;
    ClusterSecretStore {
        metadata: metadata(names::CLUSTER_SECRET_STORE, None),
        spec: ClusterSecretStoreSpec {
            provider: SecretStoreProvider {
                vault: VaultProvider {
                    server: names::VAULT.url(if env.vault_tls() { "https" } else { "http" }),
                    path: settings.kv_mount.to_string(),
                    version: KvVersion::V2,
                    // Vault's own CA, which cert-manager keeps in the Secret Vault serves from.
                    ca_provider: env.vault_tls().then(|| CaProvider {
                        kind: CaProviderKind::Secret,
                        name: names::VAULT_TLS_SECRET.to_owned(),
                        key: names::VAULT_TLS_CA_KEY.to_owned(),
                        namespace: names::VAULT.namespace.to_owned(),
                    }),
                    auth: VaultAuth {
                        kubernetes: VaultKubernetesAuth {
                            mount_path: settings.auth_mount.to_string(),
                            role: settings.role.to_string(),
                            service_account_ref: ServiceAccountRef {
                                name: names::ESO_SERVICE_ACCOUNT.to_owned(),
                                namespace: names::namespace::EXTERNAL_SECRETS.to_owned(),
                            },
                        },
                    },
                },
            },
        },
    }
}
