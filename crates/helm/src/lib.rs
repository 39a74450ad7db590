//! What Argo CD's repo-server would apply for each Helm Application: the vendored chart
//! (`schemas/charts/<chart>/`), templated by the real Helm with the arguments Argo CD v3.4.4
//! passes (`reposerver/repository/repository.go` `helmTemplate`, `util/helm/cmd.go`
//! `template`), read back into objects.
//!
//! This crate runs a program and reads its output; the only files it writes are those of
//! the cache of Helm's output its caller may give it ([`VendoredCharts::cached_in`]).
//! `cargo xtask render` needs it, and Helm, only for an environment that hydrates its charts.

mod batch;
mod binary;
mod conditions;
mod output;
mod pods;
mod release;
mod vendored;

pub use batch::template_all;
pub use binary::{Helm, HelmMissing, MIN_VERSION};
pub use conditions::{Subchart, subcharts};
pub use output::{ChartObject, Hook, Templated};
pub use pods::{Container, Pod, pods};
pub use release::{Capabilities, HelmApplication, KUBERNETES_VERSION, TemplateError, applications};
pub use vendored::{VendoredCharts, cache_beside_this_build};
