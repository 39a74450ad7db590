//! The incremental render's invariant: what it gives is what a full render from scratch
//! gives, byte for byte, after any sequence of edits. Each test applies a long random edit
//! sequence (seeded, so a failure replays) and, after every edit, renders the environments
//! both ways: from nothing, and reusing what the renders before it kept.

use platform::incremental::Memo;
use platform::render::Checked;
use platform::{EnvironmentFile, LoadedEnvironment, hydrate::ChartTemplater};
use platform_tests::edits::Editor;

/// How many edits one sequence applies: each renders every environment twice, in a debug
/// build, so two sequences of this length take most of a minute.
const EDITS: usize = 60;

fn fresh(loaded: &[LoadedEnvironment], charts: Option<&dyn ChartTemplater>) -> Vec<Checked> {
    platform::render_checked(loaded, 1, charts, &|_| {})
}

/// Fails naming the edit, the environment and the first file that differs.
fn assert_same(
    step: &str,
    loaded: &[LoadedEnvironment],
    full: &[Checked],
    incremental: &[Checked],
) {
    assert_eq!(full.len(), incremental.len(), "{step}");
    for ((env, full), incremental) in loaded.iter().zip(full).zip(incremental) {
        let name = &env.name;
        match (full, incremental) {
            (Ok((full, full_findings)), Ok((incremental, found))) => {
                let differs = full
                    .files
                    .iter()
                    .find(|(path, text)| incremental.files.get(*path) != Some(*text))
                    .map(|(path, _)| path.clone())
                    .or_else(|| {
                        incremental
                            .files
                            .keys()
                            .find(|path| !full.files.contains_key(*path))
                            .cloned()
                    });
                assert_eq!(
                    differs, None,
                    "after `{step}`: rendered/{name}/ differs there"
                );
                assert_eq!(full, incremental, "after `{step}`: {name}");
                assert_eq!(full_findings, found, "after `{step}`: {name}'s findings");
            }
            (Err(full), Err(incremental)) => {
                assert_eq!(full, incremental, "after `{step}`: {name}'s errors");
            }
            (full, incremental) => panic!(
                "after `{step}`: {name} renders {} in full, {} incrementally",
                if full.is_ok() { "well" } else { "with errors" },
                if incremental.is_ok() {
                    "well"
                } else {
                    "with errors"
                },
            ),
        }
    }
}

/// Applies `edits` random edits from `seed`; returns how many left environments that
/// rendered well, so that a test can tell it exercised more than errors.
fn replay(
    seed: u64,
    edits: usize,
    mut editor: Editor,
    charts: Option<&dyn ChartTemplater>,
) -> usize {
    let memo = Memo::new();
    let mut good = 0;
    let mut render = |step: &str, files: &[EnvironmentFile]| {
        let Ok(loaded) = platform::load(files) else {
            return;
        };
        let full = fresh(&loaded, charts);
        let incremental =
            platform::render_checked_incrementally(&loaded, 2, charts, Some(&memo), &|_| {});
        assert_same(
            &format!("{step} (seed {seed})"),
            &loaded,
            &full,
            &incremental,
        );
        if full.iter().all(Result::is_ok) {
            good += 1;
        }
    };
    render("no edit", &editor.files());
    for _ in 0..edits {
        let step = editor.edit();
        render(&step, &editor.files());
        // The same files again: what a save without a change, or a watch's burst, renders.
        if step.len().is_multiple_of(7) {
            render(&format!("{step}, rendered again"), &editor.files());
        }
    }
    good
}

#[test]
fn random_edit_sequences_render_as_a_full_render_does() {
    for seed in [1, 2] {
        let editor = Editor::new(seed, &platform_tests::environment_files()).without_hydration();
        let good = replay(seed, EDITS, editor, None);
        assert!(
            good >= EDITS / 2,
            "seed {seed}: only {good} of {EDITS} edits left environments that render; the sequence tests too little"
        );
    }
}

/// The hydrated environments' charts go through the same reuse: with their charts templated,
/// edits of the apps (whose values no chart reads) still give the full render's bytes.
#[test]
fn hydrated_environments_render_incrementally_as_in_full() {
    let charts = platform_tests::charts::charts();
    let memo = Memo::new();
    let mut editor = Editor::new(7, &platform_tests::environment_files());
    for step in 0..6 {
        let files = editor.files();
        let loaded = platform::load(&files).expect("the edited environments load");
        let full = fresh(&loaded, Some(charts));
        let incremental =
            platform::render_checked_incrementally(&loaded, 2, Some(charts), Some(&memo), &|_| {});
        assert_same(&format!("app edit {step}"), &loaded, &full, &incremental);
        assert!(full.iter().all(Result::is_ok), "edit {step} renders");
        let reuse = memo.reuse("staging").expect("staging rendered");
        if step > 0 {
            assert!(
                reuse.files_reused > reuse.files_built * 10,
                "after an app's image moved, staging reused most of its files: {reuse:?}"
            );
        }
        // Edits no chart's values read: an app's image.
        let _ = editor.retag_an_app();
    }
}

/// An unchanged environment is reused whole; one whose files changed is rendered again, and
/// reuses the objects that did not change.
#[test]
fn what_is_reused_follows_what_changed() {
    let memo = Memo::new();
    let mut editor = Editor::new(11, &platform_tests::environment_files()).without_hydration();
    let render = |files: &[EnvironmentFile]| {
        let loaded = platform::load(files).expect("the environments load");
        let results =
            platform::render_checked_incrementally(&loaded, 2, None, Some(&memo), &|_| {});
        assert!(results.iter().all(Result::is_ok));
        loaded
    };
    render(&editor.files());
    let first = memo.reuse("dev").expect("dev rendered");
    assert_eq!(
        first.files_reused, 0,
        "nothing to reuse at first: {first:?}"
    );
    render(&editor.files());
    let again = memo.reuse("dev").expect("dev rendered");
    assert!(again.environment_reused, "{again:?}");

    let _ = editor.retag_an_app();
    let loaded = render(&editor.files());
    for environment in &loaded {
        let reuse = memo.reuse(&environment.name).expect("rendered");
        if reuse.environment_reused {
            continue;
        }
        assert_eq!(
            reuse.apps_built, 1,
            "{}: only the retagged app's files are built again: {reuse:?}",
            environment.name
        );
        assert_eq!(
            reuse.apps_reused + 1,
            environment.env.apps.len(),
            "{}: the apps that did not change are taken whole: {reuse:?}",
            environment.name
        );
    }
    let edited = memo.reuse("dev").expect("dev rendered");
    assert!(
        !edited.environment_reused,
        "an app's image moved: {edited:?}"
    );
    assert!(
        edited.files_built >= 1 && edited.files_built < 10,
        "only the files of the app whose image moved are built again: {edited:?}"
    );
    assert!(
        edited.verdicts_evaluated >= 1,
        "its workload is judged again: {edited:?}"
    );
    assert!(
        edited.verdicts_reused >= 1,
        "the others' verdicts are kept: {edited:?}"
    );
}
