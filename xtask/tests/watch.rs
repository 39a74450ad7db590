//! `render --watch` on a scratch checkout, through its real file watcher: after every save
//! of a random edit sequence, the tree it leaves is byte for byte the one a one-shot render
//! of the same files writes into a checkout of its own; an edit that does not render leaves
//! the last good tree and says so.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Duration;

use common::{repository_copy, scratch, snapshot, xtask_at};
use platform_tests::edits::Editor;

/// How long a render may take before the test calls the watch stuck: a debug build renders
/// the three environments in well under this.
const PATIENCE: Duration = Duration::from_secs(60);

struct Watch {
    child: Child,
    lines: Receiver<String>,
}

impl Watch {
    fn start(root: &Path) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_xtask"))
            .arg("--root")
            .arg(root)
            .args(["render", "--watch"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (sender, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                if sender.send(line.unwrap()).is_err() {
                    return;
                }
            }
        });
        Self { child, lines }
    }

    /// The line that ends the next render: its summary, or that it kept the last good tree.
    fn next_render(&self) -> String {
        loop {
            match self.lines.recv_timeout(PATIENCE) {
                Ok(line) if line.starts_with("rendered in ") || line.starts_with("waiting ") => {
                    return line;
                }
                Ok(_) => {}
                Err(RecvTimeoutError::Timeout) => panic!("the watch did not render in time"),
                Err(RecvTimeoutError::Disconnected) => panic!("the watch exited"),
            }
        }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Saves the editor's files into `root/environments/` as an editor does, each written whole
/// beside it and renamed into place, removing those it no longer has; whether any changed.
fn write_files(root: &Path, editor: &Editor) -> bool {
    let environments = root.join("environments");
    let files = editor.files();
    let mut changed = false;
    for entry in std::fs::read_dir(&environments).unwrap() {
        let path = entry.unwrap().path();
        let kept = files.iter().any(|file| root.join(&file.path) == path);
        if path.extension().is_some_and(|e| e == "yaml") && !kept {
            std::fs::remove_file(path).unwrap();
            changed = true;
        }
    }
    for file in files {
        let path = root.join(&file.path);
        if std::fs::read_to_string(&path).ok().as_deref() == Some(file.contents.as_str()) {
            continue;
        }
        let temporary = environments.join(".saving");
        std::fs::write(&temporary, file.contents).unwrap();
        std::fs::rename(&temporary, &path).unwrap();
        changed = true;
    }
    changed
}

/// The rendered tree below `root`, by path below `rendered/`, without the ledger.
fn tree(root: &Path) -> std::collections::BTreeMap<std::path::PathBuf, Vec<u8>> {
    let rendered = root.join("rendered");
    snapshot(&rendered)
        .into_iter()
        .filter(|(path, _)| !path.ends_with(platform_writer::ledger::FILE))
        .map(|(path, bytes)| (path.strip_prefix(&rendered).unwrap().to_path_buf(), bytes))
        .collect()
}

#[test]
fn every_save_leaves_the_tree_a_full_render_writes() {
    let watched = scratch("watch-watched");
    let reference = scratch("watch-reference");
    repository_copy(&watched);
    repository_copy(&reference);
    let start = platform_tests::environment_files();
    let mut editor = Editor::new(5, &start).without_hydration();
    write_files(&watched, &editor);
    let watch = Watch::start(&watched);
    let first = watch.next_render();
    assert!(first.starts_with("rendered in "), "{first}");

    let mut good = 0;
    for _ in 0..12 {
        let step = editor.edit();
        if !write_files(&watched, &editor) {
            continue;
        }
        let line = watch.next_render();
        write_files(&reference, &editor);
        let one_shot = xtask_at(&reference, &["render"]);
        if one_shot.status.success() {
            assert!(
                line.starts_with("rendered in "),
                "after `{step}` a one-shot render succeeds, the watch said: {line}"
            );
            good += 1;
        } else {
            assert!(
                line.starts_with("waiting "),
                "after `{step}` a one-shot render fails, the watch said: {line}"
            );
        }
        // Good or not, both trees are the last good render's.
        let (ours, theirs) = (tree(&watched), tree(&reference));
        let differs = theirs
            .iter()
            .find(|(path, bytes)| ours.get(*path) != Some(*bytes))
            .map(|(path, _)| path.clone())
            .or_else(|| ours.keys().find(|p| !theirs.contains_key(*p)).cloned());
        assert_eq!(
            differs, None,
            "after `{step}`: rendered/ differs there ({line})"
        );
    }
    assert!(good >= 6, "only {good} of 12 edits rendered");
}

#[test]
fn a_save_that_does_not_render_keeps_the_last_good_tree() {
    let root = scratch("watch-broken");
    repository_copy(&root);
    let editor = Editor::new(9, &platform_tests::environment_files()).without_hydration();
    write_files(&root, &editor);
    let watch = Watch::start(&root);
    assert!(watch.next_render().starts_with("rendered in "));
    let good = tree(&root);

    let dev = root.join("environments/dev.yaml");
    let text = std::fs::read_to_string(&dev).unwrap();
    // Saved half-way: a line cut off in the middle of a mapping.
    std::fs::write(&dev, format!("{text}\nvault:\n  mode: [dev\n")).unwrap();
    let line = watch.next_render();
    assert!(line.starts_with("waiting "), "{line}");
    assert_eq!(tree(&root), good, "the last good tree stays");

    std::fs::write(&dev, text.replace("retention: 7d", "retention: 5d")).unwrap();
    let line = watch.next_render();
    assert!(line.starts_with("rendered in "), "{line}");
    assert!(
        line.contains("dev/prometheus"),
        "the Application affected is named: {line}"
    );
}
