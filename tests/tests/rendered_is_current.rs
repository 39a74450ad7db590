//! The committed `rendered/` is exactly what the code produces from `environments/`.

use platform_tests::{load_all, render, workspace_root};
use platform_writer::{Scope, Tree};

#[test]
fn committed_rendered_tree_matches_the_code() {
    let rendered: Vec<_> = load_all().iter().map(render).collect();
    let trees: Vec<Tree<'_>> = rendered
        .iter()
        .map(|r| Tree {
            name: &r.name,
            files: &r.files,
        })
        .collect();
    let drift = platform_writer::check(
        &workspace_root().join("rendered"),
        &trees,
        Scope::Everything,
    )
    .unwrap();
    assert!(
        drift.is_empty(),
        "rendered/ is stale; run `cargo xtask render`:\n{}",
        drift
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn rendering_twice_gives_identical_bytes() {
    for env in load_all() {
        assert_eq!(
            render(&env),
            render(&env),
            "{} is not deterministic",
            env.name
        );
    }
}
