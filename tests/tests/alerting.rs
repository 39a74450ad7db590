//! Grafana, Alertmanager and the alert rules: what follows from the model, what never reaches
//! Git, and that every alert is unit-tested both ways. promtool and amtool themselves run in
//! `.ci/run` over `cargo xtask alerts`.

use platform::catalog;
use platform_tests::{chart_values, load, load_all, objects, render, two_teams};
use serde_json::Value;

#[test]
fn every_alert_is_tested_firing_and_silent() {
    for loaded in load_all().into_iter().chain([two_teams()]) {
        let alerts = catalog::alerts(&loaded.env);
        assert!(
            alerts.len() >= 8,
            "{}: {} alerts",
            loaded.name,
            alerts.len()
        );
        for alert in &alerts {
            assert!(
                alert.cases.iter().any(|c| c.fires()),
                "{}: {} has no firing case",
                loaded.name,
                alert.rule.alert
            );
            assert!(
                alert.cases.iter().any(|c| !c.fires()),
                "{}: {} has no silent case",
                loaded.name,
                alert.rule.alert
            );
            for key in ["summary", "description"] {
                assert!(!alert.rule.annotations[key].is_empty(), "{key}");
            }
            assert!(!alert.runbook.is_empty());
        }
        let tests = catalog::alert_tests(&loaded.env, catalog::ALERTING_RULES_FILE);
        let cases: usize = alerts.iter().map(|a| a.cases.len()).sum();
        assert_eq!(tests.tests.len(), cases);
    }
}

#[test]
fn an_app_added_falls_under_its_teams_alerts() {
    let loaded = two_teams();
    let alerts = catalog::alerts(&loaded.env);
    let billing = loaded
        .env
        .apps
        .iter()
        .find(|a| a.team.as_str() == "billing")
        .unwrap();
    let namespace = billing.namespace().to_string();
    let of = |group: &str, alert: &str| {
        alerts
            .iter()
            .find(|a| a.group == group && a.rule.alert == alert)
            .unwrap_or_else(|| panic!("no {alert} in {group}"))
    };
    for alert in ["ExternalSecretNotReady", "KyvernoAdmissionDenied"] {
        let rule = &of("team-billing", alert).rule;
        assert!(rule.expr.contains(&namespace), "{alert}: {}", rule.expr);
        assert_eq!(rule.labels["team"], "billing", "routed to the team");
        let finops = &of("team-finops", alert).rule;
        assert!(!finops.expr.contains(&namespace), "not finops' {alert}");
    }
    // Argo CD's rules select the team's AppProject, which the new team's app is in.
    for alert in [
        "ArgoCdAppDegraded",
        "ArgoCdAppOutOfSync",
        "ArgoCdSyncFailed",
    ] {
        let rules: Vec<_> = alerts
            .iter()
            .filter(|a| a.group == "argocd" && a.rule.alert == alert)
            .map(|a| &a.rule)
            .collect();
        let billing: Vec<_> = rules
            .iter()
            .filter(|r| r.expr.contains("project=\"team-billing\""))
            .collect();
        assert_eq!(billing.len(), 1, "{alert}: {rules:?}");
        assert_eq!(billing[0].labels["team"], "billing", "routed to the team");
    }
    // The budget alert fires above exactly the declared budget.
    let budget = &of("team-billing", "TeamOverBudget").rule;
    assert!(budget.expr.ends_with("* 730 > 400"), "{}", budget.expr);
    assert!(budget.expr.contains("label_team=\"billing\""));
}

#[test]
fn alertmanager_routes_by_team_and_severity_and_reads_every_credential_from_vault() {
    let loaded = load("prod");
    let objects = objects(&render(&loaded));
    let config = &chart_values(&loaded, "alertmanager")["config"];
    assert_eq!(config["route"]["receiver"], "platform-slack");
    let routes = config["route"]["routes"].as_array().unwrap();
    // Staging's critical alerts (the hub's Argo CD alerts, evaluated here) go to Slack.
    assert_eq!(
        routes[0]["matchers"],
        serde_json::json!(["severity=\"critical\"", "environment=\"staging\""])
    );
    assert_eq!(routes[1]["matchers"][0], "severity=\"critical\"");
    assert_eq!(routes[2]["matchers"][0], "team=\"finops\"");
    let text = config.to_string();
    for field in [
        "\"api_url\"",
        "\"routing_key\"",
        "\"service_key\"",
        "\"credentials\"",
    ] {
        assert!(!text.contains(field), "a credential in Git: {field}");
    }
    let secret = objects
        .values()
        .find(|o| {
            o["kind"] == "ExternalSecret" && o["metadata"]["name"] == "alertmanager-receivers"
        })
        .expect("the receivers' ExternalSecret");
    assert_eq!(secret["spec"]["secretStoreRef"]["name"], "vault-backend");
    let data = secret["spec"]["data"].as_array().unwrap();
    assert_eq!(data.len(), loaded.env.alerting.receivers.len());
    for (item, receiver) in data.iter().zip(&loaded.env.alerting.receivers) {
        assert_eq!(item["remoteRef"]["key"], receiver.secret.as_str());
        assert_eq!(item["remoteRef"]["property"], receiver.kind.secret_field());
    }
    // dev declares no receiver: alerts go nowhere, and no Secret is read.
    let dev = objects_of("dev");
    assert_eq!(
        chart_values(&load("dev"), "alertmanager")["config"]["route"]["receiver"],
        "null"
    );
    assert!(
        !dev.keys()
            .any(|p| p.starts_with("manifests/alertmanager/externalsecret"))
    );
}

fn objects_of(env: &str) -> std::collections::BTreeMap<String, Value> {
    objects(&render(&load(env)))
}

#[test]
fn grafana_logs_in_with_vaults_password_and_its_dashboards_name_the_provisioned_datasource() {
    for loaded in load_all() {
        let objects = objects(&render(&loaded));
        let values = chart_values(&loaded, "grafana");
        assert!(values.get("adminPassword").is_none());
        assert_eq!(values["admin"]["existingSecret"], "grafana-admin");
        let secret = &objects["manifests/grafana/externalsecret-grafana-admin.yaml"];
        assert_eq!(secret["spec"]["target"]["name"], "grafana-admin");
        let datasource = &values["datasources"]["datasources.yaml"]["datasources"][0];
        assert_eq!(datasource["isDefault"], true);
        let uid = datasource["uid"].as_str().unwrap();
        let dashboards = &objects["manifests/grafana/configmap-grafana-dashboards.yaml"]["data"];
        let mut panels = 0;
        for (file, json) in dashboards.as_object().unwrap() {
            let dashboard: Value = serde_json::from_str(json.as_str().unwrap())
                .unwrap_or_else(|e| panic!("{}: {file} is not JSON: {e}", loaded.name));
            for panel in dashboard["panels"].as_array().unwrap() {
                panels += 1;
                assert_eq!(panel["datasource"]["uid"], uid, "{file}");
                for target in panel["targets"].as_array().unwrap() {
                    assert_eq!(target["datasource"]["uid"], uid, "{file}");
                    assert!(!target["expr"].as_str().unwrap().is_empty());
                }
            }
        }
        assert!(panels >= 10, "{}: {panels} panels", loaded.name);
        // Amounts are shown in the currency OpenCost reports in (its `currencyCode`).
        let currency = &loaded.env.cost.currency;
        let cost: Value =
            serde_json::from_str(dashboards["finops-cost.json"].as_str().unwrap()).unwrap();
        let units: Vec<&str> = cost["panels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["fieldConfig"]["defaults"]["unit"].as_str().unwrap())
            .collect();
        let money = units.iter().filter(|u| u.starts_with("currency")).count();
        assert!(money >= 8, "{}: {units:?}", loaded.name);
        for unit in units.iter().filter(|u| u.starts_with("currency")) {
            assert_eq!(*unit, format!("currency{currency}"), "{}", loaded.name);
        }
        let opencost = chart_values(&loaded, "opencost");
        assert_eq!(
            opencost["opencost"]["customPricing"]["costModel"]["currencyCode"],
            currency.as_str()
        );
    }
}

#[test]
fn prometheus_scrapes_what_the_rules_read_and_vault_serves_it_without_a_token() {
    for loaded in load_all() {
        let values = chart_values(&loaded, "prometheus");
        let jobs: Vec<Value> =
            serde_yaml::from_str(values["extraScrapeConfigs"].as_str().unwrap()).unwrap();
        let names: Vec<&str> = jobs
            .iter()
            .map(|j| j["job_name"].as_str().unwrap())
            .collect();
        for job in ["opencost", "external-secrets", "kyverno", "vault"] {
            assert!(
                names.contains(&job),
                "{}: no {job} job: {names:?}",
                loaded.name
            );
        }
        assert_eq!(names.contains(&"argocd"), loaded.env.argocd.enabled);
        let alerting = &values["server"]["alertmanagers"][0]["static_configs"][0]["targets"][0];
        assert_eq!(alerting, "alertmanager.alertmanager.svc:9093");
        if loaded.env.vault_tls() {
            let vault = chart_values(&loaded, "vault");
            let config = vault["server"]["ha"]["raft"]["config"].as_str().unwrap();
            assert!(
                config.contains("unauthenticated_metrics_access = true"),
                "{config}"
            );
            assert!(config.contains("prometheus_retention_time"), "{config}");
        }
    }
}

/// Every environment's Applications, as Argo CD's metrics name them, raise their Argo CD
/// alerts where that Argo CD runs (the environment that manages it: a hub's manager for
/// all of the hub's), routed to who answers for them: a team's app to the team, anything
/// else (the platform's components, the root, a team's `tenant-<team>`) to the platform.
/// promtool evaluates the committed rule file of every Argo CD; none fires for an
/// Application another Argo CD deploys.
#[test]
fn argocd_alerts_fire_where_argocd_runs_for_every_application_it_deploys_to_its_owner() {
    let all = load_all();
    let runs_argocd: Vec<_> = all.iter().filter(|e| e.env.argocd.enabled).collect();
    assert!(runs_argocd.len() >= 2, "dev and the hub's manager");
    let deployed_by = |e: &platform::LoadedEnvironment| {
        runs_argocd
            .iter()
            .find(|m| {
                m.name == e.name
                    || (e.env.argocd.hub.is_some() && m.env.argocd.hub == e.env.argocd.hub)
            })
            .map(|m| m.name.clone())
            .expect("every environment is deployed by an Argo CD")
    };
    let dir = std::env::temp_dir().join(format!("argocd-alerts-{}", std::process::id()));
    let mut checked = 0;
    for manager in &runs_argocd {
        let rules = &chart_values(manager, "prometheus")["serverFiles"]
            [platform::catalog::ALERTING_RULES_FILE];
        let degraded = rules["groups"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|g| g["rules"].as_array().unwrap())
            .find(|r| r["alert"] == "ArgoCdAppDegraded")
            .expect("the manager evaluates Argo CD's rules")
            .clone();
        let threshold = degraded["for"].as_str().unwrap().trim_end_matches('m');
        let eval_minutes: u64 = threshold.parse::<u64>().unwrap() + 1;
        let mut tests = Vec::new();
        for environment in &all {
            let ours = deployed_by(environment) == manager.name;
            let env_objects = objects_of(&environment.name);
            for application in env_objects.values().filter(|o| o["kind"] == "Application") {
                let name = application["metadata"]["name"].as_str().unwrap();
                let unprefixed = if environment.env.argocd.hub.is_some() {
                    name.strip_prefix(&format!("{}-", environment.name))
                        .unwrap()
                } else {
                    name
                };
                let owner = environment
                    .env
                    .apps
                    .iter()
                    .find(|app| app.name.as_str() == unprefixed)
                    .map_or(environment.env.platform_team.to_string(), |app| {
                        app.team.to_string()
                    });
                let mut series = serde_json::Map::new();
                for (label, value) in [
                    ("job", "argocd"),
                    ("namespace", "argocd"),
                    ("name", name),
                    ("project", application["spec"]["project"].as_str().unwrap()),
                    (
                        "dest_server",
                        application["spec"]["destination"]["server"]
                            .as_str()
                            .unwrap(),
                    ),
                    (
                        "dest_namespace",
                        application["spec"]["destination"]["namespace"]
                            .as_str()
                            .unwrap(),
                    ),
                    ("health_status", "Degraded"),
                    ("sync_status", "Synced"),
                ] {
                    series.insert(label.to_owned(), Value::from(value));
                }
                let selector: Vec<String> =
                    series.iter().map(|(k, v)| format!("{k}={v}")).collect();
                let expected = if ours {
                    let mut labels = series.clone();
                    labels.insert("severity".to_owned(), "critical".into());
                    labels.insert("team".to_owned(), owner.clone().into());
                    if environment.env.argocd.hub.is_some() {
                        labels.insert("environment".to_owned(), environment.name.clone().into());
                    }
                    let annotations: serde_json::Map<String, Value> = degraded["annotations"]
                        .as_object()
                        .unwrap()
                        .iter()
                        .map(|(key, template)| {
                            let mut text = template.as_str().unwrap().to_owned();
                            for (label, value) in &labels {
                                text = text.replace(
                                    &format!("{{{{ $labels.{label} }}}}"),
                                    value.as_str().unwrap(),
                                );
                            }
                            (key.clone(), Value::from(text))
                        })
                        .collect();
                    vec![serde_json::json!({"exp_labels": labels, "exp_annotations": annotations})]
                } else {
                    Vec::new()
                };
                tests.push(serde_json::json!({
                    "interval": "1m",
                    "input_series": [{
                        "series": format!("argocd_app_info{{{}}}", selector.join(", ")),
                        "values": format!("1x{}", eval_minutes + 2),
                    }],
                    "alert_rule_test": [{
                        "eval_time": format!("{eval_minutes}m"),
                        "alertname": "ArgoCdAppDegraded",
                        "exp_alerts": expected,
                    }],
                }));
                checked += usize::from(ours);
            }
        }
        let at = dir.join(&manager.name);
        std::fs::create_dir_all(&at).unwrap();
        std::fs::write(at.join("rules.yml"), serde_json::to_string(rules).unwrap()).unwrap();
        let file = serde_json::json!({
            "rule_files": ["rules.yml"],
            "evaluation_interval": "1m",
            "tests": tests,
        });
        let test_path = at.join("tests.yml");
        std::fs::write(&test_path, serde_json::to_string(&file).unwrap()).unwrap();
        let Some(output) = platform_tests::run_tool(
            "promtool",
            &["test", "rules", test_path.to_str().unwrap()],
            "",
        ) else {
            return;
        };
        assert!(
            output.status.success(),
            "{}'s Argo CD alerts:\n{}{}",
            manager.name,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    let applications: usize = all
        .iter()
        .map(|e| {
            objects_of(&e.name)
                .values()
                .filter(|o| o["kind"] == "Application")
                .count()
        })
        .sum();
    assert_eq!(checked, applications, "every Application alerts somewhere");
}

/// Alertmanager itself (`amtool config routes test`) routes prod's alerts as prod's file says:
/// a critical alert of prod pages, the same of staging (a hub's Argo CD alert, labelled
/// `environment: staging`) goes to Slack, a finops warning to finops' channel whichever
/// environment raised it.
#[test]
fn alertmanager_routes_a_hubs_alerts_by_environment() {
    let mut config = chart_values(&load("prod"), "alertmanager")["config"].clone();
    config.as_object_mut().unwrap().shift_remove("enabled");
    let dir = std::env::temp_dir().join(format!("alert-routes-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("alertmanager.yml");
    std::fs::write(&file, serde_json::to_string(&config).unwrap()).unwrap();
    let flag = format!("--config.file={}", file.display());
    for (labels, receiver) in [
        (
            ["severity=critical", "team=platform", "environment=prod"],
            "platform-pager",
        ),
        (
            ["severity=critical", "team=platform", "environment=staging"],
            "platform-slack",
        ),
        (
            ["severity=critical", "team=finops", "environment=staging"],
            "platform-slack",
        ),
        (
            ["severity=warning", "team=finops", "environment=staging"],
            "finops-slack",
        ),
        (
            ["severity=warning", "team=platform", "environment=prod"],
            "platform-slack",
        ),
    ] {
        let mut args = vec!["config", "routes", "test", flag.as_str()];
        args.extend(labels);
        let Some(output) = platform_tests::run_tool("amtool", &args, "") else {
            return;
        };
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&output.stdout).trim(),
            receiver,
            "{labels:?}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A route may name only environments whose alerts reach this Alertmanager: those of the
/// hub the environment's Argo CD deploys.
#[test]
fn a_route_for_an_environment_that_alerts_elsewhere_is_refused_at_its_line() {
    let files: Vec<_> = platform_tests::environment_files()
        .into_iter()
        .map(|mut file| {
            if file.name() == "prod" {
                file.contents = file
                    .contents
                    .replace("environments: [staging]", "environments: [dev]");
            }
            file
        })
        .collect();
    let errors = platform::check_hubs(&platform::load(&files).unwrap());
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(
        errors[0].path.as_deref(),
        Some("alerting.routes[0].environments[0]")
    );
    assert!(errors[0].location.is_some(), "points at the line");
    assert!(
        errors[0].message.contains("expected one of: prod, staging"),
        "{}",
        errors[0].message
    );
}
