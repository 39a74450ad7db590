//! What a render keeps for the next: the incremental render.
//!
//! Every environment is still loaded and planned in full (a few milliseconds per thousand
//! apps), so that what each step reads is a value at hand. What costs is downstream of the
//! plan and per object: writing each object's YAML and reducing it to what the invariants
//! read, and evaluating every Kyverno policy against every workload. Those results are kept
//! with the exact bytes of what they read (the object as it serializes and its file's header,
//! by path; the policies, the workload and its namespace's labels, by the workload's file),
//! and reused when the same bytes come again. A user app's files are kept whole, with its
//! entry, its wave and a fingerprint of the settings they read ([`app_context`]): an
//! unchanged app costs a lookup, not a serialization of each of its objects. A result is thus reused exactly when
//! computing it again would give the same output, whatever was edited to get there: the
//! incremental render's output is the full render's, by construction, and a test applies
//! random edit sequences to hold it to that.
//!
//! An environment loaded exactly as last time (the same values, set at the same lines of the
//! same files) is not rendered at all: its last good render is reused whole, since every step
//! reads nothing but it. Otherwise whole-environment work (the plan, the projects, the
//! README, the cost forecast and the invariants across objects) runs again: it reads
//! everything the environment holds.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use platform_core::model::Environment;
use platform_environments::LoadedEnvironment;
use platform_memo::{Fingerprint, Fingerprinter, Generations};

use crate::render::{Checked, RenderedEnvironment};

/// What renders kept for the next, per environment. Shared by the threads of one render:
/// each takes its environment's part while it renders it.
#[derive(Debug, Default)]
pub struct Memo {
    environments: Mutex<BTreeMap<String, EnvironmentMemo>>,
}

/// What renders of one environment kept.
#[derive(Debug, Default)]
pub struct EnvironmentMemo {
    pub(crate) files: Generations<String, Arc<BuiltFile>>,
    /// Each app's files, by the app's name.
    pub(crate) apps: Generations<String, Arc<AppFiles>>,
    /// How many files the render took whole from `apps`.
    pub(crate) app_files_reused: usize,
    pub(crate) admission: platform_validate::AdmissionMemo,
    /// The environment as last loaded, and its render, if that was good.
    last: Option<(LoadedEnvironment, Rendered)>,
    /// Whether the last render reused the whole environment.
    reused_whole: bool,
}

/// A good render of one environment: its files, with the invariants it breaks.
type Rendered = (RenderedEnvironment, Vec<platform_validate::Finding>);

impl EnvironmentMemo {
    /// The last render, if it was good and of this very environment (its files, its
    /// values, and where in the files each value was set, which warnings point at).
    pub(crate) fn unchanged(&self, environment: &LoadedEnvironment) -> Option<&Rendered> {
        self.last
            .as_ref()
            .filter(|(loaded, _)| loaded == environment)
            .map(|(_, rendered)| rendered)
    }

    /// Keeps a good render of `environment` for the next; forgets a bad one's.
    pub(crate) fn remember(&mut self, environment: &LoadedEnvironment, result: &Checked) {
        self.last = result
            .as_ref()
            .ok()
            .map(|rendered| (environment.clone(), rendered.clone()));
    }
}

/// An app's files as the render built them, in order: its Application's, then its folder's.
pub(crate) type AppFiles = Vec<(String, Arc<BuiltFile>)>;

/// What an app's files read of their environment besides the app itself: the environment's
/// name, the header its files start with, and every setting but the other apps. An app's
/// objects and its Application are built from its own entry, its team and the environment's
/// settings (workload defaults, secret store, Git source); its wave comes from the plan and
/// is read with it. Nothing of an app reads another app: their traffic between them becomes
/// the tenants' NetworkPolicies, not theirs.
pub(crate) fn app_context(name: &str, header: &str, env: &Environment) -> Fingerprint {
    // Named field by field, so that a setting added to the model is a compile error here
    // until it is read, rather than a setting whose edit leaves the apps' files stale.
    let Environment {
        git,
        cluster,
        argocd,
        metallb,
        vault,
        secrets,
        policies,
        prometheus,
        opencost,
        cost,
        grafana,
        alerting,
        network,
        charts,
        workloads,
        teams,
        platform_team,
        apps: _,
    } = env;
    let mut context = Fingerprinter::new();
    context.add(name).add(header);
    context
        .add_json(git)
        .add_json(cluster)
        .add_json(argocd)
        .add_json(metallb)
        .add_json(vault)
        .add_json(secrets)
        .add_json(policies)
        .add_json(prometheus)
        .add_json(opencost)
        .add_json(cost)
        .add_json(grafana)
        .add_json(alerting)
        .add_json(network)
        .add_json(charts)
        .add_json(workloads)
        .add_json(teams)
        .add_json(platform_team);
    context.fingerprint()
}

/// One object's file as the render built it: its contents, and what the invariants read of it.
#[derive(Debug)]
pub(crate) struct BuiltFile {
    pub(crate) text: Arc<str>,
    pub(crate) read: Arc<serde_json::Value>,
}

/// What the last render of an environment reused and recomputed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Reuse {
    /// The environment loaded as last time, so its whole render was reused.
    pub environment_reused: bool,
    /// Files reused, whether one by one or with their app's.
    pub files_reused: usize,
    pub files_built: usize,
    /// Apps whose files were reused whole, since neither they nor what they read changed.
    pub apps_reused: usize,
    pub apps_built: usize,
    pub verdicts_reused: usize,
    pub verdicts_evaluated: usize,
}

impl Memo {
    pub fn new() -> Self {
        Self::default()
    }

    /// The part of environment `name`, taken out while its render runs.
    pub(crate) fn take(&self, name: &str) -> EnvironmentMemo {
        self.lock().remove(name).unwrap_or_default()
    }

    /// Puts back what the render of `name` kept. A render that `ran` ends there: what it did
    /// not use is dropped. One that reused the whole environment used nothing else.
    pub(crate) fn put(&self, name: &str, mut memo: EnvironmentMemo, ran: bool) {
        if ran {
            memo.files.advance();
            memo.apps.advance();
            memo.admission.advance();
        }
        memo.reused_whole = !ran;
        self.lock().insert(name.to_owned(), memo);
    }

    /// Forgets the environments not named: one removed from the environment files leaves no
    /// memory behind.
    pub fn retain(&self, names: &[&str]) {
        self.lock().retain(|name, _| names.contains(&name.as_str()));
    }

    /// What the last render of `name` reused and recomputed.
    pub fn reuse(&self, name: &str) -> Option<Reuse> {
        let environments = self.lock();
        let memo = environments.get(name)?;
        if memo.reused_whole {
            // The objects of the render reused, as the last render that ran counted them.
            let (reused, built) = memo.files.last_counts();
            let files = reused + memo.app_files_reused + built;
            return Some(Reuse {
                environment_reused: true,
                files_reused: files,
                ..Reuse::default()
            });
        }
        let (files_reused, files_built) = memo.files.last_counts();
        let (apps_reused, apps_built) = memo.apps.last_counts();
        let (verdicts_reused, verdicts_evaluated) = memo.admission.last_counts();
        Some(Reuse {
            environment_reused: false,
            files_reused: files_reused + memo.app_files_reused,
            files_built,
            apps_reused,
            apps_built,
            verdicts_reused,
            verdicts_evaluated,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, EnvironmentMemo>> {
        // A render that panicked put nothing back; what is there is whole.
        self.environments
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
