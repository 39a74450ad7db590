//! External Secrets Operator, and `vault-config`: the ClusterSecretStore through which every
//! ExternalSecret reads Vault.

use platform_core::application::metadata;
use platform_core::argocd::{ResourceIgnoreDifferences, SyncOption};
use platform_core::component::{
    ChartContainer, ChartPod, Component, HelmChart, Layer, PinnedValue, Replicas, Source, Toggle,
    tier,
};
use platform_core::eso::{
    ClusterSecretStore, ClusterSecretStoreSpec, ServiceAccountRef, StoreCondition,
    token_request_grant, vault_provider,
};
use platform_core::manifest::Manifest;
use platform_core::model::Environment;
use platform_core::names;
use platform_core::scanner::{self, ChartWaiver};
use platform_core::sizing::Size;
use platform_core::traffic::{PodSubset, Port, Traffic};
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
        ChartPod::api_client("external-secrets", ESO_PODS)
            .runs(&[
                ChartContainer::new("external-secrets", "resources", Size::Small)
                    .listening(&[8080, 8082]),
            ])
            .replicas(Replicas::At {
                path: "replicaCount",
                default: 1,
            }),
        ChartPod::api_client("external-secrets-webhook", WEBHOOK_PODS)
            .serving_webhook(WEBHOOK_PORT)
            .runs(&[
                ChartContainer::new("webhook", "webhook.resources", Size::Small)
                    .listening(&[8080, 8081, 10250]),
            ])
            .replicas(Replicas::At {
                path: "webhook.replicaCount",
                default: 1,
            }),
        ChartPod::api_client("external-secrets-cert-controller", ESO_PODS)
            .runs(&[ChartContainer::new(
                "cert-controller",
                "certController.resources",
                Size::Small,
            )
            .listening(&[8080, 8081])])
            .replicas(Replicas::At {
                path: "certController.replicaCount",
                default: 1,
            }),
    ],
    pods_verified_at: "2.9.0",
    volumes: &[],
    service_types: &[],
    pinned_values: &[
        PinnedValue {
            path: "installCRDs",
            why: "the ClusterSecretStore syncs after this Application because it brings the CRDs (crd_groups); the chart's default today",
        },
        PinnedValue {
            path: "serviceAccount.name",
            why: "Vault's role external-secrets-role is bound to this service account by name; the release's own name today",
        },
    ],
    scanner_waivers: &[
        ChartWaiver::every_pod(
            scanner::POD_SECURITY_CONTEXT,
            scanner::CONTAINERS_CARRY_THE_CONTEXT,
        ),
        ChartWaiver::every_pod(
            scanner::SERVICE_ACCOUNT_TOKEN,
            scanner::TOKEN_OF_A_CONTROLLER,
        ),
        ChartWaiver::every_pod(
            scanner::HIGH_UID,
            "runs as user 1000, as the chart pins it for the external-secrets image; another UID would need a rebuilt image",
        ),
        ChartWaiver {
            check: scanner::WEBHOOK_CONFIGURATION_CONTROL,
            objects: &["ClusterRole/external-secrets-cert-controller"],
            reason: scanner::KEEPS_ITS_OWN_WEBHOOKS,
        },
    ],
};

const ESO_PODS: &[(&str, &str)] = &[("app.kubernetes.io/instance", "external-secrets")];
/// The webhook's pod, the one that serves the admission and conversion webhook (10250).
const WEBHOOK_PODS: &[(&str, &str)] = &[
    ("app.kubernetes.io/instance", "external-secrets"),
    ("app.kubernetes.io/name", "external-secrets-webhook"),
];

/// Values of the external-secrets chart this platform sets.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Values {
    #[serde(rename = "installCRDs")]
    pub install_crds: bool,
    pub service_account: ServiceAccount,
    pub rbac: Rbac,
    /// The controller's metrics Service, which Prometheus scrapes for the alert rules.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics: Option<Metrics>,
    /// The controller's health server and probes, off in chart 2.9.0: on (`--live-addr`,
    /// `/healthz` and `/readyz` on 8082), so a hung controller is restarted and not counted
    /// ready.
    pub liveness_probe: Toggle,
    pub readiness_probe: Toggle,
    /// The webhook's and cert controller's liveness probes, off in the chart (their
    /// readiness is on): `/healthz` on the health port they already serve (8081).
    pub webhook: Probed,
    pub cert_controller: Probed,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Probed {
    pub liveness_probe: Toggle,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Metrics {
    pub service: Toggle,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Rbac {
    /// Off: the controller may request tokens only for the service accounts stores name, each
    /// granted by a Role of its own ([`token_request_grant`]).
    pub service_account_token_create: bool,
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
        rbac: Rbac {
            service_account_token_create: false,
        },
        metrics: (env.alerting.enabled && env.prometheus.enabled).then_some(Metrics {
            service: Toggle { enabled: true },
        }),
        liveness_probe: Toggle { enabled: true },
        readiness_probe: Toggle { enabled: true },
        webhook: Probed {
            liveness_probe: Toggle { enabled: true },
        },
        cert_controller: Probed {
            liveness_probe: Toggle { enabled: true },
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
            .webhooks(&[Port::tcp(WEBHOOK_PORT)])
            .listening_on(
                &[Port::tcp(WEBHOOK_PORT)],
                &PodSubset::labelled(&WEBHOOK_PODS[1..]),
            ),
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
        Source::Manifests(store_manifests(env)),
    )
    .earliest_wave(tier::CONFIGURATION)
    .depends_on(&[names::app::EXTERNAL_SECRETS, names::app::VAULT]);

    vec![operator, store]
}

/// The platform's store, and ESO's right to request its own service account's tokens for it.
fn store_manifests(env: &Environment) -> Vec<Manifest> {
    let (role, binding) = token_request_grant(
        names::namespace::EXTERNAL_SECRETS,
        names::ESO_SERVICE_ACCOUNT,
        &env.platform_cost_labels(),
    );
    vec![
        Manifest::new(cluster_secret_store(env)),
        Manifest::new(role),
        Manifest::new(binding),
    ]
}

/// The platform's own store: Vault's KV v2 engine, logged into with ESO's own service account
/// through Vault's kubernetes auth method, and open to the platform's namespaces only. The
/// teams' apps read through their own stores (`team-<team>`), never this one.
pub fn cluster_secret_store(env: &Environment) -> ClusterSecretStore {
    ClusterSecretStore {
        metadata: metadata(names::CLUSTER_SECRET_STORE, None),
        spec: ClusterSecretStoreSpec {
            provider: vault_provider(
                env,
                env.secrets.role.as_str(),
                ServiceAccountRef {
                    name: names::ESO_SERVICE_ACCOUNT.to_owned(),
                    namespace: Some(names::namespace::EXTERNAL_SECRETS.to_owned()),
                },
            ),
            conditions: vec![StoreCondition {
                namespaces: names::namespace::PLATFORM
                    .iter()
                    .map(|n| (*n).to_owned())
                    .collect(),
            }],
        },
    }
}
