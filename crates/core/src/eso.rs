//! External Secrets Operator's resources (group `external-secrets.io`, version `v1`).
//!
//! They live in the core because several components use them: `vault-config` renders the
//! platform's ClusterSecretStore, each team's tenant Application a SecretStore per app
//! namespace, and every user app the ExternalSecrets that read from it.

use serde::Serialize;

use crate::custom_resource;
use crate::model::Environment;
use crate::names;

/// Vault's KV v2 engine as a store reads it, logged into through Vault's kubernetes auth
/// method as `role`, with the token of `service_account`.
pub fn vault_provider(
    env: &Environment,
    role: &str,
    service_account: ServiceAccountRef,
) -> SecretStoreProvider {
    let tls = env.vault_tls();
    SecretStoreProvider {
        vault: VaultProvider {
            server: names::VAULT.url(if tls { "https" } else { "http" }),
            path: env.secrets.kv_mount.to_string(),
            version: KvVersion::V2,
            // Vault's own CA, which cert-manager keeps in the Secret Vault serves from. Only a
            // ClusterSecretStore may read it there: a SecretStore's CA must live in its own
            // namespace (external-secrets v2.9.0 `FetchCACertFromSource`).
            ca_provider: tls.then(|| CaProvider {
                kind: CaProviderKind::Secret,
                name: names::VAULT_TLS_SECRET.to_owned(),
                key: names::VAULT_TLS_CA_KEY.to_owned(),
                namespace: names::VAULT.namespace.to_owned(),
            }),
            auth: VaultAuth {
                kubernetes: VaultKubernetesAuth {
                    mount_path: env.secrets.auth_mount.to_string(),
                    role: role.to_owned(),
                    service_account_ref: service_account,
                },
            },
        },
    }
}

custom_resource! {
    /// A secret store the namespaces its conditions admit may read from.
    ClusterSecretStore, spec: ClusterSecretStoreSpec,
    group: "external-secrets.io", version: "v1", kind: "ClusterSecretStore", plural: "clustersecretstores",
    scope: ClusterResourceScope, crd: application
}

custom_resource! {
    /// Keys read from a store and written into one Kubernetes Secret, refreshed periodically.
    ExternalSecret, spec: ExternalSecretSpec,
    group: "external-secrets.io", version: "v1", kind: "ExternalSecret", plural: "externalsecrets",
    scope: NamespaceResourceScope, crd: application
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClusterSecretStoreSpec {
    pub provider: SecretStoreProvider,
    /// The namespaces whose ExternalSecrets ESO serves from this store; any namespace when
    /// empty (external-secrets v2.9.0 `shouldProcessSecret`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<StoreCondition>,
}

/// Namespaces admitted to a ClusterSecretStore, by name.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StoreCondition {
    pub namespaces: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SecretStoreProvider {
    pub vault: VaultProvider,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VaultProvider {
    /// Vault's address, e.g. `https://vault.vault.svc:8200`.
    pub server: String,
    /// Mount path of the KV engine.
    pub path: String,
    /// KV engine version.
    pub version: KvVersion,
    /// The CA ESO verifies Vault's certificate with, when Vault serves TLS.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_provider: Option<CaProvider>,
    pub auth: VaultAuth,
}

/// A CA certificate in a Secret or ConfigMap.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CaProvider {
    #[serde(rename = "type")]
    pub kind: CaProviderKind,
    pub name: String,
    pub key: String,
    pub namespace: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum CaProviderKind {
    Secret,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum KvVersion {
    #[serde(rename = "v2")]
    V2,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct VaultAuth {
    pub kubernetes: VaultKubernetesAuth,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VaultKubernetesAuth {
    /// Mount path of the kubernetes auth method in Vault.
    pub mount_path: String,
    /// Vault role to log in as.
    pub role: String,
    /// The service account whose token ESO presents to Vault.
    pub service_account_ref: ServiceAccountRef,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ServiceAccountRef {
    pub name: String,
    /// The service account's namespace. Left out of a ClusterSecretStore, it is the namespace
    /// of each ExternalSecret the store serves ("referent" auth, external-secrets v2.9.0
    /// `isReferentSpec`): ESO then logs into Vault as that namespace's service account.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExternalSecretSpec {
    /// How often the Secret is refreshed from the store, e.g. `1h`.
    pub refresh_interval: String,
    pub secret_store_ref: SecretStoreRef,
    pub target: ExternalSecretTarget,
    pub data: Vec<ExternalSecretData>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SecretStoreRef {
    pub kind: SecretStoreKind,
    pub name: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum SecretStoreKind {
    ClusterSecretStore,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExternalSecretTarget {
    /// Name of the Secret ESO writes.
    pub name: String,
    pub creation_policy: CreationPolicy,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum CreationPolicy {
    /// ESO creates the Secret and owns it: deleting the ExternalSecret deletes the Secret.
    Owner,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExternalSecretData {
    /// Key in the Kubernetes Secret.
    pub secret_key: String,
    pub remote_ref: RemoteRef,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RemoteRef {
    /// Path of the secret inside the store's KV mount.
    pub key: String,
    /// Field of the Vault secret.
    pub property: String,
}

/// The Role and RoleBinding that let ESO's controller request tokens for one service account,
/// and no other. ESO's chart grants it `serviceaccounts/token` in every namespace unless told
/// not to (external-secrets chart 2.9.0 `rbac.serviceAccountTokenCreate`), which would let a
/// compromised ESO impersonate any service account of the cluster.
pub fn token_request_grant(
    namespace: &str,
    service_account: &str,
    labels: &std::collections::BTreeMap<String, String>,
) -> (
    k8s_openapi::api::rbac::v1::Role,
    k8s_openapi::api::rbac::v1::RoleBinding,
) {
    use k8s_openapi::api::rbac::v1::{PolicyRule, Role, RoleBinding, RoleRef, Subject};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    let name = format!("external-secrets-token-{service_account}");
    let meta = ObjectMeta {
        labels: (!labels.is_empty()).then(|| labels.clone()),
        ..crate::application::metadata(&name, Some(namespace))
    };
    let role = Role {
        metadata: meta.clone(),
        rules: Some(vec![PolicyRule {
            api_groups: Some(vec![String::new()]),
            resources: Some(vec!["serviceaccounts/token".to_owned()]),
            resource_names: Some(vec![service_account.to_owned()]),
            verbs: vec!["create".to_owned()],
            ..PolicyRule::default()
        }]),
    };
    let binding = RoleBinding {
        metadata: meta,
        role_ref: RoleRef {
            api_group: Some("rbac.authorization.k8s.io".to_owned()),
            kind: "Role".to_owned(),
            name,
        },
        subjects: Some(vec![Subject {
            kind: "ServiceAccount".to_owned(),
            name: names::ESO_SERVICE_ACCOUNT.to_owned(),
            namespace: Some(names::namespace::EXTERNAL_SECRETS.to_owned()),
            ..Subject::default()
        }]),
    };
    (role, binding)
}

/// One key of a platform Secret: the field `property` of the Vault secret at `key` (inside the
/// KV mount), written as `secret_key`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlatformSecretKey {
    pub secret_key: String,
    pub key: String,
    pub property: String,
}

/// An ExternalSecret of a platform component, read through the platform's own store (which
/// admits only the platform's namespaces) and refreshed as the environment says. The values
/// go from Vault to the Secret; Git holds only where they are.
pub fn platform_external_secret(
    env: &Environment,
    name: &str,
    namespace: &str,
    keys: Vec<PlatformSecretKey>,
) -> ExternalSecret {
    ExternalSecret {
        metadata: crate::application::metadata(name, Some(namespace)),
        spec: ExternalSecretSpec {
            refresh_interval: env.secrets.refresh_interval.as_go(),
            secret_store_ref: SecretStoreRef {
                kind: SecretStoreKind::ClusterSecretStore,
                name: names::CLUSTER_SECRET_STORE.to_owned(),
            },
            target: ExternalSecretTarget {
                name: name.to_owned(),
                creation_policy: CreationPolicy::Owner,
            },
            data: keys
                .into_iter()
                .map(|key| ExternalSecretData {
                    secret_key: key.secret_key,
                    remote_ref: RemoteRef {
                        key: key.key,
                        property: key.property,
                    },
                })
                .collect(),
        },
    }
}
