//! Reading trees and schema files.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Upstream schemas read from a folder laid out like `schemas/`.
#[derive(Clone, Debug)]
pub struct SchemaFolder(pub PathBuf);

impl SchemaFolder {
    /// Whether the folder holds schemas at all, so a wrong path fails before validation
    /// reports every object as having no schema.
    pub fn looks_complete(&self) -> bool {
        self.0.join("kubernetes").is_dir() && self.0.join("crds").is_dir()
    }
}

impl platform_validate::SchemaSource for SchemaFolder {
    fn read(&self, relative: &str) -> Result<Option<String>, String> {
        let path = self.0.join(relative);
        match fs::read_to_string(&path) {
            Ok(text) => Ok(Some(text)),
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(format!("reading {}: {error}", path.display())),
        }
    }
}

/// The files of a folder as text.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TextTree {
    /// Path relative to the folder, with `/` separators, and contents.
    pub files: BTreeMap<String, String>,
    /// Files that are not UTF-8 text, by the same relative path: no manifest, and to be
    /// reported as such rather than stop the reading of the others.
    pub not_text: Vec<String>,
}

/// Every file below `dir`. Hidden entries (a leading `.`: the writer's temporary files,
/// `.git`) are not part of a tree. An error names the path it happened at.
pub fn read_tree(dir: &Path) -> io::Result<TextTree> {
    let mut found: Vec<(String, PathBuf)> = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        let listing =
            |e: io::Error| io::Error::new(e.kind(), format!("{}: {e}", current.display()));
        for entry in fs::read_dir(&current).map_err(listing)? {
            let entry = entry.map_err(listing)?;
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            let path = entry.path();
            if entry.file_type().map_err(listing)?.is_dir() {
                pending.push(path);
            } else if let Ok(relative) = path.strip_prefix(dir) {
                let key = relative
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                found.push((key, path));
            }
        }
    }
    let mut tree = TextTree::default();
    for ((key, path), read) in found.iter().zip(read_all(&found)) {
        let bytes =
            read.map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
        match String::from_utf8(bytes) {
            Ok(text) => {
                tree.files.insert(key.clone(), text);
            }
            Err(_) => tree.not_text.push(key.clone()),
        }
    }
    tree.not_text.sort();
    Ok(tree)
}

/// Reads the files, in their order, a few at a time: a large tree's reads wait on the disk
/// more than on the processor, so they are overlapped.
fn read_all(files: &[(String, PathBuf)]) -> Vec<io::Result<Vec<u8>>> {
    const READERS: usize = 4;
    if files.len() < 256 {
        return files.iter().map(|(_, path)| fs::read(path)).collect();
    }
    let chunk = files.len().div_ceil(READERS);
    std::thread::scope(|scope| {
        let readers: Vec<_> = files
            .chunks(chunk)
            .map(|part| {
                scope.spawn(|| {
                    part.iter()
                        .map(|(_, path)| fs::read(path))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        readers
            .into_iter()
            .flat_map(|reader| reader.join().expect("a reading thread does not panic"))
            .collect()
    })
}
