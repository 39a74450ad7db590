//! The pipeline from environment files to the files of `rendered/<env>/`.
//!
//! `platform_environments` parses, layers and checks the files, `catalog` asks every component crate for its
//! components, `plan` derives the sync waves, and `render` turns the plan into an in-memory
//! tree of files for the writer. Nothing here touches the file system.

mod admission;
pub mod bootstrap;
mod budgets;
pub mod catalog;
mod conventions;
pub mod docs;
mod hubs;
pub mod hydrate;
pub mod incremental;
pub mod matrix;
pub mod network;
pub mod plan;
pub mod projects;
pub mod render;

pub use conventions::conventions;
pub use hubs::{check_hubs, load, load_matching, resolve as resolve_hubs};
pub use plan::{Plan, PlannedComponent, plan};
pub use platform_environments::{
    Diagnostic, EnvironmentFile, LoadedEnvironment, complete_schema, concrete_names, layer_schema,
};
pub use render::{
    RenderedEnvironment, check, combined, plan_located, render, render_checked,
    render_checked_incrementally, render_plan, render_with,
};
