//! Values whose syntax more than one crate must agree on, checked in one place: the model
//! refuses them in an environment file, the validator in a rendered tree, and the
//! NetworkPolicy evaluator reads address ranges with the same arithmetic; the YAML writer and
//! the validator's reader type plain scalars by the same rules, and by Kubernetes' YAML 1.1
//! rules where those differ.

mod chart_version;
pub mod cidr;
mod git_url;
pub mod yaml11;
pub mod yaml_scalar;

pub use chart_version::{check_chart_version, check_published_version};
pub use cidr::Ipv4Range;
pub use git_url::check_repo_url;
