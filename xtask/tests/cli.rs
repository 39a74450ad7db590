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
        stdout.contains(&format!(
            "{} object(s) in {} file(s)",
            objects_in(&dev),
            common::snapshot(&dev).len()
        )),
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

/// How many objects the summary says were vouched for by the last validate, not rechecked.
fn vouched_in(stdout: &str) -> usize {
    stdout
        .split("; ")
        .find_map(|part| part.strip_suffix(" object(s) unchanged since they last passed their schemas, not checked against them again\n"))
        .map_or(0, |count| count.parse().unwrap())
}

/// How many objects the summary says were checked.
fn objects_checked(stdout: &str) -> usize {
    let summary = stdout.lines().last().unwrap();
    summary.split_once(" object(s)").unwrap().0.parse().unwrap()
}

#[test]
fn validate_rechecks_the_schemas_of_changed_files_only_and_never_vouches_for_a_broken_one() {
    let root = rendered_checkout("validate-vouched");
    let rendered = root.join("rendered");
    let (first, _) = text(&validate(&root, &rendered));
    assert_eq!(vouched_in(&first), 0, "{first}");
    let objects = objects_checked(&first);
    let (second, _) = text(&validate(&root, &rendered));
    assert_eq!(vouched_in(&second), objects, "{second}");

    // One file broken against its schema: checked again, and found, however often it runs.
    let deployment = rendered.join("dev/manifests/finops-app/deployment-finops-app.yaml");
    let good = fs::read_to_string(&deployment).unwrap();
    fs::write(&deployment, good.replace("replicas: 1", "replicas: one")).unwrap();
    for _ in 0..2 {
        let output = validate(&root, &rendered);
        let (stdout, stderr) = text(&output);
        assert_eq!(output.status.code(), Some(1), "{stdout}{stderr}");
        assert!(
            stdout.contains(
                "dev/manifests/finops-app/deployment-finops-app.yaml /spec/replicas [schema:type]"
            ),
            "{stdout}"
        );
        assert_eq!(vouched_in(&stderr), objects - 1, "{stderr}");
    }
    fs::write(&deployment, &good).unwrap();
    let (fixed, _) = text(&validate(&root, &rendered));
    assert_eq!(vouched_in(&fixed), objects - 1, "{fixed}");

    // One environment validated alone keeps what the ledger says of the others.
    let (dev, _) = text(&validate(&root, &rendered.join("dev")));
    assert_eq!(vouched_in(&dev), objects_checked(&dev), "{dev}");
    let (all, _) = text(&validate(&root, &rendered));
    assert_eq!(vouched_in(&all), objects, "{all}");

    // A damaged ledger, or one of other checks, vouches for nothing and is written anew.
    let ledger = rendered.join(".validate-ledger");
    let recorded = fs::read_to_string(&ledger).unwrap();
    let (checks, entries) = recorded.split_once('\n').unwrap();
    let checks = u64::from_str_radix(checks.strip_prefix("checks ").unwrap(), 16).unwrap();
    for damaged in [
        format!("checks {:016x}\n{entries}", checks ^ 1),
        "not a ledger\n".to_owned(),
    ] {
        fs::write(&ledger, damaged).unwrap();
        let (stdout, _) = text(&validate(&root, &rendered));
        assert_eq!(vouched_in(&stdout), 0, "{stdout}");
    }
    // The ledger is not part of the tree: render leaves it, and --check sees no drift.
    assert!(xtask_at(&root, &["render", "--check"]).status.success());
    assert!(ledger.is_file());
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

#[test]
fn graph_netpol_validate_and_schema_check_answer_with_their_exit_codes() {
    let root = rendered_checkout("commands");

    for format in ["mermaid", "dot", "json"] {
        let output = xtask_at(&root, &["graph", "--env", "dev", "--format", format]);
        assert_eq!(output.status.code(), Some(0), "graph --format {format}");
        let (stdout, _) = text(&output);
        assert!(stdout.contains("external-secrets"), "{format}: {stdout}");
        if format == "json" {
            let graph: serde_json::Value = serde_json::from_str(&stdout).unwrap();
            assert!(graph.is_object(), "{stdout}");
        }
    }

    let output = xtask_at(&root, &["netpol", "--env", "dev"]);
    assert_eq!(output.status.code(), Some(0));
    let (matrix, _) = text(&output);
    let into_vault: Vec<&str> = matrix
        .lines()
        .filter(|l| l.contains("-> vault ") && !l.trim_start().starts_with("vault ->"))
        .filter(|l| !l.contains("denied"))
        .collect();
    // ESO for secrets; Prometheus for the metrics Vault serves without a token; from outside
    // the pods, dev's LoadBalancer, through the node addresses (which kind's API server shares).
    let from_pods: Vec<&&str> = into_vault
        .iter()
        .filter(|l| !l.contains("node ->") && !l.contains("kubernetes-api ->"))
        .collect();
    assert_eq!(from_pods.len(), 2, "{matrix}");
    assert!(into_vault.iter().any(|l| l.contains("node ->")), "{matrix}");
    assert!(
        into_vault.iter().all(|l| l.contains("8200/TCP")),
        "{matrix}"
    );
    assert!(into_vault.iter().any(|l| l.contains("external-secrets ->")));
    assert!(into_vault.iter().any(|l| l.contains("prometheus ->")));

    // validate: 0 when clean, 1 with findings, in text and JSON.
    let dev = root.join("rendered/dev");
    assert_eq!(validate(&root, &dev).status.code(), Some(0));
    let deployment = dev.join("manifests/finops-app/deployment-finops-app.yaml");
    let broken = fs::read_to_string(&deployment)
        .unwrap()
        .replace("replicas: 1", "replicas: one");
    fs::write(&deployment, broken).unwrap();
    let schemas = repository().join("schemas");
    let output = xtask_at(
        &root,
        &[
            "validate",
            "--schemas",
            schemas.to_str().unwrap(),
            "--format",
            "json",
            dev.to_str().unwrap(),
        ],
    );
    assert_eq!(output.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        report["findings"][0]["file"],
        "dev/manifests/finops-app/deployment-finops-app.yaml"
    );
    assert_eq!(report["findings"][0]["pointer"], "/spec/replicas");

    // schema --check: 0 when current, 1 when stale, and it writes nothing.
    assert_eq!(
        xtask_at(&root, &["schema", "--check"]).status.code(),
        Some(0)
    );
    let schema = root.join("environments/schema.json");
    fs::write(&schema, "{}\n").unwrap();
    let output = xtask_at(&root, &["schema", "--check"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output)
            .1
            .contains("environments/schema.json is out of date")
    );
    assert_eq!(fs::read_to_string(&schema).unwrap(), "{}\n");
    let _ = fs::remove_dir_all(&root);
}

#[test]
fn graph_and_netpol_locate_a_plan_error_as_render_does() {
    let root = scratch("located-plan-error");
    repository_copy(&root);
    let dev = root.join("environments/dev.yaml");
    // Disabling Vault leaves `vault-config` depending on a disabled component.
    let text_before = fs::read_to_string(&dev).unwrap();
    fs::write(
        &dev,
        text_before.replace(
            "vault:\n  mode: dev",
            "vault:\n  enabled: false\n  mode: dev",
        ),
    )
    .unwrap();

    let render = text(&xtask_at(&root, &["render"])).1;
    let located: Vec<&str> = render
        .lines()
        .filter(|l| l.starts_with("error: environments/dev.yaml:"))
        .collect();
    assert!(!located.is_empty(), "{render}");
    for command in ["graph", "netpol"] {
        let output = xtask_at(&root, &[command, "--env", "dev"]);
        assert_eq!(output.status.code(), Some(2), "{command}");
        let stderr = text(&output).1;
        for line in &located {
            assert!(
                stderr.contains(line),
                "{command} lost the location:\n{stderr}\nrender said:\n{render}"
            );
        }
    }
    let _ = fs::remove_dir_all(&root);
}

#[test]
fn a_file_that_is_not_text_is_a_finding_and_the_rest_is_still_checked() {
    let root = scratch("not-text");
    fs::write(
        root.join("service.yaml"),
        "apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec: {ports: [{port: 80}]}\n",
    )
    .unwrap();
    fs::write(root.join("logo.yaml"), [0xff, 0xfe, 0x00, 0x41]).unwrap();
    let output = validate(&repository(), &root);
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stdout.contains("logo.yaml / [text] not UTF-8 text"),
        "{stdout}"
    );
    assert!(stderr.contains("1 object(s) in 1 file(s)"), "{stderr}");
    let _ = fs::remove_dir_all(&root);
}

#[test]
fn a_hub_that_none_or_two_environments_manage_is_refused_where_it_is_set() {
    let root = scratch("hub-managers");
    repository_copy(&root);
    let prod = root.join("environments/prod.yaml");
    let original = fs::read_to_string(&prod).unwrap();

    fs::write(
        &prod,
        original.replace(
            "  enabled: true\n  sync_retry:",
            "  enabled: false\n  sync_retry:",
        ),
    )
    .unwrap();
    let output = xtask_at(&root, &["render"]);
    let (_, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("environments/staging.yaml:")
            && stderr.contains(
                "argocd.hub: no environment of hub `finops-hub` (prod, staging) manages its Argo CD"
            ),
        "{stderr}"
    );
    assert!(!root.join("rendered").exists(), "nothing is written");

    let staging = root.join("environments/staging.yaml");
    let staging_text = fs::read_to_string(&staging).unwrap();
    fs::write(&prod, &original).unwrap();
    fs::write(
        &staging,
        staging_text.replace(
            "  hub: finops-hub\n  enabled: false",
            "  hub: finops-hub\n  enabled: true\n  repository_cidrs: [0.0.0.0/0]",
        ),
    )
    .unwrap();
    let output = xtask_at(&root, &["render"]);
    let (_, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(
            "argocd.enabled: 2 environments of hub `finops-hub` manage its Argo CD (prod, staging)"
        ),
        "{stderr}"
    );

    fs::write(&staging, staging_text).unwrap();
    assert!(xtask_at(&root, &["render"]).status.success());
    let _ = fs::remove_dir_all(&root);
}

#[test]
fn one_job_or_many_render_the_same_bytes() {
    let root = scratch("jobs");
    repository_copy(&root);
    let one = xtask_at(&root, &["render", "--jobs", "1"]);
    assert!(one.status.success(), "{one:?}");
    let first = common::snapshot(&root.join("rendered"));
    fs::remove_dir_all(root.join("rendered")).unwrap();
    let many = xtask_at(&root, &["render", "--jobs", "3"]);
    assert!(many.status.success(), "{many:?}");
    let without_ledger = |tree: &std::collections::BTreeMap<std::path::PathBuf, Vec<u8>>| {
        tree.iter()
            .filter(|(path, _)| !path.ends_with(".render-ledger"))
            .map(|(path, bytes)| (path.clone(), bytes.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        without_ledger(&first),
        without_ledger(&common::snapshot(&root.join("rendered")))
    );
    let zero = xtask_at(&root, &["render", "--jobs", "0"]);
    assert_eq!(zero.status.code(), Some(2), "{zero:?}");
    let _ = fs::remove_dir_all(&root);
}

/// An environment renders and goes to the disk before its invariants and the cluster's
/// admission are checked; when those refuse it, nothing of it may be left behind: not the
/// new folder it would have been, nor the hidden one it was staged in, nor a change to the
/// environments beside it.
#[test]
fn an_environment_refused_after_it_rendered_leaves_rendered_as_it_was() {
    let root = rendered_checkout("refused-after-render");
    // prod is new to rendered/: it is staged while it is checked. dev and staging exist:
    // they are compared.
    fs::remove_dir_all(root.join("rendered/prod")).unwrap();
    fs::remove_file(root.join("rendered/.render-ledger")).unwrap();
    let prod = root.join("environments/prod.yaml");
    let mut refused = fs::read_to_string(&prod).unwrap();
    // Every team's image now comes from a registry prod's Kyverno does not allow, and prod
    // enforces its policies.
    refused.push_str("\npolicies:\n  allowed_registries: [quay.io/example-org/*]\n");
    fs::write(&prod, refused).unwrap();
    let before = common::snapshot(&root.join("rendered"));
    for jobs in ["1", "2"] {
        let output = xtask_at(&root, &["render", "--jobs", jobs]);
        let (stdout, stderr) = text(&output);
        assert_eq!(output.status.code(), Some(2), "{stdout}{stderr}");
        assert!(
            stderr.contains("apps[0].image")
                && stderr.contains("kyverno:restrict-image-registries")
                && stderr.contains("in prod"),
            "{stderr}"
        );
        assert_eq!(
            common::snapshot(&root.join("rendered")),
            before,
            "--jobs {jobs}"
        );
    }
    let _ = fs::remove_dir_all(&root);
}

/// An environment that hydrates needs Helm: without it render stops with one line naming the
/// environments, before writing anything; an environment that does not hydrate renders.
#[test]
fn render_without_helm_stops_where_an_environment_hydrates_and_writes_nothing() {
    if !common::helm_is_installed() {
        return;
    }
    let root = rendered_checkout("no-helm");
    fs::write(
        root.join("environments/prod.yaml"),
        fs::read_to_string(root.join("environments/prod.yaml")).unwrap() + "\n# edited\n",
    )
    .unwrap();
    let before = common::snapshot(&root.join("rendered"));
    let without_helm = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_xtask"))
            .arg("--root")
            .arg(&root)
            .args(args)
            .env("HELM", "/nonexistent/helm")
            .output()
            .unwrap()
    };
    let output = without_helm(&["render"]);
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(2), "{stdout}{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("prod, staging hydrate their charts (argocd.hydrate), which needs Helm")
            && stderr.contains("/nonexistent/helm")
            && stderr.contains("HELM="),
        "{stderr}"
    );
    assert_eq!(common::snapshot(&root.join("rendered")), before);
    // dev leaves its charts to Argo CD: it needs no Helm.
    let output = without_helm(&["render", "--env", "dev"]);
    assert!(output.status.success(), "{}", text(&output).1);
    let _ = fs::remove_dir_all(&root);
}
