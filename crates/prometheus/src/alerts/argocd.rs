//! Argo CD's alerts, evaluated where its metrics are: by the Prometheus of the environment
//! that runs it (the one that manages a hub's Argo CD, in whose cluster it runs), for every
//! environment it deploys, each with its own thresholds.
//!
//! An Application answers to whoever its AppProject says: the environment's platform
//! project (and its root Application, in Argo CD's `default` project) to the platform team,
//! `team-<team>` to that team. So a team's `tenant-<team>`, which the platform ships into
//! the platform project, pages the platform, and environments on one hub never share a
//! rule: their projects carry the environment's name. Argo CD v3.4.4 labels
//! `argocd_app_info` and `argocd_app_sync_total` with `namespace`, `name` and `project`
//! (`controller/metrics/metrics.go`, `descAppDefaultLabels`).

use platform_core::application::{ROOT_APPLICATION, ROOT_PROJECT};
use platform_core::component::PLATFORM_PROJECT;
use platform_core::model::{Environment, ServedEnvironment, Severity};
use platform_core::names;

use super::{Alert, Case, STEP_SECONDS, constant, held, job, labels, rule, steps_to};
use crate::rules::{InputSeries, series};

/// The label a hub's rules carry, naming the environment whose Application fired.
pub const ENVIRONMENT: &str = platform_core::labels::ENVIRONMENT;

/// Every Argo CD alert of the environments `env`'s Argo CD deploys; none where it runs no
/// Argo CD (a hub's other environments: the managing one's Prometheus evaluates theirs).
pub(super) fn alerts(env: &Environment) -> Vec<Alert> {
    env.argocd
        .serves
        .iter()
        .flat_map(|served| {
            owners(served)
                .into_iter()
                .flat_map(move |owner| owner_alerts(served, &owner))
        })
        .collect()
}

/// The rule group of an environment's Argo CD alerts.
pub fn group(served: &ServedEnvironment) -> String {
    if served.shared {
        format!("argocd-{}", served.name)
    } else {
        "argocd".to_owned()
    }
}

/// Who answers for some of an environment's Applications, and how their series are told
/// apart: any one of the label sets matches.
struct Owner {
    team: String,
    selectors: Vec<Vec<(&'static str, String)>>,
}

fn owners(served: &ServedEnvironment) -> Vec<Owner> {
    let platform = Owner {
        team: served.platform_team.to_string(),
        selectors: vec![
            vec![("project", served.argo_name(PLATFORM_PROJECT))],
            vec![
                ("project", ROOT_PROJECT.to_owned()),
                ("name", served.argo_name(ROOT_APPLICATION)),
            ],
        ],
    };
    let teams = served.app_teams.iter().map(|team| Owner {
        team: team.to_string(),
        selectors: vec![vec![(
            "project",
            served.argo_name(&names::team_scoped(team.as_str())),
        )]],
    });
    std::iter::once(platform).chain(teams).collect()
}

fn matchers(selector: &[(&str, String)]) -> String {
    selector
        .iter()
        .map(|(name, value)| format!("{name}=\"{value}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `metric{<condition>, <selector>}` for each of the owner's selectors, or-ed.
fn over_selectors(owner: &Owner, each: impl Fn(&str) -> String) -> String {
    owner
        .selectors
        .iter()
        .map(|selector| each(&matchers(selector)))
        .collect::<Vec<_>>()
        .join(" or ")
}

fn owner_alerts(served: &ServedEnvironment, owner: &Owner) -> Vec<Alert> {
    let thresholds = &served.thresholds;
    let mut alerts = Vec::new();
    for (alert, status_label, bad, good, threshold, severity, summary, runbook) in [
        (
            "ArgoCdAppDegraded",
            "health_status",
            "Degraded",
            "Healthy",
            &thresholds.degraded,
            Severity::Critical,
            "Application {{ $labels.name }} is degraded",
            "Open the Application in Argo CD: the resource tree shows which object is \
             Degraded and why (a crash-looping pod, a failed Job, an unready ExternalSecret).",
        ),
        (
            "ArgoCdAppOutOfSync",
            "sync_status",
            "OutOfSync",
            "Synced",
            &thresholds.out_of_sync,
            Severity::Warning,
            "Application {{ $labels.name }} is out of sync",
            "Compare Git with the cluster (`argocd app diff`); a manual-sync Application \
             (Kyverno) waits for a person, an automated one for a failing sync or an \
             ignored difference.",
        ),
    ] {
        let (fires_at, _) = held(Some(threshold));
        let samples = steps_to(fires_at);
        let one = |pairs: &[(&str, &str)]| InputSeries {
            series: series("argocd_app_info", pairs),
            values: constant("1", samples),
        };
        let info = |selector: &[(&'static str, String)], status: &str| {
            app_info(served, selector, status_label, status)
        };
        let ours = &owner.selectors[0];
        let bad_ours = info(ours, bad);
        let mut cases = Case::held(
            Some(threshold),
            vec![one(&borrowed(&bad_ours))],
            vec![one(&borrowed(&info(ours, good)))],
            labels(&borrowed(&bad_ours)),
        );
        // Each of the owner's selectors fires on its own.
        for selector in &owner.selectors[1..] {
            let bad_here = info(selector, bad);
            cases.push(Case {
                input_series: vec![one(&borrowed(&bad_here))],
                eval_after_seconds: fires_at,
                firing: vec![labels(&borrowed(&bad_here))],
            });
        }
        // Another owner's Application, or the same project name in another environment of
        // the hub, is not this owner's alert.
        for elsewhere in others(served, owner) {
            cases.push(Case {
                input_series: vec![one(&borrowed(&info(&elsewhere, bad)))],
                eval_after_seconds: fires_at,
                firing: Vec::new(),
            });
        }
        alerts.push(Alert {
            group: group(served),
            rule: labelled(
                served,
                rule(
                    alert,
                    over_selectors(owner, |selector| {
                        format!("argocd_app_info{{{status_label}=\"{bad}\", {selector}}}")
                    }),
                    Some(threshold),
                    &owner.team,
                    severity,
                    summary,
                    format!(
                        "Argo CD reports Application {{{{ $labels.name }}}} (project \
                         {{{{ $labels.project }}}}, deploying to {{{{ $labels.dest_namespace }}}} \
                         on {{{{ $labels.dest_server }}}}) {bad} for more than {}.",
                        threshold.as_prometheus()
                    ),
                ),
            ),
            runbook,
            cases,
        });
    }
    alerts.push(sync_failed(served, owner));
    alerts
}

/// Label sets of Applications that are not the owner's: another project of the same
/// environment, and the owner's own project named as another environment would name it.
fn others(served: &ServedEnvironment, owner: &Owner) -> Vec<Vec<(&'static str, String)>> {
    let project = &owner.selectors[0][0].1;
    vec![
        vec![("project", format!("not-{project}"))],
        vec![("project", format!("elsewhere-{project}"))],
    ]
    .into_iter()
    .filter(|selector| {
        !owners(served)
            .iter()
            .any(|o| o.selectors.contains(selector))
    })
    .collect()
}

fn borrowed<'a>(pairs: &'a [(&'a str, String)]) -> Vec<(&'a str, &'a str)> {
    pairs.iter().map(|(n, v)| (*n, v.as_str())).collect()
}

/// A hub's rules say which environment fired: Alertmanager receives every environment's.
fn labelled(
    served: &ServedEnvironment,
    mut rule: crate::rules::AlertingRule,
) -> crate::rules::AlertingRule {
    if served.shared {
        rule.labels
            .insert(ENVIRONMENT.to_owned(), served.name.clone());
    }
    rule
}

/// An `argocd_app_info` series of an Application matched by `selector`, healthy and synced
/// but for `status_label`, which reads `status`.
fn app_info(
    served: &ServedEnvironment,
    selector: &[(&'static str, String)],
    status_label: &'static str,
    status: &str,
) -> Vec<(&'static str, String)> {
    let mut pairs = application_labels(served);
    pairs.extend([
        ("dest_namespace", "under-test".to_owned()),
        ("health_status", "Healthy".to_owned()),
        ("sync_status", "Synced".to_owned()),
    ]);
    let status = (status_label, status.to_owned());
    overridden(&mut pairs, selector.iter().chain([&status]));
    pairs
}

/// The labels both metrics give an Application of `served` (`descAppDefaultLabels` and
/// `dest_server`), for a test's series: its own, once a case overrides them.
fn application_labels(served: &ServedEnvironment) -> Vec<(&'static str, String)> {
    vec![
        ("job", job::ARGOCD.to_owned()),
        ("namespace", names::namespace::ARGOCD.to_owned()),
        ("name", "app-under-test".to_owned()),
        ("project", "under-test".to_owned()),
        ("dest_server", served.server.clone()),
    ]
}

/// Sets each of `pairs`' labels that `overrides` names to its value there.
fn overridden<'a>(
    pairs: &mut [(&'static str, String)],
    overrides: impl IntoIterator<Item = &'a (&'static str, String)>,
) {
    for (name, value) in overrides {
        if let Some(pair) = pairs.iter_mut().find(|pair| pair.0 == *name) {
            pair.1.clone_from(value);
        }
    }
}

fn sync_failed(served: &ServedEnvironment, owner: &Owner) -> Alert {
    let window = "15m";
    let sync = |selector: &[(&'static str, String)], phase: &str| {
        let mut pairs = application_labels(served);
        pairs.extend([("phase", phase.to_owned()), ("dry_run", "false".to_owned())]);
        overridden(&mut pairs, selector);
        pairs
    };
    let case = |selector: &[(&'static str, String)], phase: &str, fires: bool| {
        let pairs = sync(selector, phase);
        Case {
            input_series: vec![InputSeries {
                series: series("argocd_app_sync_total", &borrowed(&pairs)),
                values: "0+1x20".to_owned(),
            }],
            eval_after_seconds: 10 * STEP_SECONDS,
            firing: if fires {
                vec![labels(&borrowed(&pairs))]
            } else {
                Vec::new()
            },
        }
    };
    let ours = &owner.selectors[0];
    let mut cases = vec![
        case(ours, "Failed", true),
        case(ours, "Error", true),
        case(ours, "Succeeded", false),
    ];
    cases.extend(
        owner.selectors[1..]
            .iter()
            .map(|selector| case(selector, "Failed", true)),
    );
    cases.extend(
        others(served, owner)
            .iter()
            .map(|selector| case(selector, "Failed", false)),
    );
    Alert {
        group: group(served),
        rule: labelled(
            served,
            rule(
                "ArgoCdSyncFailed",
                over_selectors(owner, |selector| {
                    format!(
                        "increase(argocd_app_sync_total{{phase=~\"Error|Failed\", {selector}}}[{window}]) > 0"
                    )
                }),
                None,
                &owner.team,
                Severity::Warning,
                "A sync of Application {{ $labels.name }} failed",
                format!(
                    "Argo CD recorded a sync of {{{{ $labels.name }}}} (project {{{{ $labels.project }}}}) ending in {{{{ $labels.phase }}}} in the last {window}."
                ),
            ),
        ),
        runbook: "`argocd app get <name>` shows the failed operation's message: usually an \
                  object the API server or Kyverno rejected, or a hook that failed.",
        cases,
    }
}
