//! Every container a chart runs with the platform's values has CPU and memory requests and
//! limits set in those values, and every container of a workload in the tree (the
//! platform's own, and a hydrated chart's real ones) sets them: the platform's own cost is
//! known, and no pod of it can starve the node it runs on.

use serde_json::Value;

use super::{Environment, WORKLOADS};

const REQUIRED: [(&str, &str); 4] = [
    ("requests", "cpu"),
    ("requests", "memory"),
    ("limits", "cpu"),
    ("limits", "memory"),
];

impl Environment<'_> {
    pub(super) fn workload_containers_have_requests_and_limits(&mut self) {
        let objects: Vec<_> = self.objects.clone();
        for workload in objects {
            let Some((_, template)) = WORKLOADS.iter().find(|(kind, _)| *kind == workload.kind())
            else {
                continue;
            };
            let spec = template.strip_suffix("/metadata").unwrap_or(template);
            let pod = format!("{spec}/spec");
            for field in ["initContainers", "containers"] {
                let pointer = format!("{pod}/{field}");
                let containers = workload
                    .object
                    .pointer(&pointer)
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                for (index, container) in containers.iter().enumerate() {
                    let resources = &container["resources"];
                    let missing = missing(Some(resources));
                    if !missing.is_empty() {
                        self.finding(
                            workload,
                            &format!("{pointer}/{index}/resources"),
                            "container-resources",
                            resources,
                            format!(
                                "container `{}` has no {}; every container the platform runs sets CPU and memory requests and limits",
                                container["name"].as_str().unwrap_or_default(),
                                missing.join(", ")
                            ),
                        );
                    }
                }
            }
        }
    }

    pub(super) fn chart_containers_have_requests_and_limits(&mut self) {
        let applications: Vec<_> = self.applications.values().copied().collect();
        for app in applications {
            for (pointer, source) in app.sources() {
                let Some(chart) = source["chart"].as_str() else {
                    continue;
                };
                let Some((_, paths)) = self
                    .conventions
                    .chart_resources
                    .iter()
                    .find(|(name, _)| name == chart)
                else {
                    continue;
                };
                let values = &source["helm"]["valuesObject"];
                for path in paths {
                    let resources = path
                        .split('.')
                        .try_fold(values, |value, key| value.get(key));
                    let missing = missing(resources);
                    if !missing.is_empty() {
                        let pointer =
                            format!("{pointer}/helm/valuesObject/{}", path.replace('.', "/"));
                        self.finding(
                            app,
                            &pointer,
                            "helm-resources",
                            resources.unwrap_or(&Value::Null),
                            format!(
                                "the {chart} chart's container at `{path}` has no {}; every container the platform runs sets CPU and memory requests and limits",
                                missing.join(", ")
                            ),
                        );
                    }
                }
            }
        }
    }
}

/// What of [`REQUIRED`] a container's `resources` lacks.
fn missing(resources: Option<&Value>) -> Vec<String> {
    REQUIRED
        .iter()
        .filter(|(section, resource)| {
            resources
                .and_then(|resources| resources.get(section))
                .and_then(|list| list.get(resource))
                .is_none_or(Value::is_null)
        })
        .map(|(section, resource)| format!("{section}.{resource}"))
        .collect()
}
