//! The YAML document of any `Serialize` value, written as it is serialized: the text
//! [`super::to_string`] writes for the value's JSON form, without building that form.
//!
//! Building a JSON value first allocates a string per key and a map per object, only to walk
//! them once and drop them. This writes the same layout as the value is serialized. Where the JSON form
//! would differ from what the serializer is handed, or the layout is not the fixed block one
//! (a key that is not certainly plain, a key that is not a string, an empty or scalar document,
//! bytes, 128-bit integers, tuple and struct variants), it gives up and the whole document goes
//! through the JSON value as before: the same bytes either way, by construction.
//!
//! Floats are written as `serde_json` keeps them: an `f32` widened to `f64`, and a NaN or an
//! infinity as `null`. A map given the same key twice (which `#[serde(flatten)]` can do) would be
//! written twice here where a JSON map keeps one; no object this generator builds has one.

use std::fmt::{self, Write as _};

use serde::Serialize;
use serde::ser::{self, Impossible};

use super::{fallback, indent, splice, to_string, write_key, write_str};
use crate::partial_serializer::{Refused as GiveUp, refuse};

/// The YAML document of `value`, as `serde_yaml` writes its JSON form.
///
/// # Panics
/// When `value` does not serialize to JSON (a map whose keys are neither strings nor
/// numbers): no object this generator builds is one.
pub fn serialize<T: Serialize + ?Sized>(value: &T) -> String {
    streamed(value).unwrap_or_else(|| {
        let json = serde_json::to_value(value)
            .unwrap_or_else(|error| panic!("value does not serialize to JSON: {error}"));
        to_string(&json)
    })
}

/// The document written as `value` is serialized, or `None` where it gives up.
pub(super) fn streamed<T: Serialize + ?Sized>(value: &T) -> Option<String> {
    let mut out = String::with_capacity(1024);
    value
        .serialize(Writer {
            out: &mut out,
            slot: Slot::Document,
        })
        .ok()
        .map(|()| out)
}

/// Where the value being written goes, which decides what precedes it.
#[derive(Clone, Copy)]
enum Slot {
    /// The whole document: only a non-empty mapping or sequence is written here.
    Document,
    /// After `key:`, the key at column `at`.
    Value { at: usize },
    /// After `- `, the dash at column `at`.
    Item { at: usize },
}

impl Slot {
    /// Where a nested mapping's keys go, and what comes before its first one.
    fn mapping(self) -> (usize, Option<usize>) {
        match self {
            Self::Document => (0, None),
            Self::Value { at } => (at + 2, Some(at + 2)),
            Self::Item { at } => (at + 2, None),
        }
    }

    /// Where a nested sequence's dashes go, and what comes before its first one: a sequence
    /// in a mapping is not indented, its dashes line up with the key.
    fn sequence(self) -> (usize, Option<usize>) {
        match self {
            Self::Document => (0, None),
            Self::Value { at } => (at, Some(at)),
            Self::Item { at } => (at + 2, None),
        }
    }

    /// What an empty collection is written as, here.
    fn empty(self, out: &mut String, text: &str) -> Result<(), GiveUp> {
        match self {
            Self::Document => return Err(GiveUp),
            Self::Value { .. } => out.push(' '),
            Self::Item { .. } => {}
        }
        out.push_str(text);
        out.push('\n');
        Ok(())
    }
}

struct Writer<'a> {
    out: &'a mut String,
    slot: Slot,
}

impl Writer<'_> {
    /// Starts a scalar: after a key, a space; nothing after a dash; never a whole document.
    /// Returns the column a literal block's lines are indented to.
    fn scalar(&mut self) -> Result<usize, GiveUp> {
        match self.slot {
            Slot::Document => Err(GiveUp),
            Slot::Value { at } => {
                self.out.push(' ');
                Ok(at + 2)
            }
            Slot::Item { at } => Ok(at + 2),
        }
    }

    fn line(mut self, text: fmt::Arguments<'_>) -> Result<(), GiveUp> {
        self.scalar()?;
        let _ = self.out.write_fmt(text);
        self.out.push('\n');
        Ok(())
    }
}

impl<'a> ser::Serializer for Writer<'a> {
    type Ok = ();
    type Error = GiveUp;
    type SerializeSeq = Block<'a>;
    type SerializeTuple = Block<'a>;
    type SerializeTupleStruct = Block<'a>;
    type SerializeTupleVariant = Impossible<(), GiveUp>;
    type SerializeMap = Block<'a>;
    type SerializeStruct = Block<'a>;
    type SerializeStructVariant = Impossible<(), GiveUp>;

    fn serialize_bool(self, v: bool) -> Result<(), GiveUp> {
        self.line(format_args!("{v}"))
    }
    fn serialize_i8(self, v: i8) -> Result<(), GiveUp> {
        self.serialize_i64(v.into())
    }
    fn serialize_i16(self, v: i16) -> Result<(), GiveUp> {
        self.serialize_i64(v.into())
    }
    fn serialize_i32(self, v: i32) -> Result<(), GiveUp> {
        self.serialize_i64(v.into())
    }
    fn serialize_i64(self, v: i64) -> Result<(), GiveUp> {
        self.line(format_args!("{v}"))
    }
    fn serialize_u8(self, v: u8) -> Result<(), GiveUp> {
        self.serialize_u64(v.into())
    }
    fn serialize_u16(self, v: u16) -> Result<(), GiveUp> {
        self.serialize_u64(v.into())
    }
    fn serialize_u32(self, v: u32) -> Result<(), GiveUp> {
        self.serialize_u64(v.into())
    }
    fn serialize_u64(self, v: u64) -> Result<(), GiveUp> {
        self.line(format_args!("{v}"))
    }
    fn serialize_i128(self, _: i128) -> Result<(), GiveUp> {
        Err(GiveUp)
    }
    fn serialize_u128(self, _: u128) -> Result<(), GiveUp> {
        Err(GiveUp)
    }
    /// serde_json keeps an `f32` as the `f64` it widens to.
    fn serialize_f32(self, v: f32) -> Result<(), GiveUp> {
        self.serialize_f64(v.into())
    }
    /// serde_json has no NaN or infinity: they become `null`.
    fn serialize_f64(mut self, v: f64) -> Result<(), GiveUp> {
        if !v.is_finite() {
            return self.serialize_unit();
        }
        let block = self.scalar()?;
        splice(self.out, &fallback(&v), block);
        Ok(())
    }
    fn serialize_char(self, v: char) -> Result<(), GiveUp> {
        self.serialize_str(v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_str(mut self, v: &str) -> Result<(), GiveUp> {
        let block = self.scalar()?;
        write_str(self.out, v, block);
        Ok(())
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<(), GiveUp> {
        Err(GiveUp)
    }
    fn serialize_none(self) -> Result<(), GiveUp> {
        self.serialize_unit()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), GiveUp> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), GiveUp> {
        self.line(format_args!("null"))
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), GiveUp> {
        self.serialize_unit()
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), GiveUp> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), GiveUp> {
        value.serialize(self)
    }
    /// serde_json writes `{variant: value}`.
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), GiveUp> {
        use ser::SerializeMap as _;
        let mut mapping = self.serialize_map(Some(1))?;
        mapping.serialize_entry(variant, value)?;
        mapping.end()
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Block<'a>, GiveUp> {
        let (at, first) = self.slot.sequence();
        Ok(Block {
            out: self.out,
            slot: self.slot,
            at,
            first,
            written: 0,
            empty: "[]",
        })
    }
    fn serialize_tuple(self, len: usize) -> Result<Block<'a>, GiveUp> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<Block<'a>, GiveUp> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, GiveUp> {
        Err(GiveUp)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Block<'a>, GiveUp> {
        let (at, first) = self.slot.mapping();
        Ok(Block {
            out: self.out,
            slot: self.slot,
            at,
            first,
            written: 0,
            empty: "{}",
        })
    }
    fn serialize_struct(self, _: &'static str, len: usize) -> Result<Block<'a>, GiveUp> {
        self.serialize_map(Some(len))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, GiveUp> {
        Err(GiveUp)
    }
}

/// A mapping or a sequence being written: its keys or dashes at column `at`; before the first,
/// a line break and the indent of `first`, if any; `empty` (`{}` or `[]`) if it ends with
/// nothing in it.
struct Block<'a> {
    out: &'a mut String,
    slot: Slot,
    at: usize,
    first: Option<usize>,
    written: usize,
    empty: &'static str,
}

impl Block<'_> {
    /// Where the next key or dash goes.
    fn next_line(&mut self) {
        match (self.written, self.first) {
            (0, Some(first)) => {
                self.out.push('\n');
                indent(self.out, first);
            }
            (0, None) => {}
            _ => indent(self.out, self.at),
        }
        self.written += 1;
    }

    fn item<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), GiveUp> {
        self.next_line();
        self.out.push_str("- ");
        value.serialize(Writer {
            out: self.out,
            slot: Slot::Item { at: self.at },
        })
    }

    fn key(&mut self, key: &str) -> Result<(), GiveUp> {
        if !super::key_written_here(key) {
            return Err(GiveUp);
        }
        self.next_line();
        write_key(self.out, key);
        Ok(())
    }

    fn value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), GiveUp> {
        value.serialize(Writer {
            out: self.out,
            slot: Slot::Value { at: self.at },
        })
    }

    fn finish(self) -> Result<(), GiveUp> {
        if self.written == 0 {
            self.slot.empty(self.out, self.empty)
        } else {
            Ok(())
        }
    }
}

/// A sequence's items, whichever kind of sequence serde calls it.
macro_rules! items {
    ($($kind:ident::$method:ident),*) => {$(
        impl ser::$kind for Block<'_> {
            type Ok = ();
            type Error = GiveUp;

            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), GiveUp> {
                self.item(value)
            }

            fn end(self) -> Result<(), GiveUp> {
                self.finish()
            }
        }
    )*};
}

items!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field
);

impl ser::SerializeMap for Block<'_> {
    type Ok = ();
    type Error = GiveUp;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), GiveUp> {
        let key = key.serialize(KeyText)?;
        self.key(&key)
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), GiveUp> {
        self.value(value)
    }

    fn end(self) -> Result<(), GiveUp> {
        self.finish()
    }
}

impl ser::SerializeStruct for Block<'_> {
    type Ok = ();
    type Error = GiveUp;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), GiveUp> {
        self.key(key)?;
        self.value(value)
    }

    fn end(self) -> Result<(), GiveUp> {
        self.finish()
    }
}

/// A mapping key that is a string, as it is; any other key gives up (serde_json would turn a
/// number into a string, which YAML then quotes).
struct KeyText;

impl ser::Serializer for KeyText {
    type Ok = String;
    type Error = GiveUp;
    type SerializeSeq = Impossible<String, GiveUp>;
    type SerializeTuple = Impossible<String, GiveUp>;
    type SerializeTupleStruct = Impossible<String, GiveUp>;
    type SerializeTupleVariant = Impossible<String, GiveUp>;
    type SerializeMap = Impossible<String, GiveUp>;
    type SerializeStruct = Impossible<String, GiveUp>;
    type SerializeStructVariant = Impossible<String, GiveUp>;

    fn serialize_str(self, v: &str) -> Result<String, GiveUp> {
        Ok(v.to_owned())
    }
    fn serialize_char(self, v: char) -> Result<String, GiveUp> {
        Ok(v.to_string())
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<String, GiveUp> {
        Ok(variant.to_owned())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<String, GiveUp> {
        value.serialize(self)
    }
    refuse! {
        generic: [some, newtype_variant]
        serialize_bool(bool) -> String;
        serialize_i8(i8) -> String;
        serialize_i16(i16) -> String;
        serialize_i32(i32) -> String;
        serialize_i64(i64) -> String;
        serialize_u8(u8) -> String;
        serialize_u16(u16) -> String;
        serialize_u32(u32) -> String;
        serialize_u64(u64) -> String;
        serialize_f32(f32) -> String;
        serialize_f64(f64) -> String;
        serialize_bytes(&[u8]) -> String;
        serialize_none() -> String;
        serialize_unit() -> String;
        serialize_unit_struct(&'static str) -> String;
        serialize_seq(Option<usize>) -> Self::SerializeSeq;
        serialize_tuple(usize) -> Self::SerializeTuple;
        serialize_tuple_struct(&'static str, usize) -> Self::SerializeTupleStruct;
        serialize_tuple_variant(&'static str, u32, &'static str, usize) -> Self::SerializeTupleVariant;
        serialize_map(Option<usize>) -> Self::SerializeMap;
        serialize_struct(&'static str, usize) -> Self::SerializeStruct;
        serialize_struct_variant(&'static str, u32, &'static str, usize) -> Self::SerializeStructVariant;
    }
}
