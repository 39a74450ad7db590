//! Loading the checkout's environment files, for every command that needs them.

use platform::{Diagnostic, LoadedEnvironment};
use platform_checkout::Checkout;

use crate::Failure;

/// Every concrete environment. `wrap` says how the command reports bad files.
pub fn load_all(
    checkout: &Checkout,
    wrap: fn(Vec<Diagnostic>) -> Failure,
) -> Result<Vec<LoadedEnvironment>, Failure> {
    let files = checkout.environment_files().map_err(Failure::Io)?;
    platform::load(&files).map_err(wrap)
}

/// One environment, with the files it extends; the others are parsed but not checked.
pub fn load_one(
    checkout: &Checkout,
    name: &str,
    wrap: fn(Vec<Diagnostic>) -> Failure,
) -> Result<LoadedEnvironment, Failure> {
    let files = checkout.environment_files().map_err(Failure::Io)?;
    let loaded = platform::load_matching(&files, |n| n == name).map_err(wrap)?;
    if let Some(environment) = loaded.into_iter().next() {
        return Ok(environment);
    }
    let concrete = platform::concrete_names(&files);
    let expected = format!("expected one of: {}", concrete.join(", "));
    let message = match files.iter().find(|f| f.name() == name) {
        Some(file) => format!(
            "`{name}` is abstract: {} is only extended by other environments, never rendered on its own; {expected}",
            file.path
        ),
        None => format!("no environment `{name}` (no environments/{name}.yaml); {expected}"),
    };
    Err(wrap(vec![Diagnostic {
        file: "environments/".to_owned(),
        location: None,
        path: None,
        message,
    }]))
}
