//! The alert rules, from the model: the platform's own (Vault, scrape targets, OpenCost) and,
//! per team, those about what the team runs (its Applications, ExternalSecrets, admission
//! denials, budget). A team's rules select its namespaces, so an app added to the environment
//! is covered by its team's alerts, and every alert carries the `team` label Alertmanager
//! routes by.
//!
//! Each alert comes with its unit tests (series in, alerts out, firing and not), which
//! `cargo xtask alerts` writes for `promtool test rules`. Metric names and labels were read in
//! the sources at the pinned versions: Argo CD v3.4.4 `controller/metrics/metrics.go`
//! (`argocd_app_info{name, namespace, project, dest_namespace, sync_status, health_status}`,
//! `argocd_app_sync_total{phase}`), external-secrets v2.9.0 `esmetrics.go`
//! (`externalsecret_status_condition{name, namespace, condition, status}`), Kyverno v1.19.0
//! `pkg/metrics/admission.go` (`kyverno_admission_requests_total{request_allowed,
//! resource_namespace, resource_kind}`), Vault's `vault.core.unsealed` gauge.

pub mod argocd;

use std::collections::BTreeMap;

use platform_core::cost_queries;
use platform_core::model::{DnsLabel, Duration, Environment, Severity};
use platform_core::names;

use crate::rules::{
    AlertTest, AlertingRule, ExpectedAlert, InputSeries, RuleFile, RuleGroup, TestFile, TestGroup,
    expand, series,
};

/// Scrape jobs, as the alerts select them and the prometheus component names them.
pub mod job {
    pub const ARGOCD: &str = "argocd";
    pub const EXTERNAL_SECRETS: &str = "external-secrets";
    pub const KYVERNO: &str = "kyverno";
    pub const OPENCOST: &str = "opencost";
    pub const VAULT: &str = "vault";
}

/// One alerting rule, what to do when it fires, and its unit tests.
#[derive(Clone, Debug, PartialEq)]
pub struct Alert {
    /// The rule group: `platform`, or `team-<team>`.
    pub group: String,
    pub rule: AlertingRule,
    /// What the person paged does first, for the generated README.
    pub runbook: &'static str,
    pub cases: Vec<Case>,
}

impl Alert {
    pub fn severity(&self) -> &str {
        &self.rule.labels[SEVERITY]
    }

    pub fn summary(&self) -> &str {
        &self.rule.annotations["summary"]
    }
}

/// A unit test: input series, when to look, and the alerts expected then (by the labels the
/// expression yields, before the rule adds its own); none expected means it must stay silent.
#[derive(Clone, Debug, PartialEq)]
pub struct Case {
    pub input_series: Vec<InputSeries>,
    /// Seconds after the first sample.
    pub eval_after_seconds: u64,
    pub firing: Vec<BTreeMap<String, String>>,
}

impl Case {
    pub fn fires(&self) -> bool {
        !self.firing.is_empty()
    }

    /// The cases of an alert held for `threshold`: the `bad` input fires (with `firing`) once
    /// it has held that long, and not a step before; the `good` input stays silent.
    fn held(
        threshold: Option<&Duration>,
        bad: Vec<InputSeries>,
        good: Vec<InputSeries>,
        firing: BTreeMap<String, String>,
    ) -> Vec<Case> {
        let (fires_at, silent_at) = held(threshold);
        let mut cases = vec![Case {
            input_series: bad.clone(),
            eval_after_seconds: fires_at,
            firing: vec![firing],
        }];
        if let Some(silent_at) = silent_at {
            cases.push(Case {
                input_series: bad,
                eval_after_seconds: silent_at,
                firing: Vec::new(),
            });
        }
        cases.push(Case {
            input_series: good,
            eval_after_seconds: fires_at,
            firing: Vec::new(),
        });
        cases
    }
}

const SEVERITY: &str = "severity";
/// promtool's test interval, and Prometheus's rule evaluation interval in the tests.
const STEP_SECONDS: u64 = 60;

/// Every alert of the environment, in rule-file order.
pub fn alerts(env: &Environment) -> Vec<Alert> {
    if !(env.alerting.enabled && env.prometheus.enabled) {
        return Vec::new();
    }
    let mut alerts = platform_alerts(env);
    alerts.extend(argocd::alerts(env));
    for team in &env.teams {
        let namespaces = team_namespaces(env, &team.name);
        if namespaces.is_empty() {
            continue;
        }
        alerts.extend(team_alerts(
            env,
            team.name.as_str(),
            team.monthly_budget,
            &namespaces,
        ));
    }
    alerts
}

/// The rule file Prometheus loads.
pub fn rule_file(env: &Environment) -> RuleFile {
    let mut groups: Vec<RuleGroup> = Vec::new();
    for alert in alerts(env) {
        match groups.last_mut() {
            Some(group) if group.name == alert.group => group.rules.push(alert.rule),
            _ => groups.push(RuleGroup {
                name: alert.group,
                rules: vec![alert.rule],
            }),
        }
    }
    RuleFile { groups }
}

/// promtool's unit tests of every alert, against the rule file at `rule_file_path`.
pub fn test_file(env: &Environment, rule_file_path: &str) -> TestFile {
    let mut tests = Vec::new();
    for alert in alerts(env) {
        for case in &alert.cases {
            let exp_alerts = case
                .firing
                .iter()
                .map(|yielded| {
                    let mut labels = yielded.clone();
                    labels.extend(alert.rule.labels.clone());
                    let annotations = alert
                        .rule
                        .annotations
                        .iter()
                        .map(|(name, template)| (name.clone(), expand(template, &labels)))
                        .collect();
                    ExpectedAlert {
                        exp_labels: labels,
                        exp_annotations: annotations,
                    }
                })
                .collect();
            tests.push(TestGroup {
                interval: format!("{STEP_SECONDS}s"),
                input_series: case.input_series.clone(),
                alert_rule_test: vec![AlertTest {
                    eval_time: format!("{}s", case.eval_after_seconds),
                    alertname: alert.rule.alert.clone(),
                    exp_alerts,
                }],
            });
        }
    }
    TestFile {
        rule_files: vec![rule_file_path.to_owned()],
        evaluation_interval: format!("{STEP_SECONDS}s"),
        tests,
    }
}

/// The namespaces whose workloads a team answers for: the platform's own for the platform
/// team, and each team's apps' namespaces, in declaration order.
pub fn team_namespaces(env: &Environment, team: &DnsLabel) -> Vec<String> {
    let mut namespaces: Vec<String> = Vec::new();
    if *team == env.platform_team {
        namespaces.extend(names::namespace::PLATFORM.iter().map(|n| (*n).to_owned()));
    }
    for app in env.apps.iter().filter(|app| &app.team == team) {
        let namespace = app.namespace().to_string();
        if !namespaces.contains(&namespace) {
            namespaces.push(namespace);
        }
    }
    namespaces
}

fn rule(
    alert: &str,
    expr: String,
    for_: Option<&Duration>,
    team: &str,
    severity: Severity,
    summary: &str,
    description: String,
) -> AlertingRule {
    AlertingRule {
        alert: alert.to_owned(),
        expr,
        for_: for_.map(Duration::as_prometheus),
        labels: BTreeMap::from([
            (SEVERITY.to_owned(), severity.as_str().to_owned()),
            (platform_core::labels::TEAM.to_owned(), team.to_owned()),
        ]),
        annotations: BTreeMap::from([
            ("summary".to_owned(), summary.to_owned()),
            ("description".to_owned(), description),
        ]),
    }
}

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect()
}

/// `samples` samples of `value`, one per step.
fn constant(value: &str, samples: u64) -> String {
    format!("{value}x{samples}")
}

/// A condition held `threshold` long: looked at one step after it fires, and one step before.
fn held(threshold: Option<&Duration>) -> (u64, Option<u64>) {
    let seconds = threshold.map_or(0, |d| d.millis() / 1000);
    let fires_at = seconds + STEP_SECONDS;
    let silent_at = (seconds >= 2 * STEP_SECONDS).then(|| seconds - STEP_SECONDS);
    (fires_at, silent_at)
}

fn steps_to(seconds: u64) -> u64 {
    seconds / STEP_SECONDS + 2
}

fn platform_alerts(env: &Environment) -> Vec<Alert> {
    let team = env.platform_team.as_str();
    let group = "platform".to_owned();
    let down = &env.alerting.thresholds.target_down;
    let mut alerts = Vec::new();
    let mut own_jobs = Vec::new();
    if env.vault.enabled {
        own_jobs.push(job::VAULT);
        let sealed_for = Duration::try_from("2m").expect("valid literal");
        alerts.push(Alert {
            group: group.clone(),
            rule: rule(
                "VaultSealed",
                format!("vault_core_unsealed{{job=\"{}\"}} == 0", job::VAULT),
                Some(&sealed_for),
                team,
                Severity::Critical,
                "Vault server {{ $labels.instance }} is sealed",
                "A sealed Vault serves no secret: ExternalSecrets stop refreshing and new pods \
                 that need a secret do not start."
                    .to_owned(),
            ),
            runbook: "Unseal the server (`vault operator unseal`, with the unseal keys held outside Git); \
                      on a dev cluster, resync the `vault` Application.",
            cases: up_or_gauge_cases(
                "vault_core_unsealed",
                job::VAULT,
                "10.244.0.7:8200",
                Some(&sealed_for),
                "0",
                "1",
            ),
        });
        alerts.push(vault_not_ready(&group, team, &sealed_for));
        if env.vault_tls() {
            alerts.push(vault_certificate_not_loaded(&group, team));
        }
        alerts.push(absent_or_down(
            &group,
            team,
            "VaultDown",
            job::VAULT,
            down,
            Severity::Critical,
            "Vault cannot be scraped",
            "Prometheus has not reached a Vault server for the threshold, or finds none: Vault \
             may be down, or not unsealed far enough to answer.",
            "`kubectl -n vault get pods`; read the server's log; check the NetworkPolicy \
             `allow-vault-from-prometheus`.",
        ));
    }
    if env.opencost.enabled {
        own_jobs.push(job::OPENCOST);
        alerts.push(absent_or_down(
            &group,
            team,
            "OpenCostDown",
            job::OPENCOST,
            down,
            Severity::Warning,
            "OpenCost cannot be scraped",
            "Without OpenCost's metrics no cost is recorded: the cost dashboard and the budget \
             alerts go blind.",
            "`kubectl -n opencost get pods`; OpenCost needs Prometheus (`prometheus-server`) to \
             start.",
        ));
    }
    let excluded = own_jobs.join("|");
    let (fires_at, _) = held(Some(down));
    let samples = steps_to(fires_at);
    let mut cases = up_or_gauge_cases("up", "kubernetes-nodes", "node-1", Some(down), "0", "1");
    if let Some(own) = own_jobs.first() {
        // A job with an alert of its own does not page twice.
        cases.push(Case {
            input_series: vec![InputSeries {
                series: series("up", &[("job", own), ("instance", "10.244.0.9:1")]),
                values: constant("0", samples),
            }],
            eval_after_seconds: fires_at,
            firing: Vec::new(),
        });
    }
    let selector = if excluded.is_empty() {
        "up".to_owned()
    } else {
        format!("up{{job!~\"{excluded}\"}}")
    };
    alerts.push(Alert {
        group,
        rule: rule(
            "ScrapeTargetDown",
            format!("{selector} == 0"),
            Some(down),
            team,
            Severity::Warning,
            "Scrape target {{ $labels.instance }} of job {{ $labels.job }} is down",
            "Prometheus cannot scrape this target: its metrics, and every alert built on them, \
             are missing."
                .to_owned(),
        ),
        runbook: "Open Prometheus's Targets page (port-forward `prometheus-server`) for the \
                  scrape error; a refused connection usually means a NetworkPolicy or a stopped pod.",
        cases,
    });
    alerts
}

/// Cases for `<metric>{job} == <bad>`: firing after the threshold, silent before it, silent
/// when good.
fn up_or_gauge_cases(
    metric: &str,
    job: &str,
    instance: &str,
    threshold: Option<&Duration>,
    bad: &str,
    good: &str,
) -> Vec<Case> {
    let samples = steps_to(held(threshold).0);
    let target = [("job", job), ("instance", instance)];
    let input = |value: &str| {
        vec![InputSeries {
            series: series(metric, &target),
            values: constant(value, samples),
        }]
    };
    Case::held(threshold, input(bad), input(good), labels(&target))
}

/// A Vault server whose pod is not ready. The chart's readiness probe is `vault status`
/// (vault-0.34.1 `server-statefulset.yaml`, no `readinessProbe.path`), which exits 2 while the
/// server is sealed. A server that restarts sealed serves `/v1/sys/metrics` (so `up` stays 1)
/// but emits no `vault_core_unsealed` until it is unsealed (Vault sets that gauge from the
/// metrics loop the unsealed core runs): only its readiness, which kube-state-metrics exports
/// as `kube_pod_status_ready`, shows it.
fn vault_not_ready(group: &str, team: &str, threshold: &Duration) -> Alert {
    let namespace = platform_core::names::namespace::VAULT;
    let servers = format!("{}-[0-9]+", platform_core::names::app::VAULT);
    let pod = [
        ("namespace", namespace),
        ("pod", "vault-0"),
        ("condition", "true"),
    ];
    let samples = steps_to(held(Some(threshold)).0);
    let input = |value: &str| {
        vec![InputSeries {
            series: series("kube_pod_status_ready", &pod),
            values: constant(value, samples),
        }]
    };
    let mut cases = Case::held(Some(threshold), input("0"), input("1"), labels(&pod));
    // The bootstrap Job's pods and others in the namespace are not servers.
    cases.push(Case {
        input_series: vec![InputSeries {
            series: series(
                "kube_pod_status_ready",
                &[
                    ("namespace", namespace),
                    ("pod", "vault-bootstrap-x7k2p"),
                    ("condition", "true"),
                ],
            ),
            values: constant("0", samples),
        }],
        eval_after_seconds: held(Some(threshold)).0,
        firing: Vec::new(),
    });
    Alert {
        group: group.to_owned(),
        rule: rule(
            "VaultNotReady",
            format!(
                "kube_pod_status_ready{{namespace=\"{namespace}\", pod=~\"{servers}\", condition=\"true\"}} == 0"
            ),
            Some(threshold),
            team,
            Severity::Critical,
            "Vault server {{ $labels.pod }} is not ready",
            "The server's readiness probe (`vault status`) fails: it is sealed (a restarted \
             server starts sealed and reports no seal gauge), or not answering. Its \
             ExternalSecrets stop refreshing."
                .to_owned(),
        ),
        runbook: "`kubectl -n vault exec <pod> -- vault status`: if sealed, unseal it \
                  (`vault operator unseal`, with the keys held outside Git); else read its log.",
        cases,
    }
}

/// A Vault server that has run since before cert-manager last issued its certificate: Vault
/// reads `tls_cert_file` when it starts (or on SIGHUP, `command/server.go`'s listener reload
/// functions), so it still serves the old certificate, which expires a month after renewal
/// (`renewBefore: 720h`). cert-manager v1.21.1 exports the issuance time as
/// `certmanager_certificate_not_before_timestamp_seconds{name, namespace}`
/// (`internal/collectors/certificate_collector.go`, from `status.notBefore`); kube-state-metrics
/// the container's start as `kube_pod_container_state_started{namespace, pod, container}`.
fn vault_certificate_not_loaded(group: &str, team: &str) -> Alert {
    let namespace = platform_core::names::namespace::VAULT;
    let servers = format!("{}-[0-9]+", platform_core::names::app::VAULT);
    let certificate = platform_core::names::VAULT_TLS_SECRET;
    let threshold = Duration::try_from("15m").expect("valid literal");
    let (fires_at, _) = held(Some(&threshold));
    let samples = steps_to(fires_at);
    let issued_at = 1_000_000u64;
    let started = |pod: &str, at: u64| InputSeries {
        series: series(
            "kube_pod_container_state_started",
            &[
                ("namespace", namespace),
                ("pod", pod),
                ("container", "vault"),
                ("uid", "u"),
            ],
        ),
        values: constant(&at.to_string(), samples),
    };
    let issued = InputSeries {
        series: series(
            "certmanager_certificate_not_before_timestamp_seconds",
            &[
                ("namespace", namespace),
                ("name", certificate),
                ("issuer_name", "vault-ca"),
                ("issuer_kind", "Issuer"),
                ("issuer_group", "cert-manager.io"),
            ],
        ),
        values: constant(&issued_at.to_string(), samples),
    };
    let pod = |name: &'static str| labels(&[("namespace", namespace), ("pod", name)]);
    let mut cases = Case::held(
        Some(&threshold),
        vec![issued.clone(), started("vault-0", issued_at - 3600)],
        vec![issued.clone(), started("vault-0", issued_at + 60)],
        pod("vault-0"),
    );
    // Only the servers that started before the renewal; a pod that is not a server never.
    cases.push(Case {
        input_series: vec![
            issued.clone(),
            started("vault-0", issued_at + 60),
            started("vault-1", issued_at - 60),
            started("vault-bootstrap-x7k2p", issued_at - 60),
        ],
        eval_after_seconds: fires_at,
        firing: vec![pod("vault-1")],
    });
    Alert {
        group: group.to_owned(),
        rule: rule(
            "VaultCertificateNotLoaded",
            format!(
                "max by (namespace, pod) (kube_pod_container_state_started{{namespace=\"{namespace}\", pod=~\"{servers}\", container=\"vault\"}}) \
                 < on (namespace) group_left () \
                 max by (namespace) (certmanager_certificate_not_before_timestamp_seconds{{namespace=\"{namespace}\", name=\"{certificate}\"}})"
            ),
            Some(&threshold),
            team,
            Severity::Warning,
            "Vault server {{ $labels.pod }} serves its previous certificate",
            "cert-manager renewed Vault's certificate after this server started; Vault reads \
             it only at start (or on SIGHUP), so clients get the old one until it expires, a \
             month after renewal."
                .to_owned(),
        ),
        runbook: "Restart the servers one at a time (`kubectl -n vault delete pod <pod>`, standbys \
                  first), unsealing each (`vault operator unseal`) before the next.",
        cases,
    }
}

/// A target that answers `up == 0`, or has vanished from discovery altogether.
#[allow(clippy::too_many_arguments)]
fn absent_or_down(
    group: &str,
    team: &str,
    alert: &str,
    job: &str,
    threshold: &Duration,
    severity: Severity,
    summary: &str,
    description: &str,
    runbook: &'static str,
) -> Alert {
    let mut cases = up_or_gauge_cases("up", job, "10.244.0.8:9000", Some(threshold), "0", "1");
    let (fires_at, _) = held(Some(threshold));
    // No target at all: `absent` yields the selector's equality labels.
    cases.push(Case {
        input_series: vec![InputSeries {
            series: series("up", &[("job", "kubernetes-nodes"), ("instance", "node-1")]),
            values: constant("1", steps_to(fires_at)),
        }],
        eval_after_seconds: fires_at,
        firing: vec![labels(&[("job", job)])],
    });
    Alert {
        group: group.to_owned(),
        rule: rule(
            alert,
            format!("up{{job=\"{job}\"}} == 0 or absent(up{{job=\"{job}\"}})"),
            Some(threshold),
            team,
            severity,
            summary,
            description.to_owned(),
        ),
        runbook,
        cases,
    }
}

fn team_alerts(
    env: &Environment,
    team: &str,
    budget: Option<f64>,
    namespaces: &[String],
) -> Vec<Alert> {
    let group = names::team_scoped(team);
    let thresholds = &env.alerting.thresholds;
    let in_team = namespaces.join("|");
    let ours = namespaces[0].as_str();
    let outside = "not-a-team-namespace";
    let mut alerts = Vec::new();
    if env.secrets.enabled {
        alerts.push(secret_not_ready(
            &group,
            team,
            &in_team,
            ours,
            &thresholds.secret_not_ready,
        ));
    }
    if env.policies.enabled {
        alerts.push(admission_denied(&group, team, &in_team, ours, outside));
    }
    if let Some(budget) = budget.filter(|_| env.opencost.enabled) {
        alerts.push(over_budget(
            &group,
            team,
            budget,
            ours,
            &thresholds.over_budget,
        ));
    }
    alerts
}

fn secret_not_ready(
    group: &str,
    team: &str,
    in_team: &str,
    ours: &str,
    threshold: &Duration,
) -> Alert {
    let (fires_at, _) = held(Some(threshold));
    let samples = steps_to(fires_at);
    let condition = |status: &'static str| {
        vec![
            ("job", job::EXTERNAL_SECRETS),
            ("name", "secret-under-test"),
            ("namespace", ours),
            ("condition", "Ready"),
            ("status", status),
        ]
    };
    let pair = |not_ready: &str| {
        vec![
            InputSeries {
                series: series("externalsecret_status_condition", &condition("False")),
                values: constant(not_ready, samples),
            },
            InputSeries {
                series: series("externalsecret_status_condition", &condition("True")),
                values: constant(if not_ready == "1" { "0" } else { "1" }, samples),
            },
        ]
    };
    let cases = Case::held(
        Some(threshold),
        pair("1"),
        pair("0"),
        labels(&condition("False")),
    );
    Alert {
        group: group.to_owned(),
        rule: rule(
            "ExternalSecretNotReady",
            format!(
                "externalsecret_status_condition{{condition=\"Ready\", status=\"False\", \
                 namespace=~\"{in_team}\"}} == 1"
            ),
            Some(threshold),
            team,
            Severity::Warning,
            "ExternalSecret {{ $labels.namespace }}/{{ $labels.name }} is not ready",
            format!(
                "ESO has not synced the secret from Vault for more than {}: the Secret is \
                 missing or stale.",
                threshold.as_prometheus()
            ),
        ),
        runbook: "`kubectl -n <namespace> describe externalsecret <name>`: a missing Vault key \
                  (seed it with `vault kv put`), a denied path (the team's Vault policy), or Vault sealed.",
        cases,
    }
}

fn admission_denied(group: &str, team: &str, in_team: &str, ours: &str, outside: &str) -> Alert {
    let window = "15m";
    let request = |namespace: &str, allowed: &str| {
        vec![
            ("job".to_owned(), job::KYVERNO.to_owned()),
            ("resource_kind".to_owned(), "Pod".to_owned()),
            ("resource_namespace".to_owned(), namespace.to_owned()),
            ("resource_request_operation".to_owned(), "create".to_owned()),
            ("request_allowed".to_owned(), allowed.to_owned()),
        ]
    };
    let case = |namespace: &str, allowed: &str, fires: bool| {
        let pairs = request(namespace, allowed);
        let borrowed: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        Case {
            input_series: vec![InputSeries {
                series: series("kyverno_admission_requests_total", &borrowed),
                values: "0+1x20".to_owned(),
            }],
            eval_after_seconds: 10 * STEP_SECONDS,
            firing: if fires {
                vec![labels(&[
                    ("resource_kind", "Pod"),
                    ("resource_namespace", namespace),
                ])]
            } else {
                Vec::new()
            },
        }
    };
    Alert {
        group: group.to_owned(),
        rule: rule(
            "KyvernoAdmissionDenied",
            format!(
                "sum by (resource_namespace, resource_kind) (increase(\
                 kyverno_admission_requests_total{{request_allowed=\"false\", \
                 resource_namespace=~\"{in_team}\"}}[{window}])) > 0"
            ),
            None,
            team,
            Severity::Warning,
            "Kyverno denied a {{ $labels.resource_kind }} in {{ $labels.resource_namespace }}",
            format!(
                "Kyverno's admission webhook rejected requests in the last {window}: something \
                 the team deploys breaks an enforced policy, and its pods do not start."
            ),
        ),
        runbook: "`kubectl get events -n <namespace>` and `kubectl get policyreports -n \
                  <namespace>` name the policy and rule; fix the manifest, never the policy.",
        cases: vec![
            case(ours, "false", true),
            case(ours, "true", false),
            case(outside, "false", false),
        ],
    }
}

fn over_budget(group: &str, team: &str, budget: f64, ours: &str, threshold: &Duration) -> Alert {
    let (fires_at, _) = held(Some(threshold));
    let samples = steps_to(fires_at);
    let hours = f64::from(cost_queries::HOURS_PER_MONTH);
    // One node at 1 per core-hour and 0 per GiB-hour: the team's hourly cost is its cores.
    let world = |cores: f64| {
        let container = [
            ("job", job::OPENCOST),
            ("namespace", ours),
            ("pod", "pod-under-test"),
            ("container", "main"),
            ("node", "node-1"),
            ("instance", "opencost:9003"),
        ];
        let node = [
            ("job", job::OPENCOST),
            ("node", "node-1"),
            ("instance", "opencost:9003"),
        ];
        vec![
            InputSeries {
                series: series("container_cpu_allocation", &container),
                values: constant(&cores.to_string(), samples),
            },
            InputSeries {
                series: series("container_memory_allocation_bytes", &container),
                values: constant("1073741824", samples),
            },
            InputSeries {
                series: series("node_cpu_hourly_cost", &node),
                values: constant("1", samples),
            },
            InputSeries {
                series: series("node_ram_hourly_cost", &node),
                values: constant("0", samples),
            },
            InputSeries {
                // The pod carries no labels of its own (a chart's pod): its namespace's count.
                series: series(
                    "kube_namespace_labels",
                    &[
                        ("job", "kubernetes-service-endpoints"),
                        ("namespace", ours),
                        ("label_team", team),
                    ],
                ),
                values: constant("1", samples),
            },
        ]
    };
    let over = (budget / hours).floor() + 1.0;
    let under = budget / hours / 2.0;
    let cases = Case::held(
        Some(threshold),
        world(over),
        world(under),
        labels(&[("team", team)]),
    );
    let run_rate =
        cost_queries::monthly(&cost_queries::hourly_cost_by_team(&format!("=\"{team}\"")));
    Alert {
        group: group.to_owned(),
        rule: rule(
            "TeamOverBudget",
            format!("{run_rate} > {budget}"),
            Some(threshold),
            team,
            Severity::Warning,
            "Team {{ $labels.team }} runs above its monthly budget",
            format!(
                "At the current allocation, the team's pods cost more than its budget of \
                 {budget} a month (OpenCost's hourly cost × {})",
                cost_queries::HOURS_PER_MONTH
            ),
        ),
        runbook: "Open Grafana's cost dashboard, find the namespace or app that grew, and \
                  lower its replicas or requests, or raise `teams[].monthly_budget` with the \
                  cost center's approval.",
        cases,
    }
}
