//! OTLP/HTTP: `POST` of protobuf or JSON bodies, hyper over rustls, pooled connections.

use std::io::Write as _;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::header::{HeaderMap, HeaderName, HeaderValue};
use hyper::{Method, Request, StatusCode, Uri};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsServiceRequest, ExportLogsServiceResponse,
};

use monwire_event::Event;

use crate::batch::Outcome;
use crate::config::{Compression, ExporterConfig};
use crate::error::Error;
use crate::resource::ResourceInfo;

/// The largest response body read (a collector's answer is a few bytes).
const MAX_RESPONSE: usize = 1 << 20;

pub(crate) struct HttpTransport {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    uri: Uri,
    headers: HeaderMap,
    json: bool,
    gzip: bool,
    timeout: Duration,
}

impl HttpTransport {
    pub(crate) fn new(config: &ExporterConfig, json: bool) -> Result<HttpTransport, Error> {
        let uri: Uri = config
            .endpoint
            .parse()
            .map_err(|e: hyper::http::uri::InvalidUri| Error::Endpoint {
                endpoint: config.endpoint.clone(),
                why: e.to_string(),
            })?;
        let tls = super::tls::client_config(config.ca_file.as_deref())?;
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(config.timeout));
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new()).build(connector);
        let mut headers = HeaderMap::new();
        for (name, value) in &config.headers {
            let n = HeaderName::from_bytes(name.as_bytes()).map_err(|_| Error::Header {
                name: name.clone(),
                why: "not a valid header name".to_owned(),
            })?;
            let mut v = HeaderValue::from_str(value).map_err(|_| Error::Header {
                name: name.clone(),
                why: "the value holds characters a header cannot carry".to_owned(),
            })?;
            v.set_sensitive(true);
            headers.insert(n, v);
        }
        headers.insert(
            hyper::header::CONTENT_TYPE,
            HeaderValue::from_static(if json {
                "application/json"
            } else {
                "application/x-protobuf"
            }),
        );
        headers.insert(
            hyper::header::USER_AGENT,
            HeaderValue::from_static(concat!("monwire-otlp/", env!("CARGO_PKG_VERSION"))),
        );
        let gzip = config.compression == Compression::Gzip;
        if gzip {
            headers.insert(
                hyper::header::CONTENT_ENCODING,
                HeaderValue::from_static("gzip"),
            );
        }
        Ok(HttpTransport {
            client,
            uri,
            headers,
            json,
            gzip,
            timeout: config.timeout,
        })
    }

    pub(crate) fn prepare(
        &self,
        resource: &ResourceInfo,
        events: Vec<Event>,
    ) -> Result<Bytes, Error> {
        let body = if self.json {
            json_body(&crate::map::to_request(resource, events))?
        } else {
            crate::map::encode_events(resource, &events)
        };
        if !self.gzip {
            return Ok(Bytes::from(body));
        }
        let mut gz = flate2::write::GzEncoder::new(
            Vec::with_capacity(body.len() / 4),
            flate2::Compression::fast(),
        );
        // Writing into a Vec cannot fail.
        let _ = gz.write_all(&body);
        Ok(Bytes::from(gz.finish().unwrap_or_default()))
    }

    pub(crate) async fn send(&self, body: Bytes) -> Outcome {
        let mut req = Request::new(Full::new(body));
        *req.method_mut() = Method::POST;
        *req.uri_mut() = self.uri.clone();
        *req.headers_mut() = self.headers.clone();
        let resp = match tokio::time::timeout(self.timeout, self.client.request(req)).await {
            Err(_) => {
                return Outcome::Retry {
                    after: None,
                    reason: format!("no answer from {} within {:?}", self.uri, self.timeout),
                };
            }
            Ok(Err(e)) => {
                return Outcome::Retry {
                    after: None,
                    reason: format!("cannot reach {}: {}", self.uri, error_chain(&e)),
                };
            }
            Ok(Ok(resp)) => resp,
        };
        let status = resp.status();
        let retry_after = resp
            .headers()
            .get(hyper::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let is_json = resp
            .headers()
            .get(hyper::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        let body = match tokio::time::timeout(
            self.timeout,
            Limited::new(resp.into_body(), MAX_RESPONSE).collect(),
        )
        .await
        {
            Ok(Ok(b)) => b.to_bytes(),
            _ => Bytes::new(),
        };
        classify(status, retry_after, is_json, &body)
    }
}

#[cfg(feature = "http-json")]
fn json_body(request: &ExportLogsServiceRequest) -> Result<Vec<u8>, Error> {
    crate::map::encode_json(request)
}

#[cfg(not(feature = "http-json"))]
fn json_body(_: &ExportLogsServiceRequest) -> Result<Vec<u8>, Error> {
    Err(Error::NotBuilt {
        protocol: "http/json",
        feature: "http-json",
    })
}

/// `Retry-After` as delta-seconds. (An HTTP-date gives `None`: the exporter's own backoff is
/// used then.)
fn parse_retry_after(v: &str) -> Option<Duration> {
    v.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// How an HTTP answer ends the attempt, as the OTLP/HTTP specification says: 2xx is success
/// (with a possible partial success in the body); 429, 502, 503 and 504 are retryable; every
/// other status is a permanent failure.
pub(crate) fn classify(
    status: StatusCode,
    retry_after: Option<Duration>,
    is_json: bool,
    body: &[u8],
) -> Outcome {
    if status.is_success() {
        let response = decode_response(is_json, body).unwrap_or_default();
        let partial = response.partial_success.unwrap_or_default();
        return Outcome::Accepted {
            rejected: u64::try_from(partial.rejected_log_records).unwrap_or(0),
            message: Some(partial.error_message).filter(|m| !m.is_empty()),
        };
    }
    let reason = format!("HTTP {status}{}", body_excerpt(body));
    match status.as_u16() {
        429 | 502 | 503 | 504 => Outcome::Retry {
            after: retry_after,
            reason,
        },
        _ => Outcome::Reject { reason },
    }
}

fn decode_response(is_json: bool, body: &[u8]) -> Option<ExportLogsServiceResponse> {
    if body.is_empty() {
        return None;
    }
    if is_json {
        #[cfg(feature = "http-json")]
        return json_response(body);
        #[cfg(not(feature = "http-json"))]
        return None;
    }
    prost::Message::decode(body).ok()
}

/// An OTLP/JSON `ExportLogsServiceResponse`. Read through `serde_json::Value` because proto3
/// JSON writes the int64 `rejectedLogRecords` as a string (`"2"`), which the generated serde
/// code of `opentelemetry-proto` 0.33 does not accept; a number is accepted too.
#[cfg(feature = "http-json")]
fn json_response(body: &[u8]) -> Option<ExportLogsServiceResponse> {
    use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsPartialSuccess;
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let Some(p) = v.get("partialSuccess").filter(|p| p.is_object()) else {
        return Some(ExportLogsServiceResponse::default());
    };
    let rejected = match p.get("rejectedLogRecords") {
        Some(serde_json::Value::String(s)) => s.parse().unwrap_or(0),
        Some(n) => n.as_i64().unwrap_or(0),
        None => 0,
    };
    let message = p
        .get("errorMessage")
        .and_then(|m| m.as_str())
        .unwrap_or_default()
        .to_owned();
    Some(ExportLogsServiceResponse {
        partial_success: Some(ExportLogsPartialSuccess {
            rejected_log_records: rejected,
            error_message: message,
        }),
    })
}

/// `: <text>` when the error body is short printable text (a JSON `Status`, a proxy's message).
fn body_excerpt(body: &[u8]) -> String {
    match std::str::from_utf8(body) {
        Ok(s) if !s.trim().is_empty() && s.chars().all(|c| !c.is_control() || c == '\n') => {
            let one_line: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
            let cut: String = one_line.chars().take(200).collect();
            format!(": {cut}")
        }
        _ => String::new(),
    }
}

/// An error and its sources on one line.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cur = c.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_classified_as_the_spec_says() {
        for code in [429u16, 502, 503, 504] {
            let s = StatusCode::from_u16(code).unwrap();
            assert!(
                matches!(classify(s, None, false, b""), Outcome::Retry { .. }),
                "{code}"
            );
        }
        for code in [400u16, 401, 403, 404, 413, 500] {
            let s = StatusCode::from_u16(code).unwrap();
            assert!(
                matches!(classify(s, None, false, b""), Outcome::Reject { .. }),
                "{code}"
            );
        }
        assert_eq!(parse_retry_after(" 3 "), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
    }
}
