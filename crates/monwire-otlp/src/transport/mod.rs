//! The IO adapters: one request out, one [`Outcome`] back. Everything else (what to send, when,
//! whether to retry) is decided by the sans-IO [`Batcher`](crate::batch::Batcher).

use monwire_event::Event;
#[cfg(feature = "grpc")]
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;

use crate::batch::Outcome;
use crate::config::{ExporterConfig, OtlpProtocol};
use crate::error::Error;
use crate::resource::ResourceInfo;

#[cfg(feature = "grpc")]
mod grpc;
#[cfg(feature = "http")]
mod http;
mod tls;

/// A request ready to (re)send.
pub(crate) enum Prepared {
    /// An HTTP body (protobuf or JSON, compressed if asked).
    #[cfg(feature = "http")]
    Body(bytes::Bytes),
    /// A gRPC message (tonic encodes and compresses it).
    #[cfg(feature = "grpc")]
    Message(Box<ExportLogsServiceRequest>),
}

/// The transport of an exporter.
pub(crate) enum Transport {
    #[cfg(feature = "http")]
    Http(http::HttpTransport),
    #[cfg(feature = "grpc")]
    Grpc(grpc::GrpcTransport),
}

impl Transport {
    /// Build the transport `config` asks for (inside a tokio runtime).
    pub(crate) fn new(config: &ExporterConfig) -> Result<Transport, Error> {
        config.validate()?;
        match config.protocol {
            #[cfg(feature = "http")]
            OtlpProtocol::HttpProtobuf => {
                Ok(Transport::Http(http::HttpTransport::new(config, false)?))
            }
            #[cfg(feature = "http-json")]
            OtlpProtocol::HttpJson => Ok(Transport::Http(http::HttpTransport::new(config, true)?)),
            #[cfg(feature = "grpc")]
            OtlpProtocol::Grpc => Ok(Transport::Grpc(grpc::GrpcTransport::new(config)?)),
            #[allow(unreachable_patterns)]
            other => Err(Error::NotBuilt {
                protocol: other.as_str(),
                feature: match other {
                    OtlpProtocol::HttpProtobuf => "http",
                    OtlpProtocol::HttpJson => "http-json",
                    _ => "grpc",
                },
            }),
        }
    }

    /// Encode a batch once, for every attempt. OTLP/HTTP protobuf is written straight from
    /// the events ([`crate::map::encode_events`]); JSON and gRPC go through the request tree.
    pub(crate) fn prepare(
        &self,
        resource: &ResourceInfo,
        events: Vec<Event>,
    ) -> Result<Prepared, Error> {
        match self {
            #[cfg(feature = "http")]
            Transport::Http(t) => t.prepare(resource, events).map(Prepared::Body),
            #[cfg(feature = "grpc")]
            Transport::Grpc(_) => Ok(Prepared::Message(Box::new(crate::map::to_request(
                resource, events,
            )))),
        }
    }

    /// Send one attempt and classify how it ended.
    pub(crate) async fn send(&self, prepared: &Prepared) -> Outcome {
        match (self, prepared) {
            #[cfg(feature = "http")]
            (Transport::Http(t), Prepared::Body(b)) => t.send(b.clone()).await,
            #[cfg(feature = "grpc")]
            (Transport::Grpc(t), Prepared::Message(m)) => t.send(m).await,
            #[allow(unreachable_patterns)]
            _ => Outcome::Reject {
                reason: "internal: request prepared for another transport".to_owned(),
            },
        }
    }
}
