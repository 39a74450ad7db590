//! Argo CD refuses what a project does not permit: find it here, not at sync time.

use super::*;

impl<'a> Environment<'a> {
    /// Argo CD refuses what a project does not permit; find it here, not at sync time.
    pub(super) fn applications_stay_within_their_projects(&mut self) {
        let projects: BTreeMap<&str, (&RenderedObject, Destinations<'_>)> = self
            .objects
            .iter()
            .filter(|o| o.kind() == "AppProject")
            .map(|o| (o.name(), (*o, Destinations::of(&o.object["spec"]))))
            .collect();
        let applications: Vec<&RenderedObject> = self.applications.values().copied().collect();
        let mut owned_by: BTreeMap<&str, Vec<&RenderedObject>> = BTreeMap::new();
        for object in self
            .objects
            .iter()
            .copied()
            .filter(|o| !o.is_child_application())
        {
            if let Some(app) = object.app.as_deref() {
                owned_by.entry(app).or_default().push(object);
            }
        }
        for (project, _) in projects.values() {
            self.confined_projects_stay_confined(project);
        }
        for app in applications {
            let project_name = app.object["spec"]["project"].as_str().unwrap_or_default();
            if project_name == "default" {
                continue;
            }
            let Some((project, destinations)) = projects.get(project_name) else {
                self.finding(
                    app,
                    "/spec/project",
                    "app-project",
                    &app.object["spec"]["project"],
                    format!("no AppProject `{project_name}` is rendered in this environment"),
                );
                continue;
            };
            let spec = &project.object["spec"];
            let destination = &app.object["spec"]["destination"];
            let server = destination["server"].as_str().unwrap_or_default();
            let namespace = destination["namespace"].as_str().unwrap_or_default();
            if !destinations.permit(server, namespace) {
                self.finding(
                    app,
                    "/spec/destination",
                    "project-destination",
                    destination,
                    format!(
                        "project `{project_name}` does not permit {server} namespace `{namespace}`"
                    ),
                );
            }
            let folder = app.app.as_deref().unwrap_or(app.name());
            for object in owned_by.get(folder).into_iter().flatten().copied() {
                let group = object.group();
                let kind = object.kind();
                let permitted = if CLUSTER_SCOPED.contains(&kind) {
                    listed(
                        &spec["clusterResourceWhitelist"],
                        group,
                        kind,
                        object.name(),
                    )
                } else {
                    let in_namespace = object
                        .namespace()
                        .is_some_and(|ns| destinations.permit(server, ns));
                    let kind_ok = spec["namespaceResourceWhitelist"].is_null()
                        || listed(
                            &spec["namespaceResourceWhitelist"],
                            group,
                            kind,
                            object.name(),
                        );
                    in_namespace && kind_ok
                };
                if !permitted {
                    self.finding(
                        object,
                        "",
                        "project-resource",
                        &Value::String(format!("{kind} {}", object.name())),
                        format!("project `{project_name}` does not permit this {kind} here"),
                    );
                }
            }
        }
    }
}

impl Environment<'_> {
    /// A project confined to some namespaces (a team's) that may create cluster-scoped objects
    /// or the platform's own kinds (NetworkPolicies, quotas, RBAC, secret stores) can reach
    /// beyond its namespaces, or widen what they are allowed.
    fn confined_projects_stay_confined(&mut self, project: &RenderedObject) {
        let spec = &project.object["spec"];
        let confined = spec["destinations"].as_array().is_some_and(|d| {
            d.iter()
                .all(|d| d["namespace"].as_str().is_some_and(|n| n != "*"))
        });
        if !confined {
            return;
        }
        let cluster = &spec["clusterResourceWhitelist"];
        if cluster.as_array().is_none_or(|kinds| !kinds.is_empty()) {
            self.finding(
                project,
                "/spec/clusterResourceWhitelist",
                "project-scope",
                cluster,
                "a project confined to some namespaces may create no cluster-scoped object; expected []".to_owned(),
            );
        }
        let namespaced = &spec["namespaceResourceWhitelist"];
        let forbidden: Vec<String> = match namespaced.as_array() {
            None => vec!["every kind".to_owned()],
            Some(kinds) => self
                .conventions
                .platform_only_kinds
                .iter()
                .filter(|kind| {
                    kinds
                        .iter()
                        .any(|k| glob(k["kind"].as_str().unwrap_or_default(), kind))
                })
                .cloned()
                .collect(),
        };
        if !forbidden.is_empty() {
            self.finding(
                project,
                "/spec/namespaceResourceWhitelist",
                "project-scope",
                namespaced,
                format!(
                    "a project confined to some namespaces permits {}, which only the platform deploys there",
                    forbidden.join(", ")
                ),
            );
        }
    }
}

/// Argo CD's glob: `*` matches any run of characters.
fn glob(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((prefix, rest)) => {
            let Some(remainder) = text.strip_prefix(prefix) else {
                return false;
            };
            (0..=remainder.len())
                .filter(|i| remainder.is_char_boundary(*i))
                .any(|i| glob(rest, &remainder[i..]))
        }
    }
}

/// A project's destinations, with the exact ones indexed: a team's project lists each of its
/// namespaces, and every object of every app is checked against them.
struct Destinations<'a> {
    exact: BTreeSet<(&'a str, &'a str)>,
    patterns: Vec<(&'a str, &'a str)>,
}

impl<'a> Destinations<'a> {
    fn of(project: &'a Value) -> Self {
        let mut exact = BTreeSet::new();
        let mut patterns = Vec::new();
        for destination in project["destinations"].as_array().into_iter().flatten() {
            let server = destination["server"].as_str().unwrap_or("*");
            let namespace = destination["namespace"].as_str().unwrap_or("*");
            if server.contains('*') || namespace.contains('*') {
                patterns.push((server, namespace));
            } else {
                exact.insert((server, namespace));
            }
        }
        Self { exact, patterns }
    }

    fn permit(&self, server: &str, namespace: &str) -> bool {
        self.exact.contains(&(server, namespace))
            || self
                .patterns
                .iter()
                .any(|(s, n)| glob(s, server) && glob(n, namespace))
    }
}

fn listed(list: &Value, group: &str, kind: &str, name: &str) -> bool {
    list.as_array().into_iter().flatten().any(|item| {
        glob(item["group"].as_str().unwrap_or_default(), group)
            && glob(item["kind"].as_str().unwrap_or_default(), kind)
            && item["name"]
                .as_str()
                .is_none_or(|pattern| glob(pattern, name))
    })
}
