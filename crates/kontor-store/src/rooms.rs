//! The signalling hub of video rooms: a message one peer sends reaches every other peer
//! connected to the same room, on this instance or (PostgreSQL) on any other.
//!
//! - Each room with peers on this instance has its own broadcast channel (created by the first
//!   peer's [`SignalHub::subscribe`], removed with the last one's [`RoomInbox`]): a message wakes
//!   only its room's sockets, and a busy slot boundary cannot make one call lag behind another.
//! - SQLite (one instance): messages go straight to the room's channel.
//! - PostgreSQL: the message is stored in `room_signals` and its id sent with
//!   `NOTIFY kontor_room_signals` (an SDP may exceed NOTIFY's 8000-byte payload; the payload
//!   names the row, the room and the addressee). Every instance LISTENs and, if it has peers in
//!   that room, reads the row and passes it to the room's channel. Rows older than a minute are
//!   deleted.
//!
//! Delivery is best effort, as WebRTC signalling may be: a peer that misses a message (the
//! listener reconnected) recovers by rejoining, which the browser does on its own. A listener
//! whose connection fails is replaced by a new one (with backoff), never read again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::postgres::{PgListener, PgPool};
use tokio::sync::broadcast;
use uuid::Uuid;

use kontor_domain::Keyed;

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

/// Messages a room's channel holds for a slow socket (a call needs a few dozen).
const ROOM_CAPACITY: usize = 256;

/// A room with peers on this instance: its channel and each person's open sockets.
struct LocalRoom {
    tx: broadcast::Sender<Arc<Signal>>,
    sockets: HashMap<Uuid, usize>,
}

/// The rooms that have peers on this instance.
type Rooms = Arc<Mutex<HashMap<Uuid, LocalRoom>>>;

/// Passes `signal` to its room's peers on this instance, if there are any.
fn deliver(rooms: &Rooms, signal: Arc<Signal>) {
    let rooms = rooms.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(local) = rooms.get(&signal.room) {
        let _ = local.tx.send(signal);
    }
}

fn has_peers(rooms: &Rooms, room: Uuid) -> bool {
    rooms
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .contains_key(&room)
}

/// One peer's subscription to its room's messages; dropping the room's last one removes the
/// room's channel.
pub struct RoomInbox {
    room: Uuid,
    user: Uuid,
    rx: broadcast::Receiver<Arc<Signal>>,
    rooms: Rooms,
}

impl RoomInbox {
    /// The room's next message (the peer's own included; the caller filters).
    pub async fn recv(&mut self) -> std::result::Result<Arc<Signal>, broadcast::error::RecvError> {
        self.rx.recv().await
    }
}

impl Drop for RoomInbox {
    fn drop(&mut self) {
        let mut rooms = self.rooms.lock().unwrap_or_else(|e| e.into_inner());
        let Some(local) = rooms.get_mut(&self.room) else {
            return;
        };
        if let Some(n) = local.sockets.get_mut(&self.user) {
            *n -= 1;
            if *n == 0 {
                local.sockets.remove(&self.user);
            }
        }
        // `self.rx` still counts: the room is empty when it is the only receiver.
        if local.tx.receiver_count() <= 1 {
            rooms.remove(&self.room);
        }
    }
}

/// Cheap to clone; all clones share the rooms' channels.
#[derive(Clone)]
pub struct SignalHub {
    rooms: Rooms,
    postgres: Option<PgPool>,
    /// Dropped with the last clone, which ends the PostgreSQL listener task.
    _alive: Arc<tokio::sync::oneshot::Sender<()>>,
}

impl SignalHub {
    /// Starts the hub for this store; on PostgreSQL it is listening when this returns.
    pub async fn start(store: &Store) -> Result<SignalHub> {
        let rooms = Rooms::default();
        let (alive, dropped) = tokio::sync::oneshot::channel();
        let postgres = match &store.pool {
            Pool::Sqlite { .. } => None,
            Pool::Postgres(pool) => {
                let mut listener = PgListener::connect_with(pool).await?;
                listener.listen(CHANNEL).await?;
                tokio::spawn(relay(listener, pool.clone(), rooms.clone(), dropped));
                Some(pool.clone())
            }
        };
        Ok(SignalHub {
            rooms,
            postgres,
            _alive: Arc::new(alive),
        })
    }

    /// The room's messages from now on, for a socket of `user`; `None` when `user` already
    /// has `max_sockets` sockets in the room on this instance (a call needs one; a reload
    /// briefly two).
    pub fn join(&self, room: Uuid, user: Uuid, max_sockets: usize) -> Option<RoomInbox> {
        let mut rooms = self.rooms.lock().unwrap_or_else(|e| e.into_inner());
        let local = rooms.entry(room).or_insert_with(|| LocalRoom {
            tx: broadcast::channel(ROOM_CAPACITY).0,
            sockets: HashMap::new(),
        });
        let n = local.sockets.entry(user).or_default();
        if *n >= max_sockets {
            // A room created just now for this refusal has no receiver: take it away again.
            if local.tx.receiver_count() == 0 {
                rooms.remove(&room);
            }
            return None;
        }
        *n += 1;
        let rx = local.tx.subscribe();
        Some(RoomInbox {
            room,
            user,
            rx,
            rooms: self.rooms.clone(),
        })
    }

    /// How many rooms have peers on this instance.
    pub fn rooms_with_peers(&self) -> usize {
        self.rooms.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Sends a message to every peer of its room (the sender filters itself out).
    pub async fn publish(&self, signal: Signal) -> Result<()> {
        match &self.postgres {
            None => {
                deliver(&self.rooms, Arc::new(signal));
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
    rooms: Rooms,
    mut dropped: tokio::sync::oneshot::Receiver<()>,
) {
    let mut sweep = tokio::time::interval(Duration::from_secs(60));
    loop {
        tokio::select! {
            _ = &mut dropped => return,
            n = listener.recv() => match n {
                Ok(n) => {
                    let Some((id, room, to)) = parse_payload(n.payload()) else { continue };
                    if !has_peers(&rooms, room) {
                        continue; // nobody of that room here: the row is not even read
                    }
                    let row: Result<Option<(Uuid, Uuid, String)>, sqlx::Error> = sqlx::query_as(
                        "SELECT room_id, sender, body FROM room_signals WHERE id = $1",
                    )
                    .bind(id)
                    .fetch_optional(&pool)
                    .await;
                    match row {
                        Ok(Some((room, from, body))) => {
                            deliver(&rooms, Arc::new(Signal { room, from, to, body }));
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

impl kontor_domain::Keyed for VideoProvider {
    const ALL: &'static [VideoProvider] = &[VideoProvider::Builtin, VideoProvider::Jitsi];
    fn key(self) -> &'static str {
        match self {
            VideoProvider::Builtin => "builtin",
            VideoProvider::Jitsi => "jitsi",
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
            Some((key,)) => crate::from_key("event_video.provider", &key),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_room_hears_only_its_own_messages_and_is_gone_with_its_last_peer() {
        let store = Store::connect("sqlite::memory:").await.unwrap();
        let hub = SignalHub::start(&store).await.unwrap();
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let user = Uuid::now_v7();
        let mut one = hub.join(a, user, 2).unwrap();
        let mut two = hub.join(a, Uuid::now_v7(), 2).unwrap();
        let mut other = hub.join(b, user, 2).unwrap();
        assert_eq!(hub.rooms_with_peers(), 2);
        let signal = |room| Signal {
            room,
            from: Uuid::nil(),
            to: None,
            body: "{}".into(),
        };
        hub.publish(signal(a)).await.unwrap();
        assert_eq!(one.recv().await.unwrap().room, a);
        assert_eq!(two.recv().await.unwrap().room, a);
        assert!(
            other.rx.try_recv().is_err(),
            "another room's channel stays quiet"
        );
        drop(one);
        assert_eq!(hub.rooms_with_peers(), 2, "room a still has a peer");
        drop(two);
        assert_eq!(hub.rooms_with_peers(), 1, "room a is gone");
        hub.publish(signal(a)).await.unwrap(); // nobody there: no error
        hub.publish(signal(b)).await.unwrap();
        assert_eq!(other.recv().await.unwrap().room, b);
    }

    #[tokio::test]
    async fn a_person_has_at_most_so_many_sockets_in_a_room() {
        let store = Store::connect("sqlite::memory:").await.unwrap();
        let hub = SignalHub::start(&store).await.unwrap();
        let (room, anna, li) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let first = hub.join(room, anna, 2).unwrap();
        let second = hub.join(room, anna, 2).unwrap();
        assert!(
            hub.join(room, anna, 2).is_none(),
            "a third socket is refused"
        );
        assert!(hub.join(room, li, 2).is_some(), "others are not counted");
        assert!(
            hub.join(Uuid::now_v7(), anna, 2).is_some(),
            "nor other rooms"
        );
        assert_eq!(
            hub.rooms_with_peers(),
            1,
            "a refusal leaves no empty room behind"
        );
        drop(first);
        let third = hub.join(room, anna, 2);
        assert!(third.is_some(), "a closed socket frees its place");
        drop((second, third));
        assert_eq!(hub.rooms_with_peers(), 0);
    }

    #[test]
    fn notification_payloads_name_message_room_and_addressee() {
        let (id, room, to) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        assert_eq!(
            parse_payload(&format!("{id} {room} {to}")),
            Some((id, room, Some(to)))
        );
        assert_eq!(
            parse_payload(&format!("{id} {room} -")),
            Some((id, room, None))
        );
        assert_eq!(parse_payload(&id.to_string()), None);
    }
}
