//! Vault's one-time setup for External Secrets, from the same settings as the
//! ClusterSecretStore: a policy, an idempotent setup script, and, where Vault runs in dev
//! mode, an Argo CD PostSync hook that runs the script so the environment needs no manual
//! Vault command.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::batch::v1::{Job, JobSpec};
use k8s_openapi::api::core::v1::{
    ConfigMap, ConfigMapVolumeSource, Container, EmptyDirVolumeSource, EnvVar, KeyToPath, PodSpec,
    PodTemplateSpec, SecretVolumeSource, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use minijinja::value::{Serde, Value};
use minijinja::{Environment as Templates, context};
use platform_core::application::metadata;
use platform_core::manifest::Manifest;
use platform_core::model::Environment;
use platform_core::names;
use platform_core::scanner::{self, Waiver};
use platform_core::{hardening, labels};
use serde::Serialize;

/// Files under `rendered/<env>/bootstrap/vault/`.
pub const SCRIPT: &str = "setup.sh";

/// The Secret, in Vault's namespace, that holds the token the hook uses. Created by hand,
/// never rendered: `kubectl -n vault create secret generic vault-bootstrap-token --from-literal=token=…`.
pub const TOKEN_SECRET: &str = "vault-bootstrap-token";
pub const TOKEN_KEY: &str = "token";

/// How long a token issued to ESO by the role lives.
const TOKEN_TTL: &str = "1h";
/// The Vault image of the pinned chart (its `server.image.tag`), which has the CLI.
const VAULT_IMAGE: &str = "hashicorp/vault:2.0.4";
/// A user of no image's: the CLI needs no account, only a writable HOME (`/tmp`), and an ID
/// above 10000 clashes with no host account.
const HOOK_UID: i64 = 10_001;
/// Where the token Secret is mounted.
const TOKEN_MOUNT: &str = "/var/run/secrets/vault-bootstrap";
const HOOK_NAME: &str = "vault-bootstrap";

fn templates() -> Templates<'static> {
    let mut templates = Templates::new();
    templates.set_syntax(
        minijinja::syntax::SyntaxConfig::builder()
            .keep_trailing_newline(true)
            .build()
            .expect("a valid syntax"),
    );
    templates
        .add_template("setup.sh", include_str!("../templates/setup.sh.j2"))
        .expect("the setup template parses");
    templates
        .add_template("policy.hcl", include_str!("../templates/eso-policy.hcl.j2"))
        .expect("the policy template parses");
    templates
        .add_template(
            "team-policy.hcl",
            include_str!("../templates/team-policy.hcl.j2"),
        )
        .expect("the team policy template parses");
    templates
}

/// A team's share of Vault: its policy and role (both `team-<team>`), the namespaces the role
/// admits and the data paths the policy reads.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TeamAccess {
    pub name: String,
    pub team: String,
    pub namespaces: Vec<String>,
    pub paths: Vec<String>,
}

/// Every team whose apps read secrets, in the order teams are declared.
pub fn team_access(env: &Environment) -> Vec<TeamAccess> {
    // One pass over the apps, each team's share gathered as it comes.
    let mut by_team: std::collections::BTreeMap<&str, (Vec<String>, BTreeSet<String>)> =
        std::collections::BTreeMap::new();
    let mount = &env.secrets.kv_mount;
    for app in env.apps.iter().filter(|app| !app.secrets.is_empty()) {
        let (namespaces, paths) = by_team.entry(app.team.as_str()).or_default();
        namespaces.push(app.namespace().to_string());
        paths.extend(
            app.secrets
                .iter()
                .filter_map(|secret| secret.kv_key(mount))
                .map(|key| format!("{mount}/data/{key}")),
        );
    }
    env.teams
        .iter()
        .filter_map(|team| {
            let (namespaces, paths) = by_team.remove(team.name.as_str())?;
            Some(TeamAccess {
                name: names::team_scoped(team.name.as_str()),
                team: team.name.to_string(),
                namespaces,
                paths: paths.into_iter().collect(),
            })
        })
        .filter(|access| !access.paths.is_empty())
        .collect()
}

fn render(
    template: &str,
    env: &Environment,
    teams: &[TeamAccess],
    team: Option<&TeamAccess>,
) -> String {
    let secrets = &env.secrets;
    let team_paths: Vec<String> = teams.iter().flat_map(|t| t.paths.iter().cloned()).collect();
    templates()
        .get_template(template)
        .and_then(|t| {
            t.render(context! {
                kv_mount => secrets.kv_mount.as_str(),
                auth_mount => secrets.auth_mount.as_str(),
                policy => secrets.policy.as_str(),
                role => secrets.role.as_str(),
                service_account => names::ESO_SERVICE_ACCOUNT,
                namespace => names::namespace::EXTERNAL_SECRETS,
                team_service_account => names::TEAM_VAULT_SERVICE_ACCOUNT,
                team_prefix => names::TEAM_PREFIX,
                teams => Value::from(Serde(teams)),
                team_paths => team_paths,
                team => Value::from(Serde(team)),
                token_ttl => TOKEN_TTL,
                vault_port => names::VAULT.port,
            })
        })
        .unwrap_or_else(|error| panic!("{template} does not render: {error}"))
}

/// The platform policy's file name: the policy's own.
pub fn policy_file(env: &Environment) -> String {
    format!("{}.hcl", env.secrets.policy)
}

/// `bootstrap/vault/<file>` and contents: the platform's policy, each team's, and the script
/// that writes them.
pub fn files(env: &Environment) -> Vec<(String, String)> {
    let teams = team_access(env);
    let mut files = vec![(policy_file(env), render("policy.hcl", env, &teams, None))];
    for team in &teams {
        files.push((
            format!("{}.hcl", team.name),
            render("team-policy.hcl", env, &teams, Some(team)),
        ));
    }
    files.push((SCRIPT.to_owned(), render("setup.sh", env, &teams, None)));
    files
}

/// The ConfigMap with the script and policy, and the PostSync Job that runs them.
pub fn hook(env: &Environment) -> Vec<Manifest> {
    let namespace = names::namespace::VAULT;
    let files = files(env);
    let mut pod_labels = env.platform_cost_labels();
    // Part of the vault release: Vault's NetworkPolicies let its own pods reach it, and no one
    // else but ESO.
    pod_labels.insert(labels::INSTANCE.to_owned(), names::app::VAULT.to_owned());
    pod_labels.insert(labels::NAME.to_owned(), HOOK_NAME.to_owned());

    let config = ConfigMap {
        metadata: ObjectMeta {
            labels: Some(pod_labels.clone()),
            ..metadata(HOOK_NAME, Some(namespace))
        },
        data: Some(files.iter().cloned().collect()),
        ..ConfigMap::default()
    };

    let env_var = |name: &str, value: String| EnvVar {
        name: name.to_owned(),
        value: Some(value),
        ..EnvVar::default()
    };
    let container = Container {
        name: HOOK_NAME.to_owned(),
        image: Some(VAULT_IMAGE.to_owned()),
        // A tag, so the registry is asked whether it still names the same image.
        image_pull_policy: Some("Always".to_owned()),
        command: Some(vec!["sh".to_owned(), format!("/scripts/{SCRIPT}")]),
        env: Some(vec![
            env_var("VAULT_ADDR", names::VAULT.url("http")),
            env_var("HOME", "/tmp".to_owned()),
            // A file, not an environment variable: nothing that lists the process's
            // environment (a crash dump, `/proc`) sees the token.
            env_var("VAULT_TOKEN_FILE", format!("{TOKEN_MOUNT}/{TOKEN_KEY}")),
        ]),
        resources: Some(k8s_openapi::api::core::v1::ResourceRequirements {
            requests: Some(quantities("10m", "32Mi")),
            limits: Some(quantities("200m", "128Mi")),
            ..Default::default()
        }),
        security_context: Some(hardening::container()),
        volume_mounts: Some(vec![
            VolumeMount {
                name: "scripts".to_owned(),
                mount_path: "/scripts".to_owned(),
                read_only: Some(true),
                ..VolumeMount::default()
            },
            VolumeMount {
                name: "tmp".to_owned(),
                mount_path: "/tmp".to_owned(),
                ..VolumeMount::default()
            },
            VolumeMount {
                name: "token".to_owned(),
                mount_path: TOKEN_MOUNT.to_owned(),
                read_only: Some(true),
                ..VolumeMount::default()
            },
        ]),
        ..Container::default()
    };

    let mut job_metadata = ObjectMeta {
        labels: Some(pod_labels.clone()),
        ..metadata(HOOK_NAME, Some(namespace))
    };
    job_metadata.annotations = Some(BTreeMap::from([
        ("argocd.argoproj.io/hook".to_owned(), "PostSync".to_owned()),
        (
            "argocd.argoproj.io/hook-delete-policy".to_owned(),
            "BeforeHookCreation,HookSucceeded".to_owned(),
        ),
        (
            labels::MANUAL_SECRETS_ANNOTATION.to_owned(),
            TOKEN_SECRET.to_owned(),
        ),
    ]));
    job_metadata
        .annotations
        .get_or_insert_default()
        .extend(scanner::annotations(&[Waiver {
            check: scanner::IMAGE_BY_TAG,
            reason: "the Vault image of the pinned chart, by the tag the chart deploys its own servers with",
        }]));
    let job = Job {
        metadata: job_metadata,
        spec: Some(JobSpec {
            backoff_limit: Some(6),
            ttl_seconds_after_finished: Some(600),
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(pod_labels),
                    ..ObjectMeta::default()
                }),
                spec: Some(PodSpec {
                    restart_policy: Some("Never".to_owned()),
                    automount_service_account_token: Some(false),
                    security_context: Some(hardening::pod(HOOK_UID, HOOK_UID)),
                    containers: vec![container],
                    volumes: Some(vec![
                        Volume {
                            name: "scripts".to_owned(),
                            config_map: Some(ConfigMapVolumeSource {
                                name: HOOK_NAME.to_owned(),
                                ..ConfigMapVolumeSource::default()
                            }),
                            ..Volume::default()
                        },
                        Volume {
                            name: "tmp".to_owned(),
                            empty_dir: Some(EmptyDirVolumeSource::default()),
                            ..Volume::default()
                        },
                        Volume {
                            name: "token".to_owned(),
                            secret: Some(SecretVolumeSource {
                                secret_name: Some(TOKEN_SECRET.to_owned()),
                                items: Some(vec![KeyToPath {
                                    key: TOKEN_KEY.to_owned(),
                                    path: TOKEN_KEY.to_owned(),
                                    ..KeyToPath::default()
                                }]),
                                default_mode: Some(0o440),
                                optional: Some(false),
                                ..SecretVolumeSource::default()
                            }),
                            ..Volume::default()
                        },
                    ]),
                    ..PodSpec::default()
                }),
            },
            ..JobSpec::default()
        }),
        ..Job::default()
    };
    vec![Manifest::new(config), Manifest::new(job)]
}

fn quantities(
    cpu: &str,
    memory: &str,
) -> BTreeMap<String, k8s_openapi::apimachinery::pkg::api::resource::Quantity> {
    use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
    BTreeMap::from([
        ("cpu".to_owned(), Quantity(cpu.to_owned())),
        ("memory".to_owned(), Quantity(memory.to_owned())),
    ])
}
