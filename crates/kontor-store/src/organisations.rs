//! Organisations: companies, research institutes, public bodies and the like, with their profile.

use kontor_domain::{Country, Keyed, LocalizedText, OrgKind, OrgSize, Sector};

use crate::{
    Result, Store, StoreError, Tx, Uuid, exec, from_json, from_key, new_id, read, to_json,
};

#[derive(Debug, Clone)]
pub struct Organisation {
    pub id: Uuid,
    pub name: String,
    pub kind: OrgKind,
    pub country: Country,
    pub city: Option<String>,
    pub website: Option<String>,
    pub sectors: Vec<Sector>,
    pub size: Option<OrgSize>,
    pub description: LocalizedText,
    pub created_at: i64,
}

/// The editable part of an organisation.
#[derive(Debug, Clone)]
pub struct OrganisationFields {
    pub name: String,
    pub kind: OrgKind,
    pub country: Country,
    pub city: Option<String>,
    pub website: Option<String>,
    pub sectors: Vec<Sector>,
    pub size: Option<OrgSize>,
    pub description: LocalizedText,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    name: String,
    kind: String,
    country: String,
    city: Option<String>,
    website: Option<String>,
    sectors: String,
    size: Option<String>,
    description: String,
    created_at: i64,
}

const COLUMNS: &str =
    "id, name, kind, country, city, website, sectors, size, description, created_at";

impl TryFrom<Row> for Organisation {
    type Error = StoreError;
    fn try_from(r: Row) -> Result<Organisation> {
        Ok(Organisation {
            id: r.id,
            name: r.name,
            kind: from_key("organisations.kind", &r.kind)?,
            country: Country::parse(&r.country)
                .map_err(|_| StoreError::Corrupt("organisations.country".into()))?,
            city: r.city,
            website: r.website,
            sectors: from_json("organisations.sectors", &r.sectors)?,
            size: r
                .size
                .as_deref()
                .map(|s| from_key("organisations.size", s))
                .transpose()?,
            description: from_json("organisations.description", &r.description)?,
            created_at: r.created_at,
        })
    }
}

impl Store {
    pub async fn organisation(&self, id: Uuid) -> Result<Organisation> {
        let sql = format!("SELECT {COLUMNS} FROM organisations WHERE id = $1");
        let row: Row = read!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(id)
            .fetch_one(p))?;
        row.try_into()
    }

    /// Organisations by name, `limit` at a time from `offset`; `query` filters by name.
    pub async fn organisations(
        &self,
        query: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<Organisation>> {
        let pattern = crate::contains_pattern(&fold(query.unwrap_or("")));
        let sql = format!(
            "SELECT {COLUMNS} FROM organisations WHERE name_folded LIKE $1 ESCAPE '\\' ORDER BY name LIMIT $2 OFFSET $3"
        );
        let rows: Vec<Row> = read!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(&pattern)
            .bind(limit)
            .bind(offset)
            .fetch_all(p))?;
        rows.into_iter().map(Organisation::try_from).collect()
    }

    /// Several organisations at once, by id.
    pub async fn organisations_by_ids(
        &self,
        ids: &[Uuid],
    ) -> Result<std::collections::HashMap<Uuid, Organisation>> {
        if ids.is_empty() {
            return Ok(Default::default());
        }
        let sql = format!(
            "SELECT {COLUMNS} FROM organisations WHERE id IN ({})",
            crate::placeholders(1, ids.len())
        );
        let rows: Vec<Row> = read!(self, |p| {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()));
            for id in ids {
                q = q.bind(id);
            }
            q.fetch_all(p)
        })?;
        rows.into_iter()
            .map(|r| Organisation::try_from(r).map(|o| (o.id, o)))
            .collect()
    }

    /// Names of several organisations at once, by id.
    pub async fn organisation_names(
        &self,
        ids: &[Uuid],
    ) -> Result<std::collections::HashMap<Uuid, String>> {
        if ids.is_empty() {
            return Ok(Default::default());
        }
        let sql = format!(
            "SELECT id, name FROM organisations WHERE id IN ({})",
            crate::placeholders(1, ids.len())
        );
        let rows: Vec<(Uuid, String)> = read!(self, |p| {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()));
            for id in ids {
                q = q.bind(id);
            }
            q.fetch_all(p)
        })?;
        Ok(rows.into_iter().collect())
    }

    /// Folds the names of rows written before `name_folded` existed (or by hand): run after
    /// every migration, it touches only names whose folded form is out of date.
    pub(crate) async fn refold_organisation_names(&self) -> Result<()> {
        let rows: Vec<(Uuid, String, String)> = read!(self, |p| sqlx::query_as(
            "SELECT id, name, name_folded FROM organisations"
        )
        .fetch_all(p))?;
        let stale: Vec<(Uuid, String)> = rows
            .into_iter()
            .filter(|(_, name, folded)| fold(name) != *folded)
            .map(|(id, name, _)| (id, fold(&name)))
            .collect();
        if stale.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin().await?;
        for (id, folded) in &stale {
            exec!(tx, |c| sqlx::query(
                "UPDATE organisations SET name_folded = $2 WHERE id = $1"
            )
            .bind(id)
            .bind(folded)
            .execute(c))?;
        }
        tx.commit().await
    }

    pub async fn count_organisations(&self) -> Result<i64> {
        let (n,): (i64,) = read!(self, |p| sqlx::query_as(
            "SELECT COUNT(*) FROM organisations"
        )
        .fetch_one(p))?;
        Ok(n)
    }
}

impl Tx {
    pub async fn create_organisation(&mut self, f: &OrganisationFields, now: i64) -> Result<Uuid> {
        let id = new_id();
        exec!(self, |c| {
            sqlx::query(
            "INSERT INTO organisations (id, name, kind, country, city, website, sectors, size, \
             description, created_at, name_folded) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        )
        .bind(id)
        .bind(&f.name)
        .bind(f.kind.key())
        .bind(f.country.code())
        .bind(&f.city)
        .bind(&f.website)
        .bind(to_json(&f.sectors))
        .bind(f.size.map(Keyed::key))
        .bind(to_json(&f.description))
        .bind(now)
        .bind(fold(&f.name))
        .execute(c)
        })?;
        Ok(id)
    }

    pub async fn update_organisation(&mut self, id: Uuid, f: &OrganisationFields) -> Result<()> {
        let done = exec!(self, |c| {
            sqlx::query(
            "UPDATE organisations SET name = $2, kind = $3, country = $4, city = $5, website = $6, \
             sectors = $7, size = $8, description = $9, name_folded = $10 WHERE id = $1"
        )
        .bind(id)
        .bind(&f.name)
        .bind(f.kind.key())
        .bind(f.country.code())
        .bind(&f.city)
        .bind(&f.website)
        .bind(to_json(&f.sectors))
        .bind(f.size.map(Keyed::key))
        .bind(to_json(&f.description))
        .bind(fold(&f.name))
        .execute(c)
        })?;
        if done == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}

/// The form of a name that the directory's filter compares: Unicode lower case.
fn fold(name: &str) -> String {
    name.to_lowercase()
}
