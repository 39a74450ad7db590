//! The pipeline from environment files to the files of `rendered/<env>/`.
//!
//! `environments` parses and checks the files, `catalog` asks every component crate for its
//! components, `plan` derives the sync waves, and `render` turns the plan into an in-memory
//! tree of files for the writer. Nothing here touches the file system.

pub mod bootstrap;
pub mod catalog;
pub mod diagnostics;
pub mod environments;
pub mod plan;
pub mod render;

pub use diagnostics::Diagnostic;
pub use environments::{EnvironmentFile, LoadedEnvironment, load};
pub use plan::{Plan, PlannedComponent, plan};
pub use render::{RenderedEnvironment, render};
