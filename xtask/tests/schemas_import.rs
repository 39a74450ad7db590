//! `cargo xtask schemas import` reproduces the schema files the repository carries.

use std::fs;

mod common;
use common::{repository, scratch, xtask_at};

#[test]
fn importing_upstream_crds_reproduces_the_vendored_schemas_byte_for_byte() {
    let into = scratch("schemas-import");
    let upstream = repository().join("xtask/tests/upstream");
    let output = xtask_at(
        &repository(),
        &[
            "schemas",
            "import",
            "--into",
            into.to_str().unwrap(),
            upstream
                .join("metallb.io_ipaddresspools.yaml")
                .to_str()
                .unwrap(),
            upstream
                .join("metallb.io_l2advertisements.yaml")
                .to_str()
                .unwrap(),
        ],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for file in ["ipaddresspool_v1beta1.json", "l2advertisement_v1beta1.json"] {
        let imported = fs::read(into.join("crds/metallb.io").join(file)).unwrap();
        let vendored = fs::read(repository().join("schemas/crds/metallb.io").join(file)).unwrap();
        assert!(
            imported == vendored,
            "{file} differs from schemas/crds/metallb.io/{file}"
        );
    }
    let _ = fs::remove_dir_all(&into);
}

#[test]
fn chart_files_are_filed_under_the_chart_name_and_bad_inputs_write_nothing() {
    let scratch = scratch("schemas-import-chart");
    let chart = scratch.join("upstream/opencost");
    fs::create_dir_all(&chart).unwrap();
    let vendored = repository().join("schemas/charts/opencost");
    for file in ["Chart.yaml", "values.yaml"] {
        fs::copy(vendored.join(file), chart.join(file)).unwrap();
    }
    let into = scratch.join("schemas");
    let args = |extra: &[&str]| {
        let mut args = vec!["schemas", "import", "--into", into.to_str().unwrap()];
        args.extend_from_slice(extra);
        args.into_iter().map(str::to_owned).collect::<Vec<_>>()
    };
    let chart_yaml = chart.join("Chart.yaml");
    let values = chart.join("values.yaml");
    let run = |args: Vec<String>| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        xtask_at(&repository(), &args)
    };

    let not_a_crd = scratch.join("notes.yaml");
    fs::write(&not_a_crd, "apiVersion: v1\nkind: Namespace\n").unwrap();
    let refused = run(args(&[
        values.to_str().unwrap(),
        not_a_crd.to_str().unwrap(),
    ]));
    assert_eq!(refused.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("notes.yaml: no CustomResourceDefinition in it"),
        "{stderr}"
    );
    assert!(!into.exists(), "nothing is written when one input is bad");

    let imported = run(args(&[
        chart_yaml.to_str().unwrap(),
        values.to_str().unwrap(),
    ]));
    assert!(
        imported.status.success(),
        "{}",
        String::from_utf8_lossy(&imported.stderr)
    );
    for file in ["Chart.yaml", "values.yaml"] {
        assert_eq!(
            fs::read(into.join("charts/opencost").join(file)).unwrap(),
            fs::read(vendored.join(file)).unwrap()
        );
    }
    let _ = fs::remove_dir_all(&scratch);
}
