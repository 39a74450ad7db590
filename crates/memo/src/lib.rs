//! What the incremental render keeps between renders.
//!
//! A step's result is kept with the exact bytes of everything the step reads, and reused when
//! a later render asks for it with the same bytes: "early cutoff", as salsa and Bazel's action
//! cache call it. The bytes are of the step's inputs as values (an object as it serializes,
//! the path and header of its file), never of where they came from, so a result is reused
//! exactly when recomputing it would give the same output, however the environment files
//! that led to those inputs were edited. An input shared by many steps (an environment's
//! policies) is read into a [`Fingerprint`] once, and that stands in for it.
//!
//! [`Generations`] keeps what the last render used and what this one uses; whatever this
//! render did not ask for is dropped when it ends, so the memory held is that of one render's
//! results, however long a watch runs.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};

/// 128 bits of what a step reads: two independent SipHash-1-3 streams over the same bytes.
/// A collision among the few hundred thousand results one render keeps is then as likely as
/// a random 128-bit match (about 10⁻²⁸), where 64 bits would leave it at about 10⁻⁹.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fingerprint(u64, u64);

impl Fingerprint {
    /// Its 16 bytes, to stand in for the input among other inputs' bytes.
    pub fn to_bytes(self) -> [u8; 16] {
        let mut bytes = [0; 16];
        bytes[..8].copy_from_slice(&self.0.to_le_bytes());
        bytes[8..].copy_from_slice(&self.1.to_le_bytes());
        bytes
    }
}

/// Builds a [`Fingerprint`] from what is fed to it, as a [`Hasher`] (for `Hash` values) and an
/// [`std::io::Write`] (for a value's JSON form, written straight into it, never allocated).
#[derive(Debug, Clone)]
pub struct Fingerprinter {
    low: std::hash::DefaultHasher,
    high: std::hash::DefaultHasher,
}

impl Default for Fingerprinter {
    fn default() -> Self {
        let low = std::hash::DefaultHasher::new();
        let mut high = std::hash::DefaultHasher::new();
        // Seeds the second stream apart from the first.
        high.write_u64(0x9e37_79b9_7f4a_7c15);
        Self { low, high }
    }
}

impl Fingerprinter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a value as `Hash` feeds it.
    pub fn add<T: Hash + ?Sized>(&mut self, value: &T) -> &mut Self {
        value.hash(self);
        self
    }

    /// Adds a value as its JSON form: every field it serializes, in order.
    ///
    /// # Panics
    /// When the value does not serialize to JSON, which no Kubernetes object does.
    pub fn add_json<T: serde::Serialize + ?Sized>(&mut self, value: &T) -> &mut Self {
        let mut json = Vec::new();
        write_json(&mut json, value);
        // Ends the value, so that two values in a row cannot read as another two.
        json.push(0xff);
        Hasher::write(self, &json);
        self
    }

    pub fn fingerprint(&self) -> Fingerprint {
        Fingerprint(self.low.finish(), self.high.finish())
    }
}

impl Hasher for Fingerprinter {
    fn finish(&self) -> u64 {
        self.low.finish()
    }

    fn write(&mut self, bytes: &[u8]) {
        self.low.write(bytes);
        self.high.write(bytes);
    }
}

impl std::io::Write for Fingerprinter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        Hasher::write(self, bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Appends `value`'s JSON form to `out`: every field it serializes, in order.
///
/// # Panics
/// When the value does not serialize to JSON, which no Kubernetes object does.
pub fn write_json<T: serde::Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
    serde_json::to_writer(out, value)
        .unwrap_or_else(|error| panic!("a value does not serialize to JSON: {error}"));
}

/// Results by key (a file's path, a workload's file), each kept with the exact bytes of what
/// it read (an object as it serializes, its file's header). A result is reused only when the
/// step asks with the same key and the same bytes: no hash stands in for the input, so no
/// collision can hand back a wrong result. A result lives for the render that made or used it
/// and the next one.
#[derive(Debug)]
pub struct Generations<K, V> {
    previous: HashMap<K, (Vec<u8>, V)>,
    current: HashMap<K, (Vec<u8>, V)>,
    reused: usize,
    computed: usize,
    last: (usize, usize),
}

impl<K, V> Default for Generations<K, V> {
    fn default() -> Self {
        Self {
            previous: HashMap::new(),
            current: HashMap::new(),
            reused: 0,
            computed: 0,
            last: (0, 0),
        }
    }
}

impl<K: Hash + Eq, V: Clone> Generations<K, V> {
    /// The result kept for `key` when it read `input`, or the one `compute` makes, kept for
    /// the next render.
    pub fn get_or_compute(&mut self, key: K, input: &[u8], compute: impl FnOnce() -> V) -> V {
        if let Some((read, value)) = self.current.get(&key)
            && read.as_slice() == input
        {
            self.reused += 1;
            return value.clone();
        }
        let kept = self
            .previous
            .remove(&key)
            .filter(|(read, _)| read.as_slice() == input);
        let entry = match kept {
            Some(entry) => {
                self.reused += 1;
                entry
            }
            None => {
                self.computed += 1;
                (input.to_vec(), compute())
            }
        };
        let value = entry.1.clone();
        self.current.insert(key, entry);
        value
    }
}

impl<K, V> Generations<K, V> {
    /// Ends a render: what it did not ask for is dropped.
    pub fn advance(&mut self) {
        self.previous = std::mem::take(&mut self.current);
        self.last = (self.reused, self.computed);
        self.reused = 0;
        self.computed = 0;
    }

    /// How many results this render reused and how many it computed, so far.
    pub fn counts(&self) -> (usize, usize) {
        (self.reused, self.computed)
    }

    /// How many results the last render that ended reused and computed.
    pub fn last_counts(&self) -> (usize, usize) {
        self.last
    }

    /// How many results are kept.
    pub fn len(&self) -> usize {
        self.previous.len() + self.current.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(value: &serde_json::Value) -> Fingerprint {
        Fingerprinter::new().add_json(value).fingerprint()
    }

    #[test]
    fn fingerprints_tell_values_apart_and_agree_on_equal_ones() {
        let a = serde_json::json!({"kind": "Deployment", "spec": {"replicas": 1}});
        let b = serde_json::json!({"kind": "Deployment", "spec": {"replicas": 2}});
        assert_eq!(of(&a), of(&a.clone()));
        assert_ne!(of(&a), of(&b));
        // Two values in a row are not read as another two.
        let ab = Fingerprinter::new().add("ab").add("c").fingerprint();
        let a_bc = Fingerprinter::new().add("a").add("bc").fingerprint();
        assert_ne!(ab, a_bc);
        let ab = Fingerprinter::new()
            .add_json("ab")
            .add_json("c")
            .fingerprint();
        let a_bc = Fingerprinter::new()
            .add_json("a")
            .add_json("bc")
            .fingerprint();
        assert_ne!(ab, a_bc);
    }

    #[test]
    fn a_result_is_reused_for_the_same_input_and_lives_one_render_more() {
        let mut kept: Generations<&str, String> = Generations::default();
        let mut made = 0;
        let mut ask = |kept: &mut Generations<&str, String>, key: &'static str, input: &str| {
            kept.get_or_compute(key, input.as_bytes(), || {
                made += 1;
                format!("{key} of {input}")
            })
        };
        assert_eq!(ask(&mut kept, "a", "1"), "a of 1");
        assert_eq!(ask(&mut kept, "a", "1"), "a of 1");
        assert_eq!(kept.counts(), (1, 1));
        kept.advance();
        assert_eq!(kept.last_counts(), (1, 1));
        assert_eq!(kept.counts(), (0, 0));
        // The next render reuses it; another input under the same key is computed.
        assert_eq!(ask(&mut kept, "a", "1"), "a of 1");
        assert_eq!(ask(&mut kept, "b", "1"), "b of 1");
        kept.advance();
        assert_eq!(ask(&mut kept, "a", "2"), "a of 2");
        assert_eq!(ask(&mut kept, "b", "1"), "b of 1");
        kept.advance();
        // Only what the last render asked for is kept.
        assert_eq!(ask(&mut kept, "b", "1"), "b of 1");
        kept.advance();
        assert_eq!(kept.len(), 1);
        assert_eq!(ask(&mut kept, "a", "2"), "a of 2");
        assert_eq!(
            made, 4,
            "a of 2 was computed again once it had been dropped"
        );
    }
}
