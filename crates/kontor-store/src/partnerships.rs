//! Partnerships: partner cities, agreements with their signatories, and the timeline of what
//! happened.
//!
//! Invariants:
//! - Only a draft agreement changes ([`Tx::update_agreement`] refuses the others), so the text
//!   and the signatories a signing link shows are the ones that were sent.
//! - A signature and the agreement's completion commit together, under the agreement row's
//!   lock: when the last two signatories sign at once, one of them completes it.
//! - Signing links are stored as SHA-256 digests of their tokens, never the tokens.

use kontor_domain::partnership::{AgreementKind, AgreementStatus, CooperationField, MilestoneKind};
use kontor_domain::{Country, Keyed, Locale, LocalizedText};

use crate::{
    Result, Store, StoreError, Tx, Uuid, exec, from_json, from_key, new_id, read, to_json, write,
};

#[derive(Debug, Clone)]
pub struct City {
    pub id: Uuid,
    pub slug: String,
    pub name: LocalizedText,
    pub country: Country,
    pub since_year: Option<i32>,
    pub description: LocalizedText,
}

/// What staff write about a partner city.
#[derive(Debug, Clone)]
pub struct CityFields {
    pub slug: String,
    pub name: LocalizedText,
    pub country: Country,
    pub since_year: Option<i32>,
    pub description: LocalizedText,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agreement {
    pub id: Uuid,
    pub city_id: Uuid,
    pub kind: AgreementKind,
    pub title: LocalizedText,
    pub body: LocalizedText,
    pub fields: Vec<CooperationField>,
    pub status: AgreementStatus,
    /// SHA-256 of the text as sent for signature.
    pub digest: Option<String>,
    pub sent_at: Option<i64>,
    pub signed_at: Option<i64>,
    /// The staff member who wrote it (they get the record when it is complete).
    pub created_by: Option<Uuid>,
    pub signatories: Vec<Signatory>,
}

impl Agreement {
    /// SHA-256 (hex) of everything a signatory agrees to: kind, title and text in every
    /// language, fields of cooperation, and who signs in which capacity. Taken when the
    /// agreement is sent, compared when it is signed.
    pub fn text_digest(&self) -> String {
        use sha2::Digest;
        // A struct, not a JSON map: its field order is fixed whatever serde_json's features.
        #[derive(serde::Serialize)]
        struct Frozen<'a> {
            kind: &'a str,
            title: &'a LocalizedText,
            text: &'a LocalizedText,
            fields: &'a [CooperationField],
            signatories: Vec<(&'a str, &'a str)>,
        }
        let frozen = Frozen {
            kind: self.kind.key(),
            title: &self.title,
            text: &self.body,
            fields: &self.fields,
            signatories: self
                .signatories
                .iter()
                .map(|s| (s.name.as_str(), s.capacity.as_str()))
                .collect(),
        };
        sha2::Sha256::digest(to_json(&frozen).as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signatory {
    pub position: i32,
    pub name: String,
    /// What they sign as: "Lord Mayor of Cologne".
    pub capacity: String,
    pub email: String,
    pub locale: Locale,
    pub signed_name: Option<String>,
    pub signed_at: Option<i64>,
    /// Names the signatory's current link without revealing it (the start of its token's
    /// digest), so that a staff form can say which link it replaces; `None` without a link.
    pub link: Option<String>,
}

/// What staff write for an agreement; its signatories in signing order.
#[derive(Debug, Clone)]
pub struct AgreementFields {
    pub kind: AgreementKind,
    pub title: LocalizedText,
    pub body: LocalizedText,
    pub fields: Vec<CooperationField>,
    pub signatories: Vec<SignatoryFields>,
}

#[derive(Debug, Clone)]
pub struct SignatoryFields {
    pub name: String,
    pub capacity: String,
    pub email: String,
    pub locale: Locale,
}

#[derive(Debug, Clone)]
pub struct Milestone {
    pub id: Uuid,
    pub city_id: Uuid,
    pub happened_on: jiff::civil::Date,
    pub kind: MilestoneKind,
    pub title: LocalizedText,
    pub body: LocalizedText,
}

#[derive(Debug, Clone)]
pub struct MilestoneFields {
    pub happened_on: jiff::civil::Date,
    pub kind: MilestoneKind,
    pub title: LocalizedText,
    pub body: LocalizedText,
}

/// What became of a signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signed {
    /// Recorded; the agreement as it is now (`Signed` when this was the last signature).
    Recorded(Box<Agreement>),
    /// This signatory had signed already.
    Already,
    /// The agreement is not out for signature (the link is unknown, withdrawn, or it was never
    /// sent).
    NotOpen,
    /// The stored text differs from the text that was sent, or from the one the signatory saw.
    Changed,
}

#[derive(sqlx::FromRow)]
struct CityRow {
    id: Uuid,
    slug: String,
    name: String,
    country: String,
    since_year: Option<i32>,
    description: String,
}

impl TryFrom<CityRow> for City {
    type Error = StoreError;
    fn try_from(r: CityRow) -> Result<City> {
        Ok(City {
            id: r.id,
            slug: r.slug,
            name: from_json("partner_cities.name", &r.name)?,
            country: Country::parse(&r.country).map_err(|_| {
                StoreError::Corrupt(format!("partner_cities.country: {}", r.country))
            })?,
            since_year: r.since_year,
            description: from_json("partner_cities.description", &r.description)?,
        })
    }
}

const CITY_COLUMNS: &str = "id, slug, name, country, since_year, description";

#[derive(sqlx::FromRow)]
struct AgreementRow {
    id: Uuid,
    city_id: Uuid,
    kind: String,
    title: String,
    body: String,
    fields: String,
    status: String,
    digest: Option<String>,
    sent_at: Option<i64>,
    signed_at: Option<i64>,
    created_by: Option<Uuid>,
}

const AGREEMENT_COLUMNS: &str =
    "id, city_id, kind, title, body, fields, status, digest, sent_at, signed_at, created_by";

impl AgreementRow {
    fn into_agreement(self, signatories: Vec<Signatory>) -> Result<Agreement> {
        Ok(Agreement {
            id: self.id,
            city_id: self.city_id,
            kind: from_key("agreements.kind", &self.kind)?,
            title: from_json("agreements.title", &self.title)?,
            body: from_json("agreements.body", &self.body)?,
            fields: from_json("agreements.fields", &self.fields)?,
            status: from_key("agreements.status", &self.status)?,
            digest: self.digest,
            sent_at: self.sent_at,
            signed_at: self.signed_at,
            created_by: self.created_by,
            signatories,
        })
    }
}

#[derive(sqlx::FromRow)]
struct SignatoryRow {
    agreement_id: Uuid,
    position: i32,
    name: String,
    capacity: String,
    email: String,
    locale: String,
    signed_name: Option<String>,
    signed_at: Option<i64>,
    token_hash: Option<String>,
}

macro_rules! signatory_columns {
    () => {
        "agreement_id, position, name, capacity, email, locale, signed_name, signed_at, token_hash"
    };
}
const SIGNATORY_COLUMNS: &str = signatory_columns!();
const SIGNATORIES_OF: &str = concat!(
    "SELECT ",
    signatory_columns!(),
    " FROM agreement_signatories WHERE agreement_id = $1 ORDER BY position"
);

/// One agreement from its row (none: not found) and its signatories' rows.
fn assemble(row: Option<AgreementRow>, signatories: Vec<SignatoryRow>) -> Result<Agreement> {
    let row = row.ok_or(StoreError::NotFound)?;
    let signatories = signatories
        .into_iter()
        .map(Signatory::try_from)
        .collect::<Result<Vec<_>>>()?;
    row.into_agreement(signatories)
}

impl TryFrom<SignatoryRow> for Signatory {
    type Error = StoreError;
    fn try_from(r: SignatoryRow) -> Result<Signatory> {
        Ok(Signatory {
            position: r.position,
            name: r.name,
            capacity: r.capacity,
            email: r.email,
            locale: from_key("agreement_signatories.locale", &r.locale)?,
            signed_name: r.signed_name,
            signed_at: r.signed_at,
            link: r.token_hash.map(|h| h.chars().take(12).collect()),
        })
    }
}

#[derive(sqlx::FromRow)]
struct MilestoneRow {
    id: Uuid,
    city_id: Uuid,
    happened_on: String,
    kind: String,
    title: String,
    body: String,
}

impl TryFrom<MilestoneRow> for Milestone {
    type Error = StoreError;
    fn try_from(r: MilestoneRow) -> Result<Milestone> {
        Ok(Milestone {
            id: r.id,
            city_id: r.city_id,
            happened_on: r.happened_on.parse().map_err(|_| {
                StoreError::Corrupt(format!(
                    "partnership_milestones.happened_on: {}",
                    r.happened_on
                ))
            })?,
            kind: from_key("partnership_milestones.kind", &r.kind)?,
            title: from_json("partnership_milestones.title", &r.title)?,
            body: from_json("partnership_milestones.body", &r.body)?,
        })
    }
}

impl Store {
    /// Every partner city, in the order they became partners (undated ones last).
    pub async fn partner_cities(&self) -> Result<Vec<City>> {
        let sql = format!(
            "SELECT {CITY_COLUMNS} FROM partner_cities \
             ORDER BY CASE WHEN since_year IS NULL THEN 1 ELSE 0 END, since_year, slug"
        );
        let rows: Vec<CityRow> =
            read!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .fetch_all(p))?;
        rows.into_iter().map(City::try_from).collect()
    }

    pub async fn partner_city(&self, slug: &str) -> Result<City> {
        let sql = format!("SELECT {CITY_COLUMNS} FROM partner_cities WHERE slug = $1");
        let row: Option<CityRow> =
            read!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(slug)
                .fetch_optional(p))?;
        row.ok_or(StoreError::NotFound)?.try_into()
    }

    pub async fn partner_city_by_id(&self, id: Uuid) -> Result<City> {
        let sql = format!("SELECT {CITY_COLUMNS} FROM partner_cities WHERE id = $1");
        let row: Option<CityRow> =
            read!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(id)
                .fetch_optional(p))?;
        row.ok_or(StoreError::NotFound)?.try_into()
    }

    /// The fields of cooperation of every signed agreement, by city (for the list of cities).
    pub async fn signed_agreement_fields(&self) -> Result<Vec<(Uuid, Vec<CooperationField>)>> {
        let rows: Vec<(Uuid, String)> = read!(self, |p| sqlx::query_as(
            "SELECT city_id, fields FROM agreements WHERE status = 'signed'"
        )
        .fetch_all(p))?;
        rows.into_iter()
            .map(|(city, fields)| Ok((city, from_json("agreements.fields", &fields)?)))
            .collect()
    }

    /// A city's agreements, newest first, each with its signatories in signing order.
    pub async fn agreements(&self, city: Uuid) -> Result<Vec<Agreement>> {
        let sql = format!(
            "SELECT {AGREEMENT_COLUMNS} FROM agreements WHERE city_id = $1 ORDER BY created_at DESC"
        );
        let rows: Vec<AgreementRow> =
            read!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(city)
                .fetch_all(p))?;
        let sql = format!(
            "SELECT {SIGNATORY_COLUMNS} FROM agreement_signatories \
             WHERE agreement_id IN (SELECT id FROM agreements WHERE city_id = $1) \
             ORDER BY position"
        );
        let signatories: Vec<SignatoryRow> =
            read!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(city)
                .fetch_all(p))?;
        let mut signatories = signatories
            .into_iter()
            .map(|s| Ok((s.agreement_id, Signatory::try_from(s)?)))
            .collect::<Result<Vec<_>>>()?;
        rows.into_iter()
            .map(|a| {
                let own = signatories
                    .extract_if(.., |(id, _)| *id == a.id)
                    .map(|(_, s)| s)
                    .collect();
                a.into_agreement(own)
            })
            .collect()
    }

    pub async fn agreement(&self, id: Uuid) -> Result<Agreement> {
        let sql = format!("SELECT {AGREEMENT_COLUMNS} FROM agreements WHERE id = $1");
        let row: Option<AgreementRow> =
            read!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(id)
                .fetch_optional(p))?;
        let signatories: Vec<SignatoryRow> = read!(self, |p| sqlx::query_as(SIGNATORIES_OF)
            .bind(id)
            .fetch_all(p))?;
        assemble(row, signatories)
    }

    /// The agreement a signing link belongs to, and the signatory's position in it.
    pub async fn agreement_by_token(&self, token_hash: &str) -> Result<(Agreement, i32)> {
        let row: Option<(Uuid, i32)> = read!(self, |p| sqlx::query_as(
            "SELECT agreement_id, position FROM agreement_signatories WHERE token_hash = $1"
        )
        .bind(token_hash)
        .fetch_optional(p))?;
        let (id, position) = row.ok_or(StoreError::NotFound)?;
        Ok((self.agreement(id).await?, position))
    }

    /// Signatories of agreements out for signature whose link was mailed before `sent_before`
    /// and who have neither signed nor been reminded: (agreement, position).
    pub async fn signatories_to_remind(&self, sent_before: i64) -> Result<Vec<(Uuid, i32)>> {
        Ok(read!(self, |p| sqlx::query_as(
            "SELECT s.agreement_id, s.position FROM agreement_signatories s \
             JOIN agreements a ON a.id = s.agreement_id \
             WHERE a.status = 'signing' AND COALESCE(s.link_sent_at, a.sent_at) < $1 \
             AND s.signed_at IS NULL AND s.reminded_at IS NULL \
             ORDER BY a.sent_at, s.position"
        )
        .bind(sent_before)
        .fetch_all(p))?)
    }

    /// A city's timeline entries, oldest first.
    pub async fn milestones(&self, city: Uuid) -> Result<Vec<Milestone>> {
        let rows: Vec<MilestoneRow> = read!(self, |p| sqlx::query_as(
            "SELECT id, city_id, happened_on, kind, title, body FROM partnership_milestones \
             WHERE city_id = $1 ORDER BY happened_on, created_at"
        )
        .bind(city)
        .fetch_all(p))?;
        rows.into_iter().map(Milestone::try_from).collect()
    }
}

impl Tx {
    /// Reads an agreement under its row's lock, so that nothing changes it until this
    /// transaction ends (sending and signing decide on what they read here).
    pub async fn lock_agreement(&mut self, id: Uuid) -> Result<Agreement> {
        let sql = format!(
            "SELECT {AGREEMENT_COLUMNS} FROM agreements WHERE id = $1{}",
            self.row_lock()
        );
        let row: Option<AgreementRow> =
            write!(self, |x| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(id)
                .fetch_optional(x))?;
        let signatories: Vec<SignatoryRow> = write!(self, |x| sqlx::query_as(SIGNATORIES_OF)
            .bind(id)
            .fetch_all(x))?;
        assemble(row, signatories)
    }

    /// On PostgreSQL, a row lock that still lets others insert rows referring to the row.
    /// SQLite has one writer, so its transactions never interleave.
    fn row_lock(&self) -> &'static str {
        match &self.inner {
            crate::TxInner::Sqlite(_) => "",
            crate::TxInner::Postgres(_) => " FOR NO KEY UPDATE",
        }
    }

    /// Fails with [`StoreError::Conflict`] when the address is taken.
    pub async fn create_partner_city(&mut self, c: &CityFields, now: i64) -> Result<Uuid> {
        let id = new_id();
        exec!(self, |x| {
            sqlx::query(
            "INSERT INTO partner_cities (id, slug, name, country, since_year, description, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7)"
        )
        .bind(id)
        .bind(&c.slug)
        .bind(to_json(&c.name))
        .bind(c.country.code())
        .bind(c.since_year)
        .bind(to_json(&c.description))
        .bind(now)
        .execute(x)
        })?;
        Ok(id)
    }

    /// Removes a partner city with its timeline and draft agreements; `false` (nothing
    /// removed) while it has an agreement out for signature or signed: those stay on record.
    /// Its agreements are locked first, so a draft being sent at this moment is seen as sent.
    pub async fn delete_partner_city(&mut self, id: Uuid) -> Result<bool> {
        // On PostgreSQL the city's row first, FOR UPDATE: a new agreement's foreign-key check
        // waits for it, so none appears between the check below and the delete.
        if let crate::TxInner::Postgres(_) = &self.inner {
            exec!(self, |x| sqlx::query(
                "SELECT id FROM partner_cities WHERE id = $1 FOR UPDATE"
            )
            .bind(id)
            .execute(x))?;
        }
        let sql = format!(
            "SELECT status FROM agreements WHERE city_id = $1{}",
            self.row_lock()
        );
        let statuses: Vec<String> = write!(self, |x| sqlx::query_scalar(sqlx::AssertSqlSafe(
            sql.as_str()
        ))
        .bind(id)
        .fetch_all(x))?;
        if statuses.iter().any(|s| s != "draft") {
            return Ok(false);
        }
        let n = exec!(self, |x| sqlx::query(
            "DELETE FROM partner_cities WHERE id = $1"
        )
        .bind(id)
        .execute(x))?;
        Ok(n == 1)
    }

    /// Changes everything but the address.
    pub async fn update_partner_city(&mut self, id: Uuid, c: &CityFields, now: i64) -> Result<()> {
        let n = exec!(self, |x| {
            sqlx::query(
            "UPDATE partner_cities SET name = $2, country = $3, since_year = $4, description = $5, \
             updated_at = $6 WHERE id = $1"
        )
        .bind(id)
        .bind(to_json(&c.name))
        .bind(c.country.code())
        .bind(c.since_year)
        .bind(to_json(&c.description))
        .bind(now)
        .execute(x)
        })?;
        if n == 0 {
            Err(StoreError::NotFound)
        } else {
            Ok(())
        }
    }

    pub async fn create_agreement(
        &mut self,
        city: Uuid,
        a: &AgreementFields,
        created_by: Option<Uuid>,
        now: i64,
    ) -> Result<Uuid> {
        let id = new_id();
        exec!(self, |x| {
            sqlx::query(
            "INSERT INTO agreements (id, city_id, kind, title, body, fields, status, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 'draft', $7, $8, $8)"
        )
        .bind(id)
        .bind(city)
        .bind(a.kind.key())
        .bind(to_json(&a.title))
        .bind(to_json(&a.body))
        .bind(to_json(&a.fields))
        .bind(created_by)
        .bind(now)
        .execute(x)
        })?;
        self.insert_signatories(id, &a.signatories).await?;
        Ok(id)
    }

    /// Replaces a draft's text and signatories; `false` when it is no longer a draft.
    pub async fn update_agreement(
        &mut self,
        id: Uuid,
        a: &AgreementFields,
        now: i64,
    ) -> Result<bool> {
        let n = exec!(self, |x| {
            sqlx::query(
            "UPDATE agreements SET kind = $2, title = $3, body = $4, fields = $5, updated_at = $6 \
             WHERE id = $1 AND status = 'draft'"
        )
        .bind(id)
        .bind(a.kind.key())
        .bind(to_json(&a.title))
        .bind(to_json(&a.body))
        .bind(to_json(&a.fields))
        .bind(now)
        .execute(x)
        })?;
        if n == 0 {
            return Ok(false);
        }
        exec!(self, |x| sqlx::query(
            "DELETE FROM agreement_signatories WHERE agreement_id = $1"
        )
        .bind(id)
        .execute(x))?;
        self.insert_signatories(id, &a.signatories).await?;
        Ok(true)
    }

    async fn insert_signatories(
        &mut self,
        agreement: Uuid,
        list: &[SignatoryFields],
    ) -> Result<()> {
        for (i, s) in list.iter().enumerate() {
            exec!(self, |x| {
                sqlx::query(
                "INSERT INTO agreement_signatories (agreement_id, position, name, capacity, email, locale) \
                 VALUES ($1, $2, $3, $4, $5, $6)"
            )
            .bind(agreement)
            .bind(i as i32)
            .bind(&s.name)
            .bind(&s.capacity)
            .bind(&s.email)
            .bind(s.locale.key())
            .execute(x)
            })?;
        }
        Ok(())
    }

    /// Freezes a draft and gives each signatory (by position) their link's token digest;
    /// `false` when it is no longer a draft or the tokens do not match its signatories.
    pub async fn send_agreement(
        &mut self,
        id: Uuid,
        digest: &str,
        token_hashes: &[(i32, String)],
        now: i64,
    ) -> Result<bool> {
        let n = exec!(self, |x| {
            sqlx::query(
            "UPDATE agreements SET status = 'signing', digest = $2, sent_at = $3, updated_at = $3 \
             WHERE id = $1 AND status = 'draft'"
        )
        .bind(id)
        .bind(digest)
        .bind(now)
        .execute(x)
        })?;
        if n == 0 {
            return Ok(false);
        }
        let mut set = 0;
        for (position, hash) in token_hashes {
            set += exec!(self, |x| {
                sqlx::query(
                    "UPDATE agreement_signatories SET token_hash = $3, link_sent_at = $4 \
                 WHERE agreement_id = $1 AND position = $2",
                )
                .bind(id)
                .bind(position)
                .bind(hash)
                .bind(now)
                .execute(x)
            })?;
        }
        let total: i64 = write!(self, |x| sqlx::query_scalar(
            "SELECT COUNT(*) FROM agreement_signatories WHERE agreement_id = $1"
        )
        .bind(id)
        .fetch_one(x))?;
        Ok(set as i64 == total && total > 0)
    }

    /// Records the signature of the signatory whose link has this digest, under the
    /// agreement's lock, and completes the agreement when it was the last one missing.
    /// `seen_digest` is the digest of the text the signatory was shown: a signature counts only
    /// for the text that was sent, unchanged since.
    pub async fn sign_agreement(
        &mut self,
        token_hash: &str,
        typed_name: &str,
        seen_digest: &str,
        now: i64,
    ) -> Result<Signed> {
        let row: Option<(Uuid, i32)> = write!(self, |x| sqlx::query_as(
            "SELECT agreement_id, position FROM agreement_signatories WHERE token_hash = $1"
        )
        .bind(token_hash)
        .fetch_optional(x))?;
        let Some((id, position)) = row else {
            return Ok(Signed::NotOpen);
        };
        // Signatures of one agreement are written one after the other, so that the last of
        // them sees every other one and completes the agreement.
        let a = self.lock_agreement(id).await?;
        match a.status {
            AgreementStatus::Signing => {}
            AgreementStatus::Signed => return Ok(Signed::Already),
            AgreementStatus::Draft => return Ok(Signed::NotOpen),
        }
        if a.signatories
            .iter()
            .any(|s| s.position == position && s.signed_at.is_some())
        {
            return Ok(Signed::Already);
        }
        let frozen = a.digest.as_deref().unwrap_or_default();
        if frozen != a.text_digest() || frozen != seen_digest {
            return Ok(Signed::Changed);
        }
        let n = exec!(self, |x| sqlx::query(
            "UPDATE agreement_signatories SET signed_name = $2, signed_at = $3 \
             WHERE token_hash = $1 AND signed_at IS NULL"
        )
        .bind(token_hash)
        .bind(typed_name)
        .bind(now)
        .execute(x))?;
        if n == 0 {
            // Unsigned under the lock, yet the link is gone: it was renewed (or withdrawn and
            // sent again) between our lookup and the lock.
            return Ok(Signed::NotOpen);
        }
        exec!(self, |x| {
            sqlx::query(
            "UPDATE agreements SET status = 'signed', signed_at = $2, updated_at = $2 WHERE id = $1 \
             AND NOT EXISTS (SELECT 1 FROM agreement_signatories WHERE agreement_id = $1 AND signed_at IS NULL)"
        )
        .bind(id)
        .bind(now)
        .execute(x)
        })?;
        Ok(Signed::Recorded(Box::new(self.lock_agreement(id).await?)))
    }

    /// Gives one signatory who has not signed yet a new link (the old one stops working);
    /// `false` when the agreement is not out for signature or they have signed.
    pub async fn renew_signing_link(
        &mut self,
        agreement: Uuid,
        position: i32,
        token_hash: &str,
        now: i64,
    ) -> Result<bool> {
        let n = exec!(self, |x| sqlx::query(
            "UPDATE agreement_signatories SET token_hash = $3, link_sent_at = $4 \
             WHERE agreement_id = $1 AND position = $2 AND signed_at IS NULL \
             AND EXISTS (SELECT 1 FROM agreements WHERE id = $1 AND status = 'signing')"
        )
        .bind(agreement)
        .bind(position)
        .bind(token_hash)
        .bind(now)
        .execute(x))?;
        Ok(n == 1)
    }

    /// Reminds one signatory who has not signed, once, if their link was mailed before
    /// `sent_before`: it is replaced by the one whose digest is given (the mail carries it).
    /// `false` when they signed, were reminded already, got a newer link, or the agreement is
    /// no longer out for signature.
    pub async fn remind_signatory(
        &mut self,
        agreement: Uuid,
        position: i32,
        token_hash: &str,
        sent_before: i64,
        now: i64,
    ) -> Result<bool> {
        let n = exec!(self, |x| {
            sqlx::query(
            "UPDATE agreement_signatories SET token_hash = $3, reminded_at = $5, link_sent_at = $5 \
             WHERE agreement_id = $1 AND position = $2 AND signed_at IS NULL \
             AND reminded_at IS NULL \
             AND COALESCE(link_sent_at, (SELECT sent_at FROM agreements WHERE id = $1)) < $4 \
             AND EXISTS (SELECT 1 FROM agreements WHERE id = $1 AND status = 'signing')"
        )
        .bind(agreement)
        .bind(position)
        .bind(token_hash)
        .bind(sent_before)
        .bind(now)
        .execute(x)
        })?;
        Ok(n == 1)
    }

    /// Deletes a draft with its signatories; `false` when it is not a draft (an agreement out
    /// for signature or signed stays; one withdrawn to a draft again may be deleted).
    pub async fn delete_draft_agreement(&mut self, id: Uuid) -> Result<bool> {
        let n = exec!(self, |x| sqlx::query(
            "DELETE FROM agreements WHERE id = $1 AND status = 'draft'"
        )
        .bind(id)
        .execute(x))?;
        Ok(n == 1)
    }

    /// Takes an agreement out for signature back to a draft: the links stop working and the
    /// signatures given so far are void. `false` when it was not out for signature.
    pub async fn withdraw_agreement(&mut self, id: Uuid, now: i64) -> Result<bool> {
        let n = exec!(self, |x| {
            sqlx::query(
            "UPDATE agreements SET status = 'draft', digest = NULL, sent_at = NULL, updated_at = $2 \
             WHERE id = $1 AND status = 'signing'"
        )
        .bind(id)
        .bind(now)
        .execute(x)
        })?;
        if n == 0 {
            return Ok(false);
        }
        exec!(self, |x| {
            sqlx::query(
            "UPDATE agreement_signatories SET token_hash = NULL, signed_name = NULL, signed_at = NULL, \
             reminded_at = NULL, link_sent_at = NULL WHERE agreement_id = $1"
        )
        .bind(id)
        .execute(x)
        })?;
        Ok(true)
    }

    pub async fn add_milestone(
        &mut self,
        city: Uuid,
        m: &MilestoneFields,
        now: i64,
    ) -> Result<Uuid> {
        let id = new_id();
        exec!(self, |x| {
            sqlx::query(
            "INSERT INTO partnership_milestones (id, city_id, happened_on, kind, title, body, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)"
        )
        .bind(id)
        .bind(city)
        .bind(m.happened_on.to_string())
        .bind(m.kind.key())
        .bind(to_json(&m.title))
        .bind(to_json(&m.body))
        .bind(now)
        .execute(x)
        })?;
        Ok(id)
    }

    /// `false` when the city has no such entry.
    pub async fn update_milestone(
        &mut self,
        city: Uuid,
        id: Uuid,
        m: &MilestoneFields,
    ) -> Result<bool> {
        let n = exec!(self, |x| {
            sqlx::query(
            "UPDATE partnership_milestones SET happened_on = $3, kind = $4, title = $5, body = $6 \
             WHERE id = $1 AND city_id = $2"
        )
        .bind(id)
        .bind(city)
        .bind(m.happened_on.to_string())
        .bind(m.kind.key())
        .bind(to_json(&m.title))
        .bind(to_json(&m.body))
        .execute(x)
        })?;
        Ok(n == 1)
    }

    /// `false` when the city has no such entry.
    pub async fn delete_milestone(&mut self, city: Uuid, id: Uuid) -> Result<bool> {
        let n = exec!(self, |x| sqlx::query(
            "DELETE FROM partnership_milestones WHERE id = $1 AND city_id = $2"
        )
        .bind(id)
        .bind(city)
        .execute(x))?;
        Ok(n == 1)
    }
}
