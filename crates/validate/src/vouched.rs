//! What the last `validate` found to pass its schema checks, so that the next one checks only
//! files that changed: `rendered/.validate-ledger` (not committed).
//!
//! The ledger names each file that passed, by its path and the 128-bit fingerprint of its
//! contents, under one fingerprint of what the checks read besides the file (the validator
//! itself and the schema folder, as the caller computes it). A file is vouched for only when
//! both fingerprints are those recorded: any byte of the file, any schema, or a rebuilt
//! validator, and it is checked again. The invariants are never vouched for: they read the
//! whole environment, and run in full on every validate.

use std::collections::BTreeMap;

use platform_memo::Fingerprinter;

/// The ledger's file name, directly in `rendered/`.
pub const FILE: &str = ".validate-ledger";

/// Files whose schema checks passed, each with the fingerprint of the contents that did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SchemaLedger {
    /// What the checks read besides the files: the validator and the schemas.
    checks: u64,
    files: BTreeMap<String, [u8; 16]>,
}

/// The fingerprint a ledger records of a file's contents. The std SipHash it is made of may
/// change between Rust releases; so does the validator built by one, which the checks'
/// fingerprint covers.
pub fn contents_fingerprint(contents: &str) -> [u8; 16] {
    Fingerprinter::new().add(contents).fingerprint().to_bytes()
}

impl SchemaLedger {
    /// An empty ledger for checks fingerprinted `checks`.
    pub fn new(checks: u64) -> Self {
        Self {
            checks,
            files: BTreeMap::new(),
        }
    }

    /// The ledger `text` holds, if it is one recorded for the same checks; `None` otherwise
    /// (another validator, other schemas, or not a ledger): then nothing is vouched for.
    pub fn parse(text: &str, checks: u64) -> Option<Self> {
        let mut lines = text.lines();
        let recorded = u64::from_str_radix(lines.next()?.strip_prefix("checks ")?, 16).ok()?;
        if recorded != checks {
            return None;
        }
        let mut files = BTreeMap::new();
        for line in lines {
            let (hex, path) = line.split_once(' ')?;
            files.insert(path.to_owned(), from_hex(hex)?);
        }
        Some(Self { checks, files })
    }

    /// Whether contents of fingerprint `contents` ([`contents_fingerprint`]) at `path` passed
    /// when this ledger was recorded.
    pub fn vouches(&self, path: &str, contents: &[u8; 16]) -> bool {
        self.files.get(path) == Some(contents)
    }

    /// Records that the contents of fingerprint `contents` at `path` passed.
    pub fn passed(&mut self, path: &str, contents: [u8; 16]) {
        self.files.insert(path.to_owned(), contents);
    }

    /// Forgets `path`: what it holds now did not pass.
    pub fn failed(&mut self, path: &str) {
        self.files.remove(path);
    }

    /// Keeps the files `keep` names: a file no longer there needs no entry. An entry whose
    /// file changed may stay: it vouches for the old contents only.
    pub fn retain(&mut self, mut keep: impl FnMut(&str) -> bool) {
        self.files.retain(|path, _| keep(path));
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// The ledger as its file holds it: sorted by path, so the same results write the same
    /// bytes.
    pub fn to_text(&self) -> String {
        let mut text = format!("checks {:016x}\n", self.checks);
        for (path, fingerprint) in &self.files {
            for byte in fingerprint {
                text.push_str(&format!("{byte:02x}"));
            }
            text.push(' ');
            text.push_str(path);
            text.push('\n');
        }
        text
    }
}

fn from_hex(hex: &str) -> Option<[u8; 16]> {
    if hex.len() != 32 {
        return None;
    }
    let mut bytes = [0; 16];
    for (i, byte) in bytes.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_vouched_for_only_with_the_same_contents_and_the_same_checks() {
        let mut ledger = SchemaLedger::new(7);
        let a = contents_fingerprint("kind: A\n");
        ledger.passed("dev/apps/a.yaml", a);
        let mut read = SchemaLedger::parse(&ledger.to_text(), 7).expect("the ledger reads back");
        assert_eq!(read, ledger);
        assert!(read.vouches("dev/apps/a.yaml", &a));
        assert!(!read.vouches("dev/apps/a.yaml", &contents_fingerprint("kind: A \n")));
        assert!(!read.vouches("dev/apps/b.yaml", &a));
        assert_eq!(SchemaLedger::parse(&ledger.to_text(), 8), None);
        read.failed("dev/apps/a.yaml");
        assert!(!read.vouches("dev/apps/a.yaml", &a));
    }

    #[test]
    fn a_damaged_ledger_vouches_for_nothing() {
        let mut ledger = SchemaLedger::new(7);
        ledger.passed("dev/apps/a.yaml", contents_fingerprint("kind: A\n"));
        let text = ledger.to_text();
        for damaged in [
            text.replacen("checks ", "check ", 1),
            text.replacen(' ', "", 2),
            format!("{text}zz dev/apps/b.yaml\n"),
            String::new(),
        ] {
            assert_eq!(SchemaLedger::parse(&damaged, 7), None, "{damaged:?}");
        }
    }

    #[test]
    fn paths_with_spaces_survive_and_the_text_is_sorted() {
        let mut ledger = SchemaLedger::new(1);
        ledger.passed("dev/manifests/b c/d.yaml", contents_fingerprint("x"));
        ledger.passed("dev/apps/a.yaml", contents_fingerprint("y"));
        let text = ledger.to_text();
        let paths: Vec<&str> = text
            .lines()
            .skip(1)
            .map(|l| l.split_once(' ').unwrap().1)
            .collect();
        assert_eq!(paths, ["dev/apps/a.yaml", "dev/manifests/b c/d.yaml"]);
        assert_eq!(SchemaLedger::parse(&text, 1).unwrap(), ledger);
    }
}
