//! No two objects of an environment share group, kind, namespace and name.

use super::*;

impl<'a> Environment<'a> {
    pub(super) fn objects_are_unique(&mut self) {
        let mut seen: BTreeMap<(String, String, String, String), String> = BTreeMap::new();
        let objects: Vec<&RenderedObject> = self.objects.clone();
        for object in objects {
            let key = (
                object.group().to_owned(),
                object.kind().to_owned(),
                object.namespace().unwrap_or_default().to_owned(),
                object.name().to_owned(),
            );
            if let Some(first) = seen.get(&key) {
                let message =
                    format!("the same object as {first}; two Applications would fight over it");
                self.finding(
                    object,
                    "/metadata/name",
                    "unique-object",
                    &object.object["metadata"]["name"],
                    message,
                );
            } else {
                seen.insert(key, object.file.clone());
            }
        }
    }
}
