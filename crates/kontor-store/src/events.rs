//! Events, their matchmaking sessions and organisers, and the registrations of participants.

use jiff::civil::Date;
use kontor_domain::{
    EventFormat, EventKind, Keyed, LocalizedText, MatchmakingSession, ParticipantRole,
    RegistrationStatus, SchedulingMode, Slug, TimeZoneName,
};

use crate::{
    Result, Store, StoreError, Tx, Uuid, exec, from_json, from_key, new_id, read, to_json, write,
};

#[derive(Debug, Clone)]
pub struct Event {
    pub id: Uuid,
    pub slug: Slug,
    pub kind: EventKind,
    pub format: EventFormat,
    pub title: LocalizedText,
    pub description: LocalizedText,
    pub venue: Option<String>,
    pub time_zone: TimeZoneName,
    pub starts_on: Date,
    pub ends_on: Date,
    pub registration_opens_at: i64,
    pub registration_closes_at: i64,
    pub needs_approval: bool,
    pub roles: Vec<ParticipantRole>,
    pub published: bool,
    pub created_by: Uuid,
    pub created_at: i64,
    pub rules: MatchmakingRules,
}

/// The organiser's rules for meetings at an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchmakingRules {
    pub scheduling: SchedulingMode,
    /// Meeting requests one participant may send; `None`: no limit.
    pub max_requests: Option<i32>,
    /// Meetings one participant may have; `None`: no limit.
    pub max_meetings: Option<i32>,
    /// Pairs of roles (requester, requested) that may meet; `None`: everyone may meet everyone.
    pub allowed_pairs: Option<Vec<(ParticipantRole, ParticipantRole)>>,
}

impl Default for MatchmakingRules {
    fn default() -> Self {
        MatchmakingRules {
            scheduling: SchedulingMode::SelfBooking,
            max_requests: None,
            max_meetings: None,
            allowed_pairs: None,
        }
    }
}

impl MatchmakingRules {
    pub fn allows(&self, from: ParticipantRole, to: ParticipantRole) -> bool {
        self.allowed_pairs
            .as_ref()
            .is_none_or(|pairs| pairs.contains(&(from, to)))
    }
}

impl Event {
    pub fn registration_open(&self, now: i64) -> bool {
        self.registration_opens_at <= now && now < self.registration_closes_at
    }
}

/// Everything an organiser sets when creating an event.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub slug: Slug,
    pub kind: EventKind,
    pub format: EventFormat,
    pub title: LocalizedText,
    pub description: LocalizedText,
    pub venue: Option<String>,
    pub time_zone: TimeZoneName,
    pub starts_on: Date,
    pub ends_on: Date,
    pub registration_opens_at: i64,
    pub registration_closes_at: i64,
    pub needs_approval: bool,
    pub roles: Vec<ParticipantRole>,
    pub sessions: Vec<MatchmakingSession>,
    pub rules: MatchmakingRules,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    slug: String,
    kind: String,
    format: String,
    title: String,
    description: String,
    venue: Option<String>,
    time_zone: String,
    starts_on: String,
    ends_on: String,
    registration_opens_at: i64,
    registration_closes_at: i64,
    needs_approval: bool,
    roles: String,
    published: bool,
    created_by: Uuid,
    created_at: i64,
    scheduling: String,
    max_requests: Option<i32>,
    max_meetings: Option<i32>,
    allowed_pairs: Option<String>,
}

const COLUMNS: &str = "id, slug, kind, format, title, description, venue, time_zone, starts_on, \
    ends_on, registration_opens_at, registration_closes_at, needs_approval, roles, published, \
    created_by, created_at, scheduling, max_requests, max_meetings, allowed_pairs";

fn corrupt(column: &str) -> StoreError {
    StoreError::Corrupt(format!("events.{column}"))
}

impl TryFrom<Row> for Event {
    type Error = StoreError;
    fn try_from(r: Row) -> Result<Event> {
        Ok(Event {
            id: r.id,
            slug: Slug::parse(&r.slug).map_err(|_| corrupt("slug"))?,
            kind: from_key("events.kind", &r.kind)?,
            format: from_key("events.format", &r.format)?,
            title: from_json("events.title", &r.title)?,
            description: from_json("events.description", &r.description)?,
            venue: r.venue,
            time_zone: TimeZoneName::parse(&r.time_zone).map_err(|_| corrupt("time_zone"))?,
            starts_on: r.starts_on.parse().map_err(|_| corrupt("starts_on"))?,
            ends_on: r.ends_on.parse().map_err(|_| corrupt("ends_on"))?,
            registration_opens_at: r.registration_opens_at,
            registration_closes_at: r.registration_closes_at,
            needs_approval: r.needs_approval,
            roles: from_json("events.roles", &r.roles)?,
            published: r.published,
            created_by: r.created_by,
            created_at: r.created_at,
            rules: MatchmakingRules {
                scheduling: from_key("events.scheduling", &r.scheduling)?,
                max_requests: r.max_requests,
                max_meetings: r.max_meetings,
                allowed_pairs: r
                    .allowed_pairs
                    .as_deref()
                    .map(|p| from_json("events.allowed_pairs", p))
                    .transpose()?,
            },
        })
    }
}

#[derive(Debug, Clone)]
pub struct Registration {
    pub id: Uuid,
    pub event_id: Uuid,
    pub user_id: Uuid,
    pub role: ParticipantRole,
    pub status: RegistrationStatus,
    pub message: Option<String>,
    pub created_at: i64,
    pub decided_at: Option<i64>,
}

/// A registration as the organiser's participant list shows it.
#[derive(Debug, Clone)]
pub struct Participant {
    pub registration: Registration,
    pub name: String,
    pub email: String,
    pub organisation: Option<String>,
    pub country: Option<String>,
}

#[derive(sqlx::FromRow)]
struct RegistrationRow {
    id: Uuid,
    event_id: Uuid,
    user_id: Uuid,
    role: String,
    status: String,
    message: Option<String>,
    created_at: i64,
    decided_at: Option<i64>,
}

impl TryFrom<RegistrationRow> for Registration {
    type Error = StoreError;
    fn try_from(r: RegistrationRow) -> Result<Registration> {
        Ok(Registration {
            id: r.id,
            event_id: r.event_id,
            user_id: r.user_id,
            role: from_key("registrations.role", &r.role)?,
            status: from_key("registrations.status", &r.status)?,
            message: r.message,
            created_at: r.created_at,
            decided_at: r.decided_at,
        })
    }
}

#[derive(sqlx::FromRow)]
struct ParticipantRow {
    #[sqlx(flatten)]
    registration: RegistrationRow,
    name: String,
    email: String,
    organisation: Option<String>,
    country: Option<String>,
}

const REGISTRATION_COLUMNS: &str =
    "r.id, r.event_id, r.user_id, r.role, r.status, r.message, r.created_at, r.decided_at";

#[derive(sqlx::FromRow)]
struct SessionRow {
    day: String,
    starts: String,
    ends: String,
    slot_minutes: i32,
    breaks: String,
}

impl Store {
    pub async fn event(&self, id: Uuid) -> Result<Event> {
        let sql = format!("SELECT {COLUMNS} FROM events WHERE id = $1");
        let row: Row = read!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(id)
            .fetch_one(p))?;
        row.try_into()
    }

    pub async fn event_by_slug(&self, slug: &str) -> Result<Event> {
        let sql = format!("SELECT {COLUMNS} FROM events WHERE slug = $1");
        let row: Row = read!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(slug)
            .fetch_one(p))?;
        row.try_into()
    }

    /// Published events that have not ended before `today`, soonest first.
    pub async fn upcoming_events(&self, today: Date) -> Result<Vec<Event>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM events WHERE published AND ends_on >= $1 ORDER BY starts_on, slug"
        );
        let rows: Vec<Row> = read!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(today.to_string())
            .fetch_all(p))?;
        rows.into_iter().map(Event::try_from).collect()
    }

    /// Published events that have not ended at `now` in their own time zones, soonest first: a
    /// Shanghai event leaves the list at midnight in Shanghai, not in Berlin.
    pub async fn events_not_ended(&self, now: jiff::Timestamp) -> Result<Vec<Event>> {
        // No zone is a day ahead of UTC, so the day before UTC's date finds every candidate.
        let utc = now.to_zoned_datetime(jiff::tz::TimeZone::UTC).date();
        let mut events = self.upcoming_events(utc.yesterday().unwrap_or(utc)).await?;
        events.retain(|e| e.ends_on >= now.to_zoned_datetime(e.time_zone.tz()).date());
        Ok(events)
    }

    /// Published events that have ended at `now` in their own time zones, the latest first (at
    /// most `limit`): the archive.
    pub async fn past_events(&self, now: jiff::Timestamp, limit: i64) -> Result<Vec<Event>> {
        // No zone's date is more than a day ahead of UTC's: an event that ended somewhere ended
        // before UTC's tomorrow.
        let utc = now.to_zoned_datetime(jiff::tz::TimeZone::UTC).date();
        let sql = format!(
            "SELECT {COLUMNS} FROM events WHERE published AND ends_on <= $1 \
             ORDER BY starts_on DESC, slug LIMIT $2"
        );
        let rows: Vec<Row> = read!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(utc.tomorrow().unwrap_or(utc).to_string())
            .bind(limit)
            .fetch_all(p))?;
        let mut events: Vec<Event> = rows
            .into_iter()
            .map(Event::try_from)
            .collect::<Result<_>>()?;
        events.retain(|e| e.ends_on < now.to_zoned_datetime(e.time_zone.tz()).date());
        Ok(events)
    }

    /// Events that `user` organises (all events for administrators).
    pub async fn organised_events(&self, user: Uuid, is_admin: bool) -> Result<Vec<Event>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM events WHERE $2 OR id IN \
             (SELECT event_id FROM event_organisers WHERE user_id = $1) ORDER BY starts_on DESC"
        );
        let rows: Vec<Row> = read!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(user)
            .bind(is_admin)
            .fetch_all(p))?;
        rows.into_iter().map(Event::try_from).collect()
    }

    pub async fn event_sessions(&self, event: Uuid) -> Result<Vec<MatchmakingSession>> {
        let rows: Vec<SessionRow> =
            read!(self, |p| sqlx::query_as(SESSIONS).bind(event).fetch_all(p))?;
        parse_sessions(rows)
    }

    /// Names and addresses of an event's organisers.
    /// The organisers of an event: id, name and e-mail, by name.
    pub async fn organisers(&self, event: Uuid) -> Result<Vec<(Uuid, String, String)>> {
        read!(self, |p| sqlx::query_as(
            "SELECT u.id, u.name, u.email FROM event_organisers o JOIN users u ON u.id = o.user_id \
             WHERE o.event_id = $1 ORDER BY u.name"
        )
        .bind(event)
        .fetch_all(p))
        .map_err(Into::into)
    }

    pub async fn is_organiser(&self, event: Uuid, user: Uuid) -> Result<bool> {
        let (n,): (i64,) = read!(self, |p| sqlx::query_as(
            "SELECT COUNT(*) FROM event_organisers WHERE event_id = $1 AND user_id = $2"
        )
        .bind(event)
        .bind(user)
        .fetch_one(p))?;
        Ok(n > 0)
    }

    pub async fn registration(&self, event: Uuid, user: Uuid) -> Result<Option<Registration>> {
        let sql = format!(
            "SELECT {REGISTRATION_COLUMNS} FROM registrations r WHERE r.event_id = $1 AND r.user_id = $2"
        );
        let row: Option<RegistrationRow> =
            read!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(event)
                .bind(user)
                .fetch_optional(p))?;
        row.map(Registration::try_from).transpose()
    }

    /// One registration of one event.
    pub async fn registration_by_id(&self, event: Uuid, id: Uuid) -> Result<Registration> {
        let sql = format!(
            "SELECT {REGISTRATION_COLUMNS} FROM registrations r WHERE r.event_id = $1 AND r.id = $2"
        );
        let row: RegistrationRow =
            read!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(event)
                .bind(id)
                .fetch_one(p))?;
        row.try_into()
    }

    /// Ids of the events a person is a confirmed participant of.
    pub async fn approved_event_ids(&self, user: Uuid) -> Result<Vec<Uuid>> {
        let rows: Vec<(Uuid,)> = read!(self, |p| sqlx::query_as(
            "SELECT event_id FROM registrations WHERE user_id = $1 AND status = 'approved'"
        )
        .bind(user)
        .fetch_all(p))?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    /// A person's registrations with their events, newest event first.
    pub async fn registrations_of_user(&self, user: Uuid) -> Result<Vec<(Registration, Event)>> {
        let sql =
            format!("SELECT {REGISTRATION_COLUMNS} FROM registrations r WHERE r.user_id = $1");
        let rows: Vec<RegistrationRow> =
            read!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(user)
                .fetch_all(p))?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let registration = Registration::try_from(row)?;
            let event = self.event(registration.event_id).await?;
            out.push((registration, event));
        }
        out.sort_by_key(|b| std::cmp::Reverse(b.1.starts_on));
        Ok(out)
    }

    /// The organiser's participant list, optionally only one status.
    pub async fn participants(
        &self,
        event: Uuid,
        status: Option<RegistrationStatus>,
    ) -> Result<Vec<Participant>> {
        let sql = format!(
            "SELECT {REGISTRATION_COLUMNS}, u.name, u.email, o.name AS organisation, o.country \
             FROM registrations r JOIN users u ON u.id = r.user_id \
             LEFT JOIN organisations o ON o.id = u.organisation_id \
             WHERE r.event_id = $1 AND ($2 IS NULL OR r.status = $2) ORDER BY r.created_at"
        );
        let rows: Vec<ParticipantRow> =
            read!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(event)
                .bind(status.map(Keyed::key))
                .fetch_all(p))?;
        rows.into_iter()
            .map(|r| {
                Ok(Participant {
                    registration: r.registration.try_into()?,
                    name: r.name,
                    email: r.email,
                    organisation: r.organisation,
                    country: r.country,
                })
            })
            .collect()
    }

    /// Registrations per status for one event.
    pub async fn registration_counts(&self, event: Uuid) -> Result<Vec<(RegistrationStatus, i64)>> {
        let rows: Vec<(String, i64)> = read!(self, |p| sqlx::query_as(
            "SELECT status, COUNT(*) FROM registrations WHERE event_id = $1 GROUP BY status"
        )
        .bind(event)
        .fetch_all(p))?;
        rows.into_iter()
            .map(|(s, n)| Ok((from_key("registrations.status", &s)?, n)))
            .collect()
    }
}

/// How [`Tx::lock_event`] locks the event row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventLock {
    /// Writers of requests and meetings (bookings, cancellations, withdrawals): they may run
    /// side by side.
    Share,
    /// Publishing a schedule: alone, so that its version check and its bookings see every
    /// other writer's committed work and nothing else lands in between.
    Exclusive,
}

/// The event as it stands under its lock, with its slots.
pub struct LockedEvent {
    pub event: Event,
    pub slots: Vec<(i64, i64)>,
}

/// An event's sessions in their order (rows for [`parse_sessions`]).
const SESSIONS: &str = "SELECT day, starts, ends, slot_minutes, breaks FROM event_sessions \
     WHERE event_id = $1 ORDER BY position";

fn parse_sessions(rows: Vec<SessionRow>) -> Result<Vec<MatchmakingSession>> {
    rows.into_iter()
        .map(|r| {
            let breaks: Vec<(String, String)> = from_json("event_sessions.breaks", &r.breaks)?;
            MatchmakingSession::parse(&r.day, &r.starts, &r.ends, r.slot_minutes, &breaks)
                .map_err(|e| StoreError::Corrupt(format!("event_sessions: {e}")))
        })
        .collect()
}

impl Tx {
    /// The event and its slots as (start, end) in microseconds, read under a lock on the event
    /// row (PostgreSQL; SQLite has one writer). Every transaction that writes an event's
    /// meeting requests or meetings takes it first, [`EventLock::Share`] or, to publish a
    /// schedule, [`EventLock::Exclusive`]; [`Tx::update_event`] takes the exclusive lock by
    /// writing the row. So what a writer checks here (slots, rules, format) holds at its
    /// commit, and the event row is the first lock of all of them: no deadlock among them.
    pub async fn lock_event(&mut self, event: Uuid, lock: EventLock) -> Result<LockedEvent> {
        let clause = match (&self.inner, lock) {
            (crate::TxInner::Sqlite(_), _) => "",
            (crate::TxInner::Postgres(_), EventLock::Share) => " FOR SHARE",
            // Not FOR UPDATE: inserting rows that refer to the event (key share) may go on.
            (crate::TxInner::Postgres(_), EventLock::Exclusive) => " FOR NO KEY UPDATE",
        };
        let sql = format!("SELECT {COLUMNS} FROM events WHERE id = $1{clause}");
        let row: Option<Row> = write!(self, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(event)
            .fetch_optional(c))?;
        let event: Event = row.ok_or(StoreError::NotFound)?.try_into()?;
        let rows: Vec<SessionRow> = write!(self, |c| sqlx::query_as(SESSIONS)
            .bind(event.id)
            .fetch_all(c))?;
        let slots = parse_sessions(rows)?
            .iter()
            .flat_map(|s| s.slots(&event.time_zone))
            .map(|s| (s.start.as_microsecond(), s.end.as_microsecond()))
            .collect();
        Ok(LockedEvent { event, slots })
    }

    /// Creates an event with its sessions, `organiser` as its first organiser.
    pub async fn create_event(&mut self, e: &NewEvent, organiser: Uuid, now: i64) -> Result<Uuid> {
        let id = new_id();
        exec!(self, |c| {
            sqlx::query(
            "INSERT INTO events (id, slug, kind, format, title, description, venue, time_zone, \
             starts_on, ends_on, registration_opens_at, registration_closes_at, needs_approval, \
             roles, published, created_by, created_at, scheduling, max_requests, max_meetings, allowed_pairs) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, TRUE, $15, $16, $17, $18, $19, $20)"
        )
        .bind(id)
        .bind(e.slug.as_str())
        .bind(e.kind.key())
        .bind(e.format.key())
        .bind(to_json(&e.title))
        .bind(to_json(&e.description))
        .bind(&e.venue)
        .bind(e.time_zone.as_str())
        .bind(e.starts_on.to_string())
        .bind(e.ends_on.to_string())
        .bind(e.registration_opens_at)
        .bind(e.registration_closes_at)
        .bind(e.needs_approval)
        .bind(to_json(&e.roles))
        .bind(organiser)
        .bind(now)
        .bind(e.rules.scheduling.key())
        .bind(e.rules.max_requests)
        .bind(e.rules.max_meetings)
        .bind(e.rules.allowed_pairs.as_ref().map(to_json))
        .execute(c)
        })?;
        self.insert_sessions(id, &e.sessions).await?;
        self.add_organiser(id, organiser).await?;
        Ok(id)
    }

    /// Changes everything of an event but its address (slug), creator and publication; its
    /// sessions are replaced. The event row is written first (its lock orders this against
    /// every writer of meetings, see [`Tx::lock_event`]); the caller then checks, in the same
    /// transaction, that no booked meeting loses its slot.
    pub async fn update_event(&mut self, id: Uuid, e: &NewEvent) -> Result<()> {
        let n = exec!(self, |c| {
            sqlx::query(
            "UPDATE events SET kind = $2, format = $3, title = $4, description = $5, venue = $6, \
             time_zone = $7, starts_on = $8, ends_on = $9, registration_opens_at = $10, \
             registration_closes_at = $11, needs_approval = $12, roles = $13, scheduling = $14, \
             max_requests = $15, max_meetings = $16, allowed_pairs = $17 WHERE id = $1"
        )
        .bind(id)
        .bind(e.kind.key())
        .bind(e.format.key())
        .bind(to_json(&e.title))
        .bind(to_json(&e.description))
        .bind(&e.venue)
        .bind(e.time_zone.as_str())
        .bind(e.starts_on.to_string())
        .bind(e.ends_on.to_string())
        .bind(e.registration_opens_at)
        .bind(e.registration_closes_at)
        .bind(e.needs_approval)
        .bind(to_json(&e.roles))
        .bind(e.rules.scheduling.key())
        .bind(e.rules.max_requests)
        .bind(e.rules.max_meetings)
        .bind(e.rules.allowed_pairs.as_ref().map(to_json))
        .execute(c)
        })?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        exec!(self, |c| sqlx::query(
            "DELETE FROM event_sessions WHERE event_id = $1"
        )
        .bind(id)
        .execute(c))?;
        self.insert_sessions(id, &e.sessions).await?;
        // Availability is kept per slot start: rows of slots that no longer exist go, or the
        // remaining choices would read as "never free" where none match a slot.
        let starts: Vec<i64> = e
            .sessions
            .iter()
            .flat_map(|s| s.slots(&e.time_zone))
            .map(|s| s.start.as_microsecond())
            .collect();
        let sql = if starts.is_empty() {
            "DELETE FROM availability WHERE event_id = $1".to_string()
        } else {
            format!(
                "DELETE FROM availability WHERE event_id = $1 AND slot_start NOT IN ({})",
                crate::placeholders(2, starts.len())
            )
        };
        exec!(self, |c| {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.as_str())).bind(id);
            for start in &starts {
                q = q.bind(start);
            }
            q.execute(c)
        })?;
        Ok(())
    }

    async fn insert_sessions(
        &mut self,
        event: Uuid,
        sessions: &[MatchmakingSession],
    ) -> Result<()> {
        for (position, s) in sessions.iter().enumerate() {
            let breaks: Vec<(String, String)> = s
                .breaks
                .iter()
                .map(|(a, b)| {
                    (
                        a.strftime("%H:%M").to_string(),
                        b.strftime("%H:%M").to_string(),
                    )
                })
                .collect();
            exec!(self, |c| {
                sqlx::query(
                "INSERT INTO event_sessions (id, event_id, position, day, starts, ends, slot_minutes, breaks) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
            )
            .bind(new_id())
            .bind(event)
            .bind(position as i32)
            .bind(s.day.to_string())
            .bind(s.start.strftime("%H:%M").to_string())
            .bind(s.end.strftime("%H:%M").to_string())
            .bind(s.slot_minutes)
            .bind(to_json(&breaks))
            .execute(c)
            })?;
        }
        Ok(())
    }

    pub async fn add_organiser(&mut self, event: Uuid, user: Uuid) -> Result<()> {
        exec!(self, |c| {
            sqlx::query(
            "INSERT INTO event_organisers (event_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING"
        )
        .bind(event)
        .bind(user)
        .execute(c)
        })?;
        Ok(())
    }

    /// Takes `user` off the organisers of `event`, unless they are its last one: an event always
    /// has someone to decide its registrations. `NotFound` when they were no organiser,
    /// `Conflict` for the last one.
    pub async fn remove_organiser(&mut self, event: Uuid, user: Uuid) -> Result<()> {
        let (n,): (i64,) = write!(self, |c| {
            sqlx::query_as("SELECT COUNT(*) FROM event_organisers WHERE event_id = $1")
                .bind(event)
                .fetch_one(c)
        })?;
        if n <= 1 {
            return Err(StoreError::Conflict("the last organiser".into()));
        }
        let gone = exec!(self, |c| {
            sqlx::query("DELETE FROM event_organisers WHERE event_id = $1 AND user_id = $2")
                .bind(event)
                .bind(user)
                .execute(c)
        })?;
        if gone == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Registers `user`; a second registration for the same event is a `Conflict`, except that a
    /// cancelled one may be renewed.
    pub async fn register(
        &mut self,
        event: Uuid,
        user: Uuid,
        role: ParticipantRole,
        status: RegistrationStatus,
        message: Option<&str>,
        now: i64,
    ) -> Result<Uuid> {
        let renewed: Option<(Uuid,)> = write!(self, |c| sqlx::query_as(
            "UPDATE registrations SET role = $3, status = $4, message = $5, created_at = $6, \
             decided_at = NULL, decided_by = NULL \
             WHERE event_id = $1 AND user_id = $2 AND status = 'cancelled' RETURNING id"
        )
        .bind(event)
        .bind(user)
        .bind(role.key())
        .bind(status.key())
        .bind(message)
        .bind(now)
        .fetch_optional(c))?;
        if let Some((id,)) = renewed {
            return Ok(id);
        }
        let id = new_id();
        exec!(self, |c| sqlx::query(
            "INSERT INTO registrations (id, event_id, user_id, role, status, message, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)"
        )
        .bind(id)
        .bind(event)
        .bind(user)
        .bind(role.key())
        .bind(status.key())
        .bind(message)
        .bind(now)
        .execute(c))?;
        Ok(id)
    }

    /// The participant withdraws: a pending or approved registration becomes cancelled (and may
    /// be renewed later). False when there was none to withdraw.
    pub async fn withdraw_registration(
        &mut self,
        event: Uuid,
        user: Uuid,
        now: i64,
    ) -> Result<bool> {
        let n = exec!(self, |c| sqlx::query(
            "UPDATE registrations SET status = 'cancelled', decided_at = $3, decided_by = $2 \
             WHERE event_id = $1 AND user_id = $2 AND status IN ('pending', 'approved')"
        )
        .bind(event)
        .bind(user)
        .bind(now)
        .execute(c))?;
        Ok(n > 0)
    }

    /// Sets a registration's status and returns it as it is now; `NotFound` if it does not belong
    /// to `event`, has that status already, or was withdrawn by the participant (only they can
    /// renew it, by registering again).
    pub async fn decide_registration(
        &mut self,
        event: Uuid,
        registration: Uuid,
        status: RegistrationStatus,
        by: Uuid,
        now: i64,
    ) -> Result<Registration> {
        let row: Option<RegistrationRow> = write!(self, |c| sqlx::query_as(
            "UPDATE registrations SET status = $3, decided_at = $5, decided_by = $4 \
             WHERE id = $1 AND event_id = $2 AND status <> $3 AND status <> 'cancelled' \
             RETURNING id, event_id, user_id, role, status, message, created_at, decided_at"
        )
        .bind(registration)
        .bind(event)
        .bind(status.key())
        .bind(by)
        .bind(now)
        .fetch_optional(c))?;
        row.ok_or(StoreError::NotFound)?.try_into()
    }
}
