//! OTLP/gRPC: `LogsService/Export` over tonic (HTTP/2, rustls).

use std::time::Duration;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::logs::v1::logs_service_client::LogsServiceClient;
use tonic::Code;
use tonic::codec::CompressionEncoding;
use tonic::metadata::{AsciiMetadataKey, AsciiMetadataValue, MetadataMap};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};
use tonic_types::StatusExt as _;

use crate::batch::Outcome;
use crate::config::{Compression, ExporterConfig};
use crate::error::Error;

pub(crate) struct GrpcTransport {
    client: LogsServiceClient<Channel>,
    metadata: MetadataMap,
    timeout: Duration,
    endpoint: String,
}

impl GrpcTransport {
    pub(crate) fn new(config: &ExporterConfig) -> Result<GrpcTransport, Error> {
        let bad = |why: String| Error::Endpoint {
            endpoint: config.endpoint.clone(),
            why,
        };
        let mut endpoint = Endpoint::from_shared(config.endpoint.clone())
            .map_err(|e| bad(e.to_string()))?
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .tcp_nodelay(true);
        if config.endpoint.starts_with("https://") {
            let tls = match &config.ca_file {
                Some(path) => {
                    let pem = std::fs::read(path).map_err(|e| Error::CaFile {
                        path: path.display().to_string(),
                        why: e.to_string(),
                    })?;
                    // Checked here so that a file without certificates fails at start.
                    super::tls::ca_certificates(path)?;
                    ClientTlsConfig::new().ca_certificate(Certificate::from_pem(pem))
                }
                None => ClientTlsConfig::new().with_native_roots(),
            };
            endpoint = endpoint
                .tls_config(tls)
                .map_err(|e| Error::Tls(e.to_string()))?;
        }
        let mut client = LogsServiceClient::new(endpoint.connect_lazy());
        if config.compression == Compression::Gzip {
            client = client
                .send_compressed(CompressionEncoding::Gzip)
                .accept_compressed(CompressionEncoding::Gzip);
        }
        let mut metadata = MetadataMap::new();
        for (name, value) in &config.headers {
            let key = AsciiMetadataKey::from_bytes(name.to_ascii_lowercase().as_bytes()).map_err(
                |_| Error::Header {
                    name: name.clone(),
                    why: "not a valid gRPC metadata key".to_owned(),
                },
            )?;
            let value =
                AsciiMetadataValue::try_from(value.as_str()).map_err(|_| Error::Header {
                    name: name.clone(),
                    why: "the value holds characters gRPC metadata cannot carry".to_owned(),
                })?;
            metadata.insert(key, value);
        }
        Ok(GrpcTransport {
            client,
            metadata,
            timeout: config.timeout,
            endpoint: config.endpoint.clone(),
        })
    }

    pub(crate) async fn send(&self, request: &ExportLogsServiceRequest) -> Outcome {
        let mut req = tonic::Request::new(request.clone());
        *req.metadata_mut() = self.metadata.clone();
        req.set_timeout(self.timeout);
        let mut client = self.client.clone();
        match client.export(req).await {
            Ok(resp) => {
                let partial = resp.into_inner().partial_success.unwrap_or_default();
                Outcome::Accepted {
                    rejected: u64::try_from(partial.rejected_log_records).unwrap_or(0),
                    message: Some(partial.error_message).filter(|m| !m.is_empty()),
                }
            }
            Err(status) => classify(&status, &self.endpoint),
        }
    }
}

/// How a gRPC status ends the attempt, as the OTLP/gRPC specification says: UNAVAILABLE,
/// CANCELLED, ABORTED, OUT_OF_RANGE, DATA_LOSS and DEADLINE_EXCEEDED are retryable;
/// RESOURCE_EXHAUSTED is retryable when the server sends `RetryInfo`; every other code is
/// permanent. `RetryInfo.retry_delay` is honoured.
pub(crate) fn classify(status: &tonic::Status, endpoint: &str) -> Outcome {
    let retry_delay = status
        .get_details_retry_info()
        .and_then(|info| info.retry_delay);
    let reason = format!(
        "gRPC {:?} from {endpoint}{}",
        status.code(),
        if status.message().is_empty() {
            String::new()
        } else {
            format!(": {}", status.message())
        }
    );
    match status.code() {
        Code::Unavailable
        | Code::Cancelled
        | Code::Aborted
        | Code::OutOfRange
        | Code::DataLoss
        | Code::DeadlineExceeded => Outcome::Retry {
            after: retry_delay,
            reason,
        },
        Code::ResourceExhausted if retry_delay.is_some() => Outcome::Retry {
            after: retry_delay,
            reason,
        },
        _ => Outcome::Reject { reason },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_classified_as_the_spec_says() {
        let st = |c| tonic::Status::new(c, "x");
        assert!(matches!(
            classify(&st(Code::Unavailable), "e"),
            Outcome::Retry { after: None, .. }
        ));
        assert!(matches!(
            classify(&st(Code::ResourceExhausted), "e"),
            Outcome::Reject { .. }
        ));
        assert!(matches!(
            classify(&st(Code::InvalidArgument), "e"),
            Outcome::Reject { .. }
        ));
        let with_info = tonic::Status::with_error_details(
            Code::ResourceExhausted,
            "slow down",
            tonic_types::ErrorDetails::with_retry_info(Some(Duration::from_secs(2))),
        );
        assert!(matches!(
            classify(&with_info, "e"),
            Outcome::Retry { after: Some(d), .. } if d == Duration::from_secs(2)
        ));
    }
}
