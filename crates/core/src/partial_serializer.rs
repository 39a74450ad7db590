//! What the serializers that take only part of serde's data model share: the error that sends
//! a value the longer way (through its JSON form), and the methods they refuse.

use std::fmt;

/// A value this serializer does not take: the caller goes the longer way.
#[derive(Debug)]
pub(crate) struct Refused;

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("refused: taken through its JSON form instead")
    }
}

impl std::error::Error for Refused {}

impl serde::ser::Error for Refused {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Self
    }
}

/// `serde::Serializer` methods that refuse: the generic ones by name (`some`,
/// `newtype_struct`, `newtype_variant`), then the others as `name(argument types) -> return
/// type;`.
macro_rules! refuse {
    (generic: [$($generic:ident),*] $($method:ident($($arg:ty),*) -> $ret:ty;)*) => {
        $(fn $method(self, $(_: $arg),*) -> Result<$ret, $crate::partial_serializer::Refused> {
            Err($crate::partial_serializer::Refused)
        })*
        $($crate::partial_serializer::refuse!(@generic $generic);)*
    };
    (@generic some) => {
        fn serialize_some<T: serde::Serialize + ?Sized>(
            self,
            _: &T,
        ) -> Result<Self::Ok, $crate::partial_serializer::Refused> {
            Err($crate::partial_serializer::Refused)
        }
    };
    (@generic newtype_struct) => {
        fn serialize_newtype_struct<T: serde::Serialize + ?Sized>(
            self,
            _: &'static str,
            _: &T,
        ) -> Result<Self::Ok, $crate::partial_serializer::Refused> {
            Err($crate::partial_serializer::Refused)
        }
    };
    (@generic newtype_variant) => {
        fn serialize_newtype_variant<T: serde::Serialize + ?Sized>(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: &T,
        ) -> Result<Self::Ok, $crate::partial_serializer::Refused> {
            Err($crate::partial_serializer::Refused)
        }
    };
}

pub(crate) use refuse;
