//! The machinery behind [`settings!`](crate::config): how one declared key is read from the
//! environment and `relais.toml`, how its value is parsed and shown, and how the README's
//! configuration tables are rendered from the declarations.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use secrecy::SecretString;

use super::ConfigError;

/// One declared key, as the documentation and the file reader see it.
#[derive(Clone, Copy, Debug)]
pub struct Key {
    /// The section (`database`), also the table name in `relais.toml`.
    pub section: &'static str,
    /// The field in its section (`url`).
    pub field: &'static str,
    /// The environment variable (`RELAIS_DATABASE_URL`).
    pub env: &'static str,
    /// What it means (the declaration's doc comment).
    pub doc: &'static str,
    /// The default as the README says it, when it depends on another key.
    pub shown: Option<&'static str>,
}

impl Key {
    /// The flat name in `relais.toml`: the variable in lower case without its prefix.
    pub fn file_name(&self) -> String {
        self.env.trim_start_matches("RELAIS_").to_ascii_lowercase()
    }
}

/// A value a key can hold: parsed from text (an environment variable, or a `relais.toml`
/// value turned to text), and shown in the README's default column.
pub trait Value: Sized {
    fn parse(text: &str) -> Result<Self, String>;
    fn show(&self) -> String;
}

macro_rules! from_str_values {
    ($($t:ty),*) => {$(
        impl Value for $t {
            fn parse(text: &str) -> Result<Self, String> {
                text.parse::<$t>().map_err(|e| e.to_string())
            }
            fn show(&self) -> String {
                format!("`{self}`")
            }
        }
    )*};
}
from_str_values!(bool, u32, u64, usize, i32, i64, f64, String);

impl Value for PathBuf {
    fn parse(text: &str) -> Result<Self, String> {
        Ok(PathBuf::from(text))
    }
    fn show(&self) -> String {
        format!("`{}`", self.display())
    }
}

impl Value for SecretString {
    fn parse(text: &str) -> Result<Self, String> {
        Ok(SecretString::from(text))
    }
    fn show(&self) -> String {
        "set".into()
    }
}

impl<T: Value> Value for Option<T> {
    fn parse(text: &str) -> Result<Self, String> {
        T::parse(text).map(Some)
    }
    fn show(&self) -> String {
        self.as_ref().map_or_else(|| "unset".into(), T::show)
    }
}

/// Lists are written comma separated; empty items are skipped.
impl<T: Value + std::fmt::Display> Value for Vec<T> {
    fn parse(text: &str) -> Result<Self, String> {
        text.split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(T::parse)
            .collect()
    }
    fn show(&self) -> String {
        if self.is_empty() {
            "empty".into()
        } else {
            let items: Vec<String> = self.iter().map(ToString::to_string).collect();
            format!("`{}`", items.join(","))
        }
    }
}

impl Value for crate::outbound::Cidr {
    fn parse(text: &str) -> Result<Self, String> {
        text.parse()
    }
    fn show(&self) -> String {
        format!("`{self}`")
    }
}

/// A whole number, raised to at least 1 (a period of zero would spin).
pub fn at_least_one<T: Value + Ord + From<u8>>(text: &str) -> Result<T, String> {
    T::parse(text).map(|v| v.max(T::from(1)))
}

/// Email addresses, comma separated.
pub fn addresses(text: &str) -> Result<Vec<String>, String> {
    let list = Vec::<String>::parse(text)?;
    if list.iter().any(|a| !a.contains('@') || a.contains(char::is_whitespace)) {
        return Err("email addresses separated by commas".into());
    }
    Ok(list)
}

/// Where values come from: the environment first, then the file.
pub(super) struct Sources<'a> {
    env: &'a HashMap<String, String>,
    /// The file's values, by flat name (`database_url`) or by section and field
    /// (`database.url`).
    file: BTreeMap<String, toml::Value>,
    path: String,
}

impl<'a> Sources<'a> {
    pub(super) fn new(env: &'a HashMap<String, String>, file: Option<(&str, &str)>) -> Result<Self, ConfigError> {
        let mut flat = BTreeMap::new();
        let mut path = String::new();
        if let Some((file_path, text)) = file {
            path = file_path.to_owned();
            let invalid = |message: String| ConfigError::File {
                path: file_path.to_owned(),
                message,
            };
            let table = text.parse::<toml::Table>().map_err(|e| invalid(e.to_string()))?;
            for (name, value) in table {
                match value {
                    toml::Value::Table(inner) if super::SECTIONS.iter().any(|(s, _)| *s == name) => {
                        for (field, value) in inner {
                            flat.insert(format!("{name}.{field}"), value);
                        }
                    }
                    value => {
                        flat.insert(name, value);
                    }
                }
            }
        }
        Ok(Self { env, file: flat, path })
    }

    /// The key's value, from the environment (blank counts as unset) or else the file.
    pub(super) fn take<T>(
        &mut self,
        key: &Key,
        parse: fn(&str) -> Result<T, String>,
    ) -> Result<Option<T>, ConfigError> {
        let flat = self.file.remove(&key.file_name());
        let nested_name = format!("{}.{}", key.section, key.field);
        let nested = self.file.remove(&nested_name);
        let file_error = |message: String| ConfigError::File {
            path: self.path.clone(),
            message,
        };
        if flat.is_some() && nested.is_some() {
            return Err(file_error(format!(
                "{} is given twice ({} and [{}] {})",
                key.env,
                key.file_name(),
                key.section,
                key.field
            )));
        }
        if let Some(text) = self.env.get(key.env).map(|v| v.trim()).filter(|v| !v.is_empty()) {
            return parse(text)
                .map(Some)
                .map_err(|message| ConfigError::Env { name: key.env, message });
        }
        let Some(value) = flat.or(nested) else {
            return Ok(None);
        };
        let text = match value {
            toml::Value::String(s) => s,
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Float(f) => f.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            _ => {
                return Err(file_error(format!(
                    "{}: a string, a number or true/false",
                    key.file_name()
                )));
            }
        };
        let text = text.trim();
        if text.is_empty() {
            return Ok(None);
        }
        parse(text)
            .map(Some)
            .map_err(|message| file_error(format!("{}: {message}", key.file_name())))
    }

    /// After every key was taken: what the file still holds is unknown, and refused.
    pub(super) fn finish(self) -> Result<(), ConfigError> {
        match self.file.keys().next() {
            Some(unknown) => Err(ConfigError::File {
                path: self.path,
                message: format!("unknown key `{unknown}`"),
            }),
            None => Ok(()),
        }
    }
}

/// The README's configuration tables: one a section, a row a key, from the declarations and
/// the defaults they resolve to with nothing configured.
pub fn render(sections: &[(&str, &str)], keys: &[Key], defaults: &[(&str, String)]) -> String {
    let one_line = |doc: &str| doc.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out = String::new();
    for (section, doc) in sections {
        // The doc's first paragraph is the title; what follows, a note under it.
        let (title, note) = doc.split_once("\n\n").unwrap_or((doc, ""));
        out.push_str(&format!("\n### {}\n\n", one_line(title)));
        if !note.trim().is_empty() {
            out.push_str(&format!("{}\n\n", one_line(note)));
        }
        out.push_str("| variable | in `relais.toml` | default | meaning |\n| --- | --- | --- | --- |\n");
        for key in keys.iter().filter(|k| k.section == *section) {
            let default = key
                .shown
                .map(str::to_owned)
                .or_else(|| defaults.iter().find(|(env, _)| *env == key.env).map(|(_, v)| v.clone()))
                .unwrap_or_default();
            out.push_str(&format!(
                "| `{}` | `{}` or `[{}]` `{}` | {} | {} |\n",
                key.env,
                key.file_name(),
                key.section,
                key.field,
                default,
                one_line(key.doc)
            ));
        }
    }
    out
}

/// The first of what is given: `first!(given ; fallback)` or `first!( ; fallback)`.
macro_rules! first {
    ($given:expr ; $fallback:expr) => {
        $given
    };
    (; $fallback:expr) => {
        $fallback
    };
}
pub(super) use first;

/// A section's struct, unless the section is a type that lives elsewhere (`as Path`).
macro_rules! section_struct {
    ($(#[doc = $doc:literal])* $Section:ident as $External:path ; { $($body:tt)* }) => {
        $(#[doc = $doc])*
        pub type $Section = $External;
    };
    ($(#[doc = $doc:literal])* $Section:ident ; { $($body:tt)* }) => {
        $(#[doc = $doc])*
        #[derive(Clone, Debug)]
        pub struct $Section { $($body)* }
    };
}
pub(super) use section_struct;

/// Declares the configuration: sections of keys, each key once with its type, its environment
/// variable, its default (`Default::default()` when none is written; it may use the keys
/// declared before it), how it is shown when that default depends on another key, its parser
/// (`Value::parse` when none is written) and its doc. A section may end with values derived
/// from its keys once (`@derived`). Generates the structs, `Settings`, the key table and the
/// reader.
macro_rules! settings {
    (
        $(
            $(#[doc = $sdoc:literal])*
            $section:ident : $Section:ident $(as $External:path)? {
                $(
                    $(#[doc = $doc:literal])*
                    $key:ident : $ty:ty = $env:literal
                        $(, default $default:expr)?
                        $(, shown $shown:literal)?
                        $(, parse $parse:expr)?
                    ;
                )*
                $(
                    @derived
                    $(
                        $(#[doc = $ddoc:literal])*
                        $dkey:ident : $dty:ty = $dexpr:expr ;
                    )*
                )?
            }
        )*
    ) => {
        $(
            $crate::config::declare::section_struct!(
                $(#[doc = $sdoc])* $Section $(as $External)? ; {
                    $( $(#[doc = $doc])* pub $key: $ty, )*
                    $($( $(#[doc = $ddoc])* pub $dkey: $dty, )*)?
                }
            );
        )*

        /// Every setting, by section.
        #[derive(Clone, Debug)]
        pub struct Settings {
            $( $(#[doc = $sdoc])* pub $section: $Section, )*
        }

        /// The sections: name and title.
        pub const SECTIONS: &[(&str, &str)] = &[ $( (stringify!($section), concat!($($sdoc, "\n",)*)) ),* ];

        /// Every key, in declaration order.
        pub const KEYS: &[$crate::config::declare::Key] = &[
            $($(
                $crate::config::declare::Key {
                    section: stringify!($section),
                    field: stringify!($key),
                    env: $env,
                    doc: concat!($($doc, "\n",)*),
                    shown: $crate::config::declare::first!($(Some($shown))? ; None),
                },
            )*)*
        ];

        impl Settings {
            /// Reads every key in declaration order, so that a default may use the keys read
            /// before it.
            fn read(sources: &mut $crate::config::declare::Sources<'_>) -> Result<Self, ConfigError> {
                #[allow(unused_imports)]
                use $crate::config::declare::Value as _;
                let mut index = 0;
                $(
                    let $section = {
                        $(
                            let $key: $ty = match sources.take(
                                &KEYS[index],
                                $crate::config::declare::first!($($parse)? ; <$ty as $crate::config::declare::Value>::parse),
                            )? {
                                Some(value) => value,
                                None => $crate::config::declare::first!($($default)? ; Default::default()),
                            };
                            index += 1;
                        )*
                        $($( let $dkey: $dty = $dexpr; )*)?
                        $Section { $($key,)* $($($dkey,)*)? }
                    };
                )*
                debug_assert_eq!(index, KEYS.len());
                Ok(Self { $($section),* })
            }

            /// Every key's value as the README shows it.
            fn shown(&self) -> Vec<(&'static str, String)> {
                vec![ $($( ($env, $crate::config::declare::Value::show(&self.$section.$key)), )*)* ]
            }
        }
    };
}
pub(super) use settings;
