//! The GitHub Actions workflow users run: every third-party action pinned by commit, the least
//! permissions, and the checks the README promises. (.ci/run also runs actionlint on it.)

use serde_yaml::Value;

fn workflow() -> Value {
    let path = platform_tests::workspace_root().join(".github/workflows/platform.yml");
    serde_yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn steps(workflow: &Value) -> Vec<(&str, &Value)> {
    workflow["jobs"]
        .as_mapping()
        .unwrap()
        .iter()
        .flat_map(|(job, body)| {
            body["steps"]
                .as_sequence()
                .unwrap()
                .iter()
                .map(move |step| (job.as_str().unwrap(), step))
        })
        .collect()
}

#[test]
fn every_action_is_pinned_to_a_commit() {
    let workflow = workflow();
    for (job, step) in steps(&workflow) {
        let Some(uses) = step["uses"].as_str() else {
            continue;
        };
        let (_, reference) = uses
            .split_once('@')
            .unwrap_or_else(|| panic!("{job}: {uses} has no ref"));
        assert!(
            reference.len() == 40 && reference.chars().all(|c| c.is_ascii_hexdigit()),
            "{job}: {uses} is not pinned to a commit"
        );
    }
}

#[test]
fn only_the_comment_job_may_write_and_only_to_pull_requests() {
    let workflow = workflow();
    assert_eq!(workflow["permissions"]["contents"], "read");
    assert_eq!(workflow["permissions"].as_mapping().unwrap().len(), 1);
    for (name, job) in workflow["jobs"].as_mapping().unwrap() {
        let writes: Vec<&Value> = job["permissions"]
            .as_mapping()
            .into_iter()
            .flatten()
            .filter(|(_, level)| level.as_str() == Some("write"))
            .map(|(scope, _)| scope)
            .collect();
        if name.as_str() == Some("review") {
            assert_eq!(writes, [&Value::from("pull-requests")]);
            assert_eq!(job["if"], "github.event_name == 'pull_request'");
        } else {
            assert!(writes.is_empty(), "{name:?} writes {writes:?}");
        }
    }
}

#[test]
fn it_runs_the_checks_the_readme_promises() {
    let workflow = workflow();
    let runs: String = steps(&workflow)
        .iter()
        .filter_map(|(_, step)| step["run"].as_str())
        .collect::<Vec<_>>()
        .join("\n");
    for command in [
        // The tests run these tools, and fail without them where CI is set, as on GitHub.
        "apt-get install -y -qq --no-install-recommends lua5.1 shellcheck",
        "cargo test --workspace --locked",
        "cargo xtask render --check",
        "cargo xtask validate",
        "cargo xtask policy test tests/kyverno",
        "cargo xtask diff --base \"${base}\" --format markdown",
        "cargo xtask cost --base \"${base}\" --format markdown",
    ] {
        assert!(
            runs.contains(command),
            "the workflow does not run `{command}`"
        );
    }
    let trivy = steps(&workflow)
        .into_iter()
        .find(|(_, step)| {
            step["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("aquasecurity/trivy-action@"))
        })
        .expect("a Trivy scan");
    assert_eq!(trivy.1["with"]["scan-type"], "config");
    assert_eq!(trivy.1["with"]["scan-ref"], "rendered");
    assert_eq!(trivy.1["with"]["exit-code"], "1");
}
