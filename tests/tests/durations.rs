//! Every duration of an environment file reaches its consumer in a form the consumer parses:
//! Go's `time.ParseDuration` for Argo CD, ESO and Kyverno (no days or weeks), Prometheus's
//! own grammar for Prometheus (units in order, days and weeks allowed).

use platform::LoadedEnvironment;
use platform_core::model::Duration;
use platform_tests::{load, objects, render};
use serde_json::Value;

/// Go's `time.ParseDuration`: one or more `<decimal><unit>`, units ns us µs ms s m h.
fn go_parses(text: &str) -> bool {
    let mut rest = text;
    if rest.is_empty() {
        return false;
    }
    while !rest.is_empty() {
        let digits = rest.len()
            - rest
                .trim_start_matches(|c: char| c.is_ascii_digit() || c == '.')
                .len();
        if digits == 0 {
            return false;
        }
        rest = &rest[digits..];
        let Some(unit) = ["ns", "us", "µs", "ms", "s", "m", "h"]
            .into_iter()
            .filter(|u| rest.starts_with(u))
            .max_by_key(|u| u.len())
        else {
            return false;
        };
        rest = &rest[unit.len()..];
    }
    true
}

/// Prometheus's `model.ParseDuration`: `^((\d+)y)?((\d+)w)?((\d+)d)?((\d+)h)?((\d+)m)?((\d+)s)?((\d+)ms)?$`.
fn prometheus_parses(text: &str) -> bool {
    let order = ["y", "w", "d", "h", "m", "s", "ms"];
    let mut rest = text;
    let mut last: Option<usize> = None;
    while !rest.is_empty() {
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits == 0 {
            return false;
        }
        rest = &rest[digits..];
        let unit = if rest.starts_with("ms") {
            "ms"
        } else {
            rest.get(..1).unwrap_or("")
        };
        let Some(position) = order.iter().position(|u| *u == unit) else {
            return false;
        };
        if last.is_some_and(|l| position <= l) {
            return false;
        }
        last = Some(position);
        rest = &rest[unit.len()..];
    }
    !text.is_empty()
}

struct Field {
    name: &'static str,
    set: fn(&mut LoadedEnvironment, Duration),
    file: &'static str,
    pointer: &'static str,
    parses: fn(&str) -> bool,
}

fn fields() -> Vec<Field> {
    vec![
        Field {
            name: "argocd.reconciliation_timeout",
            set: |e, d| e.env.argocd.reconciliation_timeout = d,
            file: "apps/argocd.yaml",
            pointer: "/spec/sources/0/helm/valuesObject/configs/cm/timeout.reconciliation",
            parses: go_parses,
        },
        Field {
            name: "secrets.refresh_interval",
            set: |e, d| e.env.secrets.refresh_interval = d,
            file: "manifests/finops-app/externalsecret-finops-db-creds.yaml",
            pointer: "/spec/refreshInterval",
            parses: go_parses,
        },
        Field {
            name: "policies.background_scan_interval",
            set: |e, d| e.env.policies.background_scan_interval = d,
            file: "apps/kyverno.yaml",
            pointer: "/spec/sources/0/helm/valuesObject/features/backgroundScan/backgroundScanInterval",
            parses: go_parses,
        },
        Field {
            name: "argocd.sync_retry.backoff",
            set: |e, d| e.env.argocd.sync_retry.as_mut().unwrap().backoff = d,
            file: "apps/vault.yaml",
            pointer: "/spec/syncPolicy/retry/backoff/duration",
            parses: go_parses,
        },
        Field {
            name: "argocd.sync_retry.max_backoff",
            set: |e, d| e.env.argocd.sync_retry.as_mut().unwrap().max_backoff = d,
            file: "apps/vault.yaml",
            pointer: "/spec/syncPolicy/retry/backoff/maxDuration",
            parses: go_parses,
        },
        Field {
            name: "prometheus.scrape_interval",
            set: |e, d| e.env.prometheus.scrape_interval = d,
            file: "apps/prometheus.yaml",
            pointer: "/spec/sources/0/helm/valuesObject/server/global/scrape_interval",
            parses: prometheus_parses,
        },
        Field {
            name: "prometheus.retention",
            set: |e, d| e.env.prometheus.retention = d,
            file: "apps/prometheus.yaml",
            pointer: "/spec/sources/0/helm/valuesObject/server/retention",
            parses: prometheus_parses,
        },
    ]
}

#[test]
fn every_duration_is_written_as_its_consumer_parses_it() {
    let mut wrong = Vec::new();
    for field in fields() {
        for written in ["1w2d", "2d1h", "30m1h", "90s", "1d", "250ms"] {
            // prod: the only environment with sync retries.
            let mut loaded = load("prod");
            // The chart's values, as an Application that leaves the chart to Argo CD carries
            // them; hydrating templates the same values.
            loaded.env.argocd.hydrate = false;
            (field.set)(&mut loaded, Duration::try_from(written).unwrap());
            let objects = objects(&render(&loaded));
            let object = objects
                .get(field.file)
                .unwrap_or_else(|| panic!("{}: no {}", field.name, field.file));
            let value = object.pointer(field.pointer).and_then(Value::as_str);
            match value {
                Some(text) if (field.parses)(text) => {}
                other => wrong.push(format!(
                    "{} = {written} is written as {other:?}",
                    field.name
                )),
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_grammars_refuse_what_their_parsers_refuse() {
    assert!(!go_parses("1d") && !go_parses("1w") && go_parses("24h") && go_parses("1h30m"));
    assert!(!prometheus_parses("30m1h") && prometheus_parses("1h30m") && prometheus_parses("1w2d"));
}
