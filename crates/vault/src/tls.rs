//! Vault's TLS in HA mode: a CA of its own and a server certificate, issued and renewed by
//! cert-manager from what Git declares. The keys never leave the cluster; the same Git
//! recreates the same chain of trust on a new cluster (with new keys).
//!
//! `vault-selfsigned` (Issuer) signs the CA `vault-ca`; the Issuer `vault-ca` signs the
//! server certificate into the Secret `vault-tls` (`tls.crt`, `tls.key`, `ca.crt`), which
//! Vault's servers mount and whose `ca.crt` ESO verifies Vault with.

use std::collections::BTreeMap;

use platform_core::application::metadata;
use platform_core::cert_manager::{
    CaIssuer, Certificate, CertificateSpec, Issuer, IssuerRef, IssuerSpec, PrivateKey,
};
use platform_core::manifest::Manifest;
use platform_core::names;

const SELF_SIGNED: &str = "vault-selfsigned";
const CA: &str = "vault-ca";

/// Where Vault's servers find the Secret's files.
pub const MOUNT_PATH: &str = "/vault/userconfig/vault-tls";

/// The names a client may reach Vault by: its Service (as ESO and the kubernetes auth
/// callbacks do), each server through the headless Service (as Raft's `retry_join` does), and
/// the loopback address (the chart's probes and `vault` commands inside a pod, and
/// `kubectl port-forward`).
pub fn dns_names() -> Vec<String> {
    let service = names::VAULT.service;
    let namespace = names::VAULT.namespace;
    let mut dns = Vec::new();
    for host in [
        service.to_owned(),
        format!("{service}-active"),
        format!("{service}-internal"),
    ] {
        dns.push(host.clone());
        dns.push(format!("{host}.{namespace}"));
        dns.push(format!("{host}.{namespace}.svc"));
        dns.push(format!("{host}.{namespace}.svc.cluster.local"));
    }
    dns.push(format!("*.{service}-internal"));
    dns.push(format!("*.{service}-internal.{namespace}.svc"));
    dns.push(format!(
        "*.{service}-internal.{namespace}.svc.cluster.local"
    ));
    dns.push("localhost".to_owned());
    dns
}

fn issuer(name: &str, spec: IssuerSpec) -> Manifest {
    Manifest::new(Issuer {
        metadata: metadata(name, Some(names::VAULT.namespace)),
        spec,
    })
}

fn certificate(name: &str, spec: CertificateSpec) -> Manifest {
    Manifest::new(Certificate {
        metadata: metadata(name, Some(names::VAULT.namespace)),
        spec,
    })
}

fn key() -> PrivateKey {
    PrivateKey {
        algorithm: "ECDSA".to_owned(),
        size: 256,
        rotation_policy: "Always".to_owned(),
    }
}

fn issued_by(name: &str) -> IssuerRef {
    IssuerRef {
        name: name.to_owned(),
        kind: "Issuer".to_owned(),
    }
}

/// The Issuers and Certificates of Vault's TLS.
pub fn manifests() -> Vec<Manifest> {
    vec![
        issuer(SELF_SIGNED, IssuerSpec::SelfSigned(BTreeMap::new())),
        certificate(
            CA,
            CertificateSpec {
                secret_name: CA.to_owned(),
                common_name: Some("Vault CA".to_owned()),
                is_ca: true,
                dns_names: Vec::new(),
                ip_addresses: Vec::new(),
                // Ten years: the CA outlives many server certificates; renewing it replaces the
                // trust every client holds.
                duration: "87600h".to_owned(),
                renew_before: "720h".to_owned(),
                private_key: key(),
                usages: Vec::new(),
                issuer_ref: issued_by(SELF_SIGNED),
            },
        ),
        issuer(
            CA,
            IssuerSpec::Ca(CaIssuer {
                secret_name: CA.to_owned(),
            }),
        ),
        certificate(
            names::VAULT_TLS_SECRET,
            CertificateSpec {
                secret_name: names::VAULT_TLS_SECRET.to_owned(),
                common_name: None,
                is_ca: false,
                dns_names: dns_names(),
                ip_addresses: vec!["127.0.0.1".to_owned()],
                // A year, renewed a month ahead: Vault reads its certificate at start, so the
                // renewed one is used from the next restart of each server, which the alert
                // `VaultCertificateNotLoaded` asks for (see README).
                duration: "8760h".to_owned(),
                renew_before: "720h".to_owned(),
                private_key: key(),
                usages: vec![
                    "server auth".to_owned(),
                    "digital signature".to_owned(),
                    "key encipherment".to_owned(),
                ],
                issuer_ref: issued_by(CA),
            },
        ),
    ]
}
