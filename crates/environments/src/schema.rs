//! The JSON Schema of the environment model, generated from the Rust types.
//!
//! Two views of the same schema:
//! - the **complete** schema describes a merged environment: required fields are required.
//!   `cargo xtask render` checks every merged environment against it.
//! - the **layer** schema (`environments/schema.json`, for editors) describes one file of a
//!   chain: every field is optional and may be `null` (which removes it when merging), and
//!   `extends` and `abstract` are allowed at the top. Types, enums, patterns and unknown
//!   fields are checked exactly as in the complete schema.

use platform_core::model::Environment;
use serde_json::{Map, Value, json};

use crate::layering::{ABSTRACT_KEY, EXTENDS_KEY};

pub fn complete_schema() -> Value {
    serde_json::to_value(schemars::schema_for!(Environment)).expect("a generated schema is JSON")
}

pub fn layer_schema() -> Value {
    let mut schema = complete_schema();
    make_optional_and_nullable(&mut schema);
    let root = schema
        .as_object_mut()
        .expect("the root schema is an object");
    root.insert("title".to_owned(), json!("Environment file (one layer)"));
    root.insert(
        "description".to_owned(),
        json!("One environment file of the FinOps platform. A file may extend another; `cargo xtask render` merges the chain (maps merge key by key, lists and scalars replace, null removes a key) and checks the merged result, where required fields must be set."),
    );
    let properties = root
        .get_mut("properties")
        .and_then(Value::as_object_mut)
        .expect("the root schema has properties");
    properties.insert(
        EXTENDS_KEY.to_owned(),
        json!({
            "type": "string",
            "description": "Name of the environment file this one builds on, without `.yaml`, e.g. `base`. This file's settings are merged over it."
        }),
    );
    properties.insert(
        ABSTRACT_KEY.to_owned(),
        json!({
            "type": "boolean",
            "description": "Only extended by other files, never rendered on its own. Files whose name starts with `base` are abstract anyway."
        }),
    );
    schema
}

fn make_optional_and_nullable(schema: &mut Value) {
    match schema {
        Value::Object(object) => {
            object.remove("required");
            if let Some(Value::Object(properties)) = object.get_mut("properties") {
                for property in properties.values_mut() {
                    make_optional_and_nullable(property);
                    *property = nullable(std::mem::take(property));
                }
            }
            for (key, value) in object.iter_mut() {
                if key != "properties" {
                    make_optional_and_nullable(value);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(make_optional_and_nullable),
        _ => {}
    }
}

/// Allows `null` besides the schema, keeping the description where editors show it.
fn nullable(schema: Value) -> Value {
    let mut wrapper = Map::new();
    if let Some(description) = schema.get("description") {
        wrapper.insert("description".to_owned(), description.clone());
    }
    wrapper.insert("anyOf".to_owned(), json!([schema, { "type": "null" }]));
    Value::Object(wrapper)
}
