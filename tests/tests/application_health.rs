//! The Application health check runs in a real Lua 5.1 interpreter (Argo CD runs gopher-lua,
//! which implements Lua 5.1) over a table of Application states: the next wave starts only
//! when a child is synced, healthy, and its last operation did not fail.

use component_argocd::APPLICATION_HEALTH_LUA;

/// Each Application state, as the Lua table Argo CD hands the script as `obj`, and the
/// status the parent must see.
const STATES: &[(&str, &str, &str)] = &[
    ("just created", "{}", "Progressing"),
    (
        "no health yet",
        "{status = {sync = {status = 'OutOfSync'}}}",
        "Progressing",
    ),
    (
        "synced and healthy",
        "{status = {health = {status = 'Healthy'}, sync = {status = 'Synced'}}}",
        "Healthy",
    ),
    (
        "synced and healthy after a successful sync",
        "{status = {health = {status = 'Healthy'}, sync = {status = 'Synced'}, operationState = {phase = 'Succeeded'}}}",
        "Healthy",
    ),
    (
        "healthy from the previous revision, not synced to this one",
        "{status = {health = {status = 'Healthy'}, sync = {status = 'OutOfSync'}}}",
        "Progressing",
    ),
    (
        "syncing",
        "{status = {health = {status = 'Healthy'}, sync = {status = 'Synced'}, operationState = {phase = 'Running'}}}",
        "Progressing",
    ),
    (
        "a sync being stopped",
        "{status = {health = {status = 'Healthy'}, sync = {status = 'Synced'}, operationState = {phase = 'Terminating'}}}",
        "Progressing",
    ),
    (
        "synced and healthy, but its hook failed",
        "{status = {health = {status = 'Healthy'}, sync = {status = 'Synced'}, operationState = {phase = 'Failed', message = 'one or more synchronization tasks completed unsuccessfully'}}}",
        "Degraded",
    ),
    (
        "synced and healthy, but the sync ended in an error",
        "{status = {health = {status = 'Healthy'}, sync = {status = 'Synced'}, operationState = {phase = 'Error'}}}",
        "Degraded",
    ),
    (
        "degraded",
        "{status = {health = {status = 'Degraded', message = 'CrashLoopBackOff'}, sync = {status = 'Synced'}}}",
        "Degraded",
    ),
    (
        "manual sync never started",
        "{status = {health = {status = 'Missing'}, sync = {status = 'OutOfSync'}}}",
        "Missing",
    ),
];

/// Runs the health check on each state in one Lua 5.1 process; `None` where no interpreter is
/// installed outside CI (`.ci/run` installs it and sets `CI`, so there it must run).
fn statuses() -> Option<Vec<String>> {
    let mut program = String::new();
    program.push_str(&format!(
        "local check = assert(loadstring([==[{APPLICATION_HEALTH_LUA}]==]))\n"
    ));
    for (_, object, _) in STATES {
        // Argo CD sets the global `obj` and reads the table the chunk returns.
        program.push_str(&format!(
            "obj = {object}\nlocal hs = check()\nio.write(hs.status, '\\t', hs.message, '\\n')\n"
        ));
    }
    let output = platform_tests::run_tool("lua5.1", &["-"], &program)?;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    Some(
        String::from_utf8(output.stdout)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect(),
    )
}

#[test]
fn the_parent_waits_for_synced_healthy_children_whose_last_sync_did_not_fail() {
    let Some(lines) = statuses() else { return };
    assert_eq!(lines.len(), STATES.len());
    let mut wrong = Vec::new();
    for ((what, _, expected), line) in STATES.iter().zip(&lines) {
        let (status, message) = line.split_once('\t').unwrap();
        if status != *expected {
            wrong.push(format!("{what}: {status} ({message}), expected {expected}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    let failed_hook = &lines[7];
    assert_eq!(
        failed_hook,
        "Degraded\tthe last sync failed: one or more synchronization tasks completed unsuccessfully"
    );
}
