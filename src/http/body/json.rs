//! Reading a JSON body: an object whose members become the raw form's fields, in order.

use axum::body::Body;
use http_body_util::{BodyExt, Limited};

use super::{JSON_BODY_LIMIT, Received, read_error};
use crate::domain::{RawForm, RawValue};
use crate::http::error::ApiError;

/// A JSON body as sent: an object keeps every member in order, repeats included, so a field
/// sent twice is refused as a duplicate (like a repeated form field) instead of the last one
/// silently winning.
enum JsonBody {
    Object(Vec<(String, serde_json::Value)>),
    Other,
}

impl<'de> serde::Deserialize<'de> for JsonBody {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Members;

        impl<'de> serde::de::Visitor<'de> for Members {
            type Value = JsonBody;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON value")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<JsonBody, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry::<String, serde_json::Value>()? {
                    entries.push(entry);
                }
                Ok(JsonBody::Object(entries))
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<JsonBody, A::Error> {
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(JsonBody::Other)
            }

            fn visit_bool<E>(self, _: bool) -> Result<JsonBody, E> {
                Ok(JsonBody::Other)
            }
            fn visit_i64<E>(self, _: i64) -> Result<JsonBody, E> {
                Ok(JsonBody::Other)
            }
            fn visit_u64<E>(self, _: u64) -> Result<JsonBody, E> {
                Ok(JsonBody::Other)
            }
            fn visit_f64<E>(self, _: f64) -> Result<JsonBody, E> {
                Ok(JsonBody::Other)
            }
            fn visit_str<E>(self, _: &str) -> Result<JsonBody, E> {
                Ok(JsonBody::Other)
            }
            fn visit_unit<E>(self) -> Result<JsonBody, E> {
                Ok(JsonBody::Other)
            }
        }

        deserializer.deserialize_any(Members)
    }
}

pub async fn read_json(body: Body) -> Result<Received, ApiError> {
    let bytes = Limited::new(body, JSON_BODY_LIMIT)
        .collect()
        .await
        .map_err(|e| read_error(e.as_ref()))?
        .to_bytes();
    let value: JsonBody = serde_json::from_slice(&bytes)
        .map_err(|_| ApiError::MalformedBody("it is not valid JSON"))?;
    let JsonBody::Object(entries) = value else {
        return Err(ApiError::MalformedBody("it is not a JSON object"));
    };
    let mut form = RawForm::default();
    for (name, value) in entries {
        let raw = match value {
            serde_json::Value::Null => continue,
            serde_json::Value::String(s) => RawValue::Text(s),
            serde_json::Value::Bool(b) => RawValue::Bool(b),
            serde_json::Value::Number(n) => RawValue::Number(n.to_string()),
            serde_json::Value::Array(_) | serde_json::Value::Object(_) => RawValue::WrongType,
        };
        form.push(name, raw);
    }
    Ok(Received {
        form,
        attachments: Vec::new(),
    })
}
