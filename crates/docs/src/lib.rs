//! Documentation generated from the same model that renders the manifests, so it cannot drift:
//! each environment's README and the component graph in Mermaid, Graphviz dot and JSON.
//!
//! The caller (the platform crate) fills a [`DocModel`] with plain data; this crate knows
//! nothing of components, only of what a reader needs. Diagrams are built as typed values
//! ([`mermaid`]) and escaped on output; minijinja lays out the prose around them.

pub mod graph;
pub mod mermaid;
mod model;
mod readme;

pub use model::{
    Access, AlertDoc, Application, Bootstrap, CostDoc, CostRow, DocModel, ManualSync, SecretFlow,
    SecretRef,
};
pub use readme::readme;

/// Up to this many apps, the README draws each one; beyond, it summarizes them in tables a
/// person can still read (a diagram of a thousand nodes is not).
pub const DETAILED_APPS: usize = 20;
