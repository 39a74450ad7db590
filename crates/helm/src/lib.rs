//! What Argo CD's repo-server would apply for each Helm Application: the vendored chart
//! (`schemas/charts/<chart>/`), templated by the real Helm with the arguments Argo CD v3.4.4
//! passes (`reposerver/repository/repository.go` `helmTemplate`, `util/helm/cmd.go`
//! `template`), read back into objects.
//!
//! This crate runs a program and reads its output; it writes no file. Nothing in
//! `cargo xtask render` depends on it: rendering needs no Helm.

mod batch;
mod binary;
mod conditions;
mod output;
mod pods;
mod release;

pub use batch::template_all;
pub use binary::{Helm, HelmMissing, MIN_VERSION};
pub use conditions::{Subchart, subcharts};
pub use output::{ChartObject, Hook, Templated};
pub use pods::{Container, Pod, pods};
pub use release::{Capabilities, HelmApplication, KUBERNETES_VERSION, TemplateError, applications};
