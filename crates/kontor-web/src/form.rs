//! Form bodies as name/value pairs, so that repeated names (checkbox groups) keep every value,
//! with a rejection that renders like every other error.

use axum::extract::{FromRequest, Request};
use axum::http::header;

use crate::error::AppError;

#[derive(Debug, Default)]
pub struct FormData(pub Vec<(String, String)>);

impl FormData {
    /// The first value of `name`, or "" when absent.
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
    pub fn checked(&self, name: &str) -> bool {
        matches!(self.get(name), "on" | "true" | "1" | "yes")
    }
    /// The submitted values as a JSON object, for re-filling a form after an error.
    pub fn values(&self) -> serde_json::Value {
        let mut map = serde_json::Map::new();
        for (k, v) in &self.0 {
            if !k.starts_with("password") {
                map.entry(k.clone())
                    .or_insert_with(|| serde_json::Value::String(v.clone()));
            }
        }
        serde_json::Value::Object(map)
    }
}

impl<S: Send + Sync> FromRequest<S> for FormData {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        let is_form = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if !is_form {
            return Err(AppError::BadRequest("error-bad-form"));
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|_| AppError::BadRequest("error-bad-form"))?;
        let pairs = serde_urlencoded::from_bytes(&bytes)
            .map_err(|_| AppError::BadRequest("error-bad-form"))?;
        Ok(FormData(pairs))
    }
}

/// What a text field may hold.
#[derive(Clone, Copy)]
pub enum Shape {
    /// One line: a name, a title.
    Line,
    /// Line breaks allowed: a description, an article body.
    Block,
}

/// Collects field errors while parsing a form; `finish` fails if any were found.
#[derive(Default)]
pub struct Errors(pub Vec<(String, kontor_domain::Invalid)>);

impl Errors {
    /// Keeps the value, or records why it was rejected.
    pub fn take<T>(&mut self, field: &str, result: Result<T, kontor_domain::Invalid>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                self.0.push((field.to_string(), e));
                None
            }
        }
    }
    /// A text field parsed as [`kontor_domain::Text`] (trimmed, no control characters, line
    /// breaks only in a [`Shape::Block`], at most `max` characters): its value, or, with the
    /// error recorded, the trimmed input.
    pub fn text(
        &mut self,
        form: &FormData,
        field: &str,
        shape: Shape,
        max: usize,
        required: bool,
    ) -> String {
        use kontor_domain::{Invalid, Text};
        let raw = form.get(field);
        let parsed = match shape {
            Shape::Line => Text::optional_line(raw, max),
            Shape::Block => Text::optional_block(raw, max),
        };
        match parsed {
            Ok(Some(text)) => return text.into_string(),
            Ok(None) if required => self
                .0
                .push((field.into(), Invalid::new("invalid-required"))),
            Ok(None) => {}
            Err(e) => self.0.push((field.into(), e)),
        }
        raw.trim().to_string()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn into_error(self) -> AppError {
        AppError::Validation(self.0)
    }
}

/// Middleware for an upload route, with (limit, message key) as its state: an upload whose
/// declared length exceeds the limit (plus room for the form's other parts) gets, before it is
/// read, the same clear error (413) as one found too large while reading.
pub async fn refuse_declared_oversize(
    axum::extract::State((max, key)): axum::extract::State<(usize, &'static str)>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let declared = request
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > max + 64 * 1024) {
        return crate::error::AppError::Refused(axum::http::StatusCode::PAYLOAD_TOO_LARGE, key)
            .into_response();
    }
    next.run(request).await
}
