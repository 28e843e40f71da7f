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
