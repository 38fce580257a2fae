//! Exporter configuration, from code or from the standard `OTEL_EXPORTER_OTLP_*` variables.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use crate::batch::BatchConfig;
use crate::env::{Env, parse_key_values};
use crate::error::Error;
use crate::resource::ResourceInfo;

/// The OTLP transport.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OtlpProtocol {
    /// OTLP/HTTP with protobuf bodies (`http/protobuf`, port 4318), the default.
    #[default]
    HttpProtobuf,
    /// OTLP/HTTP with JSON bodies (`http/json`, port 4318).
    HttpJson,
    /// OTLP/gRPC (`grpc`, port 4317).
    Grpc,
}

impl OtlpProtocol {
    /// The name the specification uses (`http/protobuf`, `http/json`, `grpc`).
    pub const fn as_str(self) -> &'static str {
        match self {
            OtlpProtocol::HttpProtobuf => "http/protobuf",
            OtlpProtocol::HttpJson => "http/json",
            OtlpProtocol::Grpc => "grpc",
        }
    }

    /// The default endpoint: `http://localhost:4318/v1/logs` for HTTP, `http://localhost:4317`
    /// for gRPC.
    pub const fn default_endpoint(self) -> &'static str {
        match self {
            OtlpProtocol::HttpProtobuf | OtlpProtocol::HttpJson => "http://localhost:4318/v1/logs",
            OtlpProtocol::Grpc => "http://localhost:4317",
        }
    }

    fn is_http(self) -> bool {
        !matches!(self, OtlpProtocol::Grpc)
    }
}

impl fmt::Display for OtlpProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for OtlpProtocol {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s.trim() {
            "http/protobuf" => Ok(OtlpProtocol::HttpProtobuf),
            "http/json" => Ok(OtlpProtocol::HttpJson),
            "grpc" => Ok(OtlpProtocol::Grpc),
            other => Err(Error::UnknownProtocol(other.to_owned())),
        }
    }
}

/// Request body compression.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Compression {
    /// None (the specification's default).
    #[default]
    None,
    /// gzip (`Content-Encoding: gzip` over HTTP, `grpc-encoding: gzip` over gRPC).
    Gzip,
}

/// Where the exporter sends, how, and how it batches.
///
/// [`ExporterConfig::from_env`] reads the standard variables; the `with_*` methods override
/// them. `Debug` shows header names only, never their values.
#[derive(Clone)]
#[non_exhaustive]
pub struct ExporterConfig {
    /// The transport.
    pub protocol: OtlpProtocol,
    /// The full URL requests go to: for HTTP with its path (`…/v1/logs`), for gRPC the
    /// server's base URL.
    pub endpoint: String,
    /// Extra request headers (gRPC metadata), such as `authorization`.
    pub headers: Vec<(String, String)>,
    /// The deadline of one request (default 10 s).
    pub timeout: Duration,
    /// Body compression.
    pub compression: Compression,
    /// A PEM file of CA certificates to trust instead of the system's roots (for `https`).
    pub ca_file: Option<PathBuf>,
    /// Queue, batch and retry sizes.
    pub batch: BatchConfig,
    /// The resource the records are sent under.
    pub resource: ResourceInfo,
}

impl fmt::Debug for ExporterConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let header_names: Vec<&str> = self.headers.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("ExporterConfig")
            .field("protocol", &self.protocol)
            .field("endpoint", &self.endpoint)
            .field("headers (values hidden)", &header_names)
            .field("timeout", &self.timeout)
            .field("compression", &self.compression)
            .field("ca_file", &self.ca_file)
            .field("batch", &self.batch)
            .field("resource", &self.resource)
            .finish()
    }
}

impl Default for ExporterConfig {
    /// OTLP/HTTP protobuf to `http://localhost:4318/v1/logs`, no environment read.
    fn default() -> Self {
        ExporterConfig {
            protocol: OtlpProtocol::HttpProtobuf,
            endpoint: OtlpProtocol::HttpProtobuf.default_endpoint().to_owned(),
            headers: Vec::new(),
            timeout: Duration::from_secs(10),
            compression: Compression::None,
            ca_file: None,
            batch: BatchConfig::default(),
            resource: ResourceInfo::default(),
        }
    }
}

/// The first of the logs-specific and the general variable that is set (and not empty).
fn pick(
    env: &Env<'_>,
    logs: &'static str,
    general: &'static str,
) -> Option<(&'static str, String)> {
    env(logs)
        .filter(|v| !v.trim().is_empty())
        .map(|v| (logs, v))
        .or_else(|| {
            env(general)
                .filter(|v| !v.trim().is_empty())
                .map(|v| (general, v))
        })
}

fn millis(var: &'static str, v: &str) -> Result<Duration, Error> {
    v.trim()
        .parse::<u64>()
        .map(Duration::from_millis)
        .map_err(|_| Error::Env {
            var,
            why: format!("{v:?} is not a whole number of milliseconds"),
        })
}

fn count(var: &'static str, v: &str) -> Result<usize, Error> {
    v.trim()
        .parse::<usize>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| Error::Env {
            var,
            why: format!("{v:?} is not a positive whole number"),
        })
}

/// Whether a URL has a path beyond `/` (`http://h:1` and `http://h:1/` do not).
fn has_path(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.find('/')
        .is_some_and(|i| rest.get(i..).is_some_and(|p| p != "/"))
}

/// `base` with `/v1/logs` appended, as the specification says for `OTEL_EXPORTER_OTLP_ENDPOINT`
/// over HTTP (a trailing `/` of the base is not doubled).
pub fn append_logs_path(base: &str) -> String {
    format!("{}/v1/logs", base.trim_end_matches('/'))
}

impl ExporterConfig {
    /// The configuration the standard variables describe, as the OpenTelemetry specification
    /// defines them (each `…_LOGS_…` variable wins over its general one):
    ///
    /// | variable | meaning | default |
    /// |---|---|---|
    /// | `OTEL_EXPORTER_OTLP_PROTOCOL`, `…_LOGS_PROTOCOL` | `http/protobuf`, `http/json`, `grpc` | `http/protobuf` |
    /// | `OTEL_EXPORTER_OTLP_ENDPOINT` | base URL; over HTTP `/v1/logs` is appended | `http://localhost:4318` (gRPC `:4317`) |
    /// | `OTEL_EXPORTER_OTLP_LOGS_ENDPOINT` | the full URL, used as is | |
    /// | `OTEL_EXPORTER_OTLP_HEADERS`, `…_LOGS_HEADERS` | `key=value,…`, percent-encoded values | none |
    /// | `OTEL_EXPORTER_OTLP_TIMEOUT`, `…_LOGS_TIMEOUT` | per-request deadline, milliseconds | 10000 |
    /// | `OTEL_EXPORTER_OTLP_COMPRESSION`, `…_LOGS_COMPRESSION` | `gzip` or `none` | `none` |
    /// | `OTEL_EXPORTER_OTLP_CERTIFICATE`, `…_LOGS_CERTIFICATE` | PEM file of CA certificates | system roots |
    /// | `OTEL_BLRP_SCHEDULE_DELAY` | batch timeout, milliseconds | 1000 |
    /// | `OTEL_BLRP_MAX_QUEUE_SIZE` | queue bound | 10000 |
    /// | `OTEL_BLRP_MAX_EXPORT_BATCH_SIZE` | records per request | 512 |
    ///
    /// plus the resource variables of [`ResourceInfo::from_env`].
    pub fn from_env() -> Result<ExporterConfig, Error> {
        ExporterConfig::from_env_with(&crate::env::process_env)
    }

    /// [`ExporterConfig::from_env`] over an environment given as a lookup function.
    pub fn from_env_with(env: &Env<'_>) -> Result<ExporterConfig, Error> {
        let protocol = match pick(
            env,
            "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL",
            "OTEL_EXPORTER_OTLP_PROTOCOL",
        ) {
            Some((var, v)) => v.parse::<OtlpProtocol>().map_err(|e| Error::Env {
                var,
                why: e.to_string(),
            })?,
            None => OtlpProtocol::HttpProtobuf,
        };
        let mut config = ExporterConfig {
            protocol,
            resource: ResourceInfo::from_env_with(env),
            ..ExporterConfig::default()
        };
        config.endpoint = ExporterConfig::endpoint_from_env(protocol, env);
        // General headers first, then the logs-specific ones override by name.
        for var in [
            "OTEL_EXPORTER_OTLP_HEADERS",
            "OTEL_EXPORTER_OTLP_LOGS_HEADERS",
        ] {
            if let Some(list) = env(var) {
                for (k, v) in parse_key_values(&list) {
                    config.set_header(k, v);
                }
            }
        }
        if let Some((var, v)) = pick(
            env,
            "OTEL_EXPORTER_OTLP_LOGS_TIMEOUT",
            "OTEL_EXPORTER_OTLP_TIMEOUT",
        ) {
            config.timeout = millis(var, &v)?;
        }
        if let Some((var, v)) = pick(
            env,
            "OTEL_EXPORTER_OTLP_LOGS_COMPRESSION",
            "OTEL_EXPORTER_OTLP_COMPRESSION",
        ) {
            config.compression = match v.trim() {
                "gzip" => Compression::Gzip,
                "none" => Compression::None,
                other => {
                    return Err(Error::Env {
                        var,
                        why: format!("{other:?} is neither gzip nor none"),
                    });
                }
            };
        }
        if let Some((_, v)) = pick(
            env,
            "OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE",
            "OTEL_EXPORTER_OTLP_CERTIFICATE",
        ) {
            config.ca_file = Some(PathBuf::from(v.trim()));
        }
        if let Some(v) = env("OTEL_BLRP_SCHEDULE_DELAY").filter(|v| !v.trim().is_empty()) {
            config.batch.batch_timeout = millis("OTEL_BLRP_SCHEDULE_DELAY", &v)?;
        }
        if let Some(v) = env("OTEL_BLRP_MAX_QUEUE_SIZE").filter(|v| !v.trim().is_empty()) {
            config.batch.max_queue = count("OTEL_BLRP_MAX_QUEUE_SIZE", &v)?;
        }
        if let Some(v) = env("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE").filter(|v| !v.trim().is_empty()) {
            config.batch.max_batch = count("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", &v)?;
        }
        Ok(config)
    }

    /// The endpoint the environment gives for `protocol`: `…_LOGS_ENDPOINT` as is, else
    /// `OTEL_EXPORTER_OTLP_ENDPOINT` (with `/v1/logs` appended over HTTP), else the default.
    pub fn endpoint_from_env(protocol: OtlpProtocol, env: &Env<'_>) -> String {
        if let Some(v) = env("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT").filter(|v| !v.trim().is_empty()) {
            return v.trim().to_owned();
        }
        match env("OTEL_EXPORTER_OTLP_ENDPOINT").filter(|v| !v.trim().is_empty()) {
            Some(base) if protocol.is_http() => append_logs_path(base.trim()),
            Some(base) => base.trim().to_owned(),
            None => protocol.default_endpoint().to_owned(),
        }
    }

    /// Sets the protocol, and when the endpoint is still the previous protocol's default, the
    /// new protocol's default endpoint.
    #[must_use]
    pub fn with_protocol(mut self, protocol: OtlpProtocol) -> Self {
        if self.endpoint == self.protocol.default_endpoint() {
            self.endpoint = protocol.default_endpoint().to_owned();
        }
        self.protocol = protocol;
        self
    }

    /// Sets the endpoint from a URL a person typed (the CLI's `--otlp URL`): over HTTP a URL
    /// without a path (`http://collector:4318`) gets `/v1/logs`, a URL with a path is used as
    /// is; over gRPC it is the server's URL.
    #[must_use]
    pub fn with_endpoint(mut self, url: &str) -> Self {
        let url = url.trim();
        self.endpoint = if self.protocol.is_http() && !has_path(url) {
            append_logs_path(url)
        } else {
            url.to_owned()
        };
        self
    }

    /// Sets a header (replacing one of the same name, compared without case).
    pub fn set_header(&mut self, name: impl Into<String>, value: impl Into<String>) {
        let (name, value) = (name.into(), value.into());
        match self
            .headers
            .iter_mut()
            .find(|(k, _)| k.eq_ignore_ascii_case(&name))
        {
            Some(slot) => slot.1 = value,
            None => self.headers.push((name, value)),
        }
    }

    /// Sets the batch configuration.
    #[must_use]
    pub fn with_batch(mut self, batch: BatchConfig) -> Self {
        self.batch = batch;
        self
    }

    /// Sets the compression.
    #[must_use]
    pub fn with_compression(mut self, compression: Compression) -> Self {
        self.compression = compression;
        self
    }

    /// Sets the per-request deadline.
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Checks the endpoint: `http` or `https`, a host.
    pub fn validate(&self) -> Result<(), Error> {
        let bad = |why: &str| Error::Endpoint {
            endpoint: self.endpoint.clone(),
            why: why.to_owned(),
        };
        let (scheme, rest) = self
            .endpoint
            .split_once("://")
            .ok_or_else(|| bad("not a URL (expected http://host:port or https://host:port)"))?;
        if scheme != "http" && scheme != "https" {
            return Err(bad("the scheme must be http or https"));
        }
        let host = rest.split('/').next().unwrap_or_default();
        if host.is_empty() {
            return Err(bad("no host"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn endpoints_follow_the_spec() {
        let c = ExporterConfig::from_env_with(&env(&[])).unwrap();
        assert_eq!(c.endpoint, "http://localhost:4318/v1/logs");
        let c = ExporterConfig::from_env_with(&env(&[(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "http://c:4318/",
        )]))
        .unwrap();
        assert_eq!(c.endpoint, "http://c:4318/v1/logs");
        let c = ExporterConfig::from_env_with(&env(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"),
            ("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "http://d:9/custom"),
        ]))
        .unwrap();
        assert_eq!(c.endpoint, "http://d:9/custom");
        let c = ExporterConfig::from_env_with(&env(&[
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4317"),
        ]))
        .unwrap();
        assert_eq!(
            (c.protocol, c.endpoint.as_str()),
            (OtlpProtocol::Grpc, "http://c:4317")
        );
        let c =
            ExporterConfig::from_env_with(&env(&[("OTEL_EXPORTER_OTLP_LOGS_PROTOCOL", "grpc")]))
                .unwrap();
        assert_eq!(c.endpoint, "http://localhost:4317");
        assert_eq!(
            ExporterConfig::default()
                .with_endpoint("http://h:1")
                .endpoint,
            "http://h:1/v1/logs"
        );
        assert_eq!(
            ExporterConfig::default()
                .with_endpoint("http://h:1/x")
                .endpoint,
            "http://h:1/x"
        );
    }

    #[test]
    fn headers_timeout_compression_and_their_errors() {
        let c = ExporterConfig::from_env_with(&env(&[
            (
                "OTEL_EXPORTER_OTLP_HEADERS",
                "authorization=Bearer%20s3cret,x-a=1",
            ),
            ("OTEL_EXPORTER_OTLP_LOGS_HEADERS", "X-A=2"),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "2500"),
            ("OTEL_EXPORTER_OTLP_LOGS_COMPRESSION", "gzip"),
        ]))
        .unwrap();
        assert_eq!(
            c.headers,
            vec![
                ("authorization".to_owned(), "Bearer s3cret".to_owned()),
                ("x-a".to_owned(), "2".to_owned())
            ]
        );
        assert_eq!(c.timeout, Duration::from_millis(2500));
        assert_eq!(c.compression, Compression::Gzip);
        assert!(
            !format!("{c:?}").contains("s3cret"),
            "Debug must hide header values"
        );
        let e = ExporterConfig::from_env_with(&env(&[("OTEL_EXPORTER_OTLP_TIMEOUT", "10s")]))
            .unwrap_err();
        assert!(e.to_string().contains("OTEL_EXPORTER_OTLP_TIMEOUT"), "{e}");
        let e = ExporterConfig::from_env_with(&env(&[("OTEL_EXPORTER_OTLP_PROTOCOL", "udp")]))
            .unwrap_err();
        assert!(e.to_string().contains("udp"), "{e}");
        assert!(
            ExporterConfig::default()
                .with_endpoint("localhost:4318")
                .validate()
                .is_err()
        );
    }
}
