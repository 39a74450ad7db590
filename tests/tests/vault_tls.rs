//! Vault serves TLS wherever it runs in HA mode, and everything that talks to it verifies
//! the certificate: ESO through the store's CA, Raft peers through `leader_ca_cert_file`, the
//! CLI in each pod through `VAULT_CACERT`. The names they use are names the certificate holds.

use platform_tests::{load_all, objects, render};

fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").unwrap().1;
    rest.split(':').next().unwrap()
}

/// Whether a certificate's DNS name covers `host` (a `*.` name covers one label).
fn covers(names: &[&str], host: &str) -> bool {
    names.iter().any(|name| match name.strip_prefix("*.") {
        Some(domain) => host
            .split_once('.')
            .is_some_and(|(label, rest)| !label.is_empty() && rest == domain),
        None => *name == host,
    })
}

#[test]
fn ha_vault_serves_tls_that_every_client_verifies() {
    let mut ha = 0;
    for loaded in load_all() {
        let objects = objects(&render(&loaded));
        let store = &objects["manifests/vault-config/clustersecretstore-vault-backend.yaml"];
        let provider = &store["spec"]["provider"]["vault"];
        let server = provider["server"].as_str().unwrap();
        if !loaded.env.vault_tls() {
            assert!(server.starts_with("http://"), "{}", loaded.name);
            assert!(provider["caProvider"].is_null());
            assert!(
                !objects.contains_key("apps/cert-manager.yaml"),
                "{}",
                loaded.name
            );
            continue;
        }
        ha += 1;
        assert!(server.starts_with("https://"), "{}: {server}", loaded.name);

        // ESO trusts the CA in the Secret the server certificate is written to.
        let certificate = &objects["manifests/vault/certificate-vault-tls.yaml"];
        let secret = certificate["spec"]["secretName"].as_str().unwrap();
        let ca = &provider["caProvider"];
        assert_eq!(ca["type"], "Secret");
        assert_eq!(ca["name"], secret);
        assert_eq!(ca["key"], "ca.crt");
        assert_eq!(ca["namespace"], certificate["metadata"]["namespace"]);
        let issuer = certificate["spec"]["issuerRef"]["name"].as_str().unwrap();
        let ca_issuer = &objects[&format!("manifests/vault/issuer-{issuer}.yaml")];
        assert!(
            ca_issuer["spec"]["ca"]["secretName"].is_string(),
            "signed by a CA issuer, which writes ca.crt"
        );

        // Every name a client uses is in the certificate.
        let names: Vec<&str> = certificate["spec"]["dnsNames"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n.as_str().unwrap())
            .collect();
        assert!(
            covers(&names, host_of(server)),
            "{}: {} not in {names:?}",
            loaded.name,
            host_of(server)
        );
        let values = platform_tests::chart_values(&loaded, "vault");
        let config = values["server"]["ha"]["raft"]["config"].as_str().unwrap();
        let joins: Vec<&str> = config
            .lines()
            .filter_map(|l| l.trim().strip_prefix("leader_api_addr = \""))
            .map(|l| l.trim_end_matches('"'))
            .collect();
        assert_eq!(joins.len() as u32, loaded.env.vault.replicas);
        for join in &joins {
            assert!(join.starts_with("https://"), "{join}");
            assert!(
                covers(&names, host_of(join)),
                "{}: {join} not in the certificate",
                loaded.name
            );
        }
        assert!(
            certificate["spec"]["ipAddresses"]
                .as_array()
                .unwrap()
                .iter()
                .any(|ip| ip == "127.0.0.1"),
            "the chart's VAULT_ADDR in each pod is https://127.0.0.1:8200"
        );

        // The servers serve the Secret's files, and trust its CA for Raft and the CLI.
        assert_eq!(values["global"]["tlsDisable"], false);
        let volume = values["server"]["volumes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["secret"]["secretName"] == secret)
            .expect("a volume from the certificate's Secret");
        let mount = values["server"]["volumeMounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == volume["name"])
            .expect("mounted");
        let dir = mount["mountPath"].as_str().unwrap();
        for file in ["tls.crt", "tls.key"] {
            assert!(
                config.contains(&format!("\"{dir}/{file}\"")),
                "{}: listener lacks {file}",
                loaded.name
            );
        }
        assert!(config.contains("tls_disable = 0"));
        assert_eq!(
            config
                .matches(&format!("leader_ca_cert_file = \"{dir}/ca.crt\""))
                .count(),
            joins.len()
        );
        assert_eq!(
            values["server"]["extraEnvironmentVars"]["VAULT_CACERT"],
            format!("{dir}/ca.crt")
        );

        // cert-manager, which issues all this, syncs before Vault.
        let wave = |path: &str| {
            objects[path]["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"]
                .as_str()
                .unwrap()
                .parse::<i32>()
                .unwrap()
        };
        assert!(wave("apps/cert-manager.yaml") < wave("apps/vault.yaml"));
    }
    assert_eq!(ha, 2, "staging and prod run Vault in HA mode");
}
