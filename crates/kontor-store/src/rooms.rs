//! The signalling hub of video rooms: a message one peer sends reaches every other peer
//! connected to the same room, on this instance or (PostgreSQL) on any other.
//!
//! - SQLite (one instance): an in-process broadcast channel.
//! - PostgreSQL: the message is stored in `room_signals` and its id sent with
//!   `NOTIFY kontor_room_signals` (an SDP may exceed NOTIFY's 8000-byte payload). Every instance
//!   LISTENs, reads the row and broadcasts it to its own connections. Rows older than a minute
//!   are deleted.
//!
//! Delivery is best effort, as WebRTC signalling may be: a peer that misses a message (the
//! listener reconnected) recovers by rejoining, which the browser does on its own. A listener
//! whose connection fails is replaced by a new one (with backoff), never read again.

use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgListener, PgPool};
use tokio::sync::broadcast;
use uuid::Uuid;

use crate::{Pool, Result, Store, new_id};

const CHANNEL: &str = "kontor_room_signals";
/// How long a stored message is kept for instances to read it.
const KEEP_MICROS: i64 = 60_000_000;

/// One signalling message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signal {
    /// The room (the meeting's id).
    pub room: Uuid,
    /// The sending connection.
    pub from: Uuid,
    /// The addressee's connection (offer, answer, candidate); `None`: every peer of the room
    /// (hello, bye).
    pub to: Option<Uuid>,
    /// The message as the browser receives it (JSON text).
    pub body: String,
}

/// Cheap to clone; all clones share one channel.
#[derive(Clone)]
pub struct SignalHub {
    local: broadcast::Sender<Arc<Signal>>,
    postgres: Option<PgPool>,
    /// Dropped with the last clone, which ends the PostgreSQL listener task.
    _alive: Arc<tokio::sync::oneshot::Sender<()>>,
}

impl SignalHub {
    /// Starts the hub for this store; on PostgreSQL it is listening when this returns.
    pub async fn start(store: &Store) -> Result<SignalHub> {
        let (local, _) = broadcast::channel(1024);
        let (alive, dropped) = tokio::sync::oneshot::channel();
        let postgres = match &store.pool {
            Pool::Sqlite { .. } => None,
            Pool::Postgres(pool) => {
                let mut listener = PgListener::connect_with(pool).await?;
                listener.listen(CHANNEL).await?;
                tokio::spawn(relay(listener, pool.clone(), local.clone(), dropped));
                Some(pool.clone())
            }
        };
        Ok(SignalHub {
            local,
            postgres,
            _alive: Arc::new(alive),
        })
    }

    /// Messages from now on, of every room; the receiver filters its room.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Signal>> {
        self.local.subscribe()
    }

    /// Sends a message to every peer of its room (the sender filters itself out).
    pub async fn publish(&self, signal: Signal) -> Result<()> {
        match &self.postgres {
            None => {
                // No receiver (nobody connected) is not an error.
                let _ = self.local.send(Arc::new(signal));
            }
            Some(pool) => {
                // The payload names the message, its room and its addressee: an instance reads
                // the row only when it has that room's peers.
                let id = new_id();
                let payload = format!(
                    "{id} {} {}",
                    signal.room,
                    signal.to.map_or_else(|| "-".to_string(), |t| t.to_string())
                );
                sqlx::query(
                    "WITH s AS (INSERT INTO room_signals (id, room_id, sender, body, created_at) \
                     VALUES ($1, $2, $3, $4, $5) RETURNING id) \
                     SELECT pg_notify('kontor_room_signals', $6) FROM s",
                )
                .bind(id)
                .bind(signal.room)
                .bind(signal.from)
                .bind(&signal.body)
                .bind(kontor_domain::now_micros())
                .bind(payload)
                .execute(pool)
                .await?;
            }
        }
        Ok(())
    }
}

/// PostgreSQL: turns notifications into local messages; sweeps old rows once a minute.
async fn relay(
    mut listener: PgListener,
    pool: PgPool,
    local: broadcast::Sender<Arc<Signal>>,
    mut dropped: tokio::sync::oneshot::Receiver<()>,
) {
    let mut sweep = tokio::time::interval(Duration::from_secs(60));
    loop {
        tokio::select! {
            _ = &mut dropped => return,
            n = listener.recv() => match n {
                Ok(n) => {
                    let Some((id, _room, to)) = parse_payload(n.payload()) else { continue };
                    let row: Result<Option<(Uuid, Uuid, String)>, sqlx::Error> = sqlx::query_as(
                        "SELECT room_id, sender, body FROM room_signals WHERE id = $1",
                    )
                    .bind(id)
                    .fetch_optional(&pool)
                    .await;
                    match row {
                        Ok(Some((room, from, body))) => {
                            let _ = local.send(Arc::new(Signal { room, from, to, body }));
                        }
                        Ok(None) => {}
                        Err(e) => tracing::warn!(error = %e, "room signal not read"),
                    }
                }
                // PgListener reconnects by itself only on some errors and otherwise keeps
                // reading a dead socket: build a new one.
                Err(e) => {
                    tracing::warn!(error = %e, "room signal listener lost; reconnecting");
                    drop(listener);
                    match reconnect(&pool, &mut dropped).await {
                        Some(l) => listener = l,
                        None => return,
                    }
                }
            },
            _ = sweep.tick() => {
                let before = kontor_domain::now_micros() - KEEP_MICROS;
                if let Err(e) = sqlx::query("DELETE FROM room_signals WHERE created_at < $1")
                    .bind(before)
                    .execute(&pool)
                    .await
                {
                    tracing::warn!(error = %e, "room signals not swept");
                }
            }
        }
    }
}

/// A new listener on [`CHANNEL`], retried after 1 s, 2 s, 4 s, … (at most 30 s) until the
/// database answers; `None` when the hub is dropped meanwhile.
async fn reconnect(
    pool: &PgPool,
    dropped: &mut tokio::sync::oneshot::Receiver<()>,
) -> Option<PgListener> {
    let mut wait = Duration::from_secs(1);
    loop {
        tokio::select! {
            _ = &mut *dropped => return None,
            _ = tokio::time::sleep(wait) => {}
        }
        let attempt = async {
            let mut listener = PgListener::connect_with(pool).await?;
            listener.listen(CHANNEL).await?;
            Ok::<_, sqlx::Error>(listener)
        };
        match attempt.await {
            Ok(l) => {
                tracing::info!("room signal listener reconnected");
                return Some(l);
            }
            Err(e) => {
                wait = (wait * 2).min(Duration::from_secs(30));
                tracing::warn!(error = %e, retry_in = ?wait, "room signal listener");
            }
        }
    }
}

/// A notification's payload: `message-id room-id addressee|-`.
fn parse_payload(payload: &str) -> Option<(Uuid, Uuid, Option<Uuid>)> {
    let mut parts = payload.split(' ');
    let id = parts.next()?.parse().ok()?;
    let room = parts.next()?.parse().ok()?;
    let to = match parts.next()? {
        "-" => None,
        t => Some(t.parse().ok()?),
    };
    Some((id, room, to))
}

/// How an event's online meetings meet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum VideoProvider {
    /// Kontor's own rooms (WebRTC, signalling through this hub).
    #[default]
    Builtin,
    /// A link to a room on the configured Jitsi Meet server.
    Jitsi,
}

impl VideoProvider {
    pub fn key(self) -> &'static str {
        match self {
            VideoProvider::Builtin => "builtin",
            VideoProvider::Jitsi => "jitsi",
        }
    }
    pub fn from_key(key: &str) -> Option<VideoProvider> {
        match key {
            "builtin" => Some(VideoProvider::Builtin),
            "jitsi" => Some(VideoProvider::Jitsi),
            _ => None,
        }
    }
}

impl Store {
    /// The event's video provider (built-in unless an organiser chose another).
    pub async fn video_provider(&self, event: Uuid) -> Result<VideoProvider> {
        let row: Option<(String,)> = crate::read!(self, |p| sqlx::query_as(
            "SELECT provider FROM event_video WHERE event_id = $1"
        )
        .bind(event)
        .fetch_optional(p))?;
        match row {
            None => Ok(VideoProvider::Builtin),
            Some((key,)) => VideoProvider::from_key(&key).ok_or_else(|| {
                crate::StoreError::Corrupt(format!("event_video.provider: unknown key {key}"))
            }),
        }
    }
}

impl crate::Tx {
    pub async fn set_video_provider(&mut self, event: Uuid, provider: VideoProvider) -> Result<()> {
        crate::exec!(self, |c| sqlx::query(
            "INSERT INTO event_video (event_id, provider) VALUES ($1, $2) \
             ON CONFLICT (event_id) DO UPDATE SET provider = excluded.provider"
        )
        .bind(event)
        .bind(provider.key())
        .execute(c))?;
        Ok(())
    }
}
