//! Checks that span more than one field, run after parsing. Each error names the field path
//! (`apps[0].secrets[1].vault_path`), what is wrong and what would be valid.

use std::cmp::Ordering;
use std::collections::BTreeSet;
use std::fmt;

use platform_syntax::{Ipv4Range, check_repo_url};

use super::{App, ClusterProvider, Environment, HOURS_PER_MONTH, ServiceType, VaultMode};
use crate::billing::{Billed, OPENCOST_HOURLY_DECIMALS, SMALLEST_BILLED_HOURLY, decimal};

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

/// The most servers a Raft cluster should have: every write waits for a majority, and
/// HashiCorp recommends 3 or 5 voters.
pub const VAULT_MAX_REPLICAS: u32 = 7;

/// Addresses of the pod range the platform's own pods need beyond one per app: cluster DNS
/// and every component, with room to grow.
const PLATFORM_POD_ADDRESSES: u64 = 32;

/// Apps by name, by namespace and by Vault path: every check that relates one app to others
/// looks them up here, so checking stays linear in the number of apps.
struct Index<'a> {
    /// The first app of each name.
    by_name: std::collections::BTreeMap<&'a str, &'a App>,
    /// The first app of each namespace.
    by_namespace: std::collections::BTreeMap<&'a str, &'a App>,
    /// Each Vault path, with the teams whose apps declare it and an app of each.
    by_path: std::collections::BTreeMap<&'a str, std::collections::BTreeMap<&'a str, &'a App>>,
}

impl<'a> Index<'a> {
    fn new(env: &'a Environment) -> Self {
        let mut index = Self {
            by_name: std::collections::BTreeMap::new(),
            by_namespace: std::collections::BTreeMap::new(),
            by_path: std::collections::BTreeMap::new(),
        };
        for app in &env.apps {
            index.by_name.entry(app.name.as_str()).or_insert(app);
            index
                .by_namespace
                .entry(app.namespace().as_str())
                .or_insert(app);
            for secret in &app.secrets {
                index
                    .by_path
                    .entry(secret.vault_path.as_str())
                    .or_default()
                    .entry(app.team.as_str())
                    .or_insert(app);
            }
        }
        index
    }

    fn app(&self, name: &str) -> Option<&'a App> {
        self.by_name.get(name).copied()
    }
}

/// Every problem of the environment, not just the first.
pub fn check(env: &Environment) -> Vec<ModelError> {
    let mut errors = Errors::default();
    let index = Index::new(env);
    git_and_cluster(env, &mut errors);
    network(env, &mut errors);
    vault(env, &mut errors);
    teams(env, &mut errors);
    alerting(env, &mut errors);
    registries(env, &mut errors);
    cost(env, &mut errors);
    replicas("workloads.replicas", env.workloads.replicas, &mut errors);
    for (i, app) in env.apps.iter().enumerate() {
        self::app(env, &index, i, app, &mut errors);
    }
    errors.0
}

#[derive(Default)]
struct Errors(Vec<ModelError>);

impl Errors {
    fn push(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(ModelError {
            path: path.into(),
            message: message.into(),
        });
    }
}

fn git_and_cluster(env: &Environment, errors: &mut Errors) {
    if let Err(message) = check_repo_url(&env.git.repo_url) {
        errors.push("git.repo_url", message);
    }
    if env.git.target_revision.trim().is_empty() {
        errors.push(
            "git.target_revision",
            "empty; expected a branch, tag or commit, e.g. main",
        );
    }
    if !env.cluster.server.starts_with("https://") {
        errors.push(
            "cluster.server",
            format!(
                "`{}` is not an https URL; expected the API server URL, e.g. https://kubernetes.default.svc",
                env.cluster.server
            ),
        );
    } else if env.cluster.api_port().is_none() {
        errors.push(
            "cluster.server",
            format!(
                "`{}` names no valid port; expected https://host or https://host:port with a port from 1 to 65535, e.g. https://k8s.example.org:6443",
                env.cluster.server
            ),
        );
    }
}

fn network(env: &Environment, errors: &mut Errors) {
    let remote = env.cluster.provider == ClusterProvider::Remote;
    let network = &env.network;
    let required = [
        (
            "network.api_server_cidrs",
            &network.api_server_cidrs,
            network.policies,
            "the control plane's addresses, e.g. [10.0.0.0/24]",
            Some(MAX_INFRASTRUCTURE_RANGE),
        ),
        (
            "network.pod_cidrs",
            &network.pod_cidrs,
            network.policies,
            "the cluster's pod range, e.g. [10.244.0.0/16]",
            None,
        ),
        (
            "network.node_cidrs",
            &network.node_cidrs,
            network.policies,
            "the nodes' subnet, e.g. [10.0.0.0/24]",
            Some(MAX_INFRASTRUCTURE_RANGE),
        ),
        (
            "argocd.repository_cidrs",
            &env.argocd.repository_cidrs,
            network.policies && env.argocd.enabled,
            "the address ranges of the Git and chart hosts Argo CD clones from, or [0.0.0.0/0] written out",
            None,
        ),
    ];
    for (path, declared, needed, expected, widest) in required {
        match declared {
            // Reported where the cluster is said to be remote: that is why it is required,
            // and the field itself is nowhere to point at.
            None if remote && needed => errors.push(
                "cluster.provider",
                format!(
                    "a remote cluster must set `{path}`, which its NetworkPolicies are cut to (only kind's ranges are known in advance); expected {expected}"
                ),
            ),
            None => {}
            Some(cidrs) if cidrs.is_empty() && needed => {
                errors.push(path, format!("empty; expected {expected}"));
            }
            Some(cidrs) => {
                for (i, cidr) in cidrs.iter().enumerate() {
                    match cidr.parse::<Ipv4Range>() {
                        Err(error) => errors.push(format!("{path}[{i}]"), error.to_string()),
                        Ok(range) if widest.is_some_and(|max| range.size() > max) => errors.push(
                            format!("{path}[{i}]"),
                            format!(
                                "`{range}` holds {} addresses, far more than a control plane or a node subnet, and would open the internet to every component that may reach it; expected {expected}",
                                range.size()
                            ),
                        ),
                        Ok(_) => {}
                    }
                }
            }
        }
    }
    // Every pod the platform and its apps run needs an address in it; a real cluster needs
    // thousands more, so this only catches a range that cannot be the pod network at all.
    let needed = env.apps.len() as u64 + PLATFORM_POD_ADDRESSES;
    if let Some(Ok(range)) = env
        .network_ranges()
        .pods
        .first()
        .map(|c| c.parse::<Ipv4Range>())
        && range.size() < needed
    {
        errors.push(
            "network.pod_cidrs[0]",
            format!(
                "`{range}` holds {} addresses, fewer than the {needed} this environment's pods need at the least; expected the cluster's pod range, e.g. 10.244.0.0/16",
                range.size()
            ),
        );
    }
    if env.metallb.enabled && env.metallb.addresses.is_empty() {
        errors.push("metallb.addresses", "MetalLB is enabled but has no address range; expected at least one range inside the kind network, e.g. 172.18.255.200-172.18.255.250");
    }
}

/// The widest range that may name the API server or the nodes: a /8. Anything wider is not
/// infrastructure but most of the internet.
const MAX_INFRASTRUCTURE_RANGE: u64 = 1 << 24;

fn vault(env: &Environment, errors: &mut Errors) {
    if !env.vault.enabled {
        return;
    }
    if env.vault.mode == VaultMode::Dev && env.cluster.provider != ClusterProvider::Kind {
        errors.push("vault.mode", "dev mode keeps secrets in memory behind a root token and is only allowed on a local kind cluster; expected `ha`");
    }
    if env.vault.mode == VaultMode::Ha && env.vault.replicas == 0 {
        errors.push(
            "vault.replicas",
            "HA mode needs at least one server; expected 3 or 5 for a Raft quorum",
        );
    }
    if env.vault.replicas > VAULT_MAX_REPLICAS {
        errors.push(
            "vault.replicas",
            format!(
                "{} servers would slow every write, which waits for a majority of them; expected at most {VAULT_MAX_REPLICAS}, usually 3 or 5",
                env.vault.replicas
            ),
        );
    }
    if env.vault.service_type == ServiceType::LoadBalancer
        && env.cluster.provider == ClusterProvider::Kind
        && !env.metallb.enabled
    {
        errors.push("vault.service_type", "a LoadBalancer Service on kind never gets an address without MetalLB; expected `ClusterIP`, or set metallb.enabled: true");
    }
}

fn teams(env: &Environment, errors: &mut Errors) {
    // Per-team policies and roles are named `team-<name>`; the platform's must not collide.
    for (path, name) in [
        ("secrets.policy", &env.secrets.policy),
        ("secrets.role", &env.secrets.role),
    ] {
        if name.as_str().starts_with(crate::names::TEAM_PREFIX) {
            errors.push(
                path,
                format!(
                    "`{name}` starts with `{}`, which names the teams' own Vault policies and roles; expected another name, e.g. eso-policy",
                    crate::names::TEAM_PREFIX
                ),
            );
        }
    }
    if env.team(&env.platform_team).is_none() {
        errors.push(
            "platform_team",
            format!(
                "team `{}` is not declared; expected one of the names under `teams` ({}), to book the platform's own cost to",
                env.platform_team,
                env.teams
                    .iter()
                    .map(|t| t.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    }
    let mut teams = BTreeSet::new();
    for (i, team) in env.teams.iter().enumerate() {
        if !teams.insert(&team.name) {
            errors.push(
                format!("teams[{i}].name"),
                format!(
                    "team `{}` is declared twice; expected unique team names",
                    team.name
                ),
            );
        }
    }
}

/// A key inside the KV mount: not empty, no leading or trailing `/`.
fn check_kv_key(path: &str, key: &str, errors: &mut Errors) {
    if key.is_empty() || key.starts_with('/') || key.ends_with('/') || key.contains("//") {
        errors.push(
            path,
            format!("`{key}` is not a key inside the KV mount; expected a path like platform/grafana-admin, without the mount and without leading or trailing `/`"),
        );
    }
}

fn cost(env: &Environment, errors: &mut Errors) {
    let currency = &env.cost.currency;
    if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
        errors.push(
            "cost.currency",
            format!("`{currency}` is not an ISO 4217 currency code; expected three capital letters, e.g. EUR"),
        );
    }
    let pricing = &env.cost.pricing;
    for (field, price) in [
        ("cpu_per_vcpu_hour", pricing.cpu_per_vcpu_hour),
        ("memory_per_gib_hour", pricing.memory_per_gib_hour),
        ("storage_per_gib_month", pricing.storage_per_gib_month),
        ("load_balancer_per_hour", pricing.load_balancer_per_hour),
    ] {
        if !(price.is_finite() && price >= 0.0) {
            errors.push(
                format!("cost.pricing.{field}"),
                format!("{price} is not a price; expected a number of at least 0, e.g. 0.03"),
            );
        }
    }
    // OpenCost keeps a 730th of each monthly price to six decimals: a price below that
    // would be reported as free while the forecast counts it.
    let billed = Billed::of(pricing);
    // Hours in the unit each price is given per.
    for (field, price, bills, hours) in [
        (
            "cpu_per_vcpu_hour",
            pricing.cpu_per_vcpu_hour,
            billed.cpu_per_vcpu_hour,
            1.0,
        ),
        (
            "memory_per_gib_hour",
            pricing.memory_per_gib_hour,
            billed.memory_per_gib_hour,
            1.0,
        ),
        (
            "storage_per_gib_month",
            pricing.storage_per_gib_month,
            billed.storage_per_gib_hour,
            HOURS_PER_MONTH,
        ),
    ] {
        if price > 0.0 && price.is_finite() && bills == 0.0 {
            errors.push(
                format!("cost.pricing.{field}"),
                format!(
                    "{price} is billed as 0: OpenCost keeps the hourly price to {OPENCOST_HOURLY_DECIMALS} decimals; expected 0 or more than {}",
                    decimal(SMALLEST_BILLED_HOURLY * hours)
                ),
            );
        }
    }
}

/// Each allowed registry is one Kyverno wildcard: the policy joins them with `|`, so none may
/// hold `|`, `&` or blanks, and an operator prefix (`!`, `<`, `>`) would change its meaning.
fn registries(env: &Environment, errors: &mut Errors) {
    for (i, registry) in env.policies.allowed_registries.iter().enumerate() {
        let bad = registry.is_empty()
            || registry.contains(['|', '&', ' ', '\t'])
            || registry.starts_with(['!', '<', '>', '=']);
        if bad {
            errors.push(
                format!("policies.allowed_registries[{i}]"),
                format!(
                    "`{registry}` is not an image wildcard; expected a registry and path prefix with `*`, e.g. ghcr.io/example-org/*"
                ),
            );
        }
    }
}

fn alerting(env: &Environment, errors: &mut Errors) {
    for (i, team) in env.teams.iter().enumerate() {
        if let Some(budget) = team.monthly_budget
            && !(budget.is_finite() && budget >= 0.0)
        {
            errors.push(
                format!("teams[{i}].monthly_budget"),
                format!("{budget} is not an amount; expected a number of at least 0, e.g. 500"),
            );
        }
    }
    if env.grafana.enabled {
        check_kv_key("grafana.admin_secret", &env.grafana.admin_secret, errors);
    }
    let alerting = &env.alerting;
    if !alerting.enabled {
        return;
    }
    let mut names = BTreeSet::new();
    for (i, receiver) in alerting.receivers.iter().enumerate() {
        let at = |field: &str| format!("alerting.receivers[{i}].{field}");
        if !names.insert(receiver.name.as_str()) {
            errors.push(
                at("name"),
                format!(
                    "receiver `{}` is declared twice; expected unique receiver names",
                    receiver.name
                ),
            );
        }
        if receiver.name.as_str() == "null" {
            errors.push(at("name"), "`null` is the receiver of alerts no route takes when `default_receiver` is unset; expected another name");
        }
        check_kv_key(&at("secret"), &receiver.secret, errors);
        match (receiver.kind, &receiver.channel, &receiver.url) {
            (super::ReceiverKind::Slack, None, _) => errors.push(
                at("channel"),
                "a slack receiver needs the channel to post to, e.g. \"#platform-alerts\"",
            ),
            (kind, Some(_), _) if kind != super::ReceiverKind::Slack => errors.push(
                at("channel"),
                "only slack receivers have a channel; remove it",
            ),
            _ => {}
        }
        match (receiver.kind, &receiver.url) {
            (super::ReceiverKind::Webhook, None) => errors.push(at("url"), "a webhook receiver needs the https URL alerts are posted to"),
            (super::ReceiverKind::Webhook, Some(url)) if !url.starts_with("https://") => errors.push(at("url"), format!("`{url}` is not an https URL; alerts carry the bearer token, expected https://...")),
            (kind, Some(_)) if kind != super::ReceiverKind::Webhook => errors.push(at("url"), "only webhook receivers take a URL here; a slack webhook URL or a PagerDuty key is a secret, read from Vault (`secret`)"),
            _ => {}
        }
        if receiver.egress_cidrs.is_empty() {
            errors.push(at("egress_cidrs"), "empty; expected the address ranges the receiver is reached at, e.g. [0.0.0.0/0] (on 443 only)");
        }
        for (j, cidr) in receiver.egress_cidrs.iter().enumerate() {
            if let Err(message) = check_cidr(cidr) {
                errors.push(
                    format!("alerting.receivers[{i}].egress_cidrs[{j}]"),
                    message,
                );
            }
        }
    }
    let declared = || {
        alerting
            .receivers
            .iter()
            .map(|r| r.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    for (i, route) in alerting.routes.iter().enumerate() {
        if !names.contains(route.receiver.as_str()) {
            errors.push(
                format!("alerting.routes[{i}].receiver"),
                format!(
                    "receiver `{}` is not declared; expected one of: {}",
                    route.receiver,
                    declared()
                ),
            );
        }
        for (j, team) in route.teams.iter().enumerate() {
            if env.team(team).is_none() {
                errors.push(
                    format!("alerting.routes[{i}].teams[{j}]"),
                    format!("team `{team}` is not declared under `teams`"),
                );
            }
        }
    }
    if let Some(default) = &alerting.default_receiver
        && !names.contains(default.as_str())
    {
        errors.push(
            "alerting.default_receiver",
            format!(
                "receiver `{default}` is not declared; expected one of: {}",
                declared()
            ),
        );
    }
    if !env.prometheus.enabled {
        errors.push("alerting.enabled", "Alertmanager receives what Prometheus's rules fire, and prometheus.enabled is false; set alerting.enabled: false, or enable Prometheus");
    }
}

/// Kubernetes keeps replicas in an int32.
fn replicas(path: &str, replicas: u32, errors: &mut Errors) {
    if i32::try_from(replicas).is_err() {
        errors.push(
            path,
            format!(
                "{replicas} is more replicas than Kubernetes can hold; expected at most {}",
                i32::MAX
            ),
        );
    }
}

fn app(env: &Environment, index: &Index<'_>, i: usize, app: &App, errors: &mut Errors) {
    let at = |field: &str| format!("apps[{i}].{field}");
    if index
        .app(app.name.as_str())
        .is_some_and(|first| !std::ptr::eq(first, app))
    {
        errors.push(
            at("name"),
            format!(
                "app `{}` is declared twice; expected unique app names",
                app.name
            ),
        );
    }
    if env.team(&app.team).is_none() {
        errors.push(
            at("team"),
            format!(
                "team `{}` is not declared; expected one of the names under `teams` ({})",
                app.team,
                env.teams
                    .iter()
                    .map(|t| t.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    }
    app_namespace(index, i, app, errors);
    if app.port == 0 {
        errors.push(at("port"), "0 is not a port; expected 1 to 65535");
    }
    if let Some(replicas) = app.replicas {
        self::replicas(&at("replicas"), replicas, errors);
    }
    resources(i, app, errors);
    quota(env, i, app, errors);
    calls(env, index, i, app, errors);
    allow_from(index, i, app, errors);
    egress(i, app, errors);
    secrets(env, index, i, app, errors);
}

fn app_namespace(index: &Index<'_>, i: usize, app: &App, errors: &mut Errors) {
    let namespace = app.namespace().as_str();
    // The field that chose the namespace: explicit, or the app's name by default.
    let field = format!(
        "apps[{i}].{}",
        if app.namespace.is_some() {
            "namespace"
        } else {
            "name"
        }
    );
    // `default` is Kubernetes' too: whatever lands there by accident would share the app's
    // NetworkPolicies, project and cost labels.
    let reserved = crate::names::namespace::PLATFORM
        .iter()
        .chain(crate::names::namespace::SYSTEM.iter())
        .chain(std::iter::once(&"default"))
        .any(|n| *n == namespace);
    if reserved {
        errors.push(
            field.clone(),
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
    if let Some(other) = index
        .by_namespace
        .get(namespace)
        .filter(|first| !std::ptr::eq(**first, app) && first.name != app.name)
    {
        errors.push(
            field,
            format!(
                "namespace `{namespace}` already belongs to app `{}`; each app runs in a namespace of its own",
                other.name
            ),
        );
    }
}

fn resources(i: usize, app: &App, errors: &mut Errors) {
    for resource in ["cpu", "memory"] {
        let (request, limit) = match resource {
            "cpu" => (&app.resources.requests.cpu, &app.resources.limits.cpu),
            _ => (&app.resources.requests.memory, &app.resources.limits.memory),
        };
        if limit.cmp_value(request) == Ordering::Less {
            errors.push(
                format!("apps[{i}].resources.limits.{resource}"),
                format!(
                    "limit {limit} is below the request {request}; expected a limit of at least {request}"
                ),
            );
        }
    }
}

fn calls(env: &Environment, index: &Index<'_>, i: usize, app: &App, errors: &mut Errors) {
    for (j, call) in app.calls.iter().enumerate() {
        let at = |field: &str| format!("apps[{i}].calls[{j}].{field}");
        match index.app(call.app.as_str()) {
            None => errors.push(
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
                errors.push(at("app"), "an app reaches its own pods without declaring it");
            }
            Some(other) if other.port != call.port => errors.push(
                at("port"),
                format!(
                    "`{}` listens on {}, not {}",
                    other.name, other.port, call.port
                ),
            ),
            Some(other) if other.team != app.team && !other.allow_from.contains(&app.name) => {
                errors.push(
                    at("app"),
                    format!(
                        "`{}` belongs to team `{}`, not `{}`: a call across teams needs the other team's consent; expected `allow_from: [{}]` on app `{}`, or no such call",
                        other.name, other.team, app.team, app.name, other.name
                    ),
                );
            }
            Some(_) => {}
        }
    }
}

/// Consent to calls from other teams' apps is given to apps that make them, and only across
/// teams: anything else is a stale or misplaced entry that would mislead a reviewer.
fn allow_from(index: &Index<'_>, i: usize, app: &App, errors: &mut Errors) {
    for (j, caller) in app.allow_from.iter().enumerate() {
        let at = format!("apps[{i}].allow_from[{j}]");
        match index.app(caller.as_str()) {
            None => errors.push(
                at,
                format!("`{caller}` is not an app of this environment; expected the name of an app of another team that calls `{}`", app.name),
            ),
            Some(other) if other.team == app.team => errors.push(
                at,
                format!("`{caller}` belongs to the same team, `{}`, whose apps need no consent to call each other; expected only apps of other teams", app.team),
            ),
            Some(other) if !other.calls.iter().any(|call| call.app == app.name) => errors.push(
                at,
                format!("`{caller}` does not call `{}` (no entry in its `calls`); expected only apps that do", app.name),
            ),
            Some(_) => {}
        }
    }
}

/// The app's pods, with those a rolling update adds, must fit the namespace's quota, or the
/// Deployment stops short of its replicas with nothing but an event to say why.
fn quota(env: &Environment, i: usize, app: &App, errors: &mut Errors) {
    let quota = &env.workloads.namespace_quota;
    let replicas = app.replicas(&env.workloads);
    if i32::try_from(replicas).is_err() {
        // Reported as a count Kubernetes cannot hold; no quota is meaningful beside it.
        return;
    }
    let replicas = u128::from(replicas);
    // Kubernetes' default maxSurge: 25%, rounded up.
    let peak = replicas + replicas.div_ceil(4);
    if peak > u128::from(quota.pods) {
        errors.push(
            format!("apps[{i}].replicas"),
            format!(
                "{replicas} replicas run up to {peak} pods during a rolling update, more than the {} of `workloads.namespace_quota.pods`; expected fewer replicas or a larger quota",
                quota.pods
            ),
        );
    }
    for (kind, declared, allowed) in [
        ("requests", &app.resources.requests, &quota.requests),
        ("limits", &app.resources.limits, &quota.limits),
    ] {
        for (resource, amount, most) in [
            ("cpu", &declared.cpu, &allowed.cpu),
            ("memory", &declared.memory, &allowed.memory),
        ] {
            if amount.nanos() * peak > most.nanos() {
                errors.push(
                    format!("apps[{i}].resources.{kind}.{resource}"),
                    format!(
                        "{amount} for each of up to {peak} pods (a rolling update of {replicas} replicas) exceeds the namespace quota of {most} (`workloads.namespace_quota.{kind}.{resource}`); expected at most {most} in all",
                    ),
                );
            }
        }
    }
}

fn egress(i: usize, app: &App, errors: &mut Errors) {
    for (j, egress) in app.egress.iter().enumerate() {
        if let Err(message) = check_cidr(&egress.cidr) {
            errors.push(format!("apps[{i}].egress[{j}].cidr"), message);
        }
        if egress.ports.is_empty() || egress.ports.contains(&0) {
            errors.push(
                format!("apps[{i}].egress[{j}].ports"),
                "expected one or more ports from 1 to 65535",
            );
        }
    }
}

fn secrets(env: &Environment, index: &Index<'_>, i: usize, app: &App, errors: &mut Errors) {
    let mut names = BTreeSet::new();
    for (j, secret) in app.secrets.iter().enumerate() {
        let at = |field: &str| format!("apps[{i}].secrets[{j}].{field}");
        if !names.insert(&secret.name) {
            errors.push(
                at("name"),
                format!(
                    "secret `{}` is declared twice in app `{}`",
                    secret.name, app.name
                ),
            );
        }
        if secret.kv_key(&env.secrets.kv_mount).is_none() {
            errors.push(
                at("vault_path"),
                format!(
                    "`{}` is outside the KV mount `{}` the ClusterSecretStore reads; expected `{}/<path>`",
                    secret.vault_path, env.secrets.kv_mount, env.secrets.kv_mount
                ),
            );
        }
        let owners = index.by_path.get(secret.vault_path.as_str());
        if let Some(owner) = owners
            .into_iter()
            .flatten()
            .find(|(team, _)| **team != app.team.as_str())
            .map(|(_, owner)| *owner)
        {
            errors.push(
                at("vault_path"),
                format!(
                    "`{}` is declared by app `{}` of team `{}`; a Vault path belongs to one team, whose policy alone may read it; expected a path of team `{}`'s own",
                    secret.vault_path, owner.name, owner.team, app.team
                ),
            );
        }
        if let Some(mount_path) = &secret.mount_path {
            check_mount_path(app, j, mount_path, &at("mount_path"), errors);
        }
        if secret.keys.is_empty() {
            errors.push(at("keys"), "no keys; expected the keys to read from the Vault secret, e.g. [username, password]");
        }
        let mut keys = BTreeSet::new();
        for (k, key) in secret.keys.iter().enumerate() {
            let at = format!("apps[{i}].secrets[{j}].keys[{k}]");
            if !is_env_var_name(key) {
                errors.push(
                    at.clone(),
                    format!(
                        "`{key}` cannot be an environment variable name; expected letters, digits and '_', not starting with a digit"
                    ),
                );
            }
            if !keys.insert(key) {
                errors.push(at, format!("key `{key}` is listed twice"));
            }
        }
    }
}

/// A directory of its own for a secret's files: absolute, clean, not where the app writes
/// temporary files, and not another secret's.
fn check_mount_path(app: &App, j: usize, path: &str, at: &str, errors: &mut Errors) {
    let expected = "an absolute directory of its own, e.g. /var/run/secrets/<secret name>";
    let clean = path.starts_with('/')
        && path.len() > 1
        && !path.ends_with('/')
        && path
            .split('/')
            .skip(1)
            .all(|part| !part.is_empty() && part != "." && part != ".." && !part.contains(':'));
    if !clean {
        errors.push(
            at,
            format!("`{path}` is not a clean absolute path; expected {expected}"),
        );
        return;
    }
    if path == "/tmp" || path.starts_with("/tmp/") {
        errors.push(
            at,
            format!(
                "`{path}` is inside /tmp, the app's writable scratch volume; expected {expected}"
            ),
        );
    }
    let overlaps = |other: &str| {
        other == path
            || other
                .strip_prefix(path)
                .is_some_and(|rest| rest.starts_with('/'))
            || path
                .strip_prefix(other)
                .is_some_and(|rest| rest.starts_with('/'))
    };
    if let Some(other) = app.secrets[..j]
        .iter()
        .filter_map(|s| s.mount_path.as_deref().map(|p| (s, p)))
        .find(|(_, other)| overlaps(other))
    {
        errors.push(
            at,
            format!(
                "`{path}` overlaps `{}`, where secret `{}` is mounted; expected {expected}",
                other.1, other.0.name
            ),
        );
    }
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
