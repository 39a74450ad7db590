//! What an object needs exists by its wave: its namespace, and the CRD of a custom resource
//! (with the dry-run option that lets it sync beside it).

use super::*;

/// The namespaces the API server itself creates on every cluster.
const BUILT_IN_NAMESPACES: [&str; 4] = ["default", "kube-system", "kube-public", "kube-node-lease"];

impl<'a> Environment<'a> {
    /// Namespaces, and the wave from which each exists.
    pub(super) fn namespaces(&self) -> BTreeMap<&'a str, i64> {
        let mut namespaces: BTreeMap<&str, i64> = BTreeMap::new();
        let mut add = |name: &'a str, wave: i64| {
            let entry = namespaces.entry(name).or_insert(wave);
            *entry = (*entry).min(wave);
        };
        for object in &self.objects {
            if object.api_version() == "v1"
                && object.kind() == "Namespace"
                && let Some(wave) = self.wave_of(object)
            {
                add(object.name(), wave);
            }
        }
        for (name, app) in &self.applications {
            let creates = app.object["spec"]["syncPolicy"]["syncOptions"]
                .as_array()
                .is_some_and(|o| o.iter().any(|o| o == "CreateNamespace=true"));
            if creates
                && let (Some(namespace), Some(wave)) = (
                    app.object["spec"]["destination"]["namespace"].as_str(),
                    self.waves.get(name),
                )
            {
                add(namespace, *wave);
            }
        }
        namespaces
    }

    pub(super) fn namespaces_exist_in_time(&mut self) {
        let namespaces = self.namespaces();
        let objects: Vec<&RenderedObject> = self
            .objects
            .iter()
            .copied()
            .filter(|o| !o.is_application() && !CLUSTER_SCOPED.contains(&o.kind()))
            .collect();
        for object in objects {
            let Some(wave) = self.wave_of(object) else {
                continue;
            };
            let Some(namespace) = object.namespace() else {
                self.finding(
                    object,
                    "/metadata/namespace",
                    "namespace",
                    &Value::Null,
                    format!("a namespaced {} needs metadata.namespace", object.kind()),
                );
                continue;
            };
            // Every cluster has these from the start (kube-apiserver's system namespaces): a
            // chart's leader-election Role in kube-system needs no one to create it.
            if BUILT_IN_NAMESPACES.contains(&namespace) {
                continue;
            }
            match namespaces.get(namespace) {
                None => self.finding(object, "/metadata/namespace", "namespace", &Value::String(namespace.into()), format!("namespace `{namespace}` is neither rendered nor created by an Application (CreateNamespace=true)")),
                Some(created) if *created > wave => self.finding(object, "/metadata/namespace", "wave-deadlock", &Value::String(namespace.into()), format!("namespace `{namespace}` appears in wave {created}, after this object's wave {wave}")),
                Some(_) => {}
            }
        }
    }

    pub(super) fn custom_resources_follow_their_crds(&mut self) {
        // A CRD among an Application's own files (a chart hydrated into its folder) is
        // installed by that Application, in its wave: `<plural>.<group>` names its group.
        let mut in_folders: BTreeMap<&str, (&str, i64)> = BTreeMap::new();
        for crd in self
            .objects
            .iter()
            .filter(|o| o.kind() == "CustomResourceDefinition")
        {
            if let (Some((_, group)), Some(app), Some(wave)) = (
                crd.name().split_once('.'),
                crd.app.as_deref(),
                self.wave_of(crd),
            ) {
                let entry = in_folders.entry(group).or_insert((app, wave));
                if wave < entry.1 {
                    *entry = (app, wave);
                }
            }
        }
        let providers: BTreeMap<&str, (&str, i64)> = self
            .applications
            .iter()
            .flat_map(|(name, app)| {
                app.sources()
                    .into_iter()
                    .filter_map(|(_, source)| source["chart"].as_str())
                    .filter_map(|chart| Some((chart, (*name, *self.waves.get(name)?))))
                    .collect::<Vec<_>>()
            })
            .collect();
        let resources: Vec<&RenderedObject> = self
            .objects
            .iter()
            .copied()
            .filter(|o| {
                !o.is_application() && o.group().contains('.') && !o.group().ends_with(".k8s.io")
            })
            .collect();
        for resource in resources {
            let group = resource.group();
            let Some(wave) = self.wave_of(resource) else {
                continue;
            };
            let chart = self
                .conventions
                .crd_providers
                .iter()
                .find(|(g, _)| g == group)
                .map(|(_, c)| c.as_str());
            let installer = chart
                .and_then(|c| providers.get(c))
                .or_else(|| in_folders.get(group));
            match installer {
                // In the same sync as its CRD, Argo CD applies the CRD first and skips the
                // custom resource's dry run by itself (gitops-engine v3.4.4
                // `sync_context.go`, `hasCRDOfGroupKind`).
                Some((app, _)) if Some(*app) == resource.app.as_deref() => {}
                None => self.finding(resource, "/apiVersion", "crd-order", &resource.object["apiVersion"], format!("no Application of this environment installs the CRD of {} ({group})", resource.kind())),
                Some((app, crd_wave)) if *crd_wave >= wave => self.finding(resource, "/apiVersion", "crd-order", &resource.object["apiVersion"], format!("its CRD comes with `{app}` in wave {crd_wave}, not before this object's wave {wave}")),
                Some(_) => {
                    let options = &resource.object["metadata"]["annotations"][SYNC_OPTIONS];
                    if !options.as_str().is_some_and(|o| o.split(',').any(|o| o.trim() == SKIP_DRY_RUN)) {
                        self.finding(resource, "/metadata/annotations/argocd.argoproj.io~1sync-options", "crd-dry-run", options, format!("a custom resource whose CRD another Application installs needs `{SKIP_DRY_RUN}`, or the first sync's dry run fails"));
                    }
                }
            }
        }
    }
}
