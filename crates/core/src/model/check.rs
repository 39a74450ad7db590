//! Checks that span more than one field, run after parsing. Each error names the field path
//! (`apps[0].secrets[1].vault_path`), what is wrong and what would be valid.

use std::cmp::Ordering;
use std::collections::BTreeSet;
use std::fmt;

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
pub fn check_cidr(cidr: &str) -> Result<(), String> {
    parse_cidr(cidr).map(drop).ok_or_else(|| {
        format!("`{cidr}` is not an IPv4 range; expected CIDR notation such as 203.0.113.0/24")
    })
}

/// The network address and prefix length of an IPv4 range.
pub fn parse_cidr(cidr: &str) -> Option<(u32, u32)> {
    let (address, prefix) = cidr.split_once('/')?;
    let prefix: u32 = prefix.parse().ok().filter(|p| *p <= 32)?;
    let address = u32::from(address.parse::<std::net::Ipv4Addr>().ok()?);
    let mask = if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - prefix)
    };
    Some((address & mask, prefix))
}

/// Whether the range `inner` lies inside the range `outer`.
pub fn cidr_within(inner: &str, outer: &str) -> bool {
    match (parse_cidr(inner), parse_cidr(outer)) {
        (Some((inner, inner_prefix)), Some((outer, outer_prefix))) => {
            let mask = if outer_prefix == 0 {
                0
            } else {
                u32::MAX << (32 - outer_prefix)
            };
            inner_prefix >= outer_prefix && inner & mask == outer
        }
        _ => false,
    }
}

fn is_env_var_name(key: &str) -> bool {
    let mut chars = key.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A Git URL Argo CD can clone: `https://host/path`, `ssh://[user@]host[:port]/path`, or the
/// scp-like `user@host:path`. Anything else (a URL without a scheme, plain `http://`, a local
/// path) is cloned by nobody, and Argo CD would only say so at sync time.
pub fn check_repo_url(url: &str) -> Result<(), String> {
    const EXPECTED: &str =
        "expected https://host/org/repo.git, ssh://git@host/org/repo.git or git@host:org/repo.git";
    if url.trim().is_empty() {
        return Err(format!("empty; {EXPECTED}"));
    }
    if url.chars().any(char::is_whitespace) {
        return Err(format!("`{url}` contains white space; {EXPECTED}"));
    }
    let host_and_path = |rest: &str| {
        rest.split_once('/').is_some_and(|(host, path)| {
            !host.is_empty() && !host.ends_with('@') && !path.is_empty()
        })
    };
    if let Some(rest) = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("ssh://"))
    {
        return if host_and_path(rest) {
            Ok(())
        } else {
            Err(format!(
                "`{url}` names no host and repository path; {EXPECTED}"
            ))
        };
    }
    if let Some((scheme, _)) = url.split_once("://") {
        return Err(format!(
            "`{scheme}://` is not a scheme Argo CD should clone over (plain HTTP carries credentials in the clear); {EXPECTED}"
        ));
    }
    let scp_like = url.split_once('@').and_then(|(user, rest)| {
        let (host, path) = rest.split_once(':')?;
        (!user.is_empty() && !host.is_empty() && !path.is_empty() && !path.starts_with('/'))
            .then_some(())
    });
    scp_like.ok_or_else(|| format!("`{url}` has no scheme, so Argo CD cannot clone it; {EXPECTED}"))
}

#[cfg(test)]
mod repo_url_tests {
    use super::check_repo_url;

    #[test]
    fn the_forms_argo_cd_clones_are_accepted_and_the_rest_explained() {
        for good in [
            "https://github.com/example-org/finops-platform.git",
            "https://git.example.org:8443/platform/finops",
            "ssh://git@github.com/example-org/finops-platform.git",
            "ssh://git@git.example.org:2222/platform/finops.git",
            "git@github.com:example-org/finops-platform.git",
        ] {
            assert_eq!(check_repo_url(good), Ok(()), "{good}");
        }
        for (bad, says) in [
            ("github.com/example-org/finops-platform", "has no scheme"),
            (
                "http://github.com/example-org/repo.git",
                "`http://` is not a scheme",
            ),
            ("https://github.com", "names no host and repository path"),
            ("ssh://git@/repo.git", "names no host and repository path"),
            ("git@github.com:/abs/path", "has no scheme"),
            ("/srv/git/repo.git", "has no scheme"),
            ("", "empty"),
        ] {
            let error = check_repo_url(bad).unwrap_err();
            assert!(error.contains(says), "{bad}: {error}");
            assert!(error.contains("expected https://"), "{bad}: {error}");
        }
    }
}
