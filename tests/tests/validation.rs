//! `cargo xtask validate`'s checks: the rendered tree passes, and each kind of breakage is
//! caught with the right file, JSON pointer and rule.

use std::collections::BTreeMap;
use std::sync::Arc;

use platform_tests::{SchemaFolder, rendered_tree, schemas_dir};
use platform_validate::{Finding, Schemas, validate};
use serde_json::{Value, json};

fn check(files: &BTreeMap<String, String>, schemas: &mut Schemas<'_>) -> Vec<Finding> {
    validate(files, Some(schemas), &platform::conventions()).findings
}

#[test]
fn the_rendered_tree_passes_every_check() {
    let source = SchemaFolder(schemas_dir());
    let findings = check(&rendered_tree(), &mut Schemas::new(&source));
    assert!(
        findings.is_empty(),
        "{}",
        findings
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// Parses a rendered file, lets `change` edit it, and writes it back.
fn edit(files: &mut BTreeMap<String, String>, file: &str, change: impl FnOnce(&mut Value)) {
    let text = files.get(file).unwrap_or_else(|| panic!("no {file}"));
    let mut object: Value = serde_yaml::from_str(text).unwrap();
    change(&mut object);
    files.insert(file.to_owned(), serde_yaml::to_string(&object).unwrap());
}

fn set(pointer: &str, value: Value) -> impl FnOnce(&mut Value) {
    let pointer = pointer.to_owned();
    move |object| {
        *object
            .pointer_mut(&pointer)
            .unwrap_or_else(|| panic!("no {pointer}")) = value
    }
}

fn remove(pointer: &str) -> impl FnOnce(&mut Value) {
    let pointer = pointer.to_owned();
    move |object| {
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        let key = key.replace("~1", "/");
        object
            .pointer_mut(parent)
            .unwrap()
            .as_object_mut()
            .unwrap()
            .remove(&key)
            .unwrap();
    }
}

type Mutation = (
    &'static str,
    Box<dyn FnOnce(&mut BTreeMap<String, String>)>,
    &'static str,
    &'static str,
    &'static str,
);

const VAULT: &str = "dev/apps/vault.yaml";
const APP: &str = "dev/apps/finops-app.yaml";
const DEPLOYMENT: &str = "dev/manifests/finops-app/deployment-finops-app.yaml";
const TENANT_NAMESPACE: &str = "dev/manifests/tenant-finops/namespace-finops-app.yaml";
const EXTERNAL_SECRET: &str = "dev/manifests/finops-app/externalsecret-finops-db-creds.yaml";
const STORE: &str = "dev/manifests/vault-config/clustersecretstore-vault-backend.yaml";
const POLICY: &str = "dev/manifests/security-policies/clusterpolicy-disallow-latest-tag.yaml";

fn mutations() -> Vec<Mutation> {
    vec![
        (
            "misspelt Application field",
            Box::new(|f| {
                edit(f, VAULT, |o| {
                    o["spec"]["syncPolicy"]["automated"]["selfheal"] = json!(true);
                })
            }),
            VAULT,
            "/spec/syncPolicy/automated",
            "schema:additionalProperties",
        ),
        (
            "chart container without limits",
            Box::new(|f| {
                edit(
                    f,
                    VAULT,
                    remove("/spec/sources/0/helm/valuesObject/server/resources/limits"),
                )
            }),
            VAULT,
            "/spec/sources/0/helm/valuesObject/server/resources",
            "helm-resources",
        ),
        (
            "hydrated chart container without limits",
            Box::new(|f| {
                edit(
                    f,
                    "prod/manifests/vault/statefulset-vault.yaml",
                    remove("/spec/template/spec/containers/0/resources/limits"),
                )
            }),
            "prod/manifests/vault/statefulset-vault.yaml",
            "/spec/template/spec/containers/0/resources",
            "container-resources",
        ),
        (
            "workload the Enforce policy refuses",
            Box::new(|f| {
                edit(
                    f,
                    "prod/manifests/finops-app/deployment-finops-app.yaml",
                    set(
                        "/spec/template/spec/containers/0/image",
                        json!("docker.io/library/nginx:1.27"),
                    ),
                )
            }),
            "prod/manifests/finops-app/deployment-finops-app.yaml",
            "/spec/template/spec/containers/0/image",
            "kyverno:restrict-image-registries/autogen-allowed-registries",
        ),
        (
            "wrong type",
            Box::new(|f| edit(f, DEPLOYMENT, set("/spec/replicas", json!("three")))),
            DEPLOYMENT,
            "/spec/replicas",
            "schema:type",
        ),
        (
            "missing required field",
            Box::new(|f| edit(f, DEPLOYMENT, remove("/spec/selector"))),
            DEPLOYMENT,
            "/spec",
            "schema:required",
        ),
        (
            "bad enum in a CRD",
            Box::new(|f| {
                edit(
                    f,
                    EXTERNAL_SECRET,
                    set("/spec/target/creationPolicy", json!("Owns")),
                )
            }),
            EXTERNAL_SECRET,
            "/spec/target/creationPolicy",
            "schema:enum",
        ),
        (
            "bad enum in a ClusterPolicy",
            Box::new(|f| {
                edit(
                    f,
                    POLICY,
                    set("/spec/rules/0/validate/failureAction", json!("Block")),
                )
            }),
            POLICY,
            "/spec/rules/0/validate/failureAction",
            "schema:enum",
        ),
        (
            "bad KV version",
            Box::new(|f| edit(f, STORE, set("/spec/provider/vault/version", json!("v3")))),
            STORE,
            "/spec/provider/vault/version",
            "schema:enum",
        ),
        (
            "misspelt MetalLB field",
            Box::new(|f| {
                edit(
                    f,
                    "dev/manifests/metallb-config/ipaddresspool-kind-pool.yaml",
                    |o| {
                        let a = o["spec"]
                            .as_object_mut()
                            .unwrap()
                            .remove("addresses")
                            .unwrap();
                        o["spec"]["adresses"] = a;
                    },
                )
            }),
            "dev/manifests/metallb-config/ipaddresspool-kind-pool.yaml",
            "/spec",
            "schema:additionalProperties",
        ),
        (
            "Helm value of the wrong type",
            Box::new(|f| {
                edit(
                    f,
                    VAULT,
                    // Quoted, so a string to every reader (a plain `yes` is true to Argo CD).
                    set(
                        "/spec/sources/0/helm/valuesObject/server/dev/enabled",
                        json!("true"),
                    ),
                )
            }),
            VAULT,
            "/spec/sources/0/helm/valuesObject/server/dev/enabled",
            "values-schema:type",
        ),
        (
            "Helm value of the wrong type (prometheus)",
            Box::new(|f| {
                edit(
                    f,
                    "dev/apps/prometheus.yaml",
                    set(
                        "/spec/sources/0/helm/valuesObject/server/retention",
                        json!(15),
                    ),
                )
            }),
            "dev/apps/prometheus.yaml",
            "/spec/sources/0/helm/valuesObject/server/retention",
            "values-schema:type",
        ),
        (
            "Helm value the chart ignores",
            Box::new(|f| {
                edit(f, "dev/apps/kyverno.yaml", |o| {
                    o["spec"]["sources"][0]["helm"]["valuesObject"]["reportController"] = json!({});
                })
            }),
            "dev/apps/kyverno.yaml",
            "/spec/sources/0/helm/valuesObject/reportController",
            "values-key",
        ),
        (
            "path that holds nothing",
            Box::new(|f| {
                edit(
                    f,
                    "dev/apps/vault-config.yaml",
                    set(
                        "/spec/source/path",
                        json!("rendered/dev/manifests/vault-confg"),
                    ),
                )
            }),
            "dev/apps/vault-config.yaml",
            "/spec/source/path",
            "app-path",
        ),
        (
            "foreign repository",
            Box::new(|f| {
                edit(
                    f,
                    APP,
                    set(
                        "/spec/source/repoURL",
                        json!("https://github.com/someone/else.git"),
                    ),
                )
            }),
            APP,
            "/spec/source/repoURL",
            "app-repo",
        ),
        (
            "repository Argo CD cannot clone",
            Box::new(|f| {
                edit(
                    f,
                    "dev/bootstrap/root-app.yaml",
                    set(
                        "/spec/source/repoURL",
                        json!("github.com/example-org/finops-platform"),
                    ),
                )
            }),
            "dev/bootstrap/root-app.yaml",
            "/spec/source/repoURL",
            "repo-url",
        ),
        (
            "unpinned chart",
            Box::new(|f| {
                edit(
                    f,
                    VAULT,
                    set("/spec/sources/0/targetRevision", json!("0.34.x")),
                )
            }),
            VAULT,
            "/spec/sources/0/targetRevision",
            "helm-pinned",
        ),
        (
            "store that is not rendered",
            Box::new(|f| {
                edit(
                    f,
                    EXTERNAL_SECRET,
                    set("/spec/secretStoreRef/name", json!("vault")),
                )
            }),
            EXTERNAL_SECRET,
            "/spec/secretStoreRef/name",
            "secret-store",
        ),
        (
            "store that does not admit the namespace",
            Box::new(|f| {
                edit(
                    f,
                    EXTERNAL_SECRET,
                    set("/spec/secretStoreRef/name", json!("vault-backend")),
                )
            }),
            EXTERNAL_SECRET,
            "/spec/secretStoreRef/name",
            "secret-store-scope",
        ),
        (
            "key outside the mount",
            Box::new(|f| {
                edit(
                    f,
                    EXTERNAL_SECRET,
                    set("/spec/data/0/remoteRef/key", json!("../sys/root")),
                )
            }),
            EXTERNAL_SECRET,
            "/spec/data/0/remoteRef/key",
            "secret-path",
        ),
        (
            "Secret with values in Git",
            Box::new(|f| {
                f.insert("dev/manifests/finops-app/secret-leak.yaml".into(), "apiVersion: v1\nkind: Secret\nmetadata:\n  name: leak\n  namespace: finops-app\nstringData:\n  password: hunter2\n".into());
            }),
            "dev/manifests/finops-app/secret-leak.yaml",
            "/stringData",
            "secret-values",
        ),
        (
            "namespace nobody creates",
            Box::new(|f| {
                edit(
                    f,
                    "dev/manifests/finops-app/service-finops-app.yaml",
                    set("/metadata/namespace", json!("nowhere")),
                )
            }),
            "dev/manifests/finops-app/service-finops-app.yaml",
            "/metadata/namespace",
            "namespace",
        ),
        (
            "namespace created in a later wave",
            Box::new(|f| {
                edit(
                    f,
                    "dev/manifests/metallb-config/l2advertisement-kind-pool.yaml",
                    set("/metadata/namespace", json!("finops-app")),
                )
            }),
            "dev/manifests/metallb-config/l2advertisement-kind-pool.yaml",
            "/metadata/namespace",
            "wave-deadlock",
        ),
        (
            "custom resource before its CRD",
            Box::new(|f| {
                edit(
                    f,
                    "dev/apps/vault-config.yaml",
                    set(
                        "/metadata/annotations/argocd.argoproj.io~1sync-wave",
                        json!("1"),
                    ),
                )
            }),
            STORE,
            "/apiVersion",
            "crd-order",
        ),
        (
            "custom resource without SkipDryRun",
            Box::new(|f| {
                edit(
                    f,
                    POLICY,
                    remove("/metadata/annotations/argocd.argoproj.io~1sync-options"),
                )
            }),
            POLICY,
            "/metadata/annotations/argocd.argoproj.io~1sync-options",
            "crd-dry-run",
        ),
        (
            "the same object twice",
            Box::new(|f| {
                let text = f["dev/manifests/finops-app/serviceaccount-finops-app.yaml"].clone();
                f.insert(
                    "dev/manifests/finops-app/serviceaccount-copy.yaml".into(),
                    text,
                );
            }),
            "dev/manifests/finops-app/serviceaccount-finops-app.yaml",
            "/metadata/name",
            "unique-object",
        ),
        (
            // OpenCost falls back on the namespace's labels (`applyLabels`): a pod without
            // its own is allocated only if its namespace has none either.
            "workload without a cost label, in a namespace without one",
            Box::new(|f| {
                edit(f, DEPLOYMENT, remove("/spec/template/metadata/labels/team"));
                edit(f, TENANT_NAMESPACE, remove("/metadata/labels/team"));
            }),
            DEPLOYMENT,
            "/spec/template/metadata/labels",
            "cost-labels",
        ),
        (
            "Secret nothing produces",
            Box::new(|f| {
                edit(
                    f,
                    DEPLOYMENT,
                    set(
                        "/spec/template/spec/containers/0/envFrom/0/secretRef/name",
                        json!("missing-secret"),
                    ),
                )
            }),
            DEPLOYMENT,
            "/spec/template/spec/containers/0/envFrom/0/secretRef/name",
            "wave-deadlock",
        ),
        (
            "ExternalSecret in the store's wave",
            Box::new(|f| {
                edit(
                    f,
                    APP,
                    set(
                        "/metadata/annotations/argocd.argoproj.io~1sync-wave",
                        json!("2"),
                    ),
                )
            }),
            EXTERNAL_SECRET,
            "/spec/secretStoreRef/name",
            "wave-deadlock",
        ),
        (
            "Application without a wave",
            Box::new(|f| {
                edit(
                    f,
                    "dev/apps/opencost.yaml",
                    remove("/metadata/annotations/argocd.argoproj.io~1sync-wave"),
                )
            }),
            "dev/apps/opencost.yaml",
            "/metadata/annotations/argocd.argoproj.io~1sync-wave",
            "sync-wave",
        ),
        (
            "kind with no schema",
            Box::new(|f| {
                f.insert("dev/manifests/finops-app/gateway-web.yaml".into(), "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata:\n  name: web\n  namespace: finops-app\nspec: {}\n".into());
            }),
            "dev/manifests/finops-app/gateway-web.yaml",
            "",
            "schema:missing",
        ),
        (
            "file that is not YAML",
            Box::new(|f| {
                f.insert(
                    "dev/manifests/finops-app/broken.yaml".into(),
                    "kind: [Service\n".into(),
                );
            }),
            "dev/manifests/finops-app/broken.yaml",
            "",
            "yaml",
        ),
        (
            "YAML that is no Kubernetes object",
            Box::new(|f| {
                f.insert(
                    "dev/manifests/finops-app/notes.yaml".into(),
                    "owner: finops\n".into(),
                );
            }),
            "dev/manifests/finops-app/notes.yaml",
            "",
            "object",
        ),
        (
            "chart the schema folder does not describe",
            Box::new(|f| edit(f, VAULT, set("/spec/sources/0/chart", json!("vaultt")))),
            VAULT,
            "/spec/sources/0/chart",
            "values:unknown-chart",
        ),
        (
            "pinned chart version the schema folder does not describe",
            Box::new(|f| {
                edit(
                    f,
                    VAULT,
                    set("/spec/sources/0/targetRevision", json!("0.34.0")),
                )
            }),
            VAULT,
            "/spec/sources/0/targetRevision",
            "values:chart-version",
        ),
        (
            "Application in a project nobody rendered",
            Box::new(|f| edit(f, APP, set("/spec/project", json!("team-fin0ps")))),
            APP,
            "/spec/project",
            "app-project",
        ),
        (
            "Application into a namespace its project does not permit",
            Box::new(|f| edit(f, APP, set("/spec/destination/namespace", json!("billing")))),
            APP,
            "/spec/destination",
            "project-destination",
        ),
        (
            "team project that may write NetworkPolicies",
            Box::new(|f| {
                edit(f, "dev/apps/projects/team-finops.yaml", |project| {
                    project["spec"]["namespaceResourceWhitelist"]
                        .as_array_mut()
                        .unwrap()
                        .push(json!({"group": "networking.k8s.io", "kind": "NetworkPolicy"}));
                })
            }),
            "dev/apps/projects/team-finops.yaml",
            "/spec/namespaceResourceWhitelist",
            "project-scope",
        ),
        (
            "object of a kind its project does not permit",
            Box::new(|f| {
                f.insert("dev/manifests/finops-app/role-reader.yaml".into(), "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: reader\n  namespace: finops-app\nrules: []\n".into());
            }),
            "dev/manifests/finops-app/role-reader.yaml",
            "",
            "project-resource",
        ),
        (
            "environment without a root Application",
            Box::new(|f| {
                f.remove("dev/bootstrap/root-app.yaml");
            }),
            "dev/bootstrap/root-app.yaml",
            "",
            "root-application",
        ),
    ]
}

/// The files of the environment `file` (`<env>/…`) is in.
fn environment_of(tree: &BTreeMap<String, String>, file: &str) -> BTreeMap<String, String> {
    let prefix = format!("{}/", file.split('/').next().unwrap());
    tree.iter()
        .filter(|(path, _)| path.starts_with(&prefix))
        .map(|(path, text)| (path.clone(), text.clone()))
        .collect()
}

#[test]
fn every_mutation_is_caught_at_the_right_place() {
    let pristine = rendered_tree();
    let source = SchemaFolder(schemas_dir());
    // One schema store for every run: each schema is compiled once.
    let mut schemas = Schemas::new(&source);
    let mutations = mutations();
    let covered: std::collections::BTreeSet<&str> = mutations.iter().map(|m| m.4).collect();
    let uncovered: Vec<&&str> = platform_validate::RULES
        .iter()
        .filter(|rule| !covered.contains(**rule) && !rule.ends_with("unreadable"))
        .collect();
    assert!(
        uncovered.is_empty(),
        "rules no mutation breaks: {uncovered:?}"
    );
    assert!(covered.iter().any(|r| r.starts_with("schema:")));
    assert!(covered.iter().any(|r| r.starts_with("values-schema:")));
    assert!(covered.iter().any(|r| r.starts_with("kyverno:")));
    let mut missed = Vec::new();
    for (what, mutate, file, pointer, rule) in mutations {
        // Only the mutated file's environment: each is checked on its own, and the hydrated
        // ones are large.
        let mut files = environment_of(&pristine, file);
        mutate(&mut files);
        let findings = check(&files, &mut schemas);
        let caught = findings
            .iter()
            .any(|f| f.file == file && f.pointer == pointer && f.rule == rule);
        if !caught {
            missed.push(format!(
                "{what}: expected {file} {pointer} [{rule}], got:\n  {}",
                findings
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("\n  ")
            ));
        }
    }
    assert!(missed.is_empty(), "{}", missed.join("\n\n"));
}

#[test]
fn findings_serialize_for_machines() {
    let mut files = rendered_tree();
    edit(
        &mut files,
        DEPLOYMENT,
        set("/spec/replicas", json!("three")),
    );
    let source = SchemaFolder(schemas_dir());
    let mut schemas = Schemas::new(&source);
    let report = validate(&files, Some(&mut schemas), &platform::conventions());
    let json: Value = serde_json::from_str(&report.to_json()).unwrap();
    assert_eq!(json["findings"][0]["file"], DEPLOYMENT);
    assert_eq!(json["findings"][0]["pointer"], "/spec/replicas");
    assert_eq!(json["findings"][0]["value"], "\"three\"");
}

/// A schema folder whose files at `broken` exist but cannot be read or compiled.
struct Broken<'a> {
    inner: SchemaFolder,
    broken: &'a [&'a str],
}

impl platform_validate::SchemaSource for Broken<'_> {
    fn read(&self, relative: &str) -> Result<Option<String>, String> {
        if self.broken.contains(&relative) {
            return Err(format!("reading {relative}: Permission denied"));
        }
        self.inner.read(relative)
    }
}

#[test]
fn an_unreadable_schema_file_is_a_finding_for_each_object_it_concerns() {
    let source = Broken {
        inner: SchemaFolder(schemas_dir()),
        broken: &[
            "kubernetes/v1.37.0-standalone-strict/deployment-apps-v1.json",
            "charts/vault/values.yaml",
        ],
    };
    let report = validate(
        &rendered_tree(),
        Some(&mut Schemas::new(&source)),
        &platform::conventions(),
    );
    let found = |file: &str, rule: &str| {
        report
            .findings
            .iter()
            .any(|f| f.file == file && f.rule == rule && f.message.contains("Permission denied"))
    };
    assert!(
        found(DEPLOYMENT, "schema:unreadable"),
        "{:?}",
        report.findings
    );
    assert!(found(VAULT, "values:unreadable"), "{:?}", report.findings);
}

#[test]
fn the_objects_render_checks_are_exactly_what_its_files_say() {
    for loaded in platform_tests::load_all() {
        let rendered = platform_tests::render(&loaded);
        assert!(rendered.objects.len() > 20, "{}", loaded.name);
        for (path, object) in &rendered.objects {
            let written: serde_json::Value = serde_yaml::from_str(&rendered.files[path]).unwrap();
            assert_eq!(
                &platform_validate::needed_by_invariants(written),
                &**object,
                "{}: {path}",
                loaded.name
            );
        }
        let objects_in_files = rendered
            .files
            .keys()
            .filter(|p| p.starts_with("apps/") || p.starts_with("manifests/"))
            .count()
            + 1;
        assert_eq!(rendered.objects.len(), objects_in_files, "{}", loaded.name);
    }
}

#[test]
fn the_invariants_find_the_same_on_objects_reduced_to_what_they_read() {
    let pristine = rendered_tree();
    let conventions = platform::conventions();
    let mut compared = 0;
    for (what, mutate, file, ..) in mutations() {
        let mut files = environment_of(&pristine, file);
        mutate(&mut files);
        let mut whole = platform_validate::validate(&files, None, &conventions).findings;
        let (tree, mut reduced) = platform_validate::parse_tree(&files);
        let objects = tree
            .objects
            .into_iter()
            .map(|o| {
                let read = platform_validate::needed_by_invariants(Arc::unwrap_or_clone(o.object));
                (o.file, Arc::new(read))
            })
            .collect();
        let slim = platform_validate::RenderedTree::from_objects(tree.files, objects);
        reduced.extend(platform_validate::check_built(&slim, &conventions).findings);
        whole.sort();
        reduced.sort();
        assert_eq!(whole, reduced, "{what}");
        compared += 1;
    }
    assert!(compared > 30);
}
