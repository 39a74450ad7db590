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
            // A hydrated chart's objects are listed by file and template, not copied: they are
            // Helm's, and rendered/ (checked current) holds them in full.
            let snapshot: String = rendered
                .files
                .iter()
                .filter(|(path, _)| **path == application || path.starts_with(&manifests))
                .map(
                    |(path, yaml)| match platform::render::chart_provenance_of(yaml) {
                        Some((_, template)) => format!("--- {path} (chart object, {template})\n"),
                        None => format!("--- {path}\n{yaml}"),
                    },
                )
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

/// A snapshot no environment renders any more is a stale file that reviews would still read.
#[test]
fn every_snapshot_file_belongs_to_a_rendered_component() {
    let mut expected = std::collections::BTreeSet::new();
    for env in load_all() {
        let rendered = render(&env);
        for path in rendered.files.keys() {
            if let Some(component) = path
                .strip_prefix("apps/")
                .and_then(|p| p.strip_suffix(".yaml"))
                && !component.contains('/')
            {
                expected.insert(format!("snapshots__{}__{component}.snap", env.name));
            }
        }
        expected.insert(format!("snapshots__{}__bootstrap.snap", env.name));
    }
    let folder = platform_tests::workspace_root().join("tests/tests/snapshots");
    let found: std::collections::BTreeSet<String> = std::fs::read_dir(folder)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".snap"))
        .collect();
    let stale: Vec<&String> = found.difference(&expected).collect();
    assert!(stale.is_empty(), "stale snapshots: {stale:?}");
}
