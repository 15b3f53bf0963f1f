//! Request bodies of the portal's JSON API: rejections are portal errors (4xx JSON naming the
//! problem), as the portal answers everything else.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::Json;
use serde::de::DeserializeOwned;

use crate::error::PortalError;

/// A JSON body whose rejections are portal errors (4xx JSON naming the problem).
pub struct PortalJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for PortalJson<T> {
    type Rejection = PortalError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Json::<T>::from_request(req, state)
            .await
            .map(|Json(v)| PortalJson(v))
            .map_err(|e: JsonRejection| {
                let status = if e.status() == StatusCode::UNSUPPORTED_MEDIA_TYPE {
                    StatusCode::UNSUPPORTED_MEDIA_TYPE
                } else {
                    StatusCode::BAD_REQUEST
                };
                PortalError::new(status, "invalid_body", e.body_text())
            })
    }
}
