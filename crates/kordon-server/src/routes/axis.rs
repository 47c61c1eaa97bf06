//! The Swift subset an AXIS Body Worn system controller speaks (`docs/axis.md`), outside
//! the `/v1` API: `GET /axis/auth/v1.0` and `/axis/v1/<account>/<container>[/<object>]`.
//! Each handler reads the headers and body, calls one [`crate::ops::axis`] operation and
//! answers with the status codes the controller understands.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use kordon_api::axis::{decode_value, encode_value};

use crate::error::ApiError;
use crate::ops::axis::{self, MetaMap};
use crate::state::App;

/// The routes, mounted beside the `/v1` API.
pub(crate) fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/axis/auth/v1.0", get(auth))
        .route("/axis/v1/{account}", any(account))
        .route("/axis/v1/{account}/{container}", any(container))
        .route("/axis/v1/{account}/{container}/{object}", any(object))
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

/// What an error looks like to the controller: its status (503 with `Retry-After`).
fn refused(e: ApiError) -> Response {
    let retry = matches!(e, ApiError::Unavailable(_));
    let mut r = e.into_response();
    if retry {
        r.headers_mut()
            .insert("retry-after", HeaderValue::from_static("5"));
    }
    r
}

fn answer(r: Result<Response, ApiError>) -> Response {
    r.unwrap_or_else(refused)
}

/// The `X-Container-Meta-*` / `X-Object-Meta-*` headers, keys lower-cased, values decoded.
fn meta(h: &HeaderMap, prefix: &str) -> MetaMap {
    h.iter()
        .filter_map(|(k, v)| {
            let key = k.as_str().strip_prefix(prefix)?;
            Some((key.to_owned(), decode_value(v.to_str().ok()?)))
        })
        .collect()
}

fn with_meta(status: StatusCode, prefix: &str, m: &MetaMap) -> Response {
    let mut r = status.into_response();
    for (k, v) in m {
        if let (Ok(name), Ok(value)) = (
            HeaderName::try_from(format!("{prefix}{k}")),
            HeaderValue::try_from(encode_value(v)),
        ) {
            r.headers_mut().insert(name, value);
        }
    }
    r
}

async fn auth(State(app): State<Arc<App>>, h: HeaderMap) -> Response {
    answer(
        axis::authenticate(&app, header(&h, "x-auth-user"), header(&h, "x-auth-key")).map(
            |(token, url)| {
                let mut r = StatusCode::OK.into_response();
                for (name, value) in [
                    ("x-auth-token", &token),
                    ("x-storage-token", &token),
                    ("x-storage-url", &url),
                ] {
                    if let Ok(v) = HeaderValue::try_from(value.as_str()) {
                        r.headers_mut().insert(name, v);
                    }
                }
                r
            },
        ),
    )
}

async fn account(
    State(app): State<Arc<App>>,
    Path(account): Path<String>,
    h: HeaderMap,
) -> Response {
    answer(
        axis::authorize(&app, &account, header(&h, "x-auth-token"))
            .map(|()| StatusCode::NO_CONTENT.into_response()),
    )
}

async fn container(
    State(app): State<Arc<App>>,
    Path((account, container)): Path<(String, String)>,
    method: Method,
    h: HeaderMap,
) -> Response {
    const PREFIX: &str = "x-container-meta-";
    answer(
        async {
            axis::authorize(&app, &account, header(&h, "x-auth-token"))?;
            Ok(match method {
                Method::PUT => {
                    let new = axis::put_container(&app, &container, meta(&h, PREFIX)).await?;
                    if new {
                        StatusCode::CREATED
                    } else {
                        StatusCode::ACCEPTED
                    }
                    .into_response()
                }
                Method::POST => {
                    axis::put_container(&app, &container, meta(&h, PREFIX)).await?;
                    StatusCode::NO_CONTENT.into_response()
                }
                Method::HEAD => with_meta(
                    StatusCode::NO_CONTENT,
                    PREFIX,
                    &axis::metadata(&app, &container, None).await?,
                ),
                _ => return Err(ApiError::Forbidden(format!("{method} on a container"))),
            })
        }
        .await,
    )
}

async fn object(
    State(app): State<Arc<App>>,
    Path((account, container, object)): Path<(String, String, String)>,
    method: Method,
    h: HeaderMap,
    body: Body,
) -> Response {
    const PREFIX: &str = "x-object-meta-";
    let mut stream = super::extract::upload_stream(&app, body);
    let r = async {
        axis::authorize(&app, &account, header(&h, "x-auth-token"))?;
        Ok(match method {
            Method::PUT => {
                axis::put_object(&app, &container, &object, meta(&h, PREFIX), &mut stream).await?;
                StatusCode::CREATED.into_response()
            }
            Method::POST => {
                axis::post_object(&app, &container, &object, meta(&h, PREFIX)).await?;
                StatusCode::ACCEPTED.into_response()
            }
            Method::HEAD => with_meta(
                StatusCode::OK,
                PREFIX,
                &axis::metadata(&app, &container, Some(&object)).await?,
            ),
            Method::GET if container == "System" => {
                let (json, etag) = axis::system_file(&app, &object)?;
                (
                    [
                        (
                            axum::http::header::CONTENT_TYPE,
                            "application/json".to_owned(),
                        ),
                        (axum::http::header::ETAG, etag),
                    ],
                    json,
                )
                    .into_response()
            }
            _ => {
                return Err(ApiError::Forbidden(format!(
                    "{method} {container}/{object} is not readable"
                )));
            }
        })
    }
    .await;
    super::extract::drain(&mut stream).await;
    answer(r)
}
