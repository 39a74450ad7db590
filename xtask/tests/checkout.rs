//! Every command acts on the checkout it runs in, found at run time: one binary, built once,
//! serves a moved checkout and two checkouts sharing a target dir, each on its own files.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

mod common;
use common::{repository_copy, scratch};

/// The binary as `cargo xtask` runs it: cargo sets `CARGO_MANIFEST_DIR` to the xtask package
/// of the checkout it was invoked in, whichever checkout the shared binary was built from.
fn as_cargo_runs_it(checkout: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .env("CARGO_MANIFEST_DIR", checkout.join("xtask"))
        .current_dir(checkout.parent().unwrap())
        .args(args)
        .output()
        .unwrap()
}

/// The binary run by hand from a folder inside a checkout.
fn by_hand_from(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .env_remove("CARGO_MANIFEST_DIR")
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap()
}

fn replicas(checkout: &Path, env: &str) -> String {
    let deployment = checkout.join(format!(
        "rendered/{env}/manifests/finops-app/deployment-finops-app.yaml"
    ));
    let text = fs::read_to_string(&deployment).unwrap();
    text.lines()
        .find_map(|l| l.trim().strip_prefix("replicas: "))
        .unwrap()
        .to_owned()
}

fn set_dev_replicas(checkout: &Path, replicas: u32) {
    let dev = checkout.join("environments/dev.yaml");
    let text = fs::read_to_string(&dev).unwrap();
    let (head, tail) = text.split_once("workloads:\n  replicas: ").unwrap();
    let rest = tail.split_once('\n').map_or("", |(_, rest)| rest);
    fs::write(
        dev,
        format!("{head}workloads:\n  replicas: {replicas}\n{rest}"),
    )
    .unwrap();
}

fn ok(output: &Output) {
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn two_checkouts_sharing_one_binary_each_render_their_own_files() {
    let scratch = scratch("two-checkouts");
    let (first, second) = (scratch.join("first"), scratch.join("second"));
    repository_copy(&first);
    repository_copy(&second);
    set_dev_replicas(&second, 2);

    ok(&as_cargo_runs_it(&first, &["render"]));
    ok(&as_cargo_runs_it(&second, &["render"]));

    assert_eq!(replicas(&first, "dev"), "1");
    assert_eq!(
        replicas(&second, "dev"),
        "2",
        "the second checkout's edit is rendered"
    );
    ok(&as_cargo_runs_it(&first, &["render", "--check"]));
    ok(&as_cargo_runs_it(&second, &["render", "--check"]));
    let _ = fs::remove_dir_all(&scratch);
}

#[test]
fn a_moved_checkout_and_one_entered_by_hand_act_on_themselves() {
    let scratch = scratch("moved-checkout");
    let before = scratch.join("before");
    repository_copy(&before);
    ok(&as_cargo_runs_it(&before, &["render"]));

    let after = scratch.join("after");
    fs::rename(&before, &after).unwrap();
    set_dev_replicas(&after, 3);
    ok(&as_cargo_runs_it(&after, &["render"]));
    assert_eq!(replicas(&after, "dev"), "3");
    assert!(
        !before.exists(),
        "nothing is written where the checkout used to be"
    );

    set_dev_replicas(&after, 1);
    let output = by_hand_from(&after.join("environments"), &["render", "--env", "dev"]);
    ok(&output);
    assert_eq!(replicas(&after, "dev"), "1");

    // The scratch folder lies inside this checkout's target dir; the system's temp folder does not.
    let outside = std::env::temp_dir().join(format!("no-checkout-{}", std::process::id()));
    fs::create_dir_all(&outside).unwrap();
    let nowhere = by_hand_from(&outside, &["render"]);
    let _ = fs::remove_dir_all(&outside);
    assert_eq!(nowhere.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&nowhere.stderr);
    assert!(stderr.contains("no repository found"), "{stderr}");
    assert!(stderr.contains("--root"), "{stderr}");
    let _ = fs::remove_dir_all(&scratch);
}
