//! Environment files: parsed into the typed model, then checked as a whole.

use platform_core::model::{self, Environment};

use crate::diagnostics::Diagnostic;

/// An environment file as read from disk by the caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvironmentFile {
    /// Path relative to the repository, e.g. `environments/dev.yaml`.
    pub path: String,
    pub contents: String,
}

impl EnvironmentFile {
    /// The environment's name: the file name without directory and extension.
    pub fn name(&self) -> &str {
        let file = self.path.rsplit('/').next().unwrap_or(&self.path);
        file.strip_suffix(".yaml")
            .or_else(|| file.strip_suffix(".yml"))
            .unwrap_or(file)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct LoadedEnvironment {
    pub name: String,
    /// The file it was loaded from, for messages and generated comments.
    pub source: String,
    pub env: Environment,
}

/// Parses and checks every file; reports every problem of every file, not just the first.
pub fn load(files: &[EnvironmentFile]) -> Result<Vec<LoadedEnvironment>, Vec<Diagnostic>> {
    let mut loaded = Vec::new();
    let mut diagnostics = Vec::new();
    for file in files {
        match parse(file) {
            Ok(env) => loaded.push(env),
            Err(mut errors) => diagnostics.append(&mut errors),
        }
    }
    if diagnostics.is_empty() {
        Ok(loaded)
    } else {
        Err(diagnostics)
    }
}

fn parse(file: &EnvironmentFile) -> Result<LoadedEnvironment, Vec<Diagnostic>> {
    let name = file.name();
    if let Err(message) = model::DnsLabel::try_from(name) {
        return Err(vec![Diagnostic {
            file: file.path.clone(),
            location: None,
            path: None,
            message: format!("the file name is the environment's name, which must be {message}"),
        }]);
    }
    let env: Environment = serde_yaml::from_str(&file.contents).map_err(|error| {
        vec![Diagnostic {
            file: file.path.clone(),
            location: error.location().map(|l| (l.line(), l.column())),
            path: None,
            message: strip_location(&error.to_string()),
        }]
    })?;
    let errors = model::check(&env);
    if !errors.is_empty() {
        return Err(errors
            .into_iter()
            .map(|error| Diagnostic {
                file: file.path.clone(),
                location: None,
                path: Some(error.path),
                message: error.message,
            })
            .collect());
    }
    Ok(LoadedEnvironment {
        name: name.to_owned(),
        source: file.path.clone(),
        env,
    })
}

/// serde_yaml appends " at line L column C"; the diagnostic carries the location itself.
fn strip_location(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(index) => message[..index].to_owned(),
        None => message.to_owned(),
    }
}
