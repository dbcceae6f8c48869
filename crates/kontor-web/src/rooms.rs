//! Video rooms of online meetings: a page per meeting that only its two participants and the
//! event's organisers may enter, and a WebSocket that relays WebRTC signalling (offer, answer,
//! ICE candidates) between the peers. Media flows browser to browser; STUN/TURN servers come
//! from the configuration, TURN credentials short-lived in coturn's `use-auth-secret` scheme.
//!
//! Invariants:
//! - The page and the WebSocket admit the same people ([`admit`]) and only while the room is
//!   open ([`Window`]); the WebSocket also checks `Origin` (cross-site WebSocket hijacking).
//! - A message reaches only the peers of its room, and an offer, answer or ICE candidate only
//!   its addressee (`to`): an organiser looking in never sees the participants' SDP or
//!   addresses. The server stamps the sender's connection id (`from`), person (`user`) and
//!   role (`participant` or `organiser`), so a peer cannot speak for another. On several instances the hub goes through
//!   PostgreSQL ([`kontor_store::rooms::SignalHub`]).

use std::time::Duration;

use axum::Router;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Redirect;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use jiff::Timestamp;
use kontor_domain::{Keyed, Locale, MeetingMode, TimeZoneName, now_micros};
use kontor_store::accounts::User;
use kontor_store::events::Event;
use kontor_store::matchmaking::{Meeting, MeetingRequest};
use kontor_store::rooms::{RoomInbox, Signal, SignalHub, VideoProvider};
use uuid::Uuid;

use crate::AppState;
use crate::auth::{CurrentUser, PageCtx};
use crate::error::AppError;
use crate::form::FormData;
use crate::page::render;

/// The room opens this long before the slot starts.
pub const OPENS_BEFORE_MINUTES: i64 = 10;
/// … and closes this long after the slot ends (time to say goodbye).
pub const CLOSES_AFTER_MINUTES: i64 = 5;
/// The largest signalling message a browser may send (an SDP with many candidates is ~10 KiB).
const MAX_MESSAGE_BYTES: usize = 64 * 1024;
/// Messages a peer may send in [`BURST_WINDOW`]; more are dropped (a call needs a few dozen:
/// offer, answer and candidates, and again on each renegotiation).
const BURST_MESSAGES: u32 = 200;
const BURST_WINDOW: Duration = Duration::from_secs(10);
/// Sockets one person may hold in one room on one instance: a call needs one, a reload briefly
/// two; more would let one account multiply the room's traffic past the per-socket limit.
pub const MAX_SOCKETS_PER_PERSON: usize = 2;
/// A ping this often keeps proxies from closing a quiet WebSocket; as often, the server checks
/// that the person may still be in the room (the meeting cancelled, an organiser removed).
const PING_EVERY: Duration = Duration::from_secs(20);
/// The kinds of message the server relays to every peer of the room …
const BROADCAST: &[&str] = &["hello", "bye"];
/// … and those it relays only to their addressee (`to`); anything else is dropped.
const ADDRESSED: &[&str] = &["offer", "answer", "candidate"];

/// STUN/TURN servers handed to the browsers. Empty: `iceServers: []`, enough on loopback and
/// in one LAN.
#[derive(Clone, Debug, Default)]
pub struct VideoConfig {
    /// `stun:host:3478`, …
    pub stun_urls: Vec<String>,
    /// `turn:host:3478?transport=udp`, `turns:host:5349`, …
    pub turn_urls: Vec<String>,
    /// coturn's `static-auth-secret`; credentials are derived per user and expire.
    pub turn_secret: String,
    /// How long a TURN credential is valid.
    pub turn_ttl_secs: i64,
    /// A Jitsi Meet server (`https://meet.example.org`) that organisers may choose per event
    /// instead of the built-in rooms; empty: not offered.
    pub jitsi_url: String,
    /// The key that names a meeting's Jitsi room ([`jitsi_room`]); the binary refuses a
    /// `jitsi_url` without one.
    pub jitsi_secret: String,
    /// How often a room's sockets are pinged and their people re-admitted; `None`: 20 s.
    pub ping_every: Option<Duration>,
}

type HmacSha1 = Hmac<sha1::Sha1>;

/// coturn's `use-auth-secret` (TURN REST API) credential for `username`:
/// base64(HMAC-SHA1(secret, username)).
pub fn turn_credential(secret: &str, username: &str) -> String {
    let mut mac = HmacSha1::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(username.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// The `iceServers` for `user` at `now_secs` (Unix seconds).
pub fn ice_servers(config: &VideoConfig, user: Uuid, now_secs: i64) -> serde_json::Value {
    let mut servers = vec![];
    if !config.stun_urls.is_empty() {
        servers.push(serde_json::json!({ "urls": config.stun_urls }));
    }
    if !config.turn_urls.is_empty() && !config.turn_secret.is_empty() {
        let username = format!("{}:{user}", now_secs + config.turn_ttl_secs.max(60));
        let credential = turn_credential(&config.turn_secret, &username);
        servers.push(serde_json::json!({
            "urls": config.turn_urls, "username": username, "credential": credential,
        }));
    }
    serde_json::Value::Array(servers)
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/meetings/{id}/room", get(page))
        .route("/meetings/{id}/room/ws", get(socket))
        .route("/events/{slug}/video", post(choose_provider))
}

/// The organiser's choice of video provider for the participants page, when there is one.
pub async fn provider_choice(
    state: &AppState,
    event: &Event,
) -> Result<Option<serde_json::Value>, AppError> {
    let jitsi = state.config.video.jitsi_url.trim_end_matches('/');
    if jitsi.is_empty() {
        return Ok(None);
    }
    let provider = state.store.video_provider(event.id).await?;
    Ok(Some(
        serde_json::json!({ "provider": provider.key(), "jitsi": jitsi }),
    ))
}

async fn choose_provider(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(slug): Path<String>,
    form: FormData,
) -> Result<Response, AppError> {
    let event = crate::events::organiser_event(&state, &ctx, &slug).await?;
    let provider = VideoProvider::from_key(form.get("provider"))
        .filter(|p| *p == VideoProvider::Builtin || !state.config.video.jitsi_url.is_empty())
        .ok_or(AppError::BadRequest("invalid-choice"))?;
    let mut tx = state.store.begin().await?;
    tx.set_video_provider(event.id, provider).await?;
    tx.commit().await?;
    tracing::info!(event = %event.id, provider = provider.key(), "video provider chosen");
    Ok(Redirect::to(&format!("/events/{slug}/participants")).into_response())
}

/// The name of a meeting's Jitsi room: `Kontor-` and the first 128 bits of
/// HMAC-SHA256(secret, meeting id) in hex. The meeting's id is no secret (it is in links, mails
/// and calendar entries); the room name cannot be derived from it without the server's secret.
fn jitsi_room(secret: &str, meeting: Uuid) -> String {
    let mut mac =
        Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(meeting.as_bytes());
    let tag = mac.finalize().into_bytes();
    let hex: String = tag[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("Kontor-{hex}")
}

/// The Jitsi room of a meeting: an unguessable name per meeting, the reader's name filled in,
/// no pre-join screen.
fn jitsi_link(base: &str, secret: &str, meeting: Uuid, name: &str) -> String {
    let display: String = url_encode(&serde_json::Value::from(name).to_string());
    format!(
        "{}/{}#config.prejoinConfig.enabled=false&userInfo.displayName={display}",
        base.trim_end_matches('/'),
        jitsi_room(secret, meeting)
    )
}

/// Percent-encodes everything but unreserved characters (RFC 3986).
fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Where a room stands at an instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Window {
    /// Opens at this instant (µs).
    NotYet(i64),
    /// Open until this instant (µs).
    Open(i64),
    Over,
}

impl Window {
    pub fn of(meeting: &Meeting, now: i64) -> Window {
        let opens = meeting.slot_start - OPENS_BEFORE_MINUTES * 60_000_000;
        let closes = meeting.slot_end + CLOSES_AFTER_MINUTES * 60_000_000;
        if now < opens {
            Window::NotYet(opens)
        } else if now < closes {
            Window::Open(closes)
        } else {
            Window::Over
        }
    }
}

/// A room someone may enter.
struct Admitted {
    /// One of the meeting's two people (not an organiser or administrator looking in).
    participant: bool,
    meeting: Meeting,
    request: MeetingRequest,
}

/// The meeting's room if `user` may enter it: a participant, an organiser of the event, or an
/// administrator. A meeting on site, a cancelled one or an unknown id has no room.
async fn admit(state: &AppState, user: &User, id: Uuid) -> Result<Admitted, AppError> {
    let (meeting, request) = state.store.meeting(id).await?;
    if meeting.cancelled || meeting.mode != MeetingMode::Online {
        return Err(AppError::NotFound);
    }
    let participant = request.from_user == user.id || request.to_user == user.id;
    if !participant
        && !user.is_admin
        && !state.store.is_organiser(meeting.event_id, user.id).await?
    {
        return Err(AppError::Forbidden);
    }
    Ok(Admitted {
        participant,
        meeting,
        request,
    })
}

/// Whether the meeting's room is open now (for links on the agenda).
pub fn is_open(meeting: &Meeting, now: i64) -> bool {
    meeting.mode == MeetingMode::Online && matches!(Window::of(meeting, now), Window::Open(_))
}

fn local_time(ts: i64, zone: &TimeZoneName, locale: Locale) -> String {
    let z = Timestamp::from_microsecond(ts)
        .unwrap_or_default()
        .to_zoned_datetime(zone.tz());
    format!(
        "{}, {}",
        crate::events::format_date(z.date(), locale),
        z.strftime("%H:%M")
    )
}

/// Messages the room's script shows, in the reader's language.
const SCRIPT_MESSAGES: &[&str] = &[
    "room-status-starting",
    "room-status-waiting",
    "room-status-connecting",
    "room-status-connected",
    "room-status-left",
    "room-status-closed",
    "room-error-blocked",
    "room-error-no-device",
    "room-error-busy",
    "room-error-insecure",
    "room-error-failed",
    "room-error-signalling",
    "room-ended",
    "room-camera",
    "room-microphone",
];

async fn page(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<Uuid>,
) -> Result<Response, AppError> {
    let user = ctx.require_user()?;
    let room = admit(&state, user, id).await?;
    let event = state.store.event(room.meeting.event_id).await?;
    let now = now_micros();
    let l = ctx.locale;
    let (status, opens) = match Window::of(&room.meeting, now) {
        Window::NotYet(at) => ("not-yet", Some(local_time(at, &user.time_zone, l))),
        Window::Open(_) => ("open", None),
        Window::Over => ("over", None),
    };
    // Everyone in the meeting but the reader: one partner, or both for an organiser.
    let mut people = vec![];
    for uid in [room.request.from_user, room.request.to_user] {
        if uid == user.id {
            continue;
        }
        let p = state.store.user(uid).await?;
        let organisation = match p.organisation_id {
            Some(o) => Some(state.store.organisation(o).await?.name),
            None => None,
        };
        people.push(serde_json::json!({
            "name": p.name, "organisation": organisation, "time_zone": p.time_zone.as_str(),
            "city": crate::events::zone_city(&p.time_zone, l),
        }));
    }
    let names: Vec<&str> = people.iter().filter_map(|p| p["name"].as_str()).collect();
    let c = kontor_i18n::catalog();
    let messages: serde_json::Map<String, serde_json::Value> = SCRIPT_MESSAGES
        .iter()
        .map(|k| (k.to_string(), c.message(l, k, &[]).into()))
        .collect();
    let jitsi = &state.config.video.jitsi_url;
    let jitsi = (!jitsi.is_empty()
        && state.store.video_provider(room.meeting.event_id).await? == VideoProvider::Jitsi)
        .then(|| jitsi_link(jitsi, &state.config.video.jitsi_secret, id, &user.name));
    let config = serde_json::json!({
        "ws": format!("/meetings/{id}/room/ws"),
        "role": role(room.participant),
        "ends": room.meeting.slot_end / 1000,
        "closes": (room.meeting.slot_end + CLOSES_AFTER_MINUTES * 60_000_000) / 1000,
        "ice": ice_servers(&state.config.video, user.id, now / 1_000_000),
        "messages": messages,
        "locale": l.bcp47(),
    });
    let mut response = render(
        &state,
        &ctx.reader(),
        "room.html",
        serde_json::json!({
            "meeting": { "id": id, "time": local_time(room.meeting.slot_start, &user.time_zone, l),
                         "end": format!("{} {}", Timestamp::from_microsecond(room.meeting.slot_end).unwrap_or_default()
                             .to_zoned_datetime(user.time_zone.tz()).strftime("%H:%M"), crate::events::zone_city(&user.time_zone, l)) },
            "event": { "slug": event.slug.as_str(), "title": event.title.show(l) },
            "people": people,
            "names": names.join(" · "),
            "status": status,
            "opens": opens,
            "opens_before": OPENS_BEFORE_MINUTES,
            "config": config.to_string(),
            "jitsi": jitsi,
        }),
    );
    // A page waiting for its room reloads itself when the room opens (within the hour).
    if let Window::NotYet(at) = Window::of(&room.meeting, now)
        && at - now < 3_600_000_000
    {
        let secs = (at - now) / 1_000_000 + 1;
        response.headers_mut().insert(
            axum::http::header::REFRESH,
            axum::http::HeaderValue::from(secs),
        );
    }
    Ok(response)
}

async fn socket(
    State(state): State<AppState>,
    headers: HeaderMap,
    user: Result<CurrentUser, AppError>,
    Path(id): Path<Uuid>,
    upgrade: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Result<Response, AppError> {
    // The `Origin` must be ours: a page on another site could otherwise open the socket with
    // the visitor's cookie (cross-site WebSocket hijacking).
    if !crate::csrf::same_origin(&state, &headers) {
        tracing::warn!(meeting = %id, "cross-site WebSocket refused");
        return Err(AppError::CrossSite);
    }
    // The page's 401 redirects to sign-in; a socket just says no.
    let user = user.map_err(|_| AppError::Forbidden)?.0;
    let room = admit(&state, &user, id).await?;
    let Window::Open(closes) = Window::of(&room.meeting, now_micros()) else {
        return Err(AppError::Rejected("room-closed"));
    };
    let upgrade = match upgrade {
        Ok(u) => u,
        Err(e) => return Ok(e.into_response()),
    };
    let hub = state.rooms().await?;
    let Some(inbox) = hub.join(id, user.id, MAX_SOCKETS_PER_PERSON) else {
        tracing::warn!(meeting = %id, user = %user.id, "room socket refused: too many");
        return Err(AppError::Rejected("room-too-many-sockets"));
    };
    let peer = Peer {
        room: id,
        user: user.id,
        role: role(room.participant),
    };
    Ok(upgrade
        .max_message_size(MAX_MESSAGE_BYTES)
        .on_upgrade(move |ws| relay(ws, state, hub, inbox, peer, closes)))
}

/// Whether `user` may still be in the room: the same check as at the upgrade, with the
/// person and the meeting read again. A database hiccup does not end a call.
async fn still_admitted(state: &AppState, user: Uuid, room: Uuid) -> bool {
    let user = match state.store.user(user).await {
        Ok(u) => u,
        Err(kontor_store::StoreError::NotFound) => return false,
        Err(e) => {
            tracing::warn!(error = %e, "room admission not re-checked");
            return true;
        }
    };
    match admit(state, &user, room).await {
        Ok(_) => true,
        Err(AppError::Forbidden | AppError::NotFound) => false,
        Err(e) => {
            tracing::warn!(error = ?e, "room admission not re-checked");
            true
        }
    }
}

/// How a peer is named to the others.
fn role(participant: bool) -> &'static str {
    if participant {
        "participant"
    } else {
        "organiser"
    }
}

/// Who is behind a connection.
#[derive(Clone, Copy)]
struct Peer {
    room: Uuid,
    user: Uuid,
    role: &'static str,
}

/// One peer's connection: its messages go to the hub, the room's other messages come back.
async fn relay(
    mut ws: WebSocket,
    state: AppState,
    hub: SignalHub,
    mut inbox: RoomInbox,
    peer: Peer,
    closes: i64,
) {
    let Peer { room, user, .. } = peer;
    let me = Uuid::new_v4();
    let welcome = serde_json::json!({ "type": "welcome", "id": me }).to_string();
    if ws.send(Message::Text(welcome.into())).await.is_err() {
        return;
    }
    let until_close = Duration::from_micros((closes - now_micros()).max(0) as u64);
    let close_at = tokio::time::sleep(until_close);
    tokio::pin!(close_at);
    let every = state.config.video.ping_every.unwrap_or(PING_EVERY);
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    // The start of the current window and the messages sent in it.
    let mut burst = (tokio::time::Instant::now(), 0u32);
    tracing::info!(meeting = %room, %user, peer = %me, "joined video room");
    loop {
        tokio::select! {
            incoming = ws.recv() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    if burst.0.elapsed() > BURST_WINDOW {
                        burst = (tokio::time::Instant::now(), 0);
                    }
                    burst.1 += 1;
                    if burst.1 > BURST_MESSAGES {
                        if burst.1 == BURST_MESSAGES + 1 {
                            tracing::warn!(meeting = %room, peer = %me, "room signals dropped: too many");
                        }
                        continue;
                    }
                    let Some((body, to)) = stamp(text.as_str(), me, peer) else { continue };
                    if let Err(e) = hub.publish(Signal { room, from: me, to, body }).await {
                        tracing::warn!(error = %e, "room signal not sent");
                    }
                }
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                Some(Ok(_)) => {}
            },
            signal = inbox.recv() => match signal {
                Ok(s) if s.from != me && s.to.is_none_or(|to| to == me) => {
                    if ws.send(Message::Text(s.body.clone().into())).await.is_err() {
                        break;
                    }
                }
                Ok(_) => {}
                // Too slow to keep up: the peer renegotiates if it missed something.
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            },
            // Proxies close idle connections (nginx after 60 s); a call's signalling is idle.
            _ = ping.tick() => {
                if !still_admitted(&state, user, room).await {
                    tracing::info!(meeting = %room, %user, "room socket closed: no longer admitted");
                    let closed = serde_json::json!({ "type": "closed" }).to_string();
                    let _ = ws.send(Message::Text(closed.into())).await;
                    break;
                }
                if ws.send(Message::Ping(Default::default())).await.is_err() {
                    break;
                }
            }
            _ = &mut close_at => {
                let closed = serde_json::json!({ "type": "closed" }).to_string();
                let _ = ws.send(Message::Text(closed.into())).await;
                break;
            }
        }
    }
    drop(inbox); // before bye: a reload's new socket may take this one's place at once
    let bye = serde_json::json!({ "type": "bye", "from": me, "user": user, "role": peer.role })
        .to_string();
    let _ = hub
        .publish(Signal {
            room,
            from: me,
            to: None,
            body: bye,
        })
        .await;
    tracing::info!(meeting = %room, peer = %me, "left video room");
}

/// A browser's message as relayed, and its addressee: a JSON object of a known type, with
/// `from`, `user` and `role` set by us. An offer, answer or candidate without a valid `to` is
/// dropped (it would otherwise reach everyone in the room).
fn stamp(text: &str, me: Uuid, peer: Peer) -> Option<(String, Option<Uuid>)> {
    let mut v: serde_json::Value = serde_json::from_str(text).ok()?;
    let obj = v.as_object_mut()?;
    let kind = obj.get("type")?.as_str()?;
    let to = if ADDRESSED.contains(&kind) {
        Some(obj.get("to")?.as_str()?.parse::<Uuid>().ok()?)
    } else if BROADCAST.contains(&kind) {
        obj.remove("to");
        None
    } else {
        return None;
    };
    obj.insert("from".into(), me.to_string().into());
    // The person behind the connection: a peer that reconnects or reloads is recognised.
    obj.insert("user".into(), peer.user.to_string().into());
    obj.insert("role".into(), peer.role.into());
    Some((v.to_string(), to))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turn_credential_matches_coturn() {
        // printf '%s' '1700000000:alice' | openssl dgst -sha1 -hmac 'north' -binary | base64
        assert_eq!(
            turn_credential("north", "1700000000:alice"),
            "Cd/49soE35ICqcJF/bCTn8Z4OyE="
        );
        // RFC 2202, test case 2: HMAC-SHA1("Jefe", "what do ya want for nothing?").
        assert_eq!(
            turn_credential("Jefe", "what do ya want for nothing?"),
            "7/zfauXrL6LSdBbV8YTfnCWafHk="
        );
    }

    #[test]
    fn a_jitsi_link_names_the_room_and_the_person() {
        let id = Uuid::parse_str("01a2160d-5eba-701f-a377-6beb0b64046a").unwrap();
        // printf '01a2160d5eba701fa3776beb0b64046a' | xxd -r -p \
        //   | openssl dgst -sha256 -hmac 'north' -r | cut -c1-32
        let room = "Kontor-11aa57176fd5dc2ae056957b353b7645";
        assert_eq!(
            jitsi_link("https://meet.example.org/", "north", id, "Li Na 李娜"),
            format!(
                "https://meet.example.org/{room}\
                 #config.prejoinConfig.enabled=false&userInfo.displayName=%22Li%20Na%20%E6%9D%8E%E5%A8%9C%22"
            )
        );
        assert!(!room.contains("01a2160d"), "the id is not in the name");
        assert_ne!(
            jitsi_room("south", id),
            room,
            "another secret, another room"
        );
    }

    #[test]
    fn stamping_sets_the_sender_and_drops_unknown_kinds() {
        let me = Uuid::nil();
        let user = Uuid::max();
        let peer = Peer {
            room: Uuid::nil(),
            user,
            role: "participant",
        };
        let to = Uuid::now_v7();
        let (out, addressee) = stamp(
            &format!(
                r#"{{"type":"offer","to":"{to}","from":"someone-else","user":"x","role":"organiser","sdp":"v=0"}}"#
            ),
            me,
            peer,
        )
        .unwrap();
        assert_eq!(addressee, Some(to));
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["from"], me.to_string());
        assert_eq!(v["user"], user.to_string());
        assert_eq!(v["role"], "participant");
        assert_eq!(v["sdp"], "v=0");
        assert!(stamp(r#"{"type":"welcome"}"#, me, peer).is_none());
        assert!(stamp("not json", me, peer).is_none());
        // Offers, answers and candidates need an addressee; hello and bye go to everyone.
        assert!(stamp(r#"{"type":"candidate","candidate":{}}"#, me, peer).is_none());
        assert!(stamp(r#"{"type":"answer","to":"everyone"}"#, me, peer).is_none());
        let (_, to) = stamp(&format!(r#"{{"type":"hello","to":"{to}"}}"#), me, peer).unwrap();
        assert_eq!(to, None);
    }
}
