//! Waves come from dependencies, so an environment whose dependencies cannot be honoured
//! cannot be rendered at all.

use platform::plan::plan_components;
use platform_core::component::{Component, Layer, Source};
use platform_tests::load;

#[test]
fn disabling_a_component_others_depend_on_is_an_error_naming_both() {
    let mut dev = load("dev");
    dev.env.vault.enabled = false;
    let errors = platform::render(&dev).unwrap_err();
    let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        vec![
            "environments/dev.yaml:17:3: vault.enabled: `vault-config` depends on `vault`, which this environment disables; enable `vault` or disable `vault-config`",
            "environments/dev.yaml:17:3: vault.enabled: `tenant-finops` depends on `vault`, which this environment disables; enable `vault` or disable `tenant-finops`",
        ]
    );
}

#[test]
fn disabling_kyverno_takes_its_policies_along_and_apps_stop_waiting_for_them() {
    let mut dev = load("dev");
    dev.env.policies.enabled = false;
    let plan = platform::plan(&dev.env).unwrap();
    assert!(plan.get("kyverno").is_none());
    assert!(plan.get("security-policies").is_none());
    let app = plan.get("finops-app").unwrap();
    // Its namespace and secret store, which the platform's tenant Application provides.
    assert_eq!(app.component.depends_on, vec!["tenant-finops"]);
    assert_eq!(app.wave, 3);
}

#[test]
fn a_dependency_cycle_cannot_be_planned() {
    let mut components = platform::catalog::components(&load("dev").env);
    let vault = components.iter_mut().find(|c| c.name == "vault").unwrap();
    vault.depends_on.push("vault-config".to_owned());
    let errors: Vec<String> = plan_components(components)
        .unwrap_err()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        errors,
        vec![
            "dependency cycle: vault -> vault-config -> vault; a component cannot wait for itself, remove one of these dependencies"
        ]
    );
}

#[test]
fn an_app_named_like_a_platform_component_is_refused() {
    let mut components = platform::catalog::components(&load("dev").env);
    components.push(Component::new(
        "vault",
        "vault",
        Layer::Applications,
        Source::Manifests(Vec::new()),
    ));
    let errors = plan_components(components).unwrap_err();
    assert!(
        errors[0]
            .to_string()
            .starts_with("two Applications are named `vault`"),
        "{errors:?}"
    );
}

#[test]
fn a_later_dependency_pushes_a_component_later() {
    let mut components = platform::catalog::components(&load("dev").env);
    let opencost = components
        .iter_mut()
        .find(|c| c.name == "opencost")
        .unwrap();
    opencost.depends_on.push("vault-config".to_owned());
    let plan = plan_components(components).unwrap();
    assert_eq!(plan.get("vault-config").unwrap().wave, 2);
    assert_eq!(plan.get("opencost").unwrap().wave, 3);
}
