//! Tenant isolation, read off the rendered tree of a two-team environment: what each team's
//! project may deploy, what its namespaces are given, and which Vault paths any namespace
//! can obtain by any store, service account, Vault role and policy the tree renders.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::process::Command;

use platform::RenderedEnvironment;
use platform_tests::{load_all, objects, render, two_teams};
use serde_json::Value;

const ESO_ACCOUNT: (&str, &str) = ("external-secrets", "external-secrets");

fn project<'a>(objects: &'a BTreeMap<String, Value>, name: &str) -> &'a Value {
    &objects[&format!("apps/projects/{name}.yaml")]
}

fn strings(value: &Value) -> Vec<&str> {
    value
        .as_array()
        .map(|items| items.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

#[test]
fn team_projects_deploy_only_into_their_namespaces_and_nothing_cluster_wide_or_networked() {
    let loaded = two_teams();
    let objects = objects(&render(&loaded));
    for (app, team, foreign) in [
        ("finops-app", "finops", "billing-api"),
        ("billing-api", "billing", "finops-app"),
    ] {
        let application = &objects[&format!("apps/{app}.yaml")];
        assert_eq!(application["spec"]["project"], format!("team-{team}"));
        assert!(
            !strings(&application["spec"]["syncPolicy"]["syncOptions"])
                .contains(&"CreateNamespace=true"),
            "{app}: the platform creates the namespace, not the team's sync"
        );
        let project = project(&objects, &format!("team-{team}"));
        let destinations: Vec<&str> = project["spec"]["destinations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["namespace"].as_str().unwrap())
            .collect();
        assert_eq!(
            destinations,
            [app],
            "team {team} deploys only into its namespace"
        );
        assert!(!destinations.contains(&foreign));
        assert_eq!(
            project["spec"]["clusterResourceWhitelist"],
            serde_json::json!([]),
            "team {team} may create no cluster-scoped object, its Namespace included"
        );
        let kinds: Vec<&str> = project["spec"]["namespaceResourceWhitelist"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kind"].as_str().unwrap())
            .collect();
        for platform_only in [
            "NetworkPolicy",
            "ResourceQuota",
            "LimitRange",
            "Role",
            "RoleBinding",
            "Secret",
            "SecretStore",
        ] {
            assert!(
                !kinds.contains(&platform_only),
                "team {team} may deploy {platform_only}: {kinds:?}"
            );
        }
        // And what the app's own Application holds fits inside that.
        for (path, object) in objects
            .iter()
            .filter(|(path, _)| path.starts_with(&format!("manifests/{app}/")))
        {
            assert_eq!(object["metadata"]["namespace"], app, "{path}");
            assert!(
                kinds.contains(&object["kind"].as_str().unwrap()),
                "{path} is not a kind team {team} may deploy"
            );
        }
    }
}

#[test]
fn each_app_namespace_is_the_platforms_with_labels_quota_and_container_defaults() {
    let loaded = two_teams();
    let env = &loaded.env;
    let objects = objects(&render(&loaded));
    for app in &env.apps {
        let team = env.team(&app.team).unwrap();
        let folder = format!("manifests/tenant-{}", team.name);
        let tenant = &objects[&format!("apps/tenant-{}.yaml", team.name)];
        assert_eq!(tenant["spec"]["project"], "platform");
        let namespace = &objects[&format!("{folder}/namespace-{}.yaml", app.namespace())];
        let labels = &namespace["metadata"]["labels"];
        assert_eq!(labels["team"], team.name.as_str());
        assert_eq!(labels["cost-center"], team.cost_center.as_str());
        assert_eq!(labels["finops-platform.io/tenant"], "true");
        assert_eq!(labels["pod-security.kubernetes.io/enforce"], "restricted");

        let in_namespace = |kind: &str| -> Vec<&Value> {
            objects
                .iter()
                .filter(|(path, o)| {
                    path.starts_with(&format!("{folder}/{}/", app.namespace())) && o["kind"] == kind
                })
                .map(|(_, o)| o)
                .collect()
        };
        let quota = in_namespace("ResourceQuota");
        assert_eq!(quota.len(), 1, "{}", app.name);
        let hard = &quota[0]["spec"]["hard"];
        let declared = &env.workloads.namespace_quota;
        assert_eq!(hard["requests.cpu"], declared.requests.cpu.as_str());
        assert_eq!(hard["limits.memory"], declared.limits.memory.as_str());
        assert_eq!(hard["pods"], declared.pods.to_string());
        let limits = in_namespace("LimitRange");
        assert_eq!(limits.len(), 1);
        assert_eq!(
            limits[0]["spec"]["limits"][0]["defaultRequest"]["cpu"],
            env.workloads.container_defaults.requests.cpu.as_str()
        );
        // Every NetworkPolicy of the namespace ships here, none with the team's app.
        let policies: Vec<&String> = objects
            .iter()
            .filter(|(_, o)| {
                o["kind"] == "NetworkPolicy"
                    && o["metadata"]["namespace"] == app.namespace().as_str()
            })
            .map(|(path, _)| path)
            .collect();
        assert!(policies.len() >= 2, "{}: {policies:?}", app.name);
        assert!(
            policies
                .iter()
                .all(|p| p.starts_with(&format!("{folder}/"))),
            "{policies:?}"
        );
    }
}

#[test]
fn a_call_across_teams_is_allowed_only_with_the_callees_consent() {
    let mut loaded = two_teams();
    assert!(platform_core::model::check(&loaded.env).is_empty());
    loaded.env.apps[0].allow_from.clear();
    let errors = platform_core::model::check(&loaded.env);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].path, "apps[1].calls[0].app");
    assert!(
        errors[0].message.contains("allow_from: [billing-api]"),
        "{}",
        errors[0]
    );
}

#[test]
fn eso_may_request_tokens_only_for_the_accounts_stores_name_and_apps_bind_no_role() {
    let loaded = two_teams();
    let objects = objects(&render(&loaded));
    let values =
        &objects["apps/external-secrets.yaml"]["spec"]["sources"][0]["helm"]["valuesObject"];
    assert_eq!(
        values["rbac"]["serviceAccountTokenCreate"], false,
        "no cluster-wide serviceaccounts/token: {values}"
    );
    for app in &loaded.env.apps {
        assert!(
            !objects.iter().any(
                |(path, o)| path.starts_with(&format!("manifests/{}/", app.name))
                    && o["kind"].as_str().unwrap().contains("Binding")
            ),
            "{} binds a role",
            app.name
        );
    }
    let grants = token_grants(&objects);
    let expected: BTreeSet<(String, String)> = [
        ("external-secrets", "external-secrets"),
        ("finops-app", "vault-secrets"),
        ("billing-api", "vault-secrets"),
    ]
    .into_iter()
    .map(|(ns, sa)| (ns.to_owned(), sa.to_owned()))
    .collect();
    assert_eq!(grants, expected);
}

/// The (namespace, service account) pairs ESO's controller may request tokens for: a Role
/// with `create` on `serviceaccounts/token` limited by name, bound to ESO's account.
fn token_grants(objects: &BTreeMap<String, Value>) -> BTreeSet<(String, String)> {
    let mut grants = BTreeSet::new();
    for (path, binding) in objects.iter().filter(|(_, o)| o["kind"] == "RoleBinding") {
        // The chart's own binding, in a hydrated environment: its leader election, with no
        // token in it (checked below).
        if path.starts_with("manifests/external-secrets/") {
            for rule in objects
                .values()
                .filter(|o| o["kind"] == "Role" || o["kind"] == "ClusterRole")
                .flat_map(|role| role["rules"].as_array().into_iter().flatten())
            {
                if strings(&rule["resources"]).contains(&"serviceaccounts/token") {
                    assert!(
                        !strings(&rule["resourceNames"]).is_empty(),
                        "a token grant that names no account: {rule}"
                    );
                }
            }
            continue;
        }
        let namespace = binding["metadata"]["namespace"].as_str().unwrap();
        let to_eso = binding["subjects"].as_array().unwrap().iter().any(|s| {
            s["kind"] == "ServiceAccount"
                && s["name"] == ESO_ACCOUNT.1
                && s["namespace"] == ESO_ACCOUNT.0
        });
        if !to_eso {
            continue;
        }
        let role = objects
            .values()
            .find(|o| {
                o["kind"] == "Role"
                    && o["metadata"]["namespace"] == namespace
                    && o["metadata"]["name"] == binding["roleRef"]["name"]
            })
            .expect("a binding to a rendered Role");
        for rule in role["rules"].as_array().unwrap() {
            assert_eq!(strings(&rule["resources"]), ["serviceaccounts/token"]);
            assert_eq!(strings(&rule["verbs"]), ["create"]);
            let names = strings(&rule["resourceNames"]);
            assert!(!names.is_empty(), "a grant names its accounts");
            for name in names {
                grants.insert((namespace.to_owned(), name.to_owned()));
            }
        }
    }
    grants
}

/// A kubernetes-auth role: the service account names and namespaces it admits, and the
/// policies its tokens carry.
type Role = (Vec<String>, Vec<String>, Vec<String>);

/// Vault as the rendered setup script configures it: roles and the policies they attach.
struct Vault {
    roles: BTreeMap<String, Role>,
    /// Policy → its `path` rules, each (path, capabilities).
    policies: BTreeMap<String, Vec<(String, Vec<String>)>>,
}

impl Vault {
    /// Runs the rendered `setup.sh --dry-run` and reads the policy files it writes.
    fn from_rendered(rendered: &RenderedEnvironment) -> Self {
        // Tests run in parallel threads of one process: each call gets a folder of its own.
        static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "tenancy-vault-{}-{}-{}",
            rendered.name,
            std::process::id(),
            CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        fs::create_dir_all(&dir).unwrap();
        for (path, text) in rendered.files.iter() {
            if let Some(name) = path.strip_prefix("bootstrap/vault/") {
                fs::write(dir.join(name), &**text).unwrap();
            }
        }
        let output = Command::new("bash")
            .arg(dir.join("setup.sh"))
            .arg("--dry-run")
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        let mut vault = Self {
            roles: BTreeMap::new(),
            policies: BTreeMap::new(),
        };
        for line in String::from_utf8(output.stdout).unwrap().lines() {
            let words: Vec<&str> = line.split(' ').collect();
            match words.as_slice() {
                ["vault", "policy", "write", name, file] => {
                    let text = fs::read_to_string(file).unwrap();
                    vault
                        .policies
                        .insert((*name).to_owned(), parse_policy(&text));
                }
                ["vault", "write", role, settings @ ..] if role.contains("/role/") => {
                    let setting = |key: &str| -> Vec<String> {
                        settings
                            .iter()
                            .find_map(|s| s.strip_prefix(&format!("{key}=")))
                            .unwrap_or_default()
                            .split(',')
                            .map(str::to_owned)
                            .collect()
                    };
                    vault.roles.insert(
                        role.rsplit('/').next().unwrap().to_owned(),
                        (
                            setting("bound_service_account_names"),
                            setting("bound_service_account_namespaces"),
                            setting("policies"),
                        ),
                    );
                }
                _ => {}
            }
        }
        let _ = fs::remove_dir_all(&dir);
        vault
    }

    /// The policies of a token for service account `name` in `namespace` logging in as `role`.
    fn login(&self, role: &str, name: &str, namespace: &str) -> Option<&[String]> {
        let (names, namespaces, policies) = self.roles.get(role)?;
        (names.iter().any(|n| n == name) && namespaces.iter().any(|n| n == namespace))
            .then_some(policies.as_slice())
    }

    /// Whether a token with `policies` may read `path`: in each policy the most specific rule
    /// applies (an exact path over a glob, then the longest glob), and a `deny` anywhere wins.
    fn may_read(&self, policies: &[String], path: &str) -> bool {
        let mut read = false;
        for rules in policies.iter().filter_map(|p| self.policies.get(p)) {
            let exact = rules.iter().find(|(rule, _)| rule == path);
            let glob = rules
                .iter()
                .filter(|(rule, _)| {
                    rule.strip_suffix('*')
                        .is_some_and(|prefix| path.starts_with(prefix))
                })
                .max_by_key(|(rule, _)| rule.len());
            if let Some((_, capabilities)) = exact.or(glob) {
                if capabilities.iter().any(|c| c == "deny") {
                    return false;
                }
                read |= capabilities.iter().any(|c| c == "read");
            }
        }
        read
    }
}

/// `path "<path>" {` / `capabilities = [...]` / `}`, as the rendered policies write them.
fn parse_policy(text: &str) -> Vec<(String, Vec<String>)> {
    let mut rules = Vec::new();
    let mut current = None;
    for line in text.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("path \"") {
            let path = rest.strip_suffix("\" {").expect("path \"…\" {");
            assert!(!path.contains('+'), "the evaluator knows no `+`: {path}");
            current = Some(path.to_owned());
        } else if let Some(list) = line.strip_prefix("capabilities = [") {
            let capabilities = list
                .trim_end_matches(']')
                .split(',')
                .map(|c| c.trim().trim_matches('"').to_owned())
                .collect();
            rules.push((
                current.take().expect("capabilities inside a path"),
                capabilities,
            ));
        }
    }
    rules
}

/// Every route by which an ExternalSecret in `namespace` could read `key`: a store that
/// admits the namespace, whose service account's token ESO may request, that Vault's role
/// accepts, and whose policies read the key.
fn obtainable(
    objects: &BTreeMap<String, Value>,
    vault: &Vault,
    namespace: &str,
    key: &str,
) -> Vec<String> {
    let grants = token_grants(objects);
    let mut routes = Vec::new();
    for store in objects
        .values()
        .filter(|o| o["kind"] == "ClusterSecretStore")
    {
        let conditions = store["spec"]["conditions"].as_array();
        let admitted = conditions.is_none_or(|conditions| {
            conditions.iter().any(|condition| {
                assert!(
                    condition.get("namespaceSelector").is_none()
                        && condition.get("namespaceRegexes").is_none(),
                    "the evaluator reads only `namespaces`"
                );
                strings(&condition["namespaces"]).contains(&namespace)
            })
        });
        if !admitted {
            continue;
        }
        let provider = &store["spec"]["provider"]["vault"];
        let auth = &provider["auth"]["kubernetes"];
        let account = auth["serviceAccountRef"]["name"].as_str().unwrap();
        // Without a namespace, ESO presents the ExternalSecret's namespace's account.
        let account_namespace = auth["serviceAccountRef"]["namespace"]
            .as_str()
            .unwrap_or(namespace);
        if !grants.contains(&(account_namespace.to_owned(), account.to_owned())) {
            continue;
        }
        let Some(policies) =
            vault.login(auth["role"].as_str().unwrap(), account, account_namespace)
        else {
            continue;
        };
        let path = format!("{}/data/{key}", provider["path"].as_str().unwrap());
        if vault.may_read(policies, &path) {
            routes.push(store["metadata"]["name"].as_str().unwrap().to_owned());
        }
    }
    routes
}

#[test]
fn neither_team_can_obtain_the_others_secrets_by_any_rendered_route() {
    let loaded = two_teams();
    let env = &loaded.env;
    let rendered = render(&loaded);
    let objects = objects(&rendered);
    let vault = Vault::from_rendered(&rendered);
    let keys_of = |team: &str| -> Vec<&str> {
        env.apps
            .iter()
            .filter(|app| app.team.as_str() == team)
            .flat_map(|app| &app.secrets)
            .map(|secret| secret.kv_key(&env.secrets.kv_mount).unwrap())
            .collect()
    };
    let teams = [("finops", "billing"), ("billing", "finops")];
    for (team, other) in teams {
        assert!(!keys_of(team).is_empty() && !keys_of(other).is_empty());
        // Every namespace the team may deploy into, by its project.
        let destinations: Vec<String> =
            project(&objects, &format!("team-{team}"))["spec"]["destinations"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d["namespace"].as_str().unwrap().to_owned())
                .collect();
        for namespace in &destinations {
            for key in keys_of(team) {
                assert_eq!(
                    obtainable(&objects, &vault, namespace, key),
                    [format!("team-{team}")],
                    "{namespace} reads its own {key} through its team's store only"
                );
            }
            for key in keys_of(other) {
                assert_eq!(
                    obtainable(&objects, &vault, namespace, key),
                    Vec::<String>::new(),
                    "team {team}'s namespace {namespace} obtains team {other}'s {key}"
                );
            }
        }
    }
    // The platform's store serves the platform's namespaces, and no team's path; a namespace
    // nobody declared gets nothing.
    for key in keys_of("finops").into_iter().chain(keys_of("billing")) {
        for namespace in ["external-secrets", "vault", "monitoring", "rogue"] {
            assert!(obtainable(&objects, &vault, namespace, key).is_empty());
        }
    }
    assert_eq!(
        obtainable(&objects, &vault, "monitoring", "platform/grafana"),
        ["vault-backend"]
    );
    assert!(obtainable(&objects, &vault, "finops-app", "platform/grafana").is_empty());
    assert!(obtainable(&objects, &vault, "rogue", "platform/grafana").is_empty());
}

#[test]
fn every_rendered_external_secret_reads_its_path_through_its_own_store() {
    let mut checked = 0;
    for loaded in load_all().into_iter().chain([two_teams()]) {
        let rendered = render(&loaded);
        let objects = objects(&rendered);
        let vault = Vault::from_rendered(&rendered);
        for (path, external) in objects
            .iter()
            .filter(|(_, o)| o["kind"] == "ExternalSecret")
        {
            let namespace = external["metadata"]["namespace"].as_str().unwrap();
            let store = external["spec"]["secretStoreRef"]["name"].as_str().unwrap();
            for data in external["spec"]["data"].as_array().unwrap() {
                let key = data["remoteRef"]["key"].as_str().unwrap();
                assert_eq!(
                    obtainable(&objects, &vault, namespace, key),
                    [store],
                    "{}: {path}",
                    loaded.name
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 4, "only {checked} keys were checked");
}

/// The two-team tree as `validate` reads it, with one file changed by `edit`.
fn validate_edited(path: &str, edit: impl FnOnce(&mut Value)) -> Vec<(String, String)> {
    let rendered = render(&two_teams());
    let mut files: BTreeMap<String, String> = rendered
        .files
        .iter()
        .map(|(p, text)| (format!("dev/{p}"), text.to_string()))
        .collect();
    let mut object: Value = serde_yaml::from_str(&files[path]).unwrap();
    edit(&mut object);
    files.insert(path.to_owned(), serde_yaml::to_string(&object).unwrap());
    platform_validate::validate(&files, None, &platform::conventions())
        .findings
        .into_iter()
        .map(|f| (f.file, f.rule))
        .collect()
}

#[test]
fn validate_refuses_a_team_project_that_could_widen_its_own_network_or_reach_the_cluster() {
    let path = "dev/apps/projects/team-billing.yaml";
    assert!(validate_edited(path, |_| {}).is_empty());
    let findings = validate_edited(path, |project| {
        project["spec"]["namespaceResourceWhitelist"]
            .as_array_mut()
            .unwrap()
            .push(serde_json::json!({"group": "networking.k8s.io", "kind": "NetworkPolicy"}));
        project["spec"]["clusterResourceWhitelist"] =
            serde_json::json!([{"group": "", "kind": "Namespace"}]);
    });
    assert_eq!(
        findings,
        [
            (path.to_owned(), "project-scope".to_owned()),
            (path.to_owned(), "project-scope".to_owned())
        ]
    );
}

#[test]
fn validate_refuses_an_external_secret_naming_a_store_that_does_not_admit_its_namespace() {
    let path = "dev/manifests/billing-api/externalsecret-billing-db.yaml";
    let findings = validate_edited(path, |secret| {
        secret["spec"]["secretStoreRef"]["name"] = "team-finops".into();
    });
    assert_eq!(
        findings,
        [(path.to_owned(), "secret-store-scope".to_owned())]
    );
}
