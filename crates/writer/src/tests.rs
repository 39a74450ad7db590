use super::*;

fn temp_root(test: &str) -> PathBuf {
    let root = std::env::temp_dir().join(format!("platform-writer-{test}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&root);
    root
}

fn files(entries: &[(&str, &str)]) -> Files {
    entries
        .iter()
        .map(|(p, c)| ((*p).to_owned(), Contents::from(*c)))
        .collect()
}

fn dev(files: &Files) -> [Tree<'_>; 1] {
    [Tree { name: "dev", files }]
}

#[test]
fn write_replaces_changed_files_and_removes_stale_ones_and_empty_folders() {
    let root = temp_root("replace");
    let first = files(&[("apps/a.yaml", "a"), ("old/stale.yaml", "old")]);
    write(&root, &dev(&first), Scope::OnlyThese).unwrap();
    fs::write(root.join("untouched.txt"), "keep").unwrap();

    let second = files(&[("apps/a.yaml", "a2"), ("bootstrap/root.yaml", "r")]);
    let outcome = write(&root, &dev(&second), Scope::OnlyThese).unwrap();

    assert_eq!(
        outcome.written,
        vec![
            root.join("dev/apps/a.yaml"),
            root.join("dev/bootstrap/root.yaml")
        ]
    );
    assert_eq!(outcome.removed, vec![root.join("dev/old/stale.yaml")]);
    assert_eq!(
        fs::read_to_string(root.join("dev/apps/a.yaml")).unwrap(),
        "a2"
    );
    assert!(!root.join("dev/old").exists(), "an emptied folder goes too");
    assert_eq!(
        fs::read_to_string(root.join("untouched.txt")).unwrap(),
        "keep"
    );
    assert!(
        check(&root, &dev(&second), Scope::OnlyThese)
            .unwrap()
            .is_empty()
    );
    let _ = fs::remove_dir_all(&root);
}

#[test]
fn an_unchanged_rewrite_touches_no_file() {
    let root = temp_root("unchanged");
    let tree = files(&[("apps/a.yaml", "a"), ("bootstrap/setup.sh", "#!/bin/sh\n")]);
    write(&root, &dev(&tree), Scope::Everything).unwrap();
    let stamp = |p: &str| fs::metadata(root.join(p)).unwrap().modified().unwrap();
    let before = (stamp("dev/apps/a.yaml"), stamp("dev/bootstrap/setup.sh"));
    std::thread::sleep(std::time::Duration::from_millis(20));

    let outcome = write(&root, &dev(&tree), Scope::Everything).unwrap();

    assert_eq!(outcome.written, Vec::<PathBuf>::new());
    assert_eq!(outcome.removed, Vec::<PathBuf>::new());
    assert_eq!(outcome.unchanged, 2);
    assert_eq!(
        before,
        (stamp("dev/apps/a.yaml"), stamp("dev/bootstrap/setup.sh"))
    );
    let _ = fs::remove_dir_all(&root);
}

#[cfg(unix)]
#[test]
fn scripts_are_executable_and_a_lost_mode_is_drift_that_a_write_repairs() {
    use std::os::unix::fs::PermissionsExt;
    let root = temp_root("mode");
    let tree = files(&[("setup.sh", "#!/usr/bin/env bash\n"), ("a.yaml", "a")]);
    write(&root, &dev(&tree), Scope::Everything).unwrap();
    let mode = |p: &str| fs::metadata(root.join(p)).unwrap().permissions().mode() & 0o777;
    assert_eq!((mode("dev/setup.sh"), mode("dev/a.yaml")), (0o755, 0o644));

    fs::set_permissions(root.join("dev/setup.sh"), fs::Permissions::from_mode(0o644)).unwrap();
    assert_eq!(
        check(&root, &dev(&tree), Scope::Everything).unwrap(),
        vec![Drift::Mode(root.join("dev/setup.sh"))]
    );
    let outcome = write(&root, &dev(&tree), Scope::Everything).unwrap();
    assert_eq!(outcome.written, vec![root.join("dev/setup.sh")]);
    assert_eq!(mode("dev/setup.sh"), 0o755);
    let _ = fs::remove_dir_all(&root);
}

#[test]
fn leftovers_of_a_killed_run_and_deleted_environments_are_reported_then_removed() {
    let root = temp_root("leftovers");
    let tree = files(&[("apps/a.yaml", "a")]);
    write(&root, &dev(&tree), Scope::Everything).unwrap();
    fs::write(root.join("dev/apps/.a.yaml.4242.tmp"), "half").unwrap();
    fs::create_dir_all(root.join("qa/apps")).unwrap();
    fs::write(root.join("qa/apps/a.yaml"), "a").unwrap();
    fs::write(root.join("README.md"), "generated, do not edit").unwrap();

    assert_eq!(
        check(&root, &dev(&tree), Scope::Everything).unwrap(),
        vec![
            Drift::Extra(root.join("dev/apps/.a.yaml.4242.tmp")),
            Drift::Extra(root.join("qa")),
        ]
    );
    assert_eq!(
        check(&root, &dev(&tree), Scope::OnlyThese).unwrap(),
        vec![Drift::Extra(root.join("dev/apps/.a.yaml.4242.tmp"))],
        "rendering one environment says nothing of the others"
    );
    let outcome = write(&root, &dev(&tree), Scope::Everything).unwrap();
    assert_eq!(
        outcome.removed,
        vec![root.join("dev/apps/.a.yaml.4242.tmp"), root.join("qa")]
    );
    assert!(
        check(&root, &dev(&tree), Scope::Everything)
            .unwrap()
            .is_empty()
    );
    assert!(
        root.join("README.md").exists(),
        "a file beside the environments stays"
    );
    let _ = fs::remove_dir_all(&root);
}

#[test]
fn check_reports_missing_extra_and_different_files() {
    let root = temp_root("check");
    let on_disk = files(&[("a.yaml", "a"), ("b.yaml", "b")]);
    write(&root, &dev(&on_disk), Scope::Everything).unwrap();
    let wanted = files(&[("a.yaml", "changed"), ("c.yaml", "c")]);
    let drift = check(&root, &dev(&wanted), Scope::Everything).unwrap();
    let dir = root.join("dev");
    assert_eq!(
        drift,
        vec![
            Drift::Missing(dir.join("c.yaml")),
            Drift::Extra(dir.join("b.yaml")),
            Drift::Differs(dir.join("a.yaml")),
        ]
    );
    let _ = fs::remove_dir_all(&root);
}

#[test]
fn a_path_outside_the_tree_is_refused_before_anything_is_written() {
    let root = temp_root("escape");
    let good = files(&[("a.yaml", "a")]);
    write(&root, &dev(&good), Scope::Everything).unwrap();
    let bad = files(&[("../escaped.yaml", "x")]);
    let changed = files(&[("a.yaml", "changed")]);
    let error = write(
        &root,
        &[
            Tree {
                name: "dev",
                files: &changed,
            },
            Tree {
                name: "prod",
                files: &bad,
            },
        ],
        Scope::Everything,
    );
    assert!(error.is_err());
    assert!(!root.join("escaped.yaml").exists());
    assert!(!root.join("prod").exists());
    assert_eq!(fs::read_to_string(root.join("dev/a.yaml")).unwrap(), "a");
    let _ = fs::remove_dir_all(&root);
}

#[test]
fn an_io_error_names_the_file_it_happened_at() {
    let root = temp_root("io-error");
    // A folder where a file is to be written: the rename over it fails, whoever runs this.
    fs::create_dir_all(root.join("dev/apps/a.yaml")).unwrap();
    let tree = files(&[("apps/a.yaml", "a")]);
    let error = write(&root, &dev(&tree), Scope::OnlyThese).unwrap_err();
    assert!(
        error
            .to_string()
            .contains(&root.join("dev/apps/a.yaml").display().to_string()),
        "{error}"
    );
    let _ = fs::remove_dir_all(&root);
}

#[test]
fn a_new_environment_is_staged_whole_and_a_killed_runs_staging_is_cleared() {
    for scope in [Scope::Everything, Scope::OnlyThese] {
        let root = temp_root(&format!("staging-{scope:?}"));
        // What a run killed while staging leaves: a hidden, half-written folder.
        fs::create_dir_all(root.join(".dev.staging/apps")).unwrap();
        fs::write(root.join(".dev.staging/apps/half.yaml"), "ha").unwrap();
        let tree = files(&[("apps/a.yaml", "a"), ("bootstrap/setup.sh", "#!/bin/sh\n")]);
        let outcome = write(&root, &dev(&tree), scope).unwrap();
        assert_eq!(
            outcome.written,
            vec![
                root.join("dev/apps/a.yaml"),
                root.join("dev/bootstrap/setup.sh")
            ]
        );
        assert!(!root.join(".dev.staging").exists(), "{scope:?}");
        assert!(!root.join("dev/apps/half.yaml").exists());
        assert_eq!(
            disk::mode_of(&root.join("dev/bootstrap/setup.sh")).unwrap(),
            Some(Mode::Executable)
        );
        assert!(check(&root, &dev(&tree), scope).unwrap().is_empty());
        let _ = fs::remove_dir_all(&root);
    }
}

/// What `render` does: each environment staged (a new folder, written on several threads) or
/// compared (an existing one) while others still render, its contents then dropped, and one
/// write from what was done ahead. The stamps the staging took are the ledger's, so the next
/// render trusts every file without reading it.
#[test]
fn work_done_ahead_writes_the_same_tree_and_a_ledger_that_vouches_for_it() {
    let root = temp_root("ahead");
    let many: Files = (0..1500)
        .map(|i| {
            (
                format!("manifests/app-{i:04}/a.yaml"),
                Contents::from(format!("app: {i}\n")),
            )
        })
        .chain([(
            "bootstrap/setup.sh".to_owned(),
            Contents::from("#!/bin/sh\n"),
        )])
        .collect();
    let existing = files(&[("apps/a.yaml", "a"), ("apps/stale.yaml", "s")]);
    write(
        &root,
        &[Tree {
            name: "prod",
            files: &existing,
        }],
        Scope::OnlyThese,
    )
    .unwrap();
    let changed = files(&[("apps/a.yaml", "a2")]);
    let trees = [
        Tree {
            name: "dev",
            files: &many,
        },
        Tree {
            name: "prod",
            files: &changed,
        },
    ];

    let ledger = ledger::Ledger::load(&root);
    let mut ahead = Ahead::default();
    let staged = stage(&root, &trees[0]).unwrap().expect("dev is new");
    assert_eq!(staged.files(), many.len(), "an entry per file written");
    ahead.staged.insert("dev".to_owned(), staged);
    assert!(
        stage(&root, &trees[1]).unwrap().is_none(),
        "prod exists: compared, not staged"
    );
    let comparison = compare_ahead(&root, &trees[1], ledger.as_ref()).unwrap();
    ahead.compared.insert("prod".to_owned(), comparison);
    assert!(
        !root.join("dev").exists(),
        "nothing visible before the write"
    );

    // The write is given the trees by name alone: what it writes comes from the work ahead.
    let none = BTreeMap::new();
    let handed_over = trees.map(|tree| Tree {
        name: tree.name,
        files: &none,
    });
    let outcome = write_staged(&root, &handed_over, Scope::Everything, ahead, Some(7)).unwrap();
    assert_eq!(outcome.written.len(), many.len() + 1);
    assert_eq!(outcome.unchanged, 0);
    assert_eq!(outcome.removed, vec![root.join("prod/apps/stale.yaml")]);
    assert!(check(&root, &trees, Scope::Everything).unwrap().is_empty());
    assert_eq!(
        mode_of(&root.join("dev/bootstrap/setup.sh")).unwrap(),
        Some(Mode::Executable)
    );
    let listed = ledger::unchanged(&root, 7)
        .unwrap()
        .expect("the ledger vouches for the tree");
    assert_eq!(
        listed,
        vec![("dev".to_owned(), many.len()), ("prod".to_owned(), 1)]
    );
    let _ = fs::remove_dir_all(&root);
}

/// A folder that appears or vanishes between the work ahead and the write (another process,
/// a person) is not written over from a stale plan: the write refuses and writes nothing.
#[test]
fn a_folder_changed_since_the_work_ahead_is_not_written() {
    let root = temp_root("changed-since");
    let dev = files(&[("apps/a.yaml", "a")]);
    let tree = Tree {
        name: "dev",
        files: &dev,
    };
    let mut ahead = Ahead::default();
    ahead
        .staged
        .insert("dev".to_owned(), stage(&root, &tree).unwrap().unwrap());
    fs::create_dir_all(root.join("dev")).unwrap();
    let error = write_staged(&root, &[tree], Scope::OnlyThese, ahead, None).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("created while the environment rendered"),
        "{error}"
    );
    assert!(!root.join("dev/apps/a.yaml").exists());

    let comparison = compare_ahead(&root, &tree, None).unwrap();
    let mut ahead = Ahead::default();
    ahead.compared.insert("dev".to_owned(), comparison);
    fs::remove_dir_all(root.join("dev")).unwrap();
    let error = write_staged(&root, &[tree], Scope::OnlyThese, ahead, None).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("removed while the environment rendered"),
        "{error}"
    );
    assert!(!root.join("dev").exists());
    let _ = fs::remove_dir_all(&root);
}
