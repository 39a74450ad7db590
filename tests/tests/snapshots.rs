//! Snapshots of every component's objects in every environment: a reviewer sees exactly how a
//! change to the code changes what Argo CD will apply.

use platform_tests::{load_all, render};

#[test]
fn every_component_of_every_environment() {
    for env in load_all() {
        let rendered = render(&env);
        let mut components: Vec<&str> = rendered
            .files
            .keys()
            .filter_map(|path| path.strip_prefix("apps/")?.strip_suffix(".yaml"))
            .filter(|name| !name.contains('/'))
            .collect();
        components.sort_unstable();
        for component in components {
            let application = format!("apps/{component}.yaml");
            let manifests = format!("manifests/{component}/");
            let snapshot: String = rendered
                .files
                .iter()
                .filter(|(path, _)| **path == application || path.starts_with(&manifests))
                .map(|(path, yaml)| format!("--- {path}\n{yaml}"))
                .collect();
            insta::assert_snapshot!(format!("{}__{component}", env.name), snapshot);
        }
        let bootstrap: String = rendered
            .files
            .iter()
            .filter(|(path, _)| {
                path.starts_with("bootstrap/") || path.starts_with("apps/projects/")
            })
            .map(|(path, yaml)| format!("--- {path}\n{yaml}"))
            .collect();
        insta::assert_snapshot!(format!("{}__bootstrap", env.name), bootstrap);
    }
}
