//! An object's `apiVersion`, `kind` and `metadata` as JSON, taken as the object serializes:
//! the fields that follow (a spec, rules, data) are skipped without being converted.

use serde::Serialize;
use serde::ser::{self, Impossible};
use serde_json::{Map, Value};

use crate::partial_serializer::{Refused, refuse};

/// The fields of an object that say what it is.
const HEAD: [&str; 3] = ["apiVersion", "kind", "metadata"];

/// The head of `object`; `None` when it does not serialize as a struct (then take it all).
pub(super) fn of<T: Serialize + ?Sized>(object: &T) -> Option<Value> {
    object.serialize(Head).ok()
}

struct Head;

/// The head's fields as they come.
struct Fields(Map<String, Value>);

impl ser::SerializeStruct for Fields {
    type Ok = Value;
    type Error = Refused;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Refused> {
        if HEAD.contains(&key) {
            let value = serde_json::to_value(value).map_err(|_| Refused)?;
            self.0.insert(key.to_owned(), value);
        }
        Ok(())
    }

    fn end(self) -> Result<Value, Refused> {
        Ok(Value::Object(self.0))
    }
}

impl ser::Serializer for Head {
    type Ok = Value;
    type Error = Refused;
    type SerializeSeq = Impossible<Value, Refused>;
    type SerializeTuple = Impossible<Value, Refused>;
    type SerializeTupleStruct = Impossible<Value, Refused>;
    type SerializeTupleVariant = Impossible<Value, Refused>;
    type SerializeMap = Impossible<Value, Refused>;
    type SerializeStruct = Fields;
    type SerializeStructVariant = Impossible<Value, Refused>;

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Fields, Refused> {
        Ok(Fields(Map::new()))
    }

    refuse! {
        generic: [some, newtype_struct, newtype_variant]
        serialize_bool(bool) -> Value;
        serialize_i8(i8) -> Value;
        serialize_i16(i16) -> Value;
        serialize_i32(i32) -> Value;
        serialize_i64(i64) -> Value;
        serialize_u8(u8) -> Value;
        serialize_u16(u16) -> Value;
        serialize_u32(u32) -> Value;
        serialize_u64(u64) -> Value;
        serialize_f32(f32) -> Value;
        serialize_f64(f64) -> Value;
        serialize_char(char) -> Value;
        serialize_str(&str) -> Value;
        serialize_bytes(&[u8]) -> Value;
        serialize_none() -> Value;
        serialize_unit() -> Value;
        serialize_unit_struct(&'static str) -> Value;
        serialize_unit_variant(&'static str, u32, &'static str) -> Value;
        serialize_seq(Option<usize>) -> Self::SerializeSeq;
        serialize_tuple(usize) -> Self::SerializeTuple;
        serialize_tuple_struct(&'static str, usize) -> Self::SerializeTupleStruct;
        serialize_tuple_variant(&'static str, u32, &'static str, usize) -> Self::SerializeTupleVariant;
        serialize_map(Option<usize>) -> Self::SerializeMap;
        serialize_struct_variant(&'static str, u32, &'static str, usize) -> Self::SerializeStructVariant;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Object {
        api_version: &'static str,
        kind: &'static str,
        metadata: Value,
        spec: Value,
    }

    #[test]
    fn the_head_is_what_the_object_serializes_before_its_spec() {
        let object = Object {
            api_version: "v1",
            kind: "Thing",
            metadata: json!({"name": "a", "annotations": {"x": "y"}}),
            spec: json!({"big": [1, 2, 3]}),
        };
        assert_eq!(
            of(&object),
            Some(
                json!({"apiVersion": "v1", "kind": "Thing", "metadata": {"name": "a", "annotations": {"x": "y"}}})
            )
        );
        assert_eq!(of(&json!({"kind": "map"})), None, "a map is not a struct");
    }
}
