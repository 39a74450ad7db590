//! Environment files, from text to the typed model.
//!
//! 1. [`tree`] parses each file into a tree that remembers the line and column of every key
//!    and value, rejecting tabs, syntax errors and duplicate keys.
//! 2. [`layering`] resolves `extends`, merging each file over the one it extends.
//! 3. [`typing`] turns the merged tree into JSON, checks it against the model's schema
//!    (collecting every error), deserializes it, and runs the model's own checks.
//!
//! Every error is a [`Diagnostic`] naming the file, line and column, and field path. Nothing
//! here touches the file system: the caller hands in file contents.

mod diagnostics;
mod layering;
mod schema;
mod suggest;
mod tree;
mod typing;

use platform_core::model::Environment;

pub use diagnostics::Diagnostic;
pub use layering::{ABSTRACT_KEY, EXTENDS_KEY};
pub use schema::{complete_schema, layer_schema};

/// An environment file as read from disk by the caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvironmentFile {
    /// Path relative to the repository, e.g. `environments/dev.yaml`.
    pub path: String,
    pub contents: String,
}

impl EnvironmentFile {
    /// The file's name without directory and extension: what `extends` names, and the name of
    /// the environment it renders.
    pub fn name(&self) -> &str {
        let file = self.path.rsplit('/').next().unwrap_or(&self.path);
        file.strip_suffix(".yaml")
            .or_else(|| file.strip_suffix(".yml"))
            .unwrap_or(file)
    }
}

/// A concrete environment, merged and checked.
#[derive(Clone, Debug, PartialEq)]
pub struct LoadedEnvironment {
    pub name: String,
    /// The file it was loaded from, for messages and generated comments.
    pub source: String,
    /// `source` and every file it extends, nearest first: where its values may come from.
    pub chain: Vec<String>,
    pub env: Environment,
    /// Where each field of the merged environment was set, for errors found later.
    spans: typing::Spans,
}

impl LoadedEnvironment {
    /// An environment built in code rather than read from a file; errors about it carry no
    /// line numbers.
    pub fn new(name: &str, source: &str, env: Environment) -> Self {
        Self {
            name: name.to_owned(),
            source: source.to_owned(),
            chain: vec![source.to_owned()],
            env,
            spans: typing::Spans::default(),
        }
    }

    /// An error about the field at `path` (or its nearest ancestor that was set in a file),
    /// located in the file that set it.
    pub fn diagnostic(&self, path: Option<&str>, message: String) -> Diagnostic {
        match path.and_then(|p| self.spans.locate(p)) {
            Some(span) => Diagnostic::at(span, path, message),
            None => Diagnostic {
                file: self.source.clone(),
                location: None,
                path: path.map(str::to_owned),
                message,
            },
        }
    }
}

/// The names of the files that render an environment of their own: neither named `base*` nor
/// marked `abstract: true`. Files that do not parse are left out; loading reports them.
pub fn concrete_names(files: &[EnvironmentFile]) -> Vec<String> {
    files
        .iter()
        .filter_map(|file| {
            let root = tree::parse(&file.path, &file.contents).ok()?;
            let layer = layering::Layer::new(file.name(), &file.path, root);
            (!layer.is_abstract()).then_some(layer.name)
        })
        .collect()
}

/// Parses, layers and checks every file, and returns the concrete environments (files that
/// are neither named `base*` nor marked `abstract: true`), sorted by name. Reports every
/// problem of every file, not just the first.
pub fn load(files: &[EnvironmentFile]) -> Result<Vec<LoadedEnvironment>, Vec<Diagnostic>> {
    load_matching(files, |_| true)
}

/// Like [`load`], but types and checks only the environments `wanted` names; every file is
/// still parsed, since any of them may be extended.
pub fn load_matching(
    files: &[EnvironmentFile],
    wanted: impl Fn(&str) -> bool,
) -> Result<Vec<LoadedEnvironment>, Vec<Diagnostic>> {
    let mut diagnostics = Vec::new();
    let mut parsed = Vec::new();
    for (i, file) in files.iter().enumerate() {
        // `dev.yaml` and `dev.yml` would both be `dev`, and one would silently win.
        if let Some(first) = files[..i].iter().find(|f| f.name() == file.name()) {
            diagnostics.push(Diagnostic {
                file: file.path.clone(),
                location: None,
                path: None,
                message: format!(
                    "{} also defines environment `{}`; expected one file per environment: remove or rename one",
                    first.path,
                    file.name()
                ),
            });
            continue;
        }
        match tree::parse(&file.path, &file.contents) {
            Ok(root) => parsed.push(layering::Layer::new(file.name(), &file.path, root)),
            Err(mut errors) => diagnostics.append(&mut errors),
        }
    }
    let wanted_files: Vec<&str> = files
        .iter()
        .filter(|f| wanted(f.name()))
        .map(|f| f.path.as_str())
        .collect();
    let (merged, errors) = layering::resolve(parsed);
    diagnostics.extend(
        errors
            .into_iter()
            .filter(|e| wanted_files.contains(&e.file.as_str())),
    );

    let mut loaded = Vec::new();
    let merged: Vec<_> = merged.into_iter().filter(|e| wanted(&e.name)).collect();
    // Environments are typed apart from each other: side by side, one per core, in order.
    let typed: Vec<_> = std::thread::scope(|scope| {
        let threads = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        let chunk = merged.len().div_ceil(threads).max(1);
        let workers: Vec<_> = merged
            .chunks(chunk)
            .map(|part| {
                scope.spawn(|| {
                    part.iter()
                        .map(|environment| typing::type_environment(&environment.root))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| worker.join().expect("a typing thread does not panic"))
            .collect()
    });
    for (environment, typed) in merged.into_iter().zip(typed) {
        match typed {
            Ok((env, spans)) => loaded.push(LoadedEnvironment {
                name: environment.name,
                source: environment.path,
                chain: environment.chain,
                env,
                spans,
            }),
            Err(mut errors) => diagnostics.append(&mut errors),
        }
    }
    if diagnostics.is_empty() {
        loaded.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(loaded)
    } else {
        diagnostics.sort();
        diagnostics.dedup();
        Err(diagnostics)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_files_for_one_environment_are_refused() {
        let file = |path: &str| EnvironmentFile {
            path: path.to_owned(),
            contents: "extends: base\n".to_owned(),
        };
        let files = [
            file("environments/base.yaml"),
            file("environments/dev.yaml"),
            file("environments/dev.yml"),
        ];
        let errors = load(&files).unwrap_err();
        assert!(
            errors.iter().any(|d| d.file == "environments/dev.yml"
                && d.message
                    == "environments/dev.yaml also defines environment `dev`; expected one file per environment: remove or rename one"),
            "{errors:?}"
        );
    }
}
