//! External Secrets Operator's resources (group `external-secrets.io`, version `v1`).
//!
//! They live in the core because two components use them: the `vault-config` app renders the
//! ClusterSecretStore, and every user app renders ExternalSecrets that read from it.

use serde::Serialize;

use crate::custom_resource;

custom_resource! {
    /// A secret store every namespace may read from.
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
    pub namespace: String,
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
