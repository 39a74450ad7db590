//! Every mistake a person can make in an environment file, tried as they would make it:
//! `cargo xtask render` must name the file, line, column and field, say what would be valid,
//! exit 2, and leave `rendered/` exactly as it was.
//!
//! Each case is `tests/invalid/<case>.yaml`, rendered next to the repository's `base.yaml`;
//! its `# expect: ` lines are the exact errors, in order.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

mod common;
use common::{repository, snapshot};

/// A scratch repository with `base.yaml`, the case, and a committed-looking `rendered/`.
fn scratch(case: &Path) -> PathBuf {
    let name = case.file_stem().unwrap().to_str().unwrap();
    let root = std::env::temp_dir().join(format!("xtask-invalid-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&root);
    fs::create_dir_all(root.join("environments")).unwrap();
    fs::copy(
        repository().join("environments/base.yaml"),
        root.join("environments/base.yaml"),
    )
    .unwrap();
    fs::copy(
        case,
        root.join("environments").join(case.file_name().unwrap()),
    )
    .unwrap();
    for (path, contents) in [
        ("rendered/dev/apps/vault.yaml", "kind: Application\n"),
        (
            "rendered/dev/manifests/finops-app/deployment-finops-app.yaml",
            "kind: Deployment\n",
        ),
        (
            &format!("rendered/{name}/apps/stale.yaml") as &str,
            "kind: Application\n",
        ),
    ] {
        let path = root.join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, contents).unwrap();
    }
    root
}

#[test]
fn every_invalid_environment_is_reported_precisely_and_changes_nothing() {
    let mut cases: Vec<PathBuf> = fs::read_dir(repository().join("tests/invalid"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    cases.sort();
    assert!(cases.len() >= 30, "only {} invalid cases", cases.len());

    let mut failures = Vec::new();
    for case in &cases {
        let text = fs::read_to_string(case).unwrap();
        let expected: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("# expect: "))
            .collect();
        assert!(
            !expected.is_empty(),
            "{} has no `# expect:` line",
            case.display()
        );

        let root = scratch(case);
        let before = snapshot(&root.join("rendered"));
        let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
            .args(["--root", root.to_str().unwrap(), "render"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        let errors: Vec<&str> = stderr
            .lines()
            .filter_map(|l| l.strip_prefix("error: "))
            .collect();
        let after = snapshot(&root.join("rendered"));
        let _ = fs::remove_dir_all(&root);

        let name = case.file_name().unwrap().to_string_lossy();
        if output.status.code() != Some(2) {
            failures.push(format!(
                "{name}: exit {:?}, expected 2\n{stderr}",
                output.status.code()
            ));
        }
        if errors != expected {
            failures.push(format!(
                "{name}:\n  got:      {errors:#?}\n  expected: {expected:#?}"
            ));
        }
        if before != after {
            failures.push(format!("{name}: rendered/ changed"));
        }
        if !stderr.contains("rendered/ was not changed") {
            failures.push(format!("{name}: does not say rendered/ is unchanged"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn the_real_environments_render_into_a_scratch_copy_and_replace_stale_files() {
    let root = common::scratch("real-environments");
    common::repository_copy(&root);
    let stale = root.join("rendered/dev/apps/removed-app.yaml");
    fs::create_dir_all(stale.parent().unwrap()).unwrap();
    fs::write(&stale, "stale").unwrap();
    let outside = root.join("rendered/README.md");
    fs::write(&outside, "not ours").unwrap();
    let deleted_environment = root.join("rendered/qa/apps/vault.yaml");
    fs::create_dir_all(deleted_environment.parent().unwrap()).unwrap();
    fs::write(&deleted_environment, "kind: Application\n").unwrap();

    let xtask = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_xtask"))
            .arg("--root")
            .arg(&root)
            .args(args)
            .output()
            .unwrap()
    };
    let check = xtask(&["render", "--check"]);
    assert_eq!(check.status.code(), Some(1), "a stale tree fails the check");
    let listing = String::from_utf8_lossy(&check.stdout);
    assert!(
        listing.contains("extra: rendered/dev/apps/removed-app.yaml"),
        "{listing}"
    );
    assert!(
        listing.contains("missing: rendered/prod/apps/vault.yaml"),
        "{listing}"
    );
    assert!(listing.contains("extra: rendered/qa\n"), "{listing}");

    let render = xtask(&["render"]);
    assert!(render.status.success());
    assert!(
        String::from_utf8_lossy(&render.stdout).contains("removed rendered/qa\n"),
        "a removed environment is reported"
    );
    assert!(!root.join("rendered/qa").exists());
    assert!(xtask(&["schema"]).status.success());
    assert!(!stale.exists(), "stale files are removed");
    assert_eq!(
        fs::read_to_string(&outside).unwrap(),
        "not ours",
        "a file beside the environments is not touched"
    );
    let check = xtask(&["render", "--check"]);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    assert_eq!(
        snapshot(&root.join("rendered/dev")).len(),
        snapshot(&repository().join("rendered/dev")).len()
    );

    // One environment renders, and is checked, on its own: a mistake in prod does not stop dev.
    let prod = root.join("environments/prod.yaml");
    let broken = fs::read_to_string(&prod)
        .unwrap()
        .replace("replicas: 3", "replicas: three");
    fs::write(&prod, broken).unwrap();
    let before = snapshot(&root.join("rendered"));
    assert!(xtask(&["render", "--env", "dev"]).status.success());
    assert!(
        xtask(&["render", "--env", "staging", "--check"])
            .status
            .success()
    );
    let all = xtask(&["render"]);
    assert_eq!(all.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&all.stderr).contains("environments/prod.yaml"));
    assert_eq!(snapshot(&root.join("rendered")), before, "nothing changed");
    let _ = fs::remove_dir_all(&root);
}

#[test]
fn the_readme_shows_real_error_output() {
    let readme = fs::read_to_string(repository().join("README.md")).unwrap();
    let after = readme
        .split("**Errors.**")
        .nth(1)
        .expect("README has an Errors paragraph");
    let shown = after
        .split("```\n")
        .nth(1)
        .expect("the Errors paragraph shows output in a code block");
    let case = repository().join("tests/invalid/three-mistakes.yaml");
    let root = scratch(&case);
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["--root", root.to_str().unwrap(), "render"])
        .output()
        .unwrap();
    let _ = fs::remove_dir_all(&root);
    assert_eq!(String::from_utf8_lossy(&output.stderr), shown);
}
