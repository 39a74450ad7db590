//! `cargo xtask alerts --out DIR`: the monitoring configuration of each rendered environment,
//! as the files Prometheus's and Alertmanager's own tools check.
//!
//! From the committed tree (so what is checked is what Argo CD deploys): the alert rules of the
//! prometheus Application's values, Alertmanager's configuration from the alertmanager
//! Application's values, and every PromQL query of the Grafana dashboards' ConfigMap as a
//! recording rule. From the environment files: `promtool test rules` tests of every alert.
//! `.ci/run` then runs `promtool check rules`, `promtool test rules` and `amtool check-config`.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::ExitCode;

use platform_checkout::{Checkout, read_tree};
use serde_json::Value;

use crate::Failure;
use crate::environments::load_all;

/// Grafana's variables, as the dashboards' queries use them, with values for checking.
const DASHBOARD_VARIABLES: [(&str, &str); 2] = [("$__range", "30d"), ("$__rate_interval", "5m")];

pub fn run(checkout: &Checkout, out: &Path) -> Result<ExitCode, Failure> {
    let environments = load_all(checkout, Failure::Input)?;
    for loaded in &environments {
        let dir = checkout.rendered_dir().join(&loaded.name);
        let tree = read_tree(&dir).map_err(|e| Failure::Io(e.to_string()))?;
        let objects = parse(&tree.files)?;
        let target = out.join(&loaded.name);
        fs::create_dir_all(&target)
            .map_err(|e| Failure::Io(format!("{}: {e}", target.display())))?;
        let mut summary = Vec::new();

        // From the chart's values an Application carries, or, where the environment hydrates
        // its charts, from the ConfigMap the chart wrote them into, as the server reads it.
        let rules = match helm_values(&objects, "prometheus") {
            Some(values) => {
                Some(values["serverFiles"][platform::catalog::ALERTING_RULES_FILE].clone())
            }
            None => config_map_file(
                &objects,
                "prometheus-server",
                platform::catalog::ALERTING_RULES_FILE,
            )?,
        };
        if let Some(rules) = rules.as_ref()
            && !rules.is_null()
        {
            let count = rules["groups"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|g| g["rules"].as_array().map_or(0, Vec::len))
                .sum::<usize>();
            write(&target, platform::catalog::ALERTING_RULES_FILE, rules)?;
            let tests =
                platform::catalog::alert_tests(&loaded.env, platform::catalog::ALERTING_RULES_FILE);
            let cases = tests.tests.len();
            let tests = serde_json::to_value(&tests)
                .map_err(|e| Failure::Internal(format!("tests do not serialize: {e}")))?;
            write(&target, "alerting_rules.test.yml", &tests)?;
            summary.push(format!("{count} alert rules, {cases} unit tests"));
        }
        let alertmanager = match helm_values(&objects, "alertmanager") {
            Some(values) => {
                let mut config = values["config"].clone();
                if let Some(map) = config.as_object_mut() {
                    // The chart's switch, not Alertmanager's.
                    map.shift_remove("enabled");
                }
                Some(config)
            }
            None => config_map_file(&objects, "alertmanager", "alertmanager.yml")?,
        };
        if let Some(config) = alertmanager {
            write(&target, "alertmanager.yml", &config)?;
            summary.push("alertmanager.yml".to_owned());
        }
        let queries = dashboard_queries(&objects)?;
        if !queries.is_empty() {
            let rules: Vec<Value> = queries
                .iter()
                .map(|(record, expr)| serde_json::json!({"record": record, "expr": expr}))
                .collect();
            let file =
                serde_json::json!({"groups": [{"name": "dashboard-queries", "rules": rules}]});
            write(&target, "dashboard_queries.yml", &file)?;
            summary.push(format!("{} dashboard queries", queries.len()));
        }
        println!("{}: {}", target.display(), summary.join(", "));
    }
    Ok(ExitCode::SUCCESS)
}

fn parse(files: &BTreeMap<String, String>) -> Result<Vec<Value>, Failure> {
    let mut objects = Vec::new();
    for (path, text) in files.iter().filter(|(p, _)| p.ends_with(".yaml")) {
        let value: Value = serde_yaml::from_str(text)
            .map_err(|e| Failure::Usage(format!("{path}: not YAML: {e}")))?;
        objects.push(value);
    }
    Ok(objects)
}

/// The Helm values of the Application that installs `chart`.
fn helm_values<'a>(objects: &'a [Value], chart: &str) -> Option<&'a Value> {
    objects
        .iter()
        .filter(|o| o["kind"] == "Application")
        .flat_map(|o| o["spec"]["sources"].as_array().into_iter().flatten())
        .find(|source| source["chart"] == chart)
        .map(|source| &source["helm"]["valuesObject"])
}

/// The YAML file `key` of a hydrated chart's ConfigMap `name`, read.
fn config_map_file(objects: &[Value], name: &str, key: &str) -> Result<Option<Value>, Failure> {
    let Some(text) = objects
        .iter()
        .find(|o| o["kind"] == "ConfigMap" && o["metadata"]["name"] == name)
        .and_then(|o| o["data"][key].as_str())
    else {
        return Ok(None);
    };
    serde_yaml::from_str(text)
        .map(Some)
        .map_err(|e| Failure::Internal(format!("ConfigMap {name}'s {key} is not YAML: {e}")))
}

/// Every query of every dashboard in a ConfigMap of dashboards, named
/// `dashboard:<uid>:panel_<id>_<refId>`, with Grafana's variables given values.
fn dashboard_queries(objects: &[Value]) -> Result<Vec<(String, String)>, Failure> {
    let mut queries = Vec::new();
    for config_map in objects.iter().filter(|o| o["kind"] == "ConfigMap") {
        for (file, text) in config_map["data"].as_object().into_iter().flatten() {
            if !file.ends_with(".json") {
                continue;
            }
            let dashboard: Value = serde_json::from_str(text.as_str().unwrap_or_default())
                .map_err(|e| Failure::Usage(format!("dashboard {file}: not JSON: {e}")))?;
            let uid = dashboard["uid"]
                .as_str()
                .unwrap_or_default()
                .replace('-', "_");
            for panel in dashboard["panels"].as_array().into_iter().flatten() {
                for target in panel["targets"].as_array().into_iter().flatten() {
                    let mut expr = target["expr"].as_str().unwrap_or_default().to_owned();
                    for (variable, value) in DASHBOARD_VARIABLES {
                        expr = expr.replace(variable, value);
                    }
                    queries.push((
                        format!(
                            "dashboard:{uid}:panel_{}_{}",
                            panel["id"],
                            target["refId"].as_str().unwrap_or_default()
                        ),
                        expr,
                    ));
                }
            }
        }
    }
    Ok(queries)
}

fn write(dir: &Path, name: &str, value: &Value) -> Result<(), Failure> {
    let path = dir.join(name);
    let text = serde_yaml::to_string(value)
        .map_err(|e| Failure::Internal(format!("{name} does not serialize: {e}")))?;
    fs::write(&path, text).map_err(|e| Failure::Io(format!("{}: {e}", path.display())))
}
