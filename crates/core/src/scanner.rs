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

/// A container image pinned by tag, not digest.
pub const IMAGE_BY_TAG: &str = "CKV_K8S_43";
/// A Secret exposed as environment variables.
pub const SECRET_IN_ENVIRONMENT: &str = "CKV_K8S_35";

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
