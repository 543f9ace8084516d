//! The figment plumbing: the environment as a layer, layers named for error
//! messages, and figment's errors turned into [`Problem`]s.

use figment::value::{Dict, Map, Value};
use figment::{Figment, Metadata, Profile, Provider};
use serde::de::DeserializeOwned;

use super::{env_name, Problem, Settings, ENV_PREFIX, ENV_SOURCE};

/// Where `key`'s value came from, in the operator's words.
pub(super) fn origin(figment: &Figment, key: &str) -> String {
    describe(figment.find_metadata(key), key)
}

fn describe(metadata: Option<&Metadata>, key: &str) -> String {
    match metadata {
        Some(m) if m.name == ENV_SOURCE => env_name(key),
        Some(m) => match m.source.as_ref() {
            Some(figment::Source::File(path)) => format!("{key} in {}", path.display()),
            _ => format!("{key} in {}", m.name),
        },
        None => key.to_owned(),
    }
}

pub(super) fn problem_of(figment: &Figment, error: figment::Error) -> Problem {
    use figment::error::Kind;
    match &error.kind {
        // serde reports an unknown key against the whole table; find the
        // layer that brought it in.
        Kind::UnknownField(key, _) => Problem {
            setting: origin(figment, key),
            message: "not a setting (see config/default.toml for the keys)".into(),
        },
        _ if error.path.is_empty() => Problem {
            setting: match error.metadata.as_ref().map(|m| (m, m.source.as_ref())) {
                Some((_, Some(figment::Source::File(path)))) => path.display().to_string(),
                Some((m, _)) => m.name.to_string(),
                None => "configuration".into(),
            },
            message: error.kind.to_string(),
        },
        _ => Problem {
            setting: describe(error.metadata.as_ref(), &error.path.join(".")),
            message: plain(&error.kind),
        },
    }
}

/// serde's wording, told in the operator's terms.
fn plain(kind: &figment::error::Kind) -> String {
    use figment::error::{Actual, Kind};
    let found = |actual: &Actual| match actual {
        Actual::Str(s) => format!("`{s}`"),
        Actual::Unsigned(n) => format!("`{n}`"),
        Actual::Signed(n) => format!("`{n}`"),
        Actual::Float(n) => format!("`{n}`"),
        Actual::Bool(b) => format!("`{b}`"),
        other => other.to_string(),
    };
    let wanted = |expected: &str| match expected {
        "u8" | "u16" | "u32" | "u64" | "usize" => "a whole number".to_owned(),
        "a boolean" => "true or false".to_owned(),
        other => other.to_owned(),
    };
    match kind {
        Kind::InvalidType(actual, expected) | Kind::InvalidValue(actual, expected) => {
            format!("{} is not {}", found(actual), wanted(expected))
        }
        Kind::UnknownVariant(variant, choices) => {
            format!("`{variant}` is not one of `{}`", choices.join("`, `"))
        }
        other => other.to_string(),
    }
}

/// A provider under another name, so errors say where a value came from.
pub(super) struct Named<P> {
    pub(super) inner: P,
    pub(super) metadata: Metadata,
}

impl<P: Provider> Provider for Named<P> {
    fn metadata(&self) -> Metadata {
        self.metadata.clone()
    }
    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        self.inner.data()
    }
}

/// The `ODR_*` variables that name a setting; every other one is left alone
/// (test harnesses and other tools have `ODR_*` variables of their own).
pub(super) struct EnvLayer(Dict);

impl EnvLayer {
    pub(super) fn new(env: impl IntoIterator<Item = (String, String)>) -> Self {
        let names = setting_names();
        let dict = env
            .into_iter()
            .filter_map(|(name, value)| {
                let rest = name.strip_prefix(ENV_PREFIX)?;
                let key = names.iter().find(|k| k.to_ascii_uppercase() == rest)?;
                Some((key.to_string(), env_value(key, value)))
            })
            .collect();
        EnvLayer(dict)
    }
}

/// Settings that are lists take comma-separated values in the environment.
const LIST_SETTINGS: &[&str] = &["cors_allowed_origins"];

fn env_value(key: &str, value: String) -> Value {
    if LIST_SETTINGS.contains(&key) {
        let items: Vec<Value> = value
            .split(',')
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(|v| Value::from(v.to_owned()))
            .collect();
        Value::from(items)
    } else {
        Value::from(value)
    }
}

impl Provider for EnvLayer {
    fn metadata(&self) -> Metadata {
        Metadata::named(ENV_SOURCE)
            .interpolater(|_: &Profile, keys: &[&str]| env_name(&keys.join("_")))
    }
    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        Ok(Map::from([(Profile::Default, self.0.clone())]))
    }
}

/// The keys of `Settings`, as serde sees them.
pub(super) fn setting_names() -> &'static [&'static str] {
    struct_fields::<Settings>()
}

/// Asks serde for a struct's field names by letting it start to deserialize
/// one from a deserializer that only listens.
fn struct_fields<T: DeserializeOwned>() -> &'static [&'static str] {
    use serde::de::{self, Deserializer, Visitor};

    struct Listener<'a>(&'a mut &'static [&'static str]);
    impl<'de> Deserializer<'de> for Listener<'_> {
        type Error = de::value::Error;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
            Err(de::Error::custom("not a struct"))
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Self::Error> {
            *self.0 = fields;
            Err(de::Error::custom("only the field names were wanted"))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
            bytes byte_buf option unit unit_struct newtype_struct seq tuple
            tuple_struct map enum identifier ignored_any
        }
    }

    let mut fields: &'static [&'static str] = &[];
    let _ = T::deserialize(Listener(&mut fields));
    fields
}
