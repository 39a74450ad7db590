//! The command line as a newcomer meets it: what `validate` accepts, what read-only commands
//! say when they fail, and the small courtesies (`schema` says when it wrote nothing, `--env
//! base` says why it renders nothing).

use std::fs;
use std::path::Path;
use std::process::Output;

mod common;
use common::{repository, repository_copy, scratch, xtask_at};

fn text(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A scratch checkout with everything rendered.
fn rendered_checkout(name: &str) -> std::path::PathBuf {
    let root = scratch(name);
    repository_copy(&root);
    assert!(xtask_at(&root, &["render"]).status.success());
    root
}

fn validate(root: &Path, path: &Path) -> Output {
    let schemas = repository().join("schemas");
    xtask_at(
        root,
        &[
            "validate",
            "--schemas",
            schemas.to_str().unwrap(),
            path.to_str().unwrap(),
        ],
    )
}

fn objects_in(dir: &Path) -> usize {
    common::snapshot(dir)
        .into_keys()
        .filter(|p| {
            let p = p.to_string_lossy();
            p.contains("/apps/") || p.contains("/manifests/") || p.ends_with("root-app.yaml")
        })
        .count()
}

#[test]
fn validate_takes_one_environment_or_any_part_of_it_and_reports_only_that_part() {
    let root = rendered_checkout("validate-parts");
    let dev = root.join("rendered/dev");

    let (stdout, _) = text(&validate(&root, &dev));
    assert!(
        stdout.contains(&format!("{} object(s) in 71 file(s)", objects_in(&dev))),
        "{stdout}"
    );

    // A mistake in vault's manifests: found when validating them, dev, or everything; not
    // reported when validating another Application's folder of the same environment.
    let policy = dev.join("manifests/vault/networkpolicy-default-deny.yaml");
    let broken = fs::read_to_string(&policy)
        .unwrap()
        .replace("policyTypes:", "policyTypez:");
    fs::write(&policy, broken).unwrap();
    for (path, found) in [
        (dev.join("manifests/vault"), true),
        (policy.clone(), true),
        (dev.clone(), true),
        (root.join("rendered"), true),
        (dev.join("manifests/opencost"), false),
    ] {
        let output = validate(&root, &path);
        let (stdout, stderr) = text(&output);
        assert_eq!(
            output.status.code(),
            Some(if found { 1 } else { 0 }),
            "{}: {stdout}{stderr}",
            path.display()
        );
        assert_eq!(
            stdout.contains("dev/manifests/vault/networkpolicy-default-deny.yaml /spec [schema:additionalProperties]"),
            found,
            "{}: {stdout}",
            path.display()
        );
    }
    let _ = fs::remove_dir_all(&root);
}

#[test]
fn validate_checks_a_foreign_tree_of_multi_document_files_and_refuses_an_empty_one() {
    let root = scratch("validate-foreign");
    let foreign = root.join("manifests");
    fs::create_dir_all(foreign.join("nested")).unwrap();
    fs::write(
        foreign.join("all.yaml"),
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: b}\nspec: {portz: [80]}\n",
    )
    .unwrap();
    fs::write(
        foreign.join("nested/one.yml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {k: v}\n",
    )
    .unwrap();
    fs::write(foreign.join("notes.txt"), "not yaml").unwrap();

    let output = validate(&repository(), &foreign);
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stdout.contains("all.yaml#2 /spec [schema:additionalProperties]"),
        "{stdout}"
    );
    assert!(!stdout.contains("all.yaml#1"), "{stdout}");
    assert!(stderr.contains("3 object(s) in 3 file(s)"), "{stderr}");

    let empty = root.join("empty");
    fs::create_dir_all(&empty).unwrap();
    let output = validate(&repository(), &empty);
    let (_, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr.contains("holds no Kubernetes object"), "{stderr}");
    let _ = fs::remove_dir_all(&root);
}

#[test]
fn read_only_commands_say_nothing_of_rendered_and_render_explains_an_abstract_environment() {
    let root = scratch("read-only");
    repository_copy(&root);

    for args in [["graph", "--env", "qa"], ["netpol", "--env", "qa"]] {
        let output = xtask_at(&root, &args);
        let (_, stderr) = text(&output);
        assert_eq!(output.status.code(), Some(2));
        assert!(
            stderr.contains(
                "no environment `qa` (no environments/qa.yaml); expected one of: dev, prod, staging"
            ),
            "{stderr}"
        );
        assert!(!stderr.contains("rendered/"), "{args:?}: {stderr}");
    }

    let output = xtask_at(&root, &["render", "--env", "base"]);
    let (_, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr.contains("`base` is abstract: environments/base.yaml is only extended"),
        "{stderr}"
    );

    fs::remove_file(root.join("environments/schema.json")).unwrap();
    let first = text(&xtask_at(&root, &["schema"])).0;
    let second = text(&xtask_at(&root, &["schema"])).0;
    assert_eq!(first, "environments/schema.json: written\n");
    assert_eq!(
        second,
        "environments/schema.json: already current, not written\n"
    );

    let (help, _) = text(&xtask_at(&root, &["--help"]));
    assert!(
        help.contains("Usage: cargo xtask [OPTIONS] <COMMAND>"),
        "{help}"
    );
    let _ = fs::remove_dir_all(&root);
}
