//! `cargo xtask synthesize --apps N --out DIR` (hidden): `dev` with N copies of its first
//! app, rendered into DIR, for benchmarks at scale.

use std::path::Path;
use std::process::ExitCode;

use platform_checkout::Checkout;
use platform_writer::Scope;

use crate::Failure;
use crate::environments::load_one;
use crate::render::tree;

pub fn run(checkout: &Checkout, apps: usize, out: &Path) -> Result<ExitCode, Failure> {
    let mut dev = load_one(checkout, "dev", Failure::Input)?;
    let Some(template) = dev.env.apps.first().cloned() else {
        return Err(Failure::Usage(
            "dev declares no app to copy: add one to environments/dev.yaml".to_owned(),
        ));
    };
    dev.env.apps = (0..apps)
        .map(|i| {
            let mut app = template.clone();
            let name = format!("{}-{i:04}", template.name);
            app.name = name.as_str().try_into().expect("a valid DNS label");
            app
        })
        .collect();
    let rendered = platform::render(&dev).map_err(Failure::Input)?;
    platform_writer::write(out, &[tree(&rendered)], Scope::OnlyThese)
        .map_err(|e| Failure::Io(format!("writing {}: {e}", out.display())))?;
    println!(
        "{}/{}/: {} files",
        out.display(),
        rendered.name,
        rendered.files.len()
    );
    Ok(ExitCode::SUCCESS)
}
