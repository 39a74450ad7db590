//! `cargo xtask schema [--check]`: the editor schema of environment files.

use std::process::ExitCode;

use platform_checkout::Checkout;
use platform_writer::Drift;

use crate::Failure;

/// The editor schema, relative to the repository root.
pub const FILE: &str = "environments/schema.json";

fn text() -> String {
    let schema = platform::layer_schema();
    let mut text = serde_json::to_string_pretty(&schema).expect("a schema is JSON");
    text.push('\n');
    text
}

/// How the committed schema differs from the types, if it does.
pub fn drift(checkout: &Checkout) -> Result<Option<Drift>, Failure> {
    let path = checkout.root().join(FILE);
    platform_writer::check_file(&path, &text())
        .map_err(|e| Failure::Io(format!("reading {}: {e}", path.display())))
}

pub fn run(checkout: &Checkout, check: bool) -> Result<ExitCode, Failure> {
    if check {
        return Ok(match drift(checkout)? {
            None => {
                println!("{FILE} is current");
                ExitCode::SUCCESS
            }
            Some(_) => {
                eprintln!("{FILE} is out of date: run `cargo xtask schema` and commit it");
                ExitCode::from(1)
            }
        });
    }
    let path = checkout.root().join(FILE);
    let written = platform_writer::write_file(&path, &text())
        .map_err(|e| Failure::Io(format!("writing {}: {e}", path.display())))?;
    if written {
        println!("{FILE}: written");
    } else {
        println!("{FILE}: already current, not written");
    }
    Ok(ExitCode::SUCCESS)
}
