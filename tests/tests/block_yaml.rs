//! validate's reader of the block YAML serde_yaml writes, on every file the generator renders.

use platform_tests::rendered_tree;

#[test]
fn every_rendered_file_reads_as_serde_yaml_reads_it() {
    let tree = rendered_tree();
    let yaml: Vec<(&String, &String)> = tree.iter().filter(|(p, _)| p.ends_with(".yaml")).collect();
    let mut read_here = 0;
    let mut own = 0;
    for (path, text) in &yaml {
        // A hydrated chart's objects are what Helm wrote, with its literal blocks: the reader
        // must read them right when it reads them at all, but need not read most of them.
        let built_here = !text.starts_with(platform::render::CHART_PROVENANCE);
        own += usize::from(built_here);
        if let Some(value) = platform_validate::block_yaml::read(text) {
            let expected: serde_json::Value = serde_yaml::from_str(text).unwrap();
            assert_eq!(value, expected, "{path}");
            read_here += usize::from(built_here);
        }
    }
    assert!(own > 100, "the rendered tree is there");
    // Nearly every file the platform builds is in the shape the reader knows; the rest
    // (literal blocks, floats) go to serde_yaml.
    assert!(
        read_here * 10 > own * 9,
        "{read_here} of {own} read by the block reader"
    );
}

/// Argo CD reads the committed tree with sigs.k8s.io/yaml (YAML 1.1: `on` is true, `0444` is
/// 292), our own tools with serde_yaml and the block reader (YAML 1.2). Every file must mean
/// the same to both, or what the checks passed is not what the cluster gets.
#[test]
fn every_rendered_file_means_the_same_to_kubernetes() {
    let tree = rendered_tree();
    let mut differ = Vec::new();
    let mut read = 0;
    for (path, text) in tree.iter().filter(|(p, _)| p.ends_with(".yaml")) {
        let ours: Vec<serde_json::Value> = serde_yaml::Deserializer::from_str(text)
            .map(|d| serde::Deserialize::deserialize(d).unwrap())
            .collect();
        let kubernetes = platform_kube_yaml::documents(text)
            .unwrap_or_else(|e| panic!("{path}: Kubernetes cannot read it: {e}"));
        if ours != kubernetes {
            differ.push(path.clone());
        }
        read += 1;
    }
    assert!(read > 100, "the rendered tree is there");
    assert!(
        differ.is_empty(),
        "read differently by Kubernetes: {differ:#?}"
    );
}
