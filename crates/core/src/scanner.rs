//! Decisions on configuration-scanner findings, recorded on the object they concern.
//!
//! checkov reads `checkov.io/skip<N>: <check>=<reason>` annotations from an object's metadata
//! (checkov 3.3.30 `kubernetes_utils.get_skipped_checks`, which splits the value at `=`, so a
//! reason may hold none). Every finding the platform leaves is skipped this way, with the
//! reason beside it, so `checkov` over `rendered/` reports none and a reviewer sees why.

use std::collections::BTreeMap;

/// A checkov check the object does not meet, and why that is the right call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Waiver {
    pub check: &'static str,
    pub reason: &'static str,
}

/// A checkov check some objects of an upstream chart do not meet, and why that is right for
/// this platform. A chart's objects cannot carry the platform's annotations in Git (Argo CD
/// templates them in the cluster), so these are recorded where the scanner reads them:
/// `cargo xtask charts template --for-scanners` writes each on the objects it names, and an
/// environment that hydrates its charts carries them on the objects it commits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChartWaiver {
    pub check: &'static str,
    /// `Kind/name` as the chart names them (the same in every environment), or [`EVERY_POD`].
    pub objects: &'static [&'static str],
    pub reason: &'static str,
}

/// Every object of the chart that runs pods: its workloads and their hooks.
pub const EVERY_POD: &str = "*";

/// The kinds [`EVERY_POD`] stands for.
pub const POD_KINDS: &[&str] = &[
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "Job",
    "CronJob",
    "Pod",
];

/// What holds for the pods of every chart the platform installs.
pub const EVERY_CHART: &[ChartWaiver] = &[
    ChartWaiver::every_pod(
        IMAGE_BY_TAG,
        "the chart's pinned version fixes each image tag and the chart is vendored at that version; a digest would fork the chart's image values at every bump",
    ),
    ChartWaiver::every_pod(
        "CKV_K8S_15",
        "IfNotPresent with a fixed tag: Always would make every restart depend on the registry, which a sovereign cluster may not reach",
    ),
];

impl ChartWaiver {
    /// A waiver for every pod of the chart.
    pub const fn every_pod(check: &'static str, reason: &'static str) -> Self {
        Self {
            check,
            objects: &[EVERY_POD],
            reason,
        }
    }

    /// Whether the waiver concerns an object of this kind and name.
    pub fn covers(&self, kind: &str, name: &str) -> bool {
        self.objects.iter().any(|object| {
            (*object == EVERY_POD && POD_KINDS.contains(&kind))
                || object.split_once('/') == Some((kind, name))
        })
    }
}

/// The waivers of `chart` (and of every chart) that concern one object, as [`Waiver`]s.
pub fn chart_waivers(chart: &[ChartWaiver], kind: &str, name: &str) -> Vec<Waiver> {
    EVERY_CHART
        .iter()
        .chain(chart)
        .filter(|waiver| waiver.covers(kind, name))
        .map(|waiver| Waiver {
            check: waiver.check,
            reason: waiver.reason,
        })
        .collect()
}

/// A container image pinned by tag, not digest.
pub const IMAGE_BY_TAG: &str = "CKV_K8S_43";
/// A pod that mounts its service account's token.
pub const SERVICE_ACCOUNT_TOKEN: &str = "CKV_K8S_38";
/// A container whose UID is not pinned at 10000 or above.
pub const HIGH_UID: &str = "CKV_K8S_40";
/// A pod without a pod-level security context.
pub const POD_SECURITY_CONTEXT: &str = "CKV_K8S_29";
/// A ClusterRole that may change admission webhook configurations.
pub const WEBHOOK_CONFIGURATION_CONTROL: &str = "CKV_K8S_155";
/// A container without a liveness probe.
pub const LIVENESS_PROBE: &str = "CKV_K8S_8";
/// A container without a readiness probe.
pub const READINESS_PROBE: &str = "CKV_K8S_9";
/// A container whose root filesystem is writable.
pub const READ_ONLY_ROOT: &str = "CKV_K8S_22";

/// Why a controller keeps its service account token.
pub const TOKEN_OF_A_CONTROLLER: &str =
    "a controller: it reads and writes Kubernetes objects through the API with its service account";
/// Why a UID is the image's.
pub const UID_OF_THE_IMAGE: &str = "runs as its image's own non-root user (runAsNonRoot holds), which owns the image's files; another UID would need rebuilt images";
/// Why a pod needs no pod-level context.
pub const CONTAINERS_CARRY_THE_CONTEXT: &str = "every container carries the whole restricted context itself (non-root user, RuntimeDefault seccomp, no capability, no privilege escalation, read-only root): a pod-level one would add nothing";
/// Why a controller may write webhook configurations.
pub const KEEPS_ITS_OWN_WEBHOOKS: &str = "it keeps its own webhook configurations current (their CA bundle and rules), which needs write access to them";
/// A Secret exposed as environment variables.
pub const SECRET_IN_ENVIRONMENT: &str = "CKV_K8S_35";

/// Records `waivers` on an object of a chart as the annotations [`annotations`] makes, beside
/// those it has; an object without metadata is left as it is.
pub fn waive(object: &mut serde_json::Value, waivers: &[Waiver]) {
    if waivers.is_empty() {
        return;
    }
    let Some(metadata) = object
        .get_mut("metadata")
        .and_then(serde_json::Value::as_object_mut)
    else {
        return;
    };
    let existing = metadata
        .entry("annotations")
        .or_insert_with(|| serde_json::Value::Object(serde_json::Map::new()));
    if let serde_json::Value::Object(existing) = existing {
        for (key, reason) in annotations(waivers) {
            existing.insert(key, serde_json::Value::String(reason));
        }
    }
}

/// The annotations that record `waivers`, numbered in order.
pub fn annotations(waivers: &[Waiver]) -> BTreeMap<String, String> {
    waivers
        .iter()
        .enumerate()
        .map(|(i, waiver)| {
            assert!(
                !waiver.reason.contains('=') && !waiver.check.contains('='),
                "checkov splits a waiver at `=`: {waiver:?}"
            );
            (
                format!("checkov.io/skip{}", i + 1),
                format!("{}={}", waiver.check, waiver.reason),
            )
        })
        .collect()
}
