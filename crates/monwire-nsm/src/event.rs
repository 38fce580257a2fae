//! Mapping to and from [`monwire_event::Event`], lossless both ways.
//!
//! Messages on `/ray/…` paths (and `/minor_error`, `/osc/ping`, and replies or errors
//! answering a `/ray/` path or the ping) map to [`Protocol::Ray`]; everything else to
//! [`Protocol::Nsm`]. Attribute keys use the protocol's prefix (`nsm.` or `ray.`, written `<p>.`
//! below).
//!
//! # `nsm` and `ray`
//!
//! RaySession's external monitor (`/ray/monitor/…`) is a dialect of NSM's `:monitor:`
//! messages, spoken by the same daemon over the same OSC transport, so
//! [`Protocol::Ray`]'s [family](Protocol::family) is [`Protocol::Nsm`]. An event keeps its exact
//! dialect in [`Event::protocol`] (needed to re-encode it), and a
//! [`Filter`](monwire_event::Filter) on `nsm` keeps both `nsm` and `ray` events, while a filter on
//! `ray` keeps only `ray` ones. So `monwire watch nsm --protocol nsm` shows everything an
//! external monitor receives.
//!
//! # Summaries
//!
//! Every event carries a one-line [`Event::summary`] (`"client synth ready"`, `"client daw
//! stopped by itself"`, `"state list ends: 2 clients"`), and [`summary_keys`] names the
//! attributes that line already states, so a one-line view can leave them out. The `<p>.path`
//! attribute is always among them: the protocol and the name determine it.
//!
//! | Message | `name` | `subject` | attributes |
//! |---|---|---|---|
//! | every message | | | `<p>.path`: the OSC path |
//! | `client_state ,ssi` | `client_state` | client id | `<p>.jack_name`, `<p>.started` (int) |
//! | `client_state ,ssi "" "" N` | `client_state` | `""` | `<p>.count` (int) |
//! | `client_state ,si` | `client_state` | client id | `<p>.started` |
//! | `client_event` | the event string (`stopped_by_itself`, `switched_to:new`) | client id | `<p>.new_id` for the parameterised events |
//! | `client_updated` | `client_updated` | client id | `<p>.jack_name`, `<p>.started` |
//! | `monitor_announce`, `monitor_quit`, `monitor_reset`, `save`, `session_is_loaded` | the last path segment | `""` | |
//! | `/reply` | `reply` | the answered path | `<p>.args` (list of strings) |
//! | `/error`, `/minor_error` | `error`, `minor_error` | the answered path | `<p>.code` (int), `<p>.message` |
//! | `announce` | `announce` | application name | `nsm.capabilities` (colon form), `nsm.executable`, `nsm.api_major`, `nsm.api_minor`, `nsm.pid` |
//! | `open` | `open` | client id | `nsm.instance_path`, `nsm.display_name` |
//!
//! # Normalization table
//!
//! | Kind | NSM / Ray |
//! |---|---|
//! | `starting` | `start_request` |
//! | `started` | `started` |
//! | `added` | `joined` |
//! | `ready` | `ready`, `session_is_loaded` |
//! | `failed` | `open_error`, `save_error` (severity error), `/error` (error), `/minor_error` (warn) |
//! | `saved` | `saved` |
//! | `stopping` | `stop_request` |
//! | `stopped` | `stopped_by_server`, `stopped_by_itself` (severity warn) |
//! | `removed` | `removed` |
//! | `updated` | `id_changed_to:`, `switched_to:`, `new_alternative:`, `client_updated` |
//! | `state` | `client_state` (entries and the end marker) |
//! | `end_of_stream` | `monitor_quit` |
//! | `other` | `save_request`, unknown events, `monitor_announce`, `monitor_reset`, `/reply`, `announce`, `open`, `save` |

use monwire_event::{Event, Kind, Protocol, Severity, Value};

use crate::error::FromEventError;
use crate::message::{Capabilities, ClientEvent, ErrorCode, Family, Message, PING_PATH};
use crate::session::Loss;

fn protocol_of(msg: &Message) -> Protocol {
    match msg {
        Message::ClientState { family, .. }
        | Message::ClientStateEnd { family, .. }
        | Message::ClientStateLegacy { family, .. }
        | Message::ClientEvent { family, .. }
        | Message::ClientUpdated { family, .. } => match family {
            Family::Nsm => Protocol::Nsm,
            Family::Ray => Protocol::Ray,
        },
        Message::MonitorAnnounce
        | Message::MonitorQuit
        | Message::MinorError { .. }
        | Message::Ping => Protocol::Ray,
        Message::Reply { path, .. } | Message::Error { path, .. }
            if path.starts_with("/ray/") || path == PING_PATH =>
        {
            Protocol::Ray
        }
        _ => Protocol::Nsm,
    }
}

/// The normalized kind and severity of a client event.
pub fn classify(event: &ClientEvent) -> (Kind, Severity) {
    match event {
        ClientEvent::StartRequest => (Kind::Starting, Severity::Info),
        ClientEvent::Started => (Kind::Started, Severity::Info),
        ClientEvent::Joined => (Kind::Added, Severity::Info),
        ClientEvent::Ready => (Kind::Ready, Severity::Info),
        ClientEvent::OpenError | ClientEvent::SaveError => (Kind::Failed, Severity::Error),
        ClientEvent::Saved => (Kind::Saved, Severity::Info),
        ClientEvent::StopRequest => (Kind::Stopping, Severity::Info),
        ClientEvent::StoppedByServer => (Kind::Stopped, Severity::Info),
        ClientEvent::StoppedByItself => (Kind::Stopped, Severity::Warn),
        ClientEvent::Removed => (Kind::Removed, Severity::Info),
        ClientEvent::SwitchedTo(_)
        | ClientEvent::IdChangedTo(_)
        | ClientEvent::NewAlternative(_) => (Kind::Updated, Severity::Info),
        ClientEvent::SaveRequest | ClientEvent::Other(_) => (Kind::Other, Severity::Info),
    }
}

/// How a started flag reads in a summary.
fn push_running(s: &mut String, started: i32) {
    match started {
        0 => s.push_str("stopped"),
        1 => s.push_str("running"),
        n => {
            s.push_str("started=");
            push_int(s, n);
        }
    }
}

fn push_int(s: &mut String, n: i32) {
    use std::fmt::Write as _;
    let _ = write!(s, "{n}");
}

/// `parts` concatenated into one string allocated once.
fn concat(parts: &[&str]) -> String {
    let mut s = String::with_capacity(parts.iter().map(|p| p.len()).sum::<usize>() + 16);
    for p in parts {
        s.push_str(p);
    }
    s
}

/// The one-line summary of a message (what [`to_event`] puts in [`Event::summary`]).
pub fn summary(msg: &Message) -> String {
    match msg {
        Message::ClientState {
            client_id,
            jack_name,
            started,
            ..
        } => {
            let mut s = concat(&["client ", client_id, " (", jack_name, ") listed, "]);
            push_running(&mut s, *started);
            s
        }
        Message::ClientStateEnd { count, .. } => match count {
            1 => "state list ends: 1 client".to_owned(),
            n => {
                let mut s = concat(&["state list ends: "]);
                push_int(&mut s, *n);
                s.push_str(" clients");
                s
            }
        },
        Message::ClientStateLegacy {
            client_id, started, ..
        } => {
            let mut s = concat(&["client ", client_id, " listed, "]);
            push_running(&mut s, *started);
            s
        }
        Message::ClientEvent {
            client_id, event, ..
        } => {
            let what = match event {
                ClientEvent::StartRequest => "start requested",
                ClientEvent::Started => "started",
                ClientEvent::Joined => "joined",
                ClientEvent::Ready => "ready",
                ClientEvent::OpenError => "failed to open",
                ClientEvent::SaveRequest => "save requested",
                ClientEvent::Saved => "saved",
                ClientEvent::SaveError => "failed to save",
                ClientEvent::StopRequest => "stop requested",
                ClientEvent::StoppedByServer => "stopped by the server",
                ClientEvent::StoppedByItself => "stopped by itself",
                ClientEvent::Removed => "removed",
                ClientEvent::SwitchedTo(id) => {
                    return concat(&["client ", client_id, " switched to ", id]);
                }
                ClientEvent::IdChangedTo(id) => {
                    return concat(&["client ", client_id, " renamed to ", id]);
                }
                ClientEvent::NewAlternative(id) => {
                    return concat(&["client ", client_id, " has a new alternative ", id]);
                }
                ClientEvent::Other(text) => {
                    return concat(&["client ", client_id, " event ", text]);
                }
            };
            concat(&["client ", client_id, " ", what])
        }
        Message::ClientUpdated {
            client_id,
            jack_name,
            started,
            ..
        } => {
            let mut s = concat(&["client ", client_id, " (", jack_name, ") updated, "]);
            push_running(&mut s, *started);
            s
        }
        Message::MonitorAnnounce => "monitor announce".to_owned(),
        Message::MonitorQuit => "monitor quit".to_owned(),
        Message::MonitorReset => "monitor reset (list requested)".to_owned(),
        Message::Save => "save requested".to_owned(),
        Message::SessionIsLoaded => "session loaded".to_owned(),
        Message::Ping => "ping".to_owned(),
        Message::Reply { path, args } if args.is_empty() => concat(&[path, " answered"]),
        Message::Reply { path, args } => {
            let len = args.iter().map(|a| a.len() + 2).sum::<usize>();
            let mut s = String::with_capacity(path.len() + 10 + len);
            s.push_str(path);
            s.push_str(" answered: ");
            for (i, a) in args.iter().enumerate() {
                if i > 0 {
                    s.push_str(", ");
                }
                s.push_str(a);
            }
            s
        }
        Message::Error {
            path,
            code,
            message,
        } => format!("{path} failed: {message} ({code})"),
        Message::MinorError {
            path,
            code,
            message,
        } => format!("{path}: minor error: {message} ({code})"),
        Message::Announce {
            app_name,
            capabilities,
            ..
        } if capabilities.is_empty() => concat(&[app_name, " announces"]),
        Message::Announce {
            app_name,
            capabilities,
            ..
        } => concat(&[app_name, " announces ", &capabilities.to_wire()]),
        Message::Open {
            display_name,
            client_id,
            ..
        } => concat(&["open session ", display_name, " as ", client_id]),
    }
}

/// The event for a message, with its [`summary`]. Codecs have no clock: `observed` and
/// `source` stay `None`.
///
/// ```
/// use monwire_nsm::{ClientEvent, Family, Message, event};
/// let m = Message::ClientEvent {
///     family: Family::Ray,
///     client_id: "synth".into(),
///     event: ClientEvent::Ready,
/// };
/// let e = event::to_event(&m);
/// assert_eq!(e.summary.as_deref(), Some("client synth ready"));
/// assert_eq!(event::from_event(&e)?, m);
/// # Ok::<(), monwire_nsm::error::FromEventError>(())
/// ```
pub fn to_event(msg: &Message) -> Event {
    let mut e = event_of(msg);
    e.summary = Some(summary(msg));
    e
}

/// The attribute key `<p>.<k>` as a constant, `p` being `ray` when `$ray` holds, else `nsm`.
macro_rules! key {
    ($ray:expr, $k:literal) => {
        if $ray {
            concat!("ray.", $k)
        } else {
            concat!("nsm.", $k)
        }
    };
}

/// The OSC path of a message, borrowed (every path but the monitor ones is a constant).
fn static_path(msg: &Message) -> &'static str {
    use crate::message::{
        ANNOUNCE_PATH, MONITOR_ANNOUNCE_PATH, MONITOR_QUIT_PATH, MONITOR_RESET_PATH, OPEN_PATH,
        SAVE_PATH, SESSION_IS_LOADED_PATH,
    };
    let monitor = |family: &Family, nsm: &'static str, ray: &'static str| match family {
        Family::Nsm => nsm,
        Family::Ray => ray,
    };
    match msg {
        Message::ClientState { family, .. }
        | Message::ClientStateEnd { family, .. }
        | Message::ClientStateLegacy { family, .. } => monitor(
            family,
            "/nsm/client/monitor/client_state",
            "/ray/monitor/client_state",
        ),
        Message::ClientEvent { family, .. } => monitor(
            family,
            "/nsm/client/monitor/client_event",
            "/ray/monitor/client_event",
        ),
        Message::ClientUpdated { family, .. } => monitor(
            family,
            "/nsm/client/monitor/client_updated",
            "/ray/monitor/client_updated",
        ),
        Message::MonitorAnnounce => MONITOR_ANNOUNCE_PATH,
        Message::MonitorQuit => MONITOR_QUIT_PATH,
        Message::MonitorReset => MONITOR_RESET_PATH,
        Message::Reply { .. } => "/reply",
        Message::Error { .. } => "/error",
        Message::MinorError { .. } => "/minor_error",
        Message::Announce { .. } => ANNOUNCE_PATH,
        Message::Open { .. } => OPEN_PATH,
        Message::Save => SAVE_PATH,
        Message::SessionIsLoaded => SESSION_IS_LOADED_PATH,
        Message::Ping => PING_PATH,
    }
}

/// The event without its summary. Attribute keys are constants and unique by construction
/// (so they are pushed, not searched for), and the attribute list is allocated once.
fn event_of(msg: &Message) -> Event {
    let protocol = protocol_of(msg);
    let ray = protocol == Protocol::Ray;
    let path = static_path(msg);
    let leaf = path.rsplit('/').next().unwrap_or(path);
    let (kind, name): (Kind, String) = match msg {
        Message::ClientState { .. }
        | Message::ClientStateEnd { .. }
        | Message::ClientStateLegacy { .. } => (Kind::State, leaf.to_owned()),
        Message::ClientEvent { event, .. } => (classify(event).0, event.to_wire()),
        Message::ClientUpdated { .. } => (Kind::Updated, leaf.to_owned()),
        Message::MonitorQuit => (Kind::EndOfStream, leaf.to_owned()),
        Message::SessionIsLoaded => (Kind::Ready, leaf.to_owned()),
        Message::MonitorAnnounce | Message::MonitorReset | Message::Save | Message::Ping => {
            (Kind::Other, leaf.to_owned())
        }
        Message::Reply { .. } => (Kind::Other, "reply".to_owned()),
        Message::Error { .. } => (Kind::Failed, "error".to_owned()),
        Message::MinorError { .. } => (Kind::Failed, "minor_error".to_owned()),
        Message::Announce { .. } => (Kind::Other, "announce".to_owned()),
        Message::Open { .. } => (Kind::Other, "open".to_owned()),
    };
    let mut e = Event::new(protocol, kind, name);
    e.attributes = monwire_event::Attributes::with_capacity(6);
    e.attributes.push_unchecked(key!(ray, "path"), path);
    match msg {
        Message::ClientState {
            client_id,
            jack_name,
            started,
            ..
        }
        | Message::ClientUpdated {
            client_id,
            jack_name,
            started,
            ..
        } => {
            e.subject = client_id.clone();
            e.attributes
                .push_unchecked(key!(ray, "jack_name"), jack_name.as_str());
            e.attributes.push_unchecked(key!(ray, "started"), *started);
        }
        Message::ClientStateEnd { count, .. } => {
            e.attributes.push_unchecked(key!(ray, "count"), *count);
        }
        Message::ClientStateLegacy {
            client_id, started, ..
        } => {
            e.subject = client_id.clone();
            e.attributes.push_unchecked(key!(ray, "started"), *started);
        }
        Message::ClientEvent {
            client_id, event, ..
        } => {
            e.subject = client_id.clone();
            e.severity = classify(event).1;
            if let ClientEvent::SwitchedTo(id)
            | ClientEvent::IdChangedTo(id)
            | ClientEvent::NewAlternative(id) = event
            {
                e.attributes
                    .push_unchecked(key!(ray, "new_id"), id.as_str());
            }
        }
        Message::MonitorQuit
        | Message::SessionIsLoaded
        | Message::MonitorAnnounce
        | Message::MonitorReset
        | Message::Save
        | Message::Ping => {}
        Message::Reply {
            path: answered,
            args,
        } => {
            e.subject = answered.clone();
            e.attributes.push_unchecked(
                key!(ray, "args"),
                args.iter()
                    .map(|a| Value::Str(a.clone()))
                    .collect::<Vec<Value>>(),
            );
        }
        Message::Error {
            path: answered,
            code,
            message,
        }
        | Message::MinorError {
            path: answered,
            code,
            message,
        } => {
            e.subject = answered.clone();
            e.severity = if matches!(msg, Message::MinorError { .. }) {
                Severity::Warn
            } else {
                Severity::Error
            };
            e.attributes
                .push_unchecked(key!(ray, "code"), code.to_i32());
            e.attributes
                .push_unchecked(key!(ray, "message"), message.as_str());
        }
        Message::Announce {
            app_name,
            capabilities,
            executable,
            api_major,
            api_minor,
            pid,
        } => {
            e.subject = app_name.clone();
            let a = &mut e.attributes;
            a.push_unchecked(key!(ray, "capabilities"), capabilities.to_wire());
            a.push_unchecked(key!(ray, "executable"), executable.as_str());
            a.push_unchecked(key!(ray, "api_major"), *api_major);
            a.push_unchecked(key!(ray, "api_minor"), *api_minor);
            a.push_unchecked(key!(ray, "pid"), *pid);
        }
        Message::Open {
            instance_path,
            display_name,
            client_id,
        } => {
            e.subject = client_id.clone();
            let a = &mut e.attributes;
            a.push_unchecked(key!(ray, "instance_path"), instance_path.as_str());
            a.push_unchecked(key!(ray, "display_name"), display_name.as_str());
        }
    }
    e
}

/// The event an external monitor emits when it loses the server (no wire message: it says
/// what the monitor saw, and [`from_event`] refuses it with
/// [`FromEventError::NotAMessage`]): kind `disconnected`, severity warn, attribute
/// `ray.reason` (`unreachable` or `silent`).
pub fn disconnected(reason: Loss) -> Event {
    Event::new(Protocol::Ray, Kind::Disconnected, "disconnected")
        .with_severity(Severity::Warn)
        .with_attr(
            "ray.reason",
            match reason {
                Loss::Unreachable => "unreachable",
                Loss::Silent => "silent",
            },
        )
        .with_summary(format!("lost the server: {reason}"))
}

/// The event an external monitor emits when it is registered again after a loss (kind
/// `connected`, name `reconnected`); like [`disconnected`], not a wire message.
pub fn reconnected() -> Event {
    Event::new(Protocol::Ray, Kind::Connected, "reconnected")
        .with_summary("the server is back; registered again")
}

/// Rebuilds the message an [`Event`] from [`to_event`] describes. The `kind` and `severity`
/// are derived values and are not consulted.
pub fn from_event(event: &Event) -> Result<Message, FromEventError> {
    let p = match event.protocol {
        Protocol::Nsm => "nsm",
        Protocol::Ray => "ray",
        ref other => return Err(FromEventError::Protocol(other.as_str().to_owned())),
    };
    let key = |k: &str| format!("{p}.{k}");
    let str_attr = |k: &str| -> Result<String, FromEventError> {
        event
            .attr(&key(k))
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| FromEventError::Attribute(key(k)))
    };
    let int_attr = |k: &str| -> Result<i32, FromEventError> {
        event
            .attr(&key(k))
            .and_then(Value::as_i64)
            .and_then(|v| i32::try_from(v).ok())
            .ok_or_else(|| FromEventError::Attribute(key(k)))
    };
    if event.attr(&key("path")).is_none()
        && matches!(event.name.as_str(), "disconnected" | "reconnected")
    {
        return Err(FromEventError::NotAMessage(event.name.clone()));
    }
    let path = str_attr("path")?;
    let subject = event.subject.clone();
    let fam = if let Some(l) = path.strip_prefix(Family::Nsm.prefix()) {
        Some((Family::Nsm, l))
    } else {
        path.strip_prefix(Family::Ray.prefix())
            .map(|l| (Family::Ray, l))
    };
    if let Some((family, l)) = fam {
        return match l {
            "client_state" => {
                if event.attr(&key("count")).is_some() {
                    Ok(Message::ClientStateEnd {
                        family,
                        count: int_attr("count")?,
                    })
                } else if event.attr(&key("jack_name")).is_some() {
                    Ok(Message::ClientState {
                        family,
                        client_id: subject,
                        jack_name: str_attr("jack_name")?,
                        started: int_attr("started")?,
                    })
                } else {
                    Ok(Message::ClientStateLegacy {
                        family,
                        client_id: subject,
                        started: int_attr("started")?,
                    })
                }
            }
            "client_event" => Ok(Message::ClientEvent {
                family,
                client_id: subject,
                event: ClientEvent::parse(&event.name),
            }),
            "client_updated" => Ok(Message::ClientUpdated {
                family,
                client_id: subject,
                jack_name: str_attr("jack_name")?,
                started: int_attr("started")?,
            }),
            _ => Err(FromEventError::Unknown(path)),
        };
    }
    let msg = match path.as_str() {
        "/ray/server/monitor_announce" => Message::MonitorAnnounce,
        "/ray/server/monitor_quit" => Message::MonitorQuit,
        "/nsm/server/monitor_reset" => Message::MonitorReset,
        "/nsm/client/save" => Message::Save,
        "/nsm/client/session_is_loaded" => Message::SessionIsLoaded,
        PING_PATH => Message::Ping,
        "/reply" => {
            let list = event
                .attr(&key("args"))
                .and_then(Value::as_list)
                .ok_or_else(|| FromEventError::Attribute(key("args")))?;
            let args = list
                .iter()
                .map(|v| v.as_str().map(str::to_owned))
                .collect::<Option<Vec<String>>>()
                .ok_or_else(|| FromEventError::Attribute(key("args")))?;
            Message::Reply {
                path: subject,
                args,
            }
        }
        "/error" => Message::Error {
            path: subject,
            code: ErrorCode::from_i32(int_attr("code")?),
            message: str_attr("message")?,
        },
        "/minor_error" => Message::MinorError {
            path: subject,
            code: ErrorCode::from_i32(int_attr("code")?),
            message: str_attr("message")?,
        },
        "/nsm/server/announce" => Message::Announce {
            app_name: subject,
            capabilities: Capabilities::parse(&str_attr("capabilities")?),
            executable: str_attr("executable")?,
            api_major: int_attr("api_major")?,
            api_minor: int_attr("api_minor")?,
            pid: int_attr("pid")?,
        },
        "/nsm/client/open" => Message::Open {
            instance_path: str_attr("instance_path")?,
            display_name: str_attr("display_name")?,
            client_id: subject,
        },
        _ => return Err(FromEventError::Unknown(path)),
    };
    Ok(msg)
}

/// The attribute keys whose values [`Event::summary`] already states for this event; a
/// one-line view (the `monwire` terminal view) leaves them out unless asked for every
/// attribute. Empty for an event of another protocol.
///
/// ```
/// use monwire_nsm::{Family, Message, event};
/// let e = event::to_event(&Message::ClientState {
///     family: Family::Ray,
///     client_id: "synth".into(),
///     jack_name: "fluidsynth".into(),
///     started: 1,
/// });
/// assert_eq!(e.summary.as_deref(), Some("client synth (fluidsynth) listed, running"));
/// assert!(event::summary_keys(&e).contains(&"ray.jack_name"));
/// ```
pub fn summary_keys(event: &Event) -> &'static [&'static str] {
    macro_rules! keys {
        ($ray:expr, $($k:literal),*) => {
            if $ray {
                &[$(concat!("ray.", $k)),*]
            } else {
                &[$(concat!("nsm.", $k)),*]
            }
        };
    }
    let ray = match event.protocol {
        Protocol::Ray => true,
        Protocol::Nsm => false,
        _ => return &[],
    };
    let path = event
        .attr(if ray { "ray.path" } else { "nsm.path" })
        .and_then(Value::as_str)
        .unwrap_or("");
    let monitor_leaf = path
        .strip_prefix(Family::Nsm.prefix())
        .or_else(|| path.strip_prefix(Family::Ray.prefix()));
    match (monitor_leaf, path) {
        (Some("client_state"), _) => keys!(ray, "path", "jack_name", "started", "count"),
        (Some("client_event"), _) => keys!(ray, "path", "new_id"),
        (Some("client_updated"), _) => keys!(ray, "path", "jack_name", "started"),
        (_, "/reply") => keys!(ray, "path", "args"),
        (_, "/error" | "/minor_error") => keys!(ray, "path", "code", "message"),
        (_, "/nsm/server/announce") => keys!(ray, "path", "capabilities"),
        (_, "/nsm/client/open") => keys!(ray, "path", "display_name"),
        _ if event.name == "disconnected" => keys!(ray, "reason"),
        _ => keys!(ray, "path"),
    }
}
