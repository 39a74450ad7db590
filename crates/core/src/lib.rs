//! The shared core of the platform generator.
//!
//! Everything a component needs to describe itself lives here, so that component crates
//! depend on this crate and never on each other: the typed environment ([`model`]), the
//! well-known names and endpoints that are the contract between components ([`names`]),
//! the cost-allocation labels ([`labels`]), Argo CD's types ([`argocd`]), the custom
//! resources more than one component uses ([`eso`]), the [`component::Component`]
//! description, the sync-wave graph ([`waves`]) and manifest serialization ([`manifest`]).
//!
//! Nothing in this crate touches the file system.

pub mod application;
pub mod argocd;
pub mod billing;
pub mod budget;
pub mod cert_manager;
pub mod component;
pub mod cost_queries;
pub mod eso;
pub mod hardening;
pub mod labels;
pub mod manifest;
pub mod model;
pub mod names;
mod partial_serializer;
pub mod resource;
pub mod scanner;
pub mod sizing;
pub mod traffic;
pub mod waves;
pub mod yaml;

/// Re-exported so that [`custom_resource!`] expands in crates that do not name these directly.
#[doc(hidden)]
pub mod __private {
    pub use k8s_openapi;
    pub use serde;
}
