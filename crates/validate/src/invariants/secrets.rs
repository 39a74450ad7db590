//! Secrets: none carries a value, every ExternalSecret reads a store it may read, every
//! Secret a workload reads exists by its wave.

use super::*;

impl<'a> Environment<'a> {
    pub(super) fn no_secret_values(&mut self) {
        let secrets: Vec<&RenderedObject> = self
            .objects
            .iter()
            .copied()
            .filter(|o| o.api_version() == "v1" && o.kind() == "Secret")
            .collect();
        for secret in secrets {
            for field in ["data", "stringData"] {
                if secret.object.get(field).is_some_and(|v| !v.is_null()) {
                    self.finding(secret, &format!("/{field}"), "secret-values", &Value::String("<redacted>".into()), "a Secret in Git carries its values; secrets reach the cluster only through ExternalSecrets".to_owned());
                }
            }
        }
    }

    pub(super) fn stores(&self) -> BTreeMap<&'a str, (&'a RenderedObject, Option<i64>)> {
        self.objects
            .iter()
            .filter(|o| o.kind() == "ClusterSecretStore")
            .map(|o| (o.name(), (*o, self.wave_of(o))))
            .collect()
    }

    pub(super) fn external_secrets_read_a_store_they_may_read(&mut self) {
        let stores = self.stores();
        let external_secrets: Vec<&RenderedObject> = self
            .objects
            .iter()
            .copied()
            .filter(|o| o.kind() == "ExternalSecret")
            .collect();
        for secret in external_secrets {
            let store_ref = &secret.object["spec"]["secretStoreRef"];
            let store_name = store_ref["name"].as_str().unwrap_or_default();
            let Some((store, store_wave)) = stores.get(store_name) else {
                self.finding(
                    secret,
                    "/spec/secretStoreRef/name",
                    "secret-store",
                    &store_ref["name"],
                    format!("no ClusterSecretStore `{store_name}` is rendered in this environment"),
                );
                continue;
            };
            if let (Some(store_wave), Some(wave)) = (store_wave, self.wave_of(secret))
                && *store_wave >= wave
            {
                self.finding(secret, "/spec/secretStoreRef/name", "wave-deadlock", &store_ref["name"], format!("store `{store_name}` syncs in wave {store_wave}, not before this ExternalSecret's wave {wave}"));
            }
            // ESO serves an ExternalSecret from a ClusterSecretStore only in the namespaces its
            // conditions admit (external-secrets v2.9.0 `shouldProcessSecret`).
            let namespace = secret.namespace().unwrap_or_default();
            if let Some(conditions) = store.object["spec"]["conditions"].as_array()
                && !conditions.is_empty()
                && !conditions.iter().any(|c| admits(c, namespace))
            {
                self.finding(secret, "/spec/secretStoreRef/name", "secret-store-scope", &store_ref["name"], format!("store `{store_name}` does not admit namespace `{namespace}`; ESO would leave this ExternalSecret unsynced"));
            }
            let mount = store.object["spec"]["provider"]["vault"]["path"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let data = secret.object["spec"]["data"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            for (i, item) in data.iter().enumerate() {
                let key = item["remoteRef"]["key"].as_str().unwrap_or_default();
                let escapes = key.is_empty()
                    || key.starts_with('/')
                    || key.split('/').any(|s| s == ".." || s == ".");
                if escapes {
                    self.finding(secret, &format!("/spec/data/{i}/remoteRef/key"), "secret-path", &item["remoteRef"]["key"], format!("the store's role may read `{mount}/*` only; expected a key relative to that mount"));
                }
            }
        }
    }

    /// Every Secret a workload mounts or reads is produced, in time, in its namespace.
    pub(super) fn workload_secrets_exist_in_time(&mut self) {
        let mut produced: BTreeMap<(&str, &str), Option<i64>> = BTreeMap::new();
        for object in &self.objects {
            let namespace = object.namespace().unwrap_or_default();
            // A workload that creates Secrets when it runs (a chart's hook Job).
            for (_, secret) in self
                .conventions
                .secrets_created_by
                .iter()
                .filter(|(workload, _)| {
                    workload == object.name() && WORKLOADS.iter().any(|(k, _)| *k == object.kind())
                })
            {
                produced.insert((namespace, secret.as_str()), self.wave_of(object));
            }
            let name = match object.kind() {
                "ExternalSecret" => object.object["spec"]["target"]["name"]
                    .as_str()
                    .unwrap_or(object.name()),
                "Secret" => object.name(),
                // cert-manager writes the certificate and its key into `spec.secretName`.
                "Certificate" if object.group() == "cert-manager.io" => {
                    match object.object["spec"]["secretName"].as_str() {
                        Some(secret) => secret,
                        None => continue,
                    }
                }
                _ => continue,
            };
            produced.insert((namespace, name), self.wave_of(object));
        }
        let workloads: Vec<&RenderedObject> = self
            .objects
            .iter()
            .copied()
            .filter(|o| WORKLOADS.iter().any(|(k, _)| *k == o.kind()))
            .collect();
        for workload in workloads {
            let namespace = workload.namespace().unwrap_or_default();
            let wave = self.wave_of(workload);
            let manual: Vec<&str> = self
                .conventions
                .manual_secrets_annotation
                .as_deref()
                .and_then(|annotation| {
                    workload.object["metadata"]["annotations"][annotation].as_str()
                })
                .map(|names| names.split(',').map(str::trim).collect())
                .unwrap_or_default();
            for (pointer, name) in secret_references(&workload.object) {
                if manual.contains(&name.as_str()) {
                    continue;
                }
                match produced.get(&(namespace, name.as_str())) {
                    None => self.finding(workload, &pointer, "wave-deadlock", &Value::String(name.clone()), format!("Secret `{name}` is produced by nothing in namespace `{namespace}`; the pod would never start")),
                    Some(Some(at)) if wave.is_some_and(|w| *at > w) => self.finding(workload, &pointer, "wave-deadlock", &Value::String(name.clone()), format!("Secret `{name}` appears in wave {at}, after the workload")),
                    Some(_) => {}
                }
            }
        }
    }
}

/// Whether a reference is `optional: true`: the kubelet starts the pod without the Secret
/// (core/v1 `SecretVolumeSource.optional`, `SecretKeySelector.optional`,
/// `SecretEnvSource.optional`), so nothing needs to produce it.
fn optional(reference: &Value) -> bool {
    reference["optional"].as_bool() == Some(true)
}

/// Secret names a pod cannot start without, with the JSON pointer of each reference.
fn secret_references(workload: &Value) -> Vec<(String, String)> {
    let spec_pointer = match workload["kind"].as_str() {
        Some("Pod") => "/spec",
        Some("CronJob") => "/spec/jobTemplate/spec/template/spec",
        _ => "/spec/template/spec",
    };
    let Some(spec) = workload.pointer(spec_pointer) else {
        return Vec::new();
    };
    let mut references = Vec::new();
    for list in ["initContainers", "containers"] {
        for (c, container) in spec[list].as_array().into_iter().flatten().enumerate() {
            for (e, source) in container["envFrom"]
                .as_array()
                .into_iter()
                .flatten()
                .enumerate()
            {
                if let Some(name) = source["secretRef"]["name"].as_str()
                    && !optional(&source["secretRef"])
                {
                    references.push((
                        format!("{spec_pointer}/{list}/{c}/envFrom/{e}/secretRef/name"),
                        name.to_owned(),
                    ));
                }
            }
            for (e, variable) in container["env"]
                .as_array()
                .into_iter()
                .flatten()
                .enumerate()
            {
                if let Some(name) = variable["valueFrom"]["secretKeyRef"]["name"].as_str()
                    && !optional(&variable["valueFrom"]["secretKeyRef"])
                {
                    references.push((
                        format!("{spec_pointer}/{list}/{c}/env/{e}/valueFrom/secretKeyRef/name"),
                        name.to_owned(),
                    ));
                }
            }
        }
    }
    for (v, volume) in spec["volumes"].as_array().into_iter().flatten().enumerate() {
        if let Some(name) = volume["secret"]["secretName"].as_str()
            && !optional(&volume["secret"])
        {
            references.push((
                format!("{spec_pointer}/volumes/{v}/secret/secretName"),
                name.to_owned(),
            ));
        }
    }
    references
}

/// Whether a ClusterSecretStore condition admits a namespace by name. A label selector or a
/// regular expression cannot be decided from the tree (the namespace's labels live in the
/// cluster), so such a condition is taken to admit it.
fn admits(condition: &Value, namespace: &str) -> bool {
    let by_name = condition["namespaces"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|n| n.as_str() == Some(namespace));
    by_name || !condition["namespaceSelector"].is_null() || !condition["namespaceRegexes"].is_null()
}
