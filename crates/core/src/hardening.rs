//! The security contexts every pod this generator writes runs with: what the platform's own
//! Kyverno policies require, and the restricted Pod Security Standard besides.

use k8s_openapi::api::core::v1::{
    Capabilities, PodSecurityContext, SeccompProfile, SecurityContext,
};

/// A container that runs as non-root, cannot gain privileges, writes nothing to its image and
/// holds no Linux capability.
pub fn container() -> SecurityContext {
    SecurityContext {
        run_as_non_root: Some(true),
        allow_privilege_escalation: Some(false),
        privileged: Some(false),
        read_only_root_filesystem: Some(true),
        capabilities: Some(Capabilities {
            drop: Some(vec!["ALL".to_owned()]),
            ..Capabilities::default()
        }),
        ..SecurityContext::default()
    }
}

/// A pod whose processes run as `uid`/`gid` (never root, even if the image says otherwise)
/// under the runtime's default seccomp profile; volumes are group-owned by `gid`.
pub fn pod(uid: i64, gid: i64) -> PodSecurityContext {
    PodSecurityContext {
        run_as_non_root: Some(true),
        run_as_user: Some(uid),
        run_as_group: Some(gid),
        fs_group: Some(gid),
        seccomp_profile: Some(SeccompProfile {
            type_: "RuntimeDefault".to_owned(),
            ..SeccompProfile::default()
        }),
        ..PodSecurityContext::default()
    }
}

/// [`container`] for an image that writes into its own filesystem at start (it rewrites its
/// configuration or assets there), so its root filesystem stays writable.
pub fn container_writing_its_image() -> SecurityContext {
    SecurityContext {
        read_only_root_filesystem: Some(false),
        ..container()
    }
}

/// Only the runtime's default seccomp profile: for a chart whose pod context already sets the
/// user, group and non-root (values merge into the chart's defaults).
pub fn runtime_default_seccomp() -> PodSecurityContext {
    PodSecurityContext {
        seccomp_profile: Some(SeccompProfile {
            type_: "RuntimeDefault".to_owned(),
            ..SeccompProfile::default()
        }),
        ..PodSecurityContext::default()
    }
}

/// A pod of an image that runs as `uid` without a group of its own: non-root, that user, the
/// runtime's default seccomp profile; the image's group ownership is left as it is.
pub fn pod_as_image_user(uid: i64) -> PodSecurityContext {
    PodSecurityContext {
        run_as_non_root: Some(true),
        run_as_user: Some(uid),
        ..runtime_default_seccomp()
    }
}
