//! The YAML writer the render uses agrees with serde_yaml byte for byte on every object.

#[test]
fn the_fast_yaml_writer_writes_every_rendered_object_as_serde_yaml_does() {
    let mut compared = 0;
    for loaded in platform_tests::load_all()
        .into_iter()
        .chain([platform_tests::two_teams()])
    {
        let rendered = platform_tests::render(&loaded);
        for (path, object) in &rendered.objects {
            assert_eq!(
                platform_core::yaml::to_string(object),
                serde_yaml::to_string(object).unwrap(),
                "{}: {path}",
                loaded.name
            );
            compared += 1;
        }
    }
    assert!(compared > 200, "only {compared} objects compared");
}
