//! No two objects of an environment share group, kind, namespace and name.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use super::*;

impl<'a> Environment<'a> {
    pub(super) fn objects_are_unique(&mut self) {
        // Borrowed keys, hashed: an environment holds tens of thousands of objects, and a
        // sorted map of owned keys spent its time allocating and comparing strings. Findings
        // follow the objects' order, not the map's.
        let mut seen: HashMap<(&str, &str, &str, &str), &str> =
            HashMap::with_capacity(self.objects.len());
        let mut duplicates = Vec::new();
        for object in self.objects.iter().copied() {
            let key = (
                object.group(),
                object.kind(),
                object.namespace().unwrap_or_default(),
                object.name(),
            );
            match seen.entry(key) {
                Entry::Occupied(first) => duplicates.push((object, *first.get())),
                Entry::Vacant(slot) => {
                    slot.insert(object.file.as_str());
                }
            }
        }
        for (object, first) in duplicates {
            let message =
                format!("the same object as {first}; two Applications would fight over it");
            self.finding(
                object,
                "/metadata/name",
                "unique-object",
                &object.object["metadata"]["name"],
                message,
            );
        }
    }
}
