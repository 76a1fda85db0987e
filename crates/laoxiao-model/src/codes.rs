//! Enumerations with one stable identifier (glossary), a Chinese label and an
//! English label. Imports accept any of the three, so a file filled in from the
//! Chinese template's dropdowns imports as well as one written by a program.

/// Defines a closed enumeration whose variants each carry
/// `(identifier, Chinese label, English label)`.
#[macro_export]
macro_rules! code_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = ($code:literal, $zh:literal, $en:literal) ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis enum $name { $( $(#[$vmeta])* $variant ),+ }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[ $( $name::$variant ),+ ];

            /// Every value with its labels, for register declarations.
            pub const VALUES: &'static [$crate::register::EnumValue] = &[
                $( $crate::register::EnumValue { code: $code, zh: $zh, en: $en } ),+
            ];

            /// The glossary identifier used in code, API and files.
            pub fn code(self) -> &'static str {
                match self { $( $name::$variant => $code ),+ }
            }

            /// The Chinese term shown in the console and in Chinese templates.
            pub fn label_zh(self) -> &'static str {
                match self { $( $name::$variant => $zh ),+ }
            }

            /// The English label.
            pub fn label_en(self) -> &'static str {
                match self { $( $name::$variant => $en ),+ }
            }

            /// Parses the identifier, the Chinese label or the English label
            /// (case-insensitive, surrounding blanks ignored).
            pub fn parse(s: &str) -> Option<$name> {
                let t = s.trim();
                $(
                    if t == $code || t == $zh || t.eq_ignore_ascii_case($en) || t.eq_ignore_ascii_case($code) {
                        return Some($name::$variant);
                    }
                )+
                None
            }

            /// The accepted identifiers, for error messages.
            pub fn expected() -> String {
                let v: Vec<&str> = $name::ALL.iter().map(|x| x.code()).collect();
                v.join(", ")
            }
        }

        impl $crate::register::CodeEnum for $name {
            const VALUES: &'static [$crate::register::EnumValue] = $name::VALUES;
            fn code(self) -> &'static str {
                $name::code(self)
            }
            fn from_code(s: &str) -> Option<Self> {
                $name::parse(s)
            }
        }

        impl $crate::register::FieldValue for $name {
            fn cell_ref(&self) -> $crate::register::CellRef<'_> {
                $crate::register::CellRef::Text(self.code())
            }
            fn to_cell(&self) -> $crate::register::Cell {
                $crate::register::Cell::Text(self.code().to_string())
            }
            fn from_cell(c: $crate::register::Cell) -> Option<Self> {
                match c {
                    // Cells hold codes (parse_cell wrote them): the exact
                    // match first, labels only after.
                    $crate::register::Cell::Text(s) => $name::ALL
                        .iter()
                        .copied()
                        .find(|x| x.code() == s)
                        .or_else(|| $name::parse(&s)),
                    _ => None,
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.code())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                $name::parse(s).ok_or_else(|| format!("unknown value {:?}; expected one of: {}", s, $name::expected()))
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.code())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <::std::borrow::Cow<'de, str> as ::serde::Deserialize>::deserialize(d)?;
                s.parse().map_err(::serde::de::Error::custom)
            }
        }
    };
}
