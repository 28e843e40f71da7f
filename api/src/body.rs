//! `Body<T>`: a JSON request body that must be an object. serde's derived structs also
//! accept a JSON array (fields by position); the contract says object, so anything else is
//! refused before it reaches a handler.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use serde::de::DeserializeOwned;

use crate::problem::{ApiError, FieldError, escape};

pub struct Body<T>(pub T);

impl<T> Body<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Body<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        // Size limit, content type and syntax errors come from the app's `JsonConfig`.
        let value = web::Json::<serde_json::Value>::from_request(req, payload);
        Box::pin(async move {
            let value = value.await?.into_inner();
            if !value.is_object() {
                return Err(FieldError::at("", "the body must be a JSON object").problem().into());
            }
            let mut value = value;
            integral_numbers(&mut value);
            read(value).map(Body).map_err(Into::into)
        })
    }
}

/// Reads `T` from a deserializer, naming where it failed: the JSON Pointer of the member at
/// fault (`/coverage/0`, `/centre_id`), a missing or unknown member included.
pub(crate) fn read<'de, T: serde::Deserialize<'de>, D>(deserializer: D) -> Result<T, ApiError>
where
    D: serde::Deserializer<'de>,
    D::Error: std::fmt::Display,
{
    serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let detail = e.inner().to_string();
        FieldError::at(pointer(e.path(), &detail), detail).problem()
    })
}

/// The JSON Pointer of a path serde walked (an unknown member is on it already), with the
/// member a "missing field" message names (serde reports it at the enclosing object).
fn pointer(path: &serde_path_to_error::Path, detail: &str) -> String {
    use serde_path_to_error::Segment;
    let mut pointer = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => pointer.push_str(&format!("/{index}")),
            Segment::Map { key } => pointer.push_str(&format!("/{}", escape(key))),
            Segment::Enum { .. } | Segment::Unknown => {}
        }
    }
    if let Some(rest) = detail.strip_prefix("missing field `")
        && let Some((member, _)) = rest.split_once('`')
    {
        pointer.push_str(&format!("/{}", escape(member)));
    }
    pointer
}

/// JSON has one number type: `2.0` is the integer 2 (JSON Schema's `integer` accepts it), but
/// serde refuses it for an integer field. Numbers with no fraction, within the range a double
/// holds exactly, are rewritten as integers before the body is read.
fn integral_numbers(value: &mut serde_json::Value) {
    use serde_json::Value;
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
    match value {
        Value::Number(n) if n.is_f64() => {
            if let Some(f) = n.as_f64()
                && f.fract() == 0.0
                && f.abs() <= EXACT
            {
                // In range and without a fraction: the cast is exact.
                #[allow(clippy::cast_possible_truncation)]
                let integer = f as i64;
                *value = Value::from(integer);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integral_numbers),
        Value::Object(map) => map.values_mut().for_each(integral_numbers),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        id: uuid::Uuid,
    }

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        name: String,
        #[serde(rename = "a/b~c")]
        odd: Option<i64>,
        items: Vec<Inner>,
    }

    fn where_(value: serde_json::Value) -> String {
        match super::read::<Outer, _>(value) {
            Err(crate::problem::ApiError::Validation { errors, .. }) => errors[0].pointer.clone(),
            other => panic!("not a validation error: {other:?}"),
        }
    }

    #[test]
    fn a_body_error_names_its_member_as_a_json_pointer() {
        assert_eq!(where_(json!({ "name": "x", "items": [{ "id": "x" }] })), "/items/0/id");
        assert_eq!(where_(json!({ "items": [] })), "/name");
        assert_eq!(where_(json!({ "name": "x", "items": [], "colour": 1 })), "/colour");
        assert_eq!(where_(json!({ "name": 3, "items": [] })), "/name");
        assert_eq!(where_(json!({ "name": "x", "items": [], "a/b~c": "x" })), "/a~1b~0c");
    }

    #[test]
    fn integral_floats_become_integers_and_fractions_stay() {
        let mut value = json!({ "a": 2.0, "b": [3.0, 1.5], "c": { "d": -4.0 }, "e": 1e300, "f": "2.0" });
        super::integral_numbers(&mut value);
        assert_eq!(
            value,
            json!({ "a": 2, "b": [3, 1.5], "c": { "d": -4 }, "e": 1e300, "f": "2.0" })
        );
        assert!(value["a"].is_i64() && value["b"][1].is_f64() && value["e"].is_f64());
    }
}
