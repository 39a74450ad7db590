//! An offline evaluator for Kyverno `validate` policies, and a runner for `kyverno test` suites.
//!
//! It knows Kyverno and Kubernetes objects, nothing of the platform that renders them: callers hand
//! it policies and resources as JSON and get Kyverno's answer per rule (pass, fail, skip, error).
//! Supported: `pattern` and `anyPattern` with every anchor and operator, `deny` conditions over
//! JMESPath, `foreach`, `podSecurity` (baseline and restricted), `match`/`exclude`,
//! `preconditions`, and auto-generated rules for Pod controllers. Not supported (and reported as
//! errors rather than guessed): `context` API calls, image verification, CEL and mutate/generate.

mod anchor;
pub mod autogen;
pub mod conditions;
mod duration;
pub mod engine;
mod functions;
mod go_value;
pub mod images;
pub mod jmes;
mod leaf;
pub mod matching;
pub mod pattern;
pub mod policy;
mod pss;
mod quantity;
pub mod suite;
pub mod variables;
pub mod wildcard;

pub use engine::{PreparedPolicy, Request, RuleResult, Status, evaluate};
pub use policy::Policy;
