//! One error, located: the file, where in it, and what would be valid.

use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Diagnostic {
    /// The file the error is in, relative to the repository, e.g. `environments/dev.yaml`.
    pub file: String,
    /// 1-based line and column, when the error points at a place in the file.
    pub location: Option<(usize, usize)>,
    /// Field path such as `apps[0].secrets[1].vault_path`, when the error is about a field.
    pub path: Option<String>,
    pub message: String,
}

impl Diagnostic {
    pub fn at(span: &crate::tree::Span, path: Option<&str>, message: String) -> Self {
        Self {
            file: span.file.to_string(),
            location: Some((span.line, span.column)),
            path: path.filter(|p| !p.is_empty()).map(str::to_owned),
            message,
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some((line, column)) = self.location {
            write!(f, ":{line}:{column}")?;
        }
        write!(f, ": ")?;
        if let Some(path) = &self.path {
            write!(f, "{path}: ")?;
        }
        write!(f, "{}", self.message)
    }
}
