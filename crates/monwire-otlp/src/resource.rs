//! The resource every record is sent under: `service.name`, `host.name` and
//! `OTEL_RESOURCE_ATTRIBUTES`.

use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};

use crate::env::{Env, parse_key_values};

/// The default `service.name`.
pub const DEFAULT_SERVICE_NAME: &str = "monwire";

/// The resource attributes of an exporter, in the order they are sent.
///
/// Built by [`ResourceInfo::from_env`] as the OpenTelemetry specification says: the attributes
/// of `OTEL_RESOURCE_ATTRIBUTES` (`key=value,…`, values percent-decoded), then `service.name`
/// from `OTEL_SERVICE_NAME` (which wins over the one in `OTEL_RESOURCE_ATTRIBUTES`), else the one
/// in `OTEL_RESOURCE_ATTRIBUTES`, else `monwire`, and `host.name` from the machine's host name
/// unless `OTEL_RESOURCE_ATTRIBUTES` gave one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceInfo {
    attributes: Vec<(String, String)>,
}

impl Default for ResourceInfo {
    /// `service.name=monwire` and `host.name` of this machine, no environment read.
    fn default() -> Self {
        let mut r = ResourceInfo::empty();
        r.set("service.name", DEFAULT_SERVICE_NAME);
        if let Some(h) = host_name() {
            r.set("host.name", h);
        }
        r
    }
}

impl ResourceInfo {
    /// A resource with no attributes at all.
    pub fn empty() -> ResourceInfo {
        ResourceInfo {
            attributes: Vec::new(),
        }
    }

    /// The resource from the process environment (see the type docs).
    pub fn from_env() -> ResourceInfo {
        ResourceInfo::from_env_with(&crate::env::process_env)
    }

    /// The resource from an environment given as a lookup function (for tests and embedders).
    /// A malformed `OTEL_RESOURCE_ATTRIBUTES` entry (no `=`, empty key) is skipped, as the
    /// specification allows.
    pub fn from_env_with(env: &Env<'_>) -> ResourceInfo {
        let mut r = ResourceInfo::empty();
        if let Some(list) = env("OTEL_RESOURCE_ATTRIBUTES") {
            for (k, v) in parse_key_values(&list) {
                r.set(k, v);
            }
        }
        match env("OTEL_SERVICE_NAME").filter(|s| !s.is_empty()) {
            Some(name) => r.set("service.name", name),
            None if r.get("service.name").is_none() => r.set("service.name", DEFAULT_SERVICE_NAME),
            None => {}
        }
        if r.get("host.name").is_none()
            && let Some(h) = host_name()
        {
            r.set("host.name", h);
        }
        r
    }

    /// Sets an attribute, replacing an earlier value of the same key in place.
    pub fn set(&mut self, key: impl Into<String>, value: impl Into<String>) {
        let (key, value) = (key.into(), value.into());
        match self.attributes.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.attributes.push((key, value)),
        }
    }

    /// The value of an attribute.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The attributes in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &str)> {
        self.attributes
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The attributes as OTLP key-values (all strings).
    pub fn to_key_values(&self) -> Vec<KeyValue> {
        self.attributes
            .iter()
            .map(|(k, v)| KeyValue {
                key: k.clone(),
                value: Some(AnyValue {
                    value: Some(any_value::Value::StringValue(v.clone())),
                }),
                ..Default::default()
            })
            .collect()
    }
}

/// This machine's host name: `/proc/sys/kernel/hostname` on Linux, else `HOSTNAME` or
/// `COMPUTERNAME`.
pub fn host_name() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok().filter(|s| !s.is_empty()))
        .or_else(|| std::env::var("COMPUTERNAME").ok().filter(|s| !s.is_empty()))
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
    fn service_name_precedence_follows_the_spec() {
        let r = ResourceInfo::from_env_with(&env(&[]));
        assert_eq!(r.get("service.name"), Some("monwire"));
        let r = ResourceInfo::from_env_with(&env(&[(
            "OTEL_RESOURCE_ATTRIBUTES",
            "service.name=a,deployment.environment=prod%20eu,host.name=h1",
        )]));
        assert_eq!(r.get("service.name"), Some("a"));
        assert_eq!(r.get("deployment.environment"), Some("prod eu"));
        assert_eq!(r.get("host.name"), Some("h1"));
        let r = ResourceInfo::from_env_with(&env(&[
            ("OTEL_RESOURCE_ATTRIBUTES", "service.name=a"),
            ("OTEL_SERVICE_NAME", "b"),
        ]));
        assert_eq!(r.get("service.name"), Some("b"));
    }
}
