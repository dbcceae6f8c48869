//! Matchmaking: opportunities on the marketplace, meeting requests between participants of an
//! event, availability, and meetings in slots.
//!
//! Double booking is ruled out by the database itself: every scheduled meeting has one
//! `meeting_attendees` row per person and slot, whose primary key is (event, person, slot).

use kontor_domain::{
    Country, JobDetails, Keyed, LocalizedText, MeetingMode, MeetingPriority, MeetingRequestStatus,
    OpportunityKind, Sector,
};

use crate::{
    Result, Store, StoreError, Tx, TxInner, Uuid, exec, from_json, from_key, new_id, read, to_json,
    write,
};

#[derive(Debug, Clone)]
pub struct Opportunity {
    pub id: Uuid,
    pub user_id: Uuid,
    pub event_id: Option<Uuid>,
    pub kind: OpportunityKind,
    pub title: LocalizedText,
    pub description: LocalizedText,
    pub sectors: Vec<Sector>,
    pub target_countries: Vec<Country>,
    pub languages: Vec<String>,
    pub interpreter_needed: bool,
    /// A job posting's facts; `None` for every other kind.
    pub job: Option<JobDetails>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// What the owner of an opportunity sets.
#[derive(Debug, Clone)]
pub struct OpportunityFields {
    pub event_id: Option<Uuid>,
    pub kind: OpportunityKind,
    pub title: LocalizedText,
    pub description: LocalizedText,
    pub sectors: Vec<Sector>,
    pub target_countries: Vec<Country>,
    pub languages: Vec<String>,
    pub interpreter_needed: bool,
    pub job: Option<JobDetails>,
}

#[derive(sqlx::FromRow)]
struct OpportunityRow {
    id: Uuid,
    user_id: Uuid,
    event_id: Option<Uuid>,
    kind: String,
    title: String,
    description: String,
    sectors: String,
    target_countries: String,
    languages: String,
    interpreter_needed: bool,
    job: Option<String>,
    created_at: i64,
    updated_at: i64,
}

const OPPORTUNITY_COLUMNS: &str = "id, user_id, event_id, kind, title, description, sectors, \
    target_countries, languages, interpreter_needed, job, created_at, updated_at";

impl TryFrom<OpportunityRow> for Opportunity {
    type Error = StoreError;
    fn try_from(r: OpportunityRow) -> Result<Opportunity> {
        Ok(Opportunity {
            id: r.id,
            user_id: r.user_id,
            event_id: r.event_id,
            kind: from_key("opportunities.kind", &r.kind)?,
            title: from_json("opportunities.title", &r.title)?,
            description: from_json("opportunities.description", &r.description)?,
            sectors: from_json("opportunities.sectors", &r.sectors)?,
            target_countries: from_json("opportunities.target_countries", &r.target_countries)?,
            languages: from_json("opportunities.languages", &r.languages)?,
            interpreter_needed: r.interpreter_needed,
            job: r
                .job
                .as_deref()
                .map(|j| from_json("opportunities.job", j))
                .transpose()?,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeetingRequest {
    pub id: Uuid,
    pub event_id: Uuid,
    pub from_user: Uuid,
    pub to_user: Uuid,
    pub opportunity_id: Option<Uuid>,
    pub message: Option<String>,
    pub priority: MeetingPriority,
    pub status: MeetingRequestStatus,
    pub reason: Option<String>,
    pub created_at: i64,
    pub decided_at: Option<i64>,
    /// The slot start the requester proposed, if any.
    pub proposed_slot: Option<i64>,
}

impl MeetingRequest {
    /// Until when the proposed time is held for this request, while it waits for an answer.
    pub fn held_until(&self) -> Option<i64> {
        self.proposed_slot
            .filter(|_| self.status == MeetingRequestStatus::Pending)
            .map(|_| self.created_at + kontor_domain::PROPOSAL_HOLD_MICROS)
    }

    /// The other side of the request, seen from `user`.
    pub fn partner_of(&self, user: Uuid) -> Uuid {
        if self.from_user == user {
            self.to_user
        } else {
            self.from_user
        }
    }
}

#[derive(sqlx::FromRow)]
struct RequestRow {
    id: Uuid,
    event_id: Uuid,
    from_user: Uuid,
    to_user: Uuid,
    opportunity_id: Option<Uuid>,
    message: Option<String>,
    priority: String,
    status: String,
    reason: Option<String>,
    created_at: i64,
    decided_at: Option<i64>,
    proposed_slot: Option<i64>,
}

const REQUEST_COLUMNS: &str = "id, event_id, from_user, to_user, opportunity_id, message, priority, status, reason, created_at, decided_at, proposed_slot";

impl TryFrom<RequestRow> for MeetingRequest {
    type Error = StoreError;
    fn try_from(r: RequestRow) -> Result<MeetingRequest> {
        Ok(MeetingRequest {
            id: r.id,
            event_id: r.event_id,
            from_user: r.from_user,
            to_user: r.to_user,
            opportunity_id: r.opportunity_id,
            message: r.message,
            priority: from_key("meeting_requests.priority", &r.priority)?,
            status: from_key("meeting_requests.status", &r.status)?,
            reason: r.reason,
            created_at: r.created_at,
            decided_at: r.decided_at,
            proposed_slot: r.proposed_slot,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meeting {
    pub id: Uuid,
    pub event_id: Uuid,
    pub request_id: Uuid,
    pub slot_start: i64,
    pub slot_end: i64,
    pub table_no: Option<i32>,
    pub mode: MeetingMode,
    pub cancelled: bool,
    /// Raised on every change, for calendar clients (RFC 5545 SEQUENCE).
    pub sequence: i32,
    /// Kept in its slot when the organiser runs the optimiser again.
    pub pinned: bool,
    pub updated_at: i64,
}

#[derive(sqlx::FromRow)]
struct MeetingRow {
    id: Uuid,
    event_id: Uuid,
    request_id: Uuid,
    slot_start: i64,
    slot_end: i64,
    table_no: Option<i32>,
    mode: String,
    status: String,
    sequence: i32,
    pinned: bool,
    updated_at: i64,
}

const MEETING_COLUMNS: &str = "m.id, m.event_id, m.request_id, m.slot_start, m.slot_end, m.table_no, m.mode, m.status, m.sequence, m.pinned, m.updated_at";

impl TryFrom<MeetingRow> for Meeting {
    type Error = StoreError;
    fn try_from(r: MeetingRow) -> Result<Meeting> {
        Ok(Meeting {
            id: r.id,
            event_id: r.event_id,
            request_id: r.request_id,
            slot_start: r.slot_start,
            slot_end: r.slot_end,
            table_no: r.table_no,
            mode: from_key("meetings.mode", &r.mode)?,
            cancelled: r.status == "cancelled",
            sequence: r.sequence,
            pinned: r.pinned,
            updated_at: r.updated_at,
        })
    }
}

/// A new meeting request.
/// Why a request was not written although the caller's checks had passed: the state changed
/// in between.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestRefused {
    NotApproved,
    Quota,
    AlreadyOpen,
}

pub struct NewMeetingRequest<'a> {
    pub event_id: Uuid,
    pub from_user: Uuid,
    pub to_user: Uuid,
    pub opportunity_id: Option<Uuid>,
    pub message: Option<&'a str>,
    pub priority: MeetingPriority,
}

fn sql(s: &str) -> sqlx::AssertSqlSafe<&str> {
    sqlx::AssertSqlSafe(s)
}

impl Store {
    /// Meetings with their requests, one request query per meeting (for short lists; the agenda
    /// batches instead, see [`Store::meetings_of`]).
    async fn with_requests(&self, rows: Vec<MeetingRow>) -> Result<Vec<(Meeting, MeetingRequest)>> {
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let meeting = Meeting::try_from(row)?;
            let request = self.meeting_request(meeting.request_id).await?;
            out.push((meeting, request));
        }
        Ok(out)
    }

    pub async fn opportunity(&self, id: Uuid) -> Result<Opportunity> {
        let q = format!("SELECT {OPPORTUNITY_COLUMNS} FROM opportunities WHERE id = $1");
        let row: OpportunityRow = read!(self, |p| sqlx::query_as(sql(&q)).bind(id).fetch_one(p))?;
        row.try_into()
    }

    /// Several opportunities at once, by id (one query, for a page of search hits); ids that
    /// name none are left out.
    pub async fn opportunities_by_ids(
        &self,
        ids: &[Uuid],
    ) -> Result<std::collections::HashMap<Uuid, Opportunity>> {
        if ids.is_empty() {
            return Ok(Default::default());
        }
        let q = format!(
            "SELECT {OPPORTUNITY_COLUMNS} FROM opportunities WHERE id IN ({})",
            crate::placeholders(1, ids.len())
        );
        let rows: Vec<OpportunityRow> = read!(self, |p| {
            let mut query = sqlx::query_as(sql(&q));
            for id in ids {
                query = query.bind(id);
            }
            query.fetch_all(p)
        })?;
        rows.into_iter()
            .map(|r| Opportunity::try_from(r).map(|o| (o.id, o)))
            .collect()
    }

    /// Opportunities of one person, newest first.
    pub async fn opportunities_of_user(&self, user: Uuid) -> Result<Vec<Opportunity>> {
        let q = format!(
            "SELECT {OPPORTUNITY_COLUMNS} FROM opportunities WHERE user_id = $1 ORDER BY created_at DESC"
        );
        let rows: Vec<OpportunityRow> =
            read!(self, |p| sqlx::query_as(sql(&q)).bind(user).fetch_all(p))?;
        rows.into_iter().map(Opportunity::try_from).collect()
    }

    /// Every opportunity (for building the search index).
    pub async fn all_opportunities(&self) -> Result<Vec<Opportunity>> {
        let q = format!("SELECT {OPPORTUNITY_COLUMNS} FROM opportunities ORDER BY created_at");
        let rows: Vec<OpportunityRow> = read!(self, |p| sqlx::query_as(sql(&q)).fetch_all(p))?;
        rows.into_iter().map(Opportunity::try_from).collect()
    }

    /// Opportunities shown at an event: its own and those not tied to any event.
    pub async fn opportunities_for_event(&self, event: Uuid) -> Result<Vec<Opportunity>> {
        let q = format!(
            "SELECT {OPPORTUNITY_COLUMNS} FROM opportunities WHERE event_id = $1 OR event_id IS NULL ORDER BY created_at DESC"
        );
        let rows: Vec<OpportunityRow> =
            read!(self, |p| sqlx::query_as(sql(&q)).bind(event).fetch_all(p))?;
        rows.into_iter().map(Opportunity::try_from).collect()
    }

    pub async fn meeting_request(&self, id: Uuid) -> Result<MeetingRequest> {
        let q = format!("SELECT {REQUEST_COLUMNS} FROM meeting_requests WHERE id = $1");
        let row: RequestRow = read!(self, |p| sqlx::query_as(sql(&q)).bind(id).fetch_one(p))?;
        row.try_into()
    }

    /// Requests a person sent or received at an event, newest first.
    pub async fn meeting_requests_of(
        &self,
        event: Uuid,
        user: Uuid,
    ) -> Result<Vec<MeetingRequest>> {
        let q = format!(
            "SELECT {REQUEST_COLUMNS} FROM meeting_requests WHERE event_id = $1 AND (from_user = $2 OR to_user = $2) \
             ORDER BY created_at DESC"
        );
        let rows: Vec<RequestRow> = read!(self, |p| sqlx::query_as(sql(&q))
            .bind(event)
            .bind(user)
            .fetch_all(p))?;
        rows.into_iter().map(MeetingRequest::try_from).collect()
    }

    /// Accepted requests of an event (what the organiser schedules).
    pub async fn accepted_requests(&self, event: Uuid) -> Result<Vec<MeetingRequest>> {
        let q = format!(
            "SELECT {REQUEST_COLUMNS} FROM meeting_requests WHERE event_id = $1 AND status = 'accepted'"
        );
        let rows: Vec<RequestRow> =
            read!(self, |p| sqlx::query_as(sql(&q)).bind(event).fetch_all(p))?;
        rows.into_iter().map(MeetingRequest::try_from).collect()
    }

    /// Requests sent by a person at an event that still count against a quota (not cancelled).
    pub async fn count_requests_sent(&self, event: Uuid, user: Uuid) -> Result<i64> {
        let (n,): (i64,) = read!(self, |p| {
            sqlx::query_as(
            "SELECT COUNT(*) FROM meeting_requests WHERE event_id = $1 AND from_user = $2 AND status <> 'cancelled'"
        )
        .bind(event)
        .bind(user)
        .fetch_one(p)
        })?;
        Ok(n)
    }

    /// A pending or accepted request between two people at an event, in either direction.
    pub async fn open_request_between(
        &self,
        event: Uuid,
        a: Uuid,
        b: Uuid,
    ) -> Result<Option<MeetingRequest>> {
        let q = format!(
            "SELECT {REQUEST_COLUMNS} FROM meeting_requests WHERE event_id = $1 AND status IN ('pending', 'accepted') \
             AND ((from_user = $2 AND to_user = $3) OR (from_user = $3 AND to_user = $2))"
        );
        let row: Option<RequestRow> = read!(self, |p| sqlx::query_as(sql(&q))
            .bind(event)
            .bind(a)
            .bind(b)
            .fetch_optional(p))?;
        row.map(MeetingRequest::try_from).transpose()
    }

    /// A person's meetings at an event with their requests, in time order (cancelled ones too).
    pub async fn meetings_of(
        &self,
        event: Uuid,
        user: Uuid,
    ) -> Result<Vec<(Meeting, MeetingRequest)>> {
        let q = format!(
            "SELECT {MEETING_COLUMNS} FROM meetings m JOIN meeting_requests r ON r.id = m.request_id \
             WHERE m.event_id = $1 AND (r.from_user = $2 OR r.to_user = $2) ORDER BY m.slot_start"
        );
        let rows: Vec<MeetingRow> = read!(self, |p| sqlx::query_as(sql(&q))
            .bind(event)
            .bind(user)
            .fetch_all(p))?;
        // Two queries, not one per meeting: the agenda page is read often.
        let requests: std::collections::HashMap<Uuid, MeetingRequest> = self
            .meeting_requests_of(event, user)
            .await?
            .into_iter()
            .map(|r| (r.id, r))
            .collect();
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let meeting = Meeting::try_from(row)?;
            let request = match requests.get(&meeting.request_id) {
                Some(r) => r.clone(),
                None => self.meeting_request(meeting.request_id).await?,
            };
            out.push((meeting, request));
        }
        Ok(out)
    }

    /// The live meeting of a request, if it has one.
    pub async fn meeting_of_request(&self, request: Uuid) -> Result<Option<Meeting>> {
        let q = format!(
            "SELECT {MEETING_COLUMNS} FROM meetings m WHERE m.request_id = $1 AND m.status = 'scheduled'"
        );
        let row: Option<MeetingRow> = read!(self, |p| sqlx::query_as(sql(&q))
            .bind(request)
            .fetch_optional(p))?;
        row.map(Meeting::try_from).transpose()
    }

    /// One meeting (cancelled too) with its request.
    pub async fn meeting(&self, id: Uuid) -> Result<(Meeting, MeetingRequest)> {
        let q = format!("SELECT {MEETING_COLUMNS} FROM meetings m WHERE m.id = $1");
        let row: MeetingRow = read!(self, |p| sqlx::query_as(sql(&q)).bind(id).fetch_one(p))?;
        let meeting = Meeting::try_from(row)?;
        let request = self.meeting_request(meeting.request_id).await?;
        Ok((meeting, request))
    }

    /// Slots (start instants) in which a person already has a meeting at an event.
    pub async fn busy_slots(&self, event: Uuid, user: Uuid) -> Result<Vec<i64>> {
        let rows: Vec<(i64,)> = read!(self, |p| {
            sqlx::query_as(
            "SELECT slot_start FROM meeting_attendees WHERE event_id = $1 AND user_id = $2 ORDER BY slot_start"
        )
        .bind(event)
        .bind(user)
        .fetch_all(p)
        })?;
        Ok(rows.into_iter().map(|(s,)| s).collect())
    }

    /// The times held at `now` for the pending requests of `event` that involve `person`: each
    /// proposed time until its request is answered, for at most
    /// [`PROPOSAL_HOLD_MICROS`](kontor_domain::PROPOSAL_HOLD_MICROS) after it was sent.
    pub async fn held_slots(&self, event: Uuid, person: Uuid, now: i64) -> Result<Vec<i64>> {
        let sent_after = now - kontor_domain::PROPOSAL_HOLD_MICROS;
        let rows: Vec<(i64,)> = read!(self, |p| {
            sqlx::query_as(
                "SELECT proposed_slot FROM meeting_requests WHERE event_id = $1 \
                 AND (from_user = $2 OR to_user = $2) AND status = 'pending' \
                 AND proposed_slot IS NOT NULL AND created_at > $3",
            )
            .bind(event)
            .bind(person)
            .bind(sent_after)
            .fetch_all(p)
        })?;
        Ok(rows.into_iter().map(|(s,)| s).collect())
    }

    /// Meeting requests of an event per status.
    pub async fn request_counts(&self, event: Uuid) -> Result<Vec<(MeetingRequestStatus, i64)>> {
        let rows: Vec<(String, i64)> = read!(self, |p| {
            sqlx::query_as(
            "SELECT status, COUNT(*) FROM meeting_requests WHERE event_id = $1 GROUP BY status ORDER BY status"
        )
        .bind(event)
        .fetch_all(p)
        })?;
        rows.into_iter()
            .map(|(s, n)| Ok((from_key("meeting_requests.status", &s)?, n)))
            .collect()
    }

    /// Every request of an event, oldest first (for exports).
    pub async fn event_requests(&self, event: Uuid) -> Result<Vec<MeetingRequest>> {
        let q = format!(
            "SELECT {REQUEST_COLUMNS} FROM meeting_requests WHERE event_id = $1 ORDER BY created_at"
        );
        let rows: Vec<RequestRow> =
            read!(self, |p| sqlx::query_as(sql(&q)).bind(event).fetch_all(p))?;
        rows.into_iter().map(MeetingRequest::try_from).collect()
    }

    /// Every scheduled meeting of an event with its request, in time order (for exports).
    pub async fn event_meetings(&self, event: Uuid) -> Result<Vec<(Meeting, MeetingRequest)>> {
        let requests: std::collections::HashMap<Uuid, MeetingRequest> = self
            .event_requests(event)
            .await?
            .into_iter()
            .map(|r| (r.id, r))
            .collect();
        Ok(self
            .scheduled_meetings(event)
            .await?
            .into_iter()
            .filter_map(|m| requests.get(&m.request_id).cloned().map(|r| (m, r)))
            .collect())
    }

    /// Every scheduled meeting of an event, in time order, in one query.
    pub async fn scheduled_meetings(&self, event: Uuid) -> Result<Vec<Meeting>> {
        let q = format!(
            "SELECT {MEETING_COLUMNS} FROM meetings m WHERE m.event_id = $1 AND m.status = 'scheduled' ORDER BY m.slot_start, m.table_no"
        );
        let rows: Vec<MeetingRow> =
            read!(self, |p| sqlx::query_as(sql(&q)).bind(event).fetch_all(p))?;
        rows.into_iter().map(Meeting::try_from).collect()
    }

    /// How many meeting requests wait for `user`'s answer at events that have not ended by
    /// `today` (UTC's day before, so that no zone's event ends early; one left unanswered
    /// stops counting a day after its event).
    pub async fn pending_request_count(&self, user: Uuid, today: jiff::civil::Date) -> Result<i64> {
        let (n,): (i64,) = read!(self, |p| sqlx::query_as(
            "SELECT COUNT(*) FROM meeting_requests r JOIN events e ON e.id = r.event_id \
             WHERE r.to_user = $1 AND r.status = 'pending' AND e.ends_on >= $2"
        )
        .bind(user)
        .bind(today.yesterday().unwrap_or(today).to_string())
        .fetch_one(p))?;
        Ok(n)
    }

    /// Requests waiting for `user`'s answer, at any event.
    pub async fn pending_requests_to(&self, user: Uuid) -> Result<Vec<MeetingRequest>> {
        let q = format!(
            "SELECT {REQUEST_COLUMNS} FROM meeting_requests WHERE to_user = $1 AND status = 'pending' ORDER BY created_at"
        );
        let rows: Vec<RequestRow> =
            read!(self, |p| sqlx::query_as(sql(&q)).bind(user).fetch_all(p))?;
        rows.into_iter().map(MeetingRequest::try_from).collect()
    }

    /// A person's scheduled meetings at any event that start in `[from, to)`.
    pub async fn meetings_between(
        &self,
        user: Uuid,
        from: i64,
        to: i64,
    ) -> Result<Vec<(Meeting, MeetingRequest)>> {
        let q = format!(
            "SELECT {MEETING_COLUMNS} FROM meetings m JOIN meeting_attendees a ON a.meeting_id = m.id \
             WHERE a.user_id = $1 AND m.status = 'scheduled' AND m.slot_start >= $2 AND m.slot_start < $3 ORDER BY m.slot_start"
        );
        let rows: Vec<MeetingRow> = read!(self, |p| sqlx::query_as(sql(&q))
            .bind(user)
            .bind(from)
            .bind(to)
            .fetch_all(p))?;
        self.with_requests(rows).await
    }

    /// Scheduled meetings that start between `now` and `until` and have had no reminder.
    pub async fn due_reminders(
        &self,
        now: i64,
        until: i64,
    ) -> Result<Vec<(Meeting, MeetingRequest)>> {
        let q = format!(
            "SELECT {MEETING_COLUMNS} FROM meetings m WHERE m.status = 'scheduled' AND m.reminded_at IS NULL \
             AND m.slot_start > $1 AND m.slot_start <= $2 ORDER BY m.slot_start"
        );
        let rows: Vec<MeetingRow> = read!(self, |p| sqlx::query_as(sql(&q))
            .bind(now)
            .bind(until)
            .fetch_all(p))?;
        self.with_requests(rows).await
    }

    /// Scheduled meetings of an event.
    pub async fn count_scheduled_meetings(&self, event: Uuid) -> Result<i64> {
        let (n,): (i64,) = read!(self, |p| sqlx::query_as(
            "SELECT COUNT(*) FROM meetings WHERE event_id = $1 AND status = 'scheduled'"
        )
        .bind(event)
        .fetch_one(p))?;
        Ok(n)
    }

    /// Meetings a person has at an event (scheduled only).
    pub async fn count_meetings(&self, event: Uuid, user: Uuid) -> Result<i64> {
        let (n,): (i64,) = read!(self, |p| sqlx::query_as(
            "SELECT COUNT(*) FROM meeting_attendees WHERE event_id = $1 AND user_id = $2"
        )
        .bind(event)
        .bind(user)
        .fetch_one(p))?;
        Ok(n)
    }

    /// Whether `user` has a calendar feed for `event`.
    pub async fn has_calendar_feed(&self, user: Uuid, event: Uuid) -> Result<bool> {
        let (n,): (i64,) = read!(self, |p| sqlx::query_as(
            "SELECT COUNT(*) FROM calendar_feeds WHERE user_id = $1 AND event_id = $2"
        )
        .bind(user)
        .bind(event)
        .fetch_one(p))?;
        Ok(n > 0)
    }

    /// The owner and event of a calendar feed.
    pub async fn calendar_feed(&self, token_hash: &str) -> Result<Option<(Uuid, Uuid)>> {
        Ok(read!(self, |p| sqlx::query_as(
            "SELECT user_id, event_id FROM calendar_feeds WHERE token_hash = $1"
        )
        .bind(token_hash)
        .fetch_optional(p))?)
    }

    /// The slots a person said they can attend, with the mode; empty: not set (all slots).
    pub async fn availability(&self, event: Uuid, user: Uuid) -> Result<Vec<(i64, MeetingMode)>> {
        let rows: Vec<(i64, String)> = read!(self, |p| {
            sqlx::query_as(
            "SELECT slot_start, mode FROM availability WHERE event_id = $1 AND user_id = $2 ORDER BY slot_start"
        )
        .bind(event)
        .bind(user)
        .fetch_all(p)
        })?;
        rows.into_iter()
            .map(|(s, m)| Ok((s, from_key("availability.mode", &m)?)))
            .collect()
    }

    /// For several people at an event: the slots each said they are available in (absent:
    /// none said, so all) and the slots each has a meeting in. Two queries, for pages that list
    /// many partners.
    pub async fn slots_of(&self, event: Uuid, users: &[Uuid]) -> Result<PeoplesSlots> {
        let mut out = PeoplesSlots::default();
        if users.is_empty() {
            return Ok(out);
        }
        let people = crate::placeholders(2, users.len());
        for (table, into) in [
            ("availability", &mut out.available),
            ("meeting_attendees", &mut out.busy),
        ] {
            let q = format!(
                "SELECT user_id, slot_start FROM {table} WHERE event_id = $1 AND user_id IN ({people})"
            );
            let rows: Vec<(Uuid, i64)> = read!(self, |p| {
                let mut query = sqlx::query_as(sqlx::AssertSqlSafe(q.as_str())).bind(event);
                for user in users {
                    query = query.bind(user);
                }
                query.fetch_all(p)
            })?;
            for (user, slot) in rows {
                into.entry(user).or_default().insert(slot);
            }
        }
        Ok(out)
    }
}

/// What [`Store::slots_of`] reads: per person, the slots they are available in (only those
/// who said) and the slots they have a meeting in.
#[derive(Debug, Default)]
pub struct PeoplesSlots {
    pub available: std::collections::HashMap<Uuid, std::collections::HashSet<i64>>,
    pub busy: std::collections::HashMap<Uuid, std::collections::HashSet<i64>>,
}

impl Tx {
    pub async fn create_opportunity(
        &mut self,
        user: Uuid,
        f: &OpportunityFields,
        now: i64,
    ) -> Result<Uuid> {
        let id = new_id();
        exec!(self, |c| {
            sqlx::query(
            "INSERT INTO opportunities (id, user_id, event_id, kind, title, description, sectors, target_countries, \
             languages, interpreter_needed, job, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)"
        )
        .bind(id)
        .bind(user)
        .bind(f.event_id)
        .bind(f.kind.key())
        .bind(to_json(&f.title))
        .bind(to_json(&f.description))
        .bind(to_json(&f.sectors))
        .bind(to_json(&f.target_countries))
        .bind(to_json(&f.languages))
        .bind(f.interpreter_needed)
        .bind(f.job.as_ref().map(to_json))
        .bind(now)
        .execute(c)
        })?;
        Ok(id)
    }

    /// Rewrites an opportunity of `user`; `NotFound` when it is not theirs. Requests that name
    /// it keep naming it.
    pub async fn update_opportunity(
        &mut self,
        id: Uuid,
        user: Uuid,
        f: &OpportunityFields,
        now: i64,
    ) -> Result<()> {
        let n = exec!(self, |c| {
            sqlx::query(
                "UPDATE opportunities SET event_id = $3, kind = $4, title = $5, description = $6, \
             sectors = $7, target_countries = $8, languages = $9, interpreter_needed = $10, \
             job = $11, updated_at = $12 WHERE id = $1 AND user_id = $2",
            )
            .bind(id)
            .bind(user)
            .bind(f.event_id)
            .bind(f.kind.key())
            .bind(to_json(&f.title))
            .bind(to_json(&f.description))
            .bind(to_json(&f.sectors))
            .bind(to_json(&f.target_countries))
            .bind(to_json(&f.languages))
            .bind(f.interpreter_needed)
            .bind(f.job.as_ref().map(to_json))
            .bind(now)
            .execute(c)
        })?;
        if n == 0 {
            Err(StoreError::NotFound)
        } else {
            Ok(())
        }
    }

    /// Deletes an opportunity of `user`; `NotFound` when it is not theirs.
    pub async fn delete_opportunity(&mut self, id: Uuid, user: Uuid) -> Result<()> {
        let n = exec!(self, |c| sqlx::query(
            "DELETE FROM opportunities WHERE id = $1 AND user_id = $2"
        )
        .bind(id)
        .bind(user)
        .execute(c))?;
        if n == 0 {
            Err(StoreError::NotFound)
        } else {
            Ok(())
        }
    }

    /// Writes a pending request unless something that may have changed since the caller looked
    /// stands in the way: either side no longer approved, `quota` requests sent already, or an
    /// open request between the two. The checks and the write happen under row locks on both
    /// registrations (the single writer on SQLite), so two requests sent at the same moment
    /// cannot both pass them.
    pub async fn send_meeting_request(
        &mut self,
        r: &NewMeetingRequest<'_>,
        quota: Option<i32>,
        now: i64,
    ) -> Result<std::result::Result<Uuid, RequestRefused>> {
        if !self
            .lock_participants(r.event_id, &[r.from_user, r.to_user])
            .await?
        {
            return Ok(Err(RequestRefused::NotApproved));
        }
        if let Some(max) = quota {
            let (sent,): (i64,) = write!(self, |c| sqlx::query_as(
                "SELECT COUNT(*) FROM meeting_requests \
                 WHERE event_id = $1 AND from_user = $2 AND status <> 'cancelled'"
            )
            .bind(r.event_id)
            .bind(r.from_user)
            .fetch_one(c))?;
            if sent >= i64::from(max) {
                return Ok(Err(RequestRefused::Quota));
            }
        }
        let (open,): (i64,) = write!(self, |c| sqlx::query_as(
            "SELECT COUNT(*) FROM meeting_requests WHERE event_id = $1 \
             AND status IN ('pending', 'accepted') \
             AND ((from_user = $2 AND to_user = $3) OR (from_user = $3 AND to_user = $2))"
        )
        .bind(r.event_id)
        .bind(r.from_user)
        .bind(r.to_user)
        .fetch_one(c))?;
        if open > 0 {
            return Ok(Err(RequestRefused::AlreadyOpen));
        }
        self.create_meeting_request(r, now).await.map(Ok)
    }

    /// Locks the approved registrations of `people` at `event` until the transaction ends (a
    /// row lock on PostgreSQL, the single writer on SQLite), so that checks on what they have
    /// (requests sent, meetings booked) hold until the write. False when one of them is not
    /// approved (any more).
    pub async fn lock_participants(&mut self, event: Uuid, people: &[Uuid]) -> Result<bool> {
        // Locked in one order, so that A→B and B→A at once cannot deadlock.
        let mut people = people.to_vec();
        people.sort();
        for user in people {
            let approved = exec!(self, |c| sqlx::query(
                "UPDATE registrations SET status = status \
                 WHERE event_id = $1 AND user_id = $2 AND status = 'approved'"
            )
            .bind(event)
            .bind(user)
            .execute(c))?;
            if approved == 0 {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// [`Store::count_meetings`] inside the transaction, after [`Tx::lock_participants`].
    pub async fn count_meetings(&mut self, event: Uuid, user: Uuid) -> Result<i64> {
        let (n,): (i64,) = write!(self, |c| sqlx::query_as(
            "SELECT COUNT(*) FROM meeting_attendees WHERE event_id = $1 AND user_id = $2"
        )
        .bind(event)
        .bind(user)
        .fetch_one(c))?;
        Ok(n)
    }

    /// Writes a pending request without any check; [`Tx::send_meeting_request`] is the one for
    /// what people send.
    pub async fn create_meeting_request(
        &mut self,
        r: &NewMeetingRequest<'_>,
        now: i64,
    ) -> Result<Uuid> {
        let id = new_id();
        exec!(self, |c| {
            sqlx::query(
            "INSERT INTO meeting_requests (id, event_id, from_user, to_user, opportunity_id, message, priority, status, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8)"
        )
        .bind(id)
        .bind(r.event_id)
        .bind(r.from_user)
        .bind(r.to_user)
        .bind(r.opportunity_id)
        .bind(r.message)
        .bind(r.priority.key())
        .bind(now)
        .execute(c)
        })?;
        Ok(id)
    }

    /// Records the time a new request proposes (a slot start).
    pub async fn propose_slot(&mut self, request: Uuid, start: i64) -> Result<()> {
        exec!(self, |c| sqlx::query(
            "UPDATE meeting_requests SET proposed_slot = $2 WHERE id = $1"
        )
        .bind(request)
        .bind(start)
        .execute(c))?;
        Ok(())
    }

    /// Cancels every open request of `user` at `event`, and their meetings: what is left of a
    /// participation an organiser withdrew. Returns the cancelled requests, for the mail to
    /// each partner.
    pub async fn cancel_requests_of_participant(
        &mut self,
        event: Uuid,
        user: Uuid,
        now: i64,
    ) -> Result<Vec<MeetingRequest>> {
        let q = format!(
            "UPDATE meeting_requests SET status = 'cancelled', decided_at = $3 WHERE event_id = $1 \
             AND status IN ('pending', 'accepted') AND (from_user = $2 OR to_user = $2) \
             RETURNING {REQUEST_COLUMNS}"
        );
        let rows: Vec<RequestRow> = write!(self, |c| sqlx::query_as(sql(&q))
            .bind(event)
            .bind(user)
            .bind(now)
            .fetch_all(c))?;
        let requests: Vec<MeetingRequest> = rows
            .into_iter()
            .map(MeetingRequest::try_from)
            .collect::<Result<_>>()?;
        for r in &requests {
            self.cancel_meeting_of_request(r.id, now).await?;
        }
        Ok(requests)
    }

    /// Moves a request from one of `from` to `to`; `NotFound` when it is in no such state (someone
    /// else acted first), so two clicks cannot both succeed.
    pub async fn change_request_status(
        &mut self,
        id: Uuid,
        from: &[MeetingRequestStatus],
        to: MeetingRequestStatus,
        reason: Option<&str>,
        now: i64,
    ) -> Result<MeetingRequest> {
        let placeholders: Vec<String> = (0..from.len()).map(|i| format!("${}", i + 5)).collect();
        let q = format!(
            "UPDATE meeting_requests SET status = $2, reason = COALESCE($3, reason), decided_at = $4 \
             WHERE id = $1 AND status IN ({}) RETURNING {REQUEST_COLUMNS}",
            placeholders.join(", ")
        );
        let row: Option<RequestRow> = write!(self, |c| {
            let mut query = sqlx::query_as(sql(&q))
                .bind(id)
                .bind(to.key())
                .bind(reason)
                .bind(now);
            for status in from {
                query = query.bind(status.key());
            }
            query.fetch_optional(c)
        })?;
        row.ok_or(StoreError::NotFound)?.try_into()
    }

    /// Books a meeting for an accepted request in one slot for `attendees`. A person who already
    /// has a meeting in that slot makes this a `Conflict`, a request that is no longer accepted
    /// (cancelled meanwhile) `NotFound`; drop the transaction then.
    ///
    /// A request has one meeting row, so that calendars keep one UID for it: a request whose
    /// meeting was cancelled (a published agenda that left it out) gets that row back.
    pub async fn book_meeting(
        &mut self,
        request: &MeetingRequest,
        attendees: &[Uuid],
        slot: (i64, i64),
        mode: MeetingMode,
        table_no: Option<i32>,
        now: i64,
    ) -> Result<Uuid> {
        // Writing the request row first orders this booking against a cancellation of the
        // request (a row lock on PostgreSQL, the single writer on SQLite): whichever commits
        // second sees the other's change.
        let accepted = exec!(self, |c| sqlx::query(
            "UPDATE meeting_requests SET status = status WHERE id = $1 AND status = 'accepted'"
        )
        .bind(request.id)
        .execute(c))?;
        if accepted == 0 {
            return Err(StoreError::NotFound);
        }
        let revived: Option<Uuid> = write!(self, |c| sqlx::query_scalar(
            "UPDATE meetings SET slot_start = $2, slot_end = $3, table_no = $4, mode = $5, \
             status = 'scheduled', sequence = sequence + 1, pinned = FALSE, reminded_at = NULL, \
             updated_at = $6 WHERE request_id = $1 AND status = 'cancelled' RETURNING id"
        )
        .bind(request.id)
        .bind(slot.0)
        .bind(slot.1)
        .bind(table_no)
        .bind(mode.key())
        .bind(now)
        .fetch_optional(c))?;
        let id = match revived {
            Some(id) => id,
            None => {
                let id = new_id();
                exec!(self, |c| {
                    sqlx::query(
                    "INSERT INTO meetings (id, event_id, request_id, slot_start, slot_end, table_no, mode, status, \
                     sequence, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'scheduled', 0, $8, $8)"
                )
                .bind(id)
                .bind(request.event_id)
                .bind(request.id)
                .bind(slot.0)
                .bind(slot.1)
                .bind(table_no)
                .bind(mode.key())
                .bind(now)
                .execute(c)
                })?;
                id
            }
        };
        for user in attendees {
            exec!(self, |c| {
                sqlx::query(
                "INSERT INTO meeting_attendees (event_id, user_id, slot_start, meeting_id) VALUES ($1, $2, $3, $4)"
            )
            .bind(request.event_id)
            .bind(user)
            .bind(slot.0)
            .bind(id)
            .execute(c)
            })?;
        }
        Ok(id)
    }

    /// Gives an on-site meeting the lowest table number that is free in its slot. Bookings in
    /// one slot take turns here (SQLite's single writer; an advisory lock on PostgreSQL), so two
    /// people booking at the same moment never share a table.
    pub async fn assign_free_table(&mut self, meeting: Uuid) -> Result<i32> {
        let (event, slot_start): (Uuid, i64) = write!(self, |c| {
            sqlx::query_as("SELECT event_id, slot_start FROM meetings WHERE id = $1")
                .bind(meeting)
                .fetch_one(c)
        })?;
        if let TxInner::Postgres(t) = &mut self.inner {
            sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
                .bind(format!("table/{event}/{slot_start}"))
                .execute(&mut **t)
                .await?;
        }
        let taken: Vec<i32> = write!(self, |c| {
            sqlx::query_scalar(
                "SELECT table_no FROM meetings WHERE event_id = $1 AND slot_start = $2 AND status = 'scheduled' \
                 AND table_no IS NOT NULL AND id <> $3 ORDER BY table_no",
            )
            .bind(event)
            .bind(slot_start)
            .bind(meeting)
            .fetch_all(c)
        })?;
        let table = lowest_free(&taken);
        exec!(self, |c| sqlx::query(
            "UPDATE meetings SET table_no = $2 WHERE id = $1"
        )
        .bind(meeting)
        .bind(table)
        .execute(c))?;
        Ok(table)
    }

    /// Frees the slot of a meeting that is about to move (see [`Tx::move_meeting`]); done for
    /// every moving meeting first, so that two meetings can swap slots in one transaction.
    pub async fn release_meeting_slot(&mut self, meeting: Uuid) -> Result<()> {
        exec!(self, |c| sqlx::query(
            "DELETE FROM meeting_attendees WHERE meeting_id = $1"
        )
        .bind(meeting)
        .execute(c))?;
        Ok(())
    }

    /// Every scheduled meeting of an event as (id, sequence, slot start, slot end), by id;
    /// locked on PostgreSQL (SQLite has one writer), so none changes before this transaction
    /// ends. For checks that must hold at commit: a published draft is not stale, an edit
    /// keeps every booked slot.
    pub async fn lock_scheduled_meetings(
        &mut self,
        event: Uuid,
    ) -> Result<Vec<(Uuid, i32, i64, i64)>> {
        let lock = match self.inner {
            crate::TxInner::Postgres(_) => " FOR UPDATE",
            crate::TxInner::Sqlite(_) => "",
        };
        let sql = format!(
            "SELECT id, sequence, slot_start, slot_end FROM meetings \
             WHERE event_id = $1 AND status = 'scheduled' ORDER BY id{lock}"
        );
        let mut rows: Vec<(Uuid, i32, i64, i64)> =
            write!(self, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(event)
                .fetch_all(c))?;
        // Uuid order in Rust, whatever the database's collation of the column.
        rows.sort();
        Ok(rows)
    }

    /// Moves a meeting to another slot or table. It keeps its id (the calendar UID) and its
    /// sequence rises. Call [`Tx::release_meeting_slot`] first; a taken slot is a `Conflict`.
    pub async fn move_meeting(
        &mut self,
        meeting: Uuid,
        event: Uuid,
        attendees: &[Uuid],
        slot: (i64, i64),
        (table_no, mode): (Option<i32>, MeetingMode),
        now: i64,
    ) -> Result<()> {
        let n = exec!(self, |c| {
            sqlx::query(
            "UPDATE meetings SET slot_start = $2, slot_end = $3, table_no = $4, mode = $6, sequence = sequence + 1, updated_at = $5 \
             WHERE id = $1 AND status = 'scheduled'"
        )
        .bind(meeting)
        .bind(slot.0)
        .bind(slot.1)
        .bind(table_no)
        .bind(now)
        .bind(mode.key())
        .execute(c)
        })?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        for user in attendees {
            exec!(self, |c| {
                sqlx::query(
                "INSERT INTO meeting_attendees (event_id, user_id, slot_start, meeting_id) VALUES ($1, $2, $3, $4)"
            )
            .bind(event)
            .bind(user)
            .bind(slot.0)
            .bind(meeting)
            .execute(c)
            })?;
        }
        Ok(())
    }

    /// Pins or unpins a scheduled meeting of `event`.
    pub async fn set_pinned(&mut self, event: Uuid, meeting: Uuid, pinned: bool) -> Result<()> {
        let n = exec!(self, |c| {
            sqlx::query(
            "UPDATE meetings SET pinned = $3 WHERE id = $2 AND event_id = $1 AND status = 'scheduled'"
        )
        .bind(event)
        .bind(meeting)
        .bind(pinned)
        .execute(c)
        })?;
        if n == 0 {
            Err(StoreError::NotFound)
        } else {
            Ok(())
        }
    }

    /// Marks a meeting's reminder as sent; `false` when another instance was first.
    pub async fn mark_reminded(&mut self, meeting: Uuid, now: i64) -> Result<bool> {
        let n = exec!(self, |c| sqlx::query(
            "UPDATE meetings SET reminded_at = $2 WHERE id = $1 AND reminded_at IS NULL"
        )
        .bind(meeting)
        .bind(now)
        .execute(c))?;
        Ok(n == 1)
    }

    /// Cancels a meeting: frees its slot for both and raises its sequence for calendars.
    pub async fn cancel_meeting(&mut self, meeting: Uuid, now: i64) -> Result<()> {
        let n = exec!(self, |c| {
            sqlx::query(
            "UPDATE meetings SET status = 'cancelled', sequence = sequence + 1, updated_at = $2 \
             WHERE id = $1 AND status = 'scheduled'"
        )
        .bind(meeting)
        .bind(now)
        .execute(c)
        })?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        exec!(self, |c| sqlx::query(
            "DELETE FROM meeting_attendees WHERE meeting_id = $1"
        )
        .bind(meeting)
        .execute(c))?;
        Ok(())
    }

    /// Cancels the scheduled meeting of a request, if it has one, and says which. Looked up
    /// inside the transaction, so a booking that committed a moment ago is cancelled too.
    pub async fn cancel_meeting_of_request(
        &mut self,
        request: Uuid,
        now: i64,
    ) -> Result<Option<Uuid>> {
        let id: Option<Uuid> = write!(self, |c| sqlx::query_scalar(
            "SELECT id FROM meetings WHERE request_id = $1 AND status = 'scheduled'"
        )
        .bind(request)
        .fetch_optional(c))?;
        if let Some(id) = id {
            self.cancel_meeting(id, now).await?;
        }
        Ok(id)
    }

    /// Gives a person a new private calendar feed for an event; the old one stops working.
    pub async fn replace_calendar_feed(
        &mut self,
        user: Uuid,
        event: Uuid,
        token_hash: &str,
        now: i64,
    ) -> Result<()> {
        exec!(self, |c| sqlx::query(
            "DELETE FROM calendar_feeds WHERE user_id = $1 AND event_id = $2"
        )
        .bind(user)
        .bind(event)
        .execute(c))?;
        exec!(self, |c| {
            sqlx::query(
            "INSERT INTO calendar_feeds (token_hash, user_id, event_id, created_at) VALUES ($1, $2, $3, $4)"
        )
        .bind(token_hash)
        .bind(user)
        .bind(event)
        .bind(now)
        .execute(c)
        })?;
        Ok(())
    }

    /// Revokes a person's calendar feed for an event.
    pub async fn revoke_calendar_feed(&mut self, user: Uuid, event: Uuid) -> Result<()> {
        exec!(self, |c| sqlx::query(
            "DELETE FROM calendar_feeds WHERE user_id = $1 AND event_id = $2"
        )
        .bind(user)
        .bind(event)
        .execute(c))?;
        Ok(())
    }

    /// Replaces a person's availability at an event.
    pub async fn set_availability(
        &mut self,
        event: Uuid,
        user: Uuid,
        slots: &[(i64, MeetingMode)],
    ) -> Result<()> {
        exec!(self, |c| sqlx::query(
            "DELETE FROM availability WHERE event_id = $1 AND user_id = $2"
        )
        .bind(event)
        .bind(user)
        .execute(c))?;
        for (start, mode) in slots {
            exec!(self, |c| {
                sqlx::query(
                "INSERT INTO availability (event_id, user_id, slot_start, mode) VALUES ($1, $2, $3, $4)"
            )
            .bind(event)
            .bind(user)
            .bind(start)
            .bind(mode.key())
            .execute(c)
            })?;
        }
        Ok(())
    }
}

/// The lowest table number (from 1) not in `taken`, which is sorted.
fn lowest_free(taken: &[i32]) -> i32 {
    let mut table = 1;
    for &t in taken {
        if t == table {
            table += 1;
        } else if t > table {
            break;
        }
    }
    table
}

#[cfg(test)]
mod tests {
    #[test]
    fn lowest_free_table_fills_gaps_first() {
        assert_eq!(super::lowest_free(&[]), 1);
        assert_eq!(super::lowest_free(&[1, 2, 3]), 4);
        assert_eq!(super::lowest_free(&[1, 3]), 2);
        assert_eq!(super::lowest_free(&[2, 3]), 1);
        assert_eq!(super::lowest_free(&[1, 1, 2]), 3);
    }
}
