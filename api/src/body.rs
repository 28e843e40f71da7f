//! `Body<T>`: a JSON request body that must be an object. serde's derived structs also
//! accept a JSON array (fields by position); the contract says object, so anything else is
//! refused before it reaches a handler.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use serde::de::DeserializeOwned;

use crate::problem::ApiError;

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
                return Err(ApiError::Validation {
                    detail: "the body must be a JSON object".into(),
                    errors: Vec::new(),
                }
                .into());
            }
            let mut value = value;
            integral_numbers(&mut value);
            serde_json::from_value(value).map(Body).map_err(|e| {
                ApiError::Validation {
                    detail: e.to_string(),
                    errors: Vec::new(),
                }
                .into()
            })
        })
    }
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
