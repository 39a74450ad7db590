//! Checks that span more than one field, run after parsing. Each error names the field path
//! (`apps[0].secrets[1].vault_path`), what is wrong and what would be valid.

use std::cmp::Ordering;
use std::collections::BTreeSet;
use std::fmt;

use platform_syntax::{Ipv4Range, check_repo_url};

use super::{ClusterProvider, Environment, ServiceType, VaultMode};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelError {
    /// Dotted path of the offending field, with list indexes, e.g. `apps[0].team`.
    pub path: String,
    pub message: String,
}

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Every problem of the environment, not just the first.
pub fn check(env: &Environment) -> Vec<ModelError> {
    let mut errors = Vec::new();
    let mut error = |path: String, message: String| errors.push(ModelError { path, message });

    if let Err(message) = check_repo_url(&env.git.repo_url) {
        error("git.repo_url".into(), message);
    }
    if env.git.target_revision.trim().is_empty() {
        error(
            "git.target_revision".into(),
            "empty; expected a branch, tag or commit, e.g. main".into(),
        );
    }
    if !env.cluster.server.starts_with("https://") {
        error(
            "cluster.server".into(),
            format!(
                "`{}` is not an https URL; expected the API server URL, e.g. https://kubernetes.default.svc",
                env.cluster.server
            ),
        );
    }

    for (field, cidrs) in [
        ("api_server_cidrs", &env.network.api_server_cidrs),
        ("pod_cidrs", &env.network.pod_cidrs),
    ] {
        for (i, cidr) in cidrs.iter().enumerate() {
            if let Err(message) = check_cidr(cidr) {
                error(format!("network.{field}[{i}]"), message);
            }
        }
    }
    if env.metallb.enabled && env.metallb.addresses.is_empty() {
        error("metallb.addresses".into(), "MetalLB is enabled but has no address range; expected at least one range inside the kind network, e.g. 172.18.255.200-172.18.255.250".into());
    }
    if env.vault.enabled {
        if env.vault.mode == VaultMode::Dev && env.cluster.provider != ClusterProvider::Kind {
            error("vault.mode".into(), "dev mode keeps secrets in memory behind a root token and is only allowed on a local kind cluster; expected `ha`".into());
        }
        if env.vault.mode == VaultMode::Ha && env.vault.replicas == 0 {
            error(
                "vault.replicas".into(),
                "HA mode needs at least one server; expected 3 or 5 for a Raft quorum".into(),
            );
        }
        if env.vault.service_type == ServiceType::LoadBalancer
            && env.cluster.provider == ClusterProvider::Kind
            && !env.metallb.enabled
        {
            error("vault.service_type".into(), "a LoadBalancer Service on kind never gets an address without MetalLB; expected `ClusterIP`, or set metallb.enabled: true".into());
        }
    }

    let mut teams = BTreeSet::new();
    for (i, team) in env.teams.iter().enumerate() {
        if !teams.insert(&team.name) {
            error(
                format!("teams[{i}].name"),
                format!(
                    "team `{}` is declared twice; expected unique team names",
                    team.name
                ),
            );
        }
    }

    let mut apps = BTreeSet::new();
    let declared_teams = || {
        env.teams
            .iter()
            .map(|t| t.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    for (i, app) in env.apps.iter().enumerate() {
        let at = |field: &str| format!("apps[{i}].{field}");
        if !apps.insert(&app.name) {
            error(
                at("name"),
                format!(
                    "app `{}` is declared twice; expected unique app names",
                    app.name
                ),
            );
        }
        if env.team(&app.team).is_none() {
            error(
                at("team"),
                format!(
                    "team `{}` is not declared; expected one of the names under `teams` ({})",
                    app.team,
                    declared_teams()
                ),
            );
        }
        let namespace = app.namespace().as_str();
        // The field that chose the namespace: explicit, or the app's name by default.
        let namespace_field = at(if app.namespace.is_some() {
            "namespace"
        } else {
            "name"
        });
        let reserved = crate::names::namespace::PLATFORM
            .iter()
            .chain(crate::names::namespace::SYSTEM.iter())
            .any(|n| *n == namespace);
        if reserved {
            error(
                namespace_field.clone(),
                format!(
                    "`{namespace}` is a namespace of the platform or of Kubernetes; expected a namespace of the app's own, e.g. `{}`",
                    if app.namespace.is_some() {
                        app.name.to_string()
                    } else {
                        format!("{}-{}", app.team, app.name)
                    }
                ),
            );
        }
        if let Some(other) = env.apps[..i]
            .iter()
            .find(|o| o.namespace().as_str() == namespace && o.name != app.name)
        {
            error(
                namespace_field.clone(),
                format!(
                    "namespace `{namespace}` already belongs to app `{}`; each app runs in a namespace of its own",
                    other.name
                ),
            );
        }
        if app.port == 0 {
            error(at("port"), "0 is not a port; expected 1 to 65535".into());
        }
        for resource in ["cpu", "memory"] {
            let (request, limit) = match resource {
                "cpu" => (&app.resources.requests.cpu, &app.resources.limits.cpu),
                _ => (&app.resources.requests.memory, &app.resources.limits.memory),
            };
            if limit.cmp_value(request) == Ordering::Less {
                error(
                    at(&format!("resources.limits.{resource}")),
                    format!(
                        "limit {limit} is below the request {request}; expected a limit of at least {request}"
                    ),
                );
            }
        }
        let mut secret_names = BTreeSet::new();
        for (j, call) in app.calls.iter().enumerate() {
            let at = |field: &str| format!("apps[{i}].calls[{j}].{field}");
            match env.apps.iter().find(|other| other.name == call.app) {
                None => error(
                    at("app"),
                    format!(
                        "`{}` is not an app of this environment; apps may only call other apps (platform components such as vault are reachable only by the platform), expected one of: {}",
                        call.app,
                        env.apps
                            .iter()
                            .map(|a| a.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ),
                Some(other) if other.name == app.name => {
                    error(
                        at("app"),
                        "an app reaches its own pods without declaring it".into(),
                    );
                }
                Some(other) if other.port != call.port => error(
                    at("port"),
                    format!(
                        "`{}` listens on {}, not {}",
                        other.name, other.port, call.port
                    ),
                ),
                Some(_) => {}
            }
        }
        for (j, egress) in app.egress.iter().enumerate() {
            if let Err(message) = check_cidr(&egress.cidr) {
                error(format!("apps[{i}].egress[{j}].cidr"), message);
            }
            if egress.ports.is_empty() || egress.ports.contains(&0) {
                error(
                    format!("apps[{i}].egress[{j}].ports"),
                    "expected one or more ports from 1 to 65535".into(),
                );
            }
        }
        for (j, secret) in app.secrets.iter().enumerate() {
            let at = |field: &str| format!("apps[{i}].secrets[{j}].{field}");
            if !secret_names.insert(&secret.name) {
                error(
                    at("name"),
                    format!(
                        "secret `{}` is declared twice in app `{}`",
                        secret.name, app.name
                    ),
                );
            }
            if secret.kv_key(&env.secrets.kv_mount).is_none() {
                error(
                    at("vault_path"),
                    format!(
                        "`{}` is outside the KV mount `{}` the ClusterSecretStore reads; expected `{}/<path>`",
                        secret.vault_path, env.secrets.kv_mount, env.secrets.kv_mount
                    ),
                );
            }
            if secret.keys.is_empty() {
                error(at("keys"), "no keys; expected the keys to read from the Vault secret, e.g. [username, password]".into());
            }
            let mut keys = BTreeSet::new();
            for (k, key) in secret.keys.iter().enumerate() {
                if !is_env_var_name(key) {
                    error(
                        format!("apps[{i}].secrets[{j}].keys[{k}]"),
                        format!(
                            "`{key}` cannot be an environment variable name; expected letters, digits and '_', not starting with a digit"
                        ),
                    );
                }
                if !keys.insert(key) {
                    error(
                        format!("apps[{i}].secrets[{j}].keys[{k}]"),
                        format!("key `{key}` is listed twice"),
                    );
                }
            }
        }
    }
    errors
}

/// An IPv4 range in CIDR notation.
fn check_cidr(cidr: &str) -> Result<(), String> {
    cidr.parse::<Ipv4Range>()
        .map(drop)
        .map_err(|e| e.to_string())
}

fn is_env_var_name(key: &str) -> bool {
    let mut chars = key.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}
