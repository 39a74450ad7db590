//! The repository a command acts on, found when it runs, never from a path compiled in.
//!
//! A binary built in one checkout keeps running after the checkout moves, and two checkouts
//! that share a `CARGO_TARGET_DIR` share one binary: a compiled-in path would make the second
//! checkout's `cargo xtask render` read and write the first. So the root is looked up at run
//! time, from what cargo says about the package it runs, or else from the working directory.
//!
//! This crate reads; only `platform-writer` writes.

mod locate;
mod read;

pub use locate::{Checkout, LocateError};
pub use read::{SchemaFolder, TextTree, read_tree};

/// Overrides the schema folder for every command and test: `PLATFORM_SCHEMAS=DIR`.
pub const SCHEMAS_ENV: &str = "PLATFORM_SCHEMAS";
