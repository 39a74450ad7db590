//! Which subcharts a chart's `Chart.yaml` enables for given values, as Helm decides it
//! (`pkg/chart/v2/util/dependencies.go` `processDependencyConditions`): the first path of a
//! dependency's comma-separated `condition` that holds a boolean in the coalesced values
//! decides; with none, the subchart is on. The coalesced values are the Application's, over
//! the chart's `values.yaml`, over the subchart's own `values.yaml` below its name.

use std::fs;
use std::path::Path;

use serde_json::Value;

/// A dependency of a chart, and whether the values turn it on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subchart {
    pub name: String,
    /// The version `Chart.lock` pins (the `Chart.yaml` constraint where there is no lock).
    pub version: String,
    pub condition: Option<String>,
    pub enabled: bool,
}

/// The dependencies of the chart in `chart_dir` under `values`.
pub fn subcharts(chart_dir: &Path, values: &Value) -> Result<Vec<Subchart>, String> {
    let chart = read_yaml(&chart_dir.join("Chart.yaml"))?;
    let lock = read_yaml(&chart_dir.join("Chart.lock")).unwrap_or(Value::Null);
    let defaults = read_yaml(&chart_dir.join("values.yaml")).unwrap_or(Value::Null);
    let mut subcharts = Vec::new();
    for dependency in chart["dependencies"].as_array().into_iter().flatten() {
        let name = dependency["name"].as_str().unwrap_or_default().to_owned();
        if dependency.get("tags").is_some_and(|t| !t.is_null()) {
            return Err(format!(
                "{}: dependency {name} is switched by `tags`, which this does not read",
                chart_dir.join("Chart.yaml").display()
            ));
        }
        let alias = dependency["alias"].as_str().unwrap_or(&name).to_owned();
        let version = lock["dependencies"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|locked| locked["name"] == name.as_str())
            .and_then(|locked| scalar(&locked["version"]))
            .or_else(|| scalar(&dependency["version"]))
            .unwrap_or_default();
        let own = read_yaml(&chart_dir.join("charts").join(&name).join("values.yaml"))
            .unwrap_or(Value::Null);
        let condition = dependency["condition"].as_str().map(str::to_owned);
        let enabled = condition.as_deref().is_none_or(|condition| {
            condition
                .split(',')
                .map(str::trim)
                .find_map(|path| {
                    let segments: Vec<&str> = path.split('.').collect();
                    let in_own = segments
                        .split_first()
                        .filter(|(first, _)| **first == alias)
                        .and_then(|(_, rest)| bool_at(&own, rest));
                    bool_at(values, &segments)
                        .or_else(|| bool_at(&defaults, &segments))
                        .or(in_own)
                })
                .unwrap_or(true)
        });
        subcharts.push(Subchart {
            name,
            version,
            condition,
            enabled,
        });
    }
    Ok(subcharts)
}

fn bool_at(values: &Value, path: &[&str]) -> Option<bool> {
    path.iter()
        .try_fold(values, |value, key| value.get(key))
        .and_then(Value::as_bool)
}

fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

pub(crate) fn read_yaml(path: &Path) -> Result<Value, String> {
    let text = fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_yaml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_boolean_path_decides_and_values_win_over_defaults() {
        let dir =
            std::env::temp_dir().join(format!("platform-helm-conditions-{}", std::process::id()));
        fs::create_dir_all(dir.join("charts/b")).unwrap();
        fs::write(
            dir.join("Chart.yaml"),
            "name: p\nversion: 1.0.0\ndependencies:\n- name: a\n  version: 1.*\n  condition: a.enabled\n- name: b\n  version: 2.0.0\n  condition: b.missing,b.enabled\n- name: c\n  version: 3.0.0\n",
        )
        .unwrap();
        fs::write(
            dir.join("Chart.lock"),
            "dependencies:\n- name: a\n  version: 1.4.2\n",
        )
        .unwrap();
        fs::write(dir.join("values.yaml"), "a:\n  enabled: false\n").unwrap();
        fs::write(dir.join("charts/b/values.yaml"), "enabled: false\n").unwrap();
        let found = |values: Value| -> Vec<(String, String, bool)> {
            subcharts(&dir, &values)
                .unwrap()
                .into_iter()
                .map(|s| (s.name, s.version, s.enabled))
                .collect()
        };
        assert_eq!(
            found(Value::Null),
            [
                ("a".into(), "1.4.2".into(), false),
                ("b".into(), "2.0.0".into(), false),
                ("c".into(), "3.0.0".into(), true)
            ]
        );
        let on = found(serde_json::json!({"a": {"enabled": true}, "b": {"enabled": true}}));
        assert!(on.iter().all(|(_, _, enabled)| *enabled), "{on:?}");
        fs::remove_dir_all(&dir).unwrap();
    }
}
