//! cert-manager's resources (group `cert-manager.io`, version `v1`).
//!
//! They live in the core because two components meet in them: the `cert-manager` component
//! installs their CRDs, and Vault's component renders the Issuers and Certificates of its TLS.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::custom_resource;

custom_resource! {
    /// Signs certificates for one namespace.
    Issuer, spec: IssuerSpec,
    group: "cert-manager.io", version: "v1", kind: "Issuer", plural: "issuers",
    scope: NamespaceResourceScope, crd: application
}

custom_resource! {
    /// A certificate cert-manager keeps issued and renewed in a Secret.
    Certificate, spec: CertificateSpec,
    group: "cert-manager.io", version: "v1", kind: "Certificate", plural: "certificates",
    scope: NamespaceResourceScope, crd: application
}

/// How an Issuer signs: by itself (a root), or with a CA kept in a Secret.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum IssuerSpec {
    SelfSigned(BTreeMap<String, String>),
    Ca(CaIssuer),
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CaIssuer {
    pub secret_name: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificateSpec {
    pub secret_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub common_name: Option<String>,
    #[serde(rename = "isCA", skip_serializing_if = "std::ops::Not::not")]
    pub is_ca: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dns_names: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ip_addresses: Vec<String>,
    /// How long a certificate is valid, and how long before its end it is renewed (Go durations).
    pub duration: String,
    pub renew_before: String,
    pub private_key: PrivateKey,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub usages: Vec<String>,
    pub issuer_ref: IssuerRef,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PrivateKey {
    pub algorithm: String,
    pub size: u32,
    /// A new key with every renewal, so a leaked key dies with its certificate.
    pub rotation_policy: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct IssuerRef {
    pub name: String,
    pub kind: String,
}
