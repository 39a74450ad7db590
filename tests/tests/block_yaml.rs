//! validate's reader of the block YAML serde_yaml writes, on every file the generator renders.

use platform_tests::rendered_tree;

#[test]
fn every_rendered_file_reads_as_serde_yaml_reads_it() {
    let tree = rendered_tree();
    let yaml: Vec<(&String, &String)> = tree.iter().filter(|(p, _)| p.ends_with(".yaml")).collect();
    let mut read_here = 0;
    for (path, text) in &yaml {
        if let Some(value) = platform_validate::block_yaml::read(text) {
            let expected: serde_json::Value = serde_yaml::from_str(text).unwrap();
            assert_eq!(value, expected, "{path}");
            read_here += 1;
        }
    }
    assert!(yaml.len() > 100, "the rendered tree is there");
    // Nearly every file is in the shape the reader knows; the rest (literal blocks, floats)
    // go to serde_yaml.
    assert!(
        read_here * 10 > yaml.len() * 9,
        "{read_here} of {} read by the block reader",
        yaml.len()
    );
}
