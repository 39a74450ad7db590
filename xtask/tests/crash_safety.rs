//! Writes are minimal and survive `kill -9`: an unchanged re-render touches no file, and a
//! render killed at any moment leaves no file half-written, leaves nothing that confuses the
//! next run, and the next run converges to exactly the rendered tree.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::{repository_copy, scratch, snapshot, xtask_at};

/// Enough apps that writing takes a while (each app is a dozen files).
const APPS: usize = 120;

/// `dev` with `APPS` apps at `version`. Between two versions, the first half of the apps
/// change port (their files are replaced) and the second half change name (their files are
/// removed, and others created).
fn write_environment(root: &Path, version: u32) {
    let mut apps = String::from("\napps:\n");
    for i in 0..APPS {
        let name = if i < APPS / 2 {
            format!("load-{i:04}")
        } else {
            format!("load-v{version}-{i:04}")
        };
        apps.push_str(&format!(
            "  - name: {name}\n    team: finops\n    image: ghcr.io/example-org/load:1.0.{version}\n    port: {}\n    resources:\n      requests: {{cpu: 10m, memory: 16Mi}}\n      limits: {{cpu: 20m, memory: 32Mi}}\n",
            8000 + version
        ));
    }
    let base = fs::read_to_string(common::repository().join("environments/dev.yaml")).unwrap();
    fs::write(root.join("environments/dev.yaml"), base + &apps).unwrap();
}

fn render(root: &Path) {
    let output = xtask_at(root, &["render", "--env", "dev"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The visible files of the tree (not the writer's hidden temporaries), by relative path.
fn visible(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let dir = root.join("rendered/dev");
    snapshot(&dir)
        .into_iter()
        .filter(|(path, _)| !hidden(path))
        .map(|(path, bytes)| (relative(&dir, &path), bytes))
        .collect()
}

fn hidden(path: &Path) -> bool {
    path.file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with('.'))
}

fn relative(dir: &Path, path: &Path) -> String {
    path.strip_prefix(dir)
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

fn mtimes(root: &Path) -> BTreeMap<PathBuf, std::time::SystemTime> {
    snapshot(&root.join("rendered"))
        .into_keys()
        .map(|path| {
            let modified = fs::metadata(&path).unwrap().modified().unwrap();
            (path, modified)
        })
        .collect()
}

/// When a kill strikes.
#[derive(Clone, Copy, Debug)]
enum Moment {
    /// This long after the start.
    After(Duration),
    /// This long after the first file of the new version appeared.
    IntoWriting(Duration),
}

#[test]
fn an_unchanged_rerender_touches_nothing() {
    let root = scratch("unchanged-rerender");
    repository_copy(&root);
    let output = xtask_at(&root, &["render"]);
    assert!(output.status.success());
    let before = mtimes(&root);
    std::thread::sleep(Duration::from_millis(50));

    let again = xtask_at(&root, &["render"]);

    assert!(again.status.success());
    assert_eq!(mtimes(&root), before, "no file was rewritten");
    let stdout = String::from_utf8_lossy(&again.stdout);
    let files = snapshot(&root.join("rendered/dev")).len();
    assert!(
        stdout.contains(&format!("rendered/dev/: {files} files, 0 written")),
        "{stdout}"
    );
    let _ = fs::remove_dir_all(&root);
}

#[test]
fn a_re_render_trusts_its_ledger_only_while_nothing_about_the_tree_changed() {
    let root = scratch("ledger");
    repository_copy(&root);
    let render = |root: &Path| {
        let output = xtask_at(root, &["render"]);
        assert!(output.status.success(), "{output:?}");
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    render(&root);
    assert!(root.join("rendered/.render-ledger").is_file());
    assert!(render(&root).contains("0 written"));

    // A hand edit, even of the same length, is repaired.
    let file = root.join("rendered/dev/apps/vault.yaml");
    let original = fs::read_to_string(&file).unwrap();
    std::thread::sleep(Duration::from_millis(20));
    fs::write(&file, original.replace("vault", "VAULT")).unwrap();
    let repaired = render(&root);
    assert!(repaired.contains(" files, 1 written"), "{repaired}");
    assert_eq!(fs::read_to_string(&file).unwrap(), original);

    // A deleted file comes back; an extra one goes.
    fs::remove_file(&file).unwrap();
    fs::write(root.join("rendered/dev/apps/extra.yaml"), "kind: Extra\n").unwrap();
    render(&root);
    assert_eq!(fs::read_to_string(&file).unwrap(), original);
    assert!(!root.join("rendered/dev/apps/extra.yaml").exists());

    // Another environment file is another input.
    let dev = root.join("environments/dev.yaml");
    let text = fs::read_to_string(&dev).unwrap();
    fs::write(&dev, text.replace("retention: 7d", "retention: 8d")).unwrap();
    let output = render(&root);
    assert!(
        output.contains("rendered/dev/: ") && !output.contains("rendered/dev/: 0"),
        "{output}"
    );
    let _ = fs::remove_dir_all(&root);
}

#[test]
fn a_render_killed_at_any_moment_leaves_whole_files_and_the_next_run_converges() {
    let root = scratch("killed-render");
    repository_copy(&root);
    let mut versions = Vec::new();
    for version in [0, 1] {
        write_environment(&root, version);
        render(&root);
        versions.push(visible(&root));
    }
    let (old, new) = (&versions[0], &versions[1]);
    let changed = old.iter().filter(|(p, b)| new.get(*p) != Some(b)).count();
    assert!(
        changed >= APPS * 4,
        "the two versions differ in {changed} files only"
    );

    // How long a whole render takes here, to spread some kills over all of it.
    write_environment(&root, 0);
    let started = Instant::now();
    render(&root);
    let whole = started.elapsed();
    // Most of a render is computing; writing is the short end of it. The rest of the kills
    // wait until the first file of the new version appears, then strike within milliseconds.
    let first_written = new
        .iter()
        .find(|(path, bytes)| old.get(*path) != Some(*bytes))
        .map(|(path, _)| root.join("rendered/dev").join(path))
        .unwrap();
    let mut moments: Vec<Moment> = (1..=4)
        .map(|i| Moment::After(whole.mul_f64(f64::from(i) / 5.0)))
        .collect();
    moments.extend(
        (0..16u32).map(|i| Moment::IntoWriting(Duration::from_micros(u64::from(i * i) * 40))),
    );

    let mut mixed = 0;
    for (kill, moment) in moments.iter().enumerate() {
        let target = kill % 2; // alternate, so every run has files to replace
        write_environment(&root, target as u32);
        let target_bytes = &versions[target];
        let mut child = Command::new(env!("CARGO_BIN_EXE_xtask"))
            .arg("--root")
            .arg(&root)
            .args(["render", "--env", "dev"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        match *moment {
            Moment::After(delay) => std::thread::sleep(delay),
            Moment::IntoWriting(delay) => {
                let path = relative(&root.join("rendered/dev"), &first_written);
                let deadline = Instant::now() + whole * 4;
                while fs::read(&first_written).ok().as_ref() != target_bytes.get(&path)
                    && Instant::now() < deadline
                {
                    std::thread::sleep(Duration::from_micros(50));
                }
                std::thread::sleep(delay);
            }
        }
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();

        let on_disk = visible(&root);
        for (path, bytes) in &on_disk {
            let whole_file = old.get(path) == Some(bytes) || new.get(path) == Some(bytes);
            assert!(
                whole_file,
                "after a kill {moment:?}, {path} is neither version: half-written"
            );
        }
        let from_old = on_disk
            .iter()
            .filter(|(p, b)| old.get(*p) == Some(b) && new.get(*p) != Some(b))
            .count();
        let from_new = on_disk
            .iter()
            .filter(|(p, b)| new.get(*p) == Some(b) && old.get(*p) != Some(b))
            .count();
        if from_old > 0 && from_new > 0 {
            mixed += 1;
        }
    }
    eprintln!(
        "{mixed} of {} kills left a tree part old, part new",
        moments.len()
    );
    assert!(
        mixed > 0,
        "no kill of {} landed while files were being written; the test proved nothing",
        moments.len()
    );

    // Whatever the kills left, leftovers included, the next run completes the tree exactly.
    write_environment(&root, 1);
    render(&root);
    assert_eq!(&visible(&root), new, "the next render converges");
    let leftovers: Vec<_> = snapshot(&root.join("rendered"))
        .into_keys()
        .filter(|p| hidden(p))
        .collect();
    assert!(
        leftovers.is_empty(),
        "temporary files left behind: {leftovers:?}"
    );
    let check = xtask_at(&root, &["render", "--env", "dev", "--check"]);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
    let _ = fs::remove_dir_all(&root);
}
