//! The platform's own `kyverno test` suites (tests/kyverno/): every case agrees with the
//! evaluator, and every rule of every policy prod renders is exercised on a passing and a
//! failing Pod, Deployment and CronJob. CI also runs them with `cargo xtask policy test`; anyone
//! with the Kyverno CLI can run `kyverno test tests/kyverno` on the same files.

use std::collections::BTreeSet;
use std::path::Path;

use kyverno_engine::suite::{self, TestFile, Values};

fn documents(base: &Path, relative: &str) -> Vec<serde_json::Value> {
    let path = base.join(relative);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    suite::documents(&text).unwrap()
}

#[test]
fn every_platform_policy_rule_is_tested_both_ways_on_every_pod_kind() {
    let root = platform_tests::workspace_root().join("tests/kyverno");
    let mut exercised: BTreeSet<(String, String, String, String)> = BTreeSet::new();
    let mut suites = 0;
    for entry in std::fs::read_dir(&root).unwrap() {
        let folder = entry.unwrap().path();
        let file = folder.join("kyverno-test.yaml");
        let test: TestFile =
            serde_yaml::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        let policies: Vec<_> = test
            .policies
            .iter()
            .flat_map(|p| documents(&folder, p))
            .collect();
        let resources: Vec<_> = test
            .resources
            .iter()
            .flat_map(|r| documents(&folder, r))
            .collect();
        let values: Values = match &test.variables {
            Some(relative) => {
                serde_json::from_value(documents(&folder, relative).remove(0)).unwrap()
            }
            None => Values::default(),
        };
        let cases = suite::run(&test, &policies, &resources, &values).unwrap();
        let disagreeing: Vec<_> = cases.iter().filter(|case| !case.agrees()).collect();
        assert!(
            disagreeing.is_empty(),
            "{}: {disagreeing:#?}",
            file.display()
        );
        for case in cases {
            exercised.insert((case.policy, case.rule, case.kind, case.got));
        }
        suites += 1;
    }
    assert!(suites >= 6);

    let prod = platform_tests::render(&platform_tests::load("prod"));
    for object in platform_tests::objects(&prod).values() {
        let Some(policy) = kyverno_engine::Policy::from_value(object).unwrap() else {
            continue;
        };
        for rule in &policy.spec.rules {
            let rule = rule["name"].as_str().unwrap();
            for kind in ["Pod", "Deployment", "CronJob"] {
                for result in ["pass", "fail"] {
                    let key = (
                        policy.metadata.name.clone(),
                        rule.to_owned(),
                        kind.to_owned(),
                        result.to_owned(),
                    );
                    assert!(
                        exercised.contains(&key),
                        "no {result} case of {}/{rule} on a {kind}",
                        policy.metadata.name
                    );
                }
            }
        }
    }
}
