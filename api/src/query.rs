//! `Query<T>`: query parameters, read as `web::Query` reads them (the same crates), except
//! that a parameter that does not parse is named in the problem: `errors[].pointer` is the
//! parameter's name (`limit`), and `detail` says what is wrong with it.

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use serde::de::DeserializeOwned;

pub struct Query<T>(pub T);

impl<T> Query<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for Query<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned> FromRequest for Query<T> {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let pairs = form_urlencoded::parse(req.query_string().as_bytes());
        let read = crate::body::read::<T, _>(serde_urlencoded::Deserializer::new(pairs));
        std::future::ready(read.map(Query).map_err(|e| crate::routes::in_query(e).into()))
    }
}
