//! The magazine: articles in de/en/zh linked as translations, static pages, uploaded images with
//! their re-encoded variants, and the editor role.
//!
//! Invariants:
//! - The public sees an article only when `status = 'published'` and `publish_at <= now`: a
//!   scheduled article becomes visible by the clock alone, no job flips it.
//! - Translations share a `translation_group`; one article per language and group.
//! - Image bytes live in the database, so several instances on one PostgreSQL serve the same
//!   images.

use kontor_domain::{Keyed, Locale};

use crate::{
    Result, Store, StoreError, Tx, Uuid, exec, from_json, from_key, new_id, read, to_json, write,
};

/// Where an article is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArticleStatus {
    Draft,
    Review,
    Published,
}

impl kontor_domain::Keyed for ArticleStatus {
    const ALL: &'static [ArticleStatus] = &[
        ArticleStatus::Draft,
        ArticleStatus::Review,
        ArticleStatus::Published,
    ];
    fn key(self) -> &'static str {
        match self {
            ArticleStatus::Draft => "draft",
            ArticleStatus::Review => "review",
            ArticleStatus::Published => "published",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Article {
    pub id: Uuid,
    pub translation_group: Uuid,
    pub locale: Locale,
    pub slug: String,
    pub title: String,
    pub lead: String,
    pub body_md: String,
    pub author_name: String,
    pub author_id: Option<Uuid>,
    pub tags: Vec<String>,
    pub hero_image_id: Option<Uuid>,
    pub hero_alt: String,
    pub hero_credit: String,
    pub status: ArticleStatus,
    pub publish_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// What an editor writes; the store adds ids and times.
#[derive(Debug, Clone)]
pub struct ArticleFields {
    /// `None` starts a new translation group; `Some` makes this a translation of that group.
    pub translation_group: Option<Uuid>,
    pub locale: Locale,
    pub slug: String,
    pub title: String,
    pub lead: String,
    pub body_md: String,
    pub author_name: String,
    pub author_id: Option<Uuid>,
    pub tags: Vec<String>,
    pub hero_image_id: Option<Uuid>,
    pub hero_alt: String,
    pub hero_credit: String,
    pub status: ArticleStatus,
    pub publish_at: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct ArticleRow {
    id: Uuid,
    translation_group: Uuid,
    locale: String,
    slug: String,
    title: String,
    lead: String,
    body_md: String,
    author_name: String,
    author_id: Option<Uuid>,
    tags: String,
    hero_image_id: Option<Uuid>,
    hero_alt: String,
    hero_credit: String,
    status: String,
    publish_at: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

const ARTICLE_COLUMNS: &str = "id, translation_group, locale, slug, title, lead, body_md, \
     author_name, author_id, tags, hero_image_id, hero_alt, hero_credit, status, publish_at, \
     created_at, updated_at";

/// The condition that makes an article public at instant `$1`.
const PUBLIC: &str = "status = 'published' AND publish_at IS NOT NULL AND publish_at <= $1";

impl TryFrom<ArticleRow> for Article {
    type Error = StoreError;
    fn try_from(r: ArticleRow) -> Result<Article> {
        Ok(Article {
            id: r.id,
            translation_group: r.translation_group,
            locale: from_key("magazine_articles.locale", &r.locale)?,
            slug: r.slug,
            title: r.title,
            lead: r.lead,
            body_md: r.body_md,
            author_name: r.author_name,
            author_id: r.author_id,
            tags: from_json("magazine_articles.tags", &r.tags)?,
            hero_image_id: r.hero_image_id,
            hero_alt: r.hero_alt,
            hero_credit: r.hero_credit,
            status: from_key("magazine_articles.status", &r.status)?,
            publish_at: r.publish_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

impl Article {
    /// Whether the public may read it at instant `now`.
    pub fn is_public(&self, now: i64) -> bool {
        self.status == ArticleStatus::Published && self.publish_at.is_some_and(|t| t <= now)
    }
    /// The instant shown as the publication date.
    pub fn published_at(&self) -> i64 {
        self.publish_at.unwrap_or(self.updated_at)
    }
}

#[derive(Debug, Clone)]
pub struct Page {
    pub id: Uuid,
    pub translation_group: Uuid,
    pub locale: Locale,
    pub slug: String,
    pub title: String,
    pub body_md: String,
    pub nav_order: Option<i32>,
    pub updated_at: i64,
}

#[derive(sqlx::FromRow)]
struct PageRow {
    id: Uuid,
    translation_group: Uuid,
    locale: String,
    slug: String,
    title: String,
    body_md: String,
    nav_order: Option<i32>,
    updated_at: i64,
}

impl TryFrom<PageRow> for Page {
    type Error = StoreError;
    fn try_from(r: PageRow) -> Result<Page> {
        Ok(Page {
            id: r.id,
            translation_group: r.translation_group,
            locale: from_key("magazine_pages.locale", &r.locale)?,
            slug: r.slug,
            title: r.title,
            body_md: r.body_md,
            nav_order: r.nav_order,
            updated_at: r.updated_at,
        })
    }
}

/// A static page as written; `translation_group` `None` starts a new group.
#[derive(Debug, Clone)]
pub struct PageFields {
    pub translation_group: Option<Uuid>,
    pub locale: Locale,
    pub slug: String,
    pub title: String,
    pub body_md: String,
    pub nav_order: Option<i32>,
}

const PAGE_COLUMNS: &str =
    "id, translation_group, locale, slug, title, body_md, nav_order, updated_at";

/// A stored image's size.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Image {
    pub id: Uuid,
    pub width: i32,
    pub height: i32,
}

/// One encoded size of an image.
#[derive(Debug, Clone)]
pub struct ImageVariant {
    pub width: i32,
    /// `webp` or `jpeg`.
    pub format: &'static str,
    pub bytes: Vec<u8>,
}

fn articles(rows: Vec<ArticleRow>) -> Result<Vec<Article>> {
    rows.into_iter().map(Article::try_from).collect()
}

impl Store {
    pub async fn is_editor(&self, user: Uuid) -> Result<bool> {
        let n: i64 = read!(self, |p| sqlx::query_scalar(
            "SELECT COUNT(*) FROM magazine_editors WHERE user_id = $1"
        )
        .bind(user)
        .fetch_one(p))?;
        Ok(n > 0)
    }

    /// The editors as (user id, name, e-mail), by name.
    pub async fn editors(&self) -> Result<Vec<(Uuid, String, String)>> {
        Ok(read!(self, |p| sqlx::query_as(
            "SELECT u.id, u.name, u.email FROM magazine_editors e JOIN users u ON u.id = e.user_id \
             ORDER BY u.name"
        )
        .fetch_all(p))?)
    }

    pub async fn article(&self, id: Uuid) -> Result<Article> {
        let sql = format!("SELECT {ARTICLE_COLUMNS} FROM magazine_articles WHERE id = $1");
        let row: ArticleRow = read!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(id)
            .fetch_one(p))?;
        row.try_into()
    }

    /// The article at `/magazine/{locale}/{slug}`, public or not (the caller decides).
    pub async fn article_by_slug(&self, locale: Locale, slug: &str) -> Result<Article> {
        let sql = format!(
            "SELECT {ARTICLE_COLUMNS} FROM magazine_articles WHERE locale = $1 AND slug = $2"
        );
        let row: ArticleRow = read!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(locale.key())
            .bind(slug)
            .fetch_one(p))?;
        row.try_into()
    }

    /// Every article of a translation group (all states), by language.
    pub async fn article_translations(&self, group: Uuid) -> Result<Vec<Article>> {
        let sql = format!(
            "SELECT {ARTICLE_COLUMNS} FROM magazine_articles WHERE translation_group = $1 \
             ORDER BY locale"
        );
        let rows = read!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(group)
            .fetch_all(p))?;
        articles(rows)
    }

    /// Public articles at `now`, newest first; `locale` `None` means every language.
    pub async fn public_articles(
        &self,
        now: i64,
        locale: Option<Locale>,
        limit: i64,
    ) -> Result<Vec<Article>> {
        let sql = format!(
            "SELECT {ARTICLE_COLUMNS} FROM magazine_articles WHERE {PUBLIC} \
             AND ($2 = '' OR locale = $2) ORDER BY publish_at DESC, id LIMIT $3"
        );
        let rows = read!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(now)
            .bind(locale.map_or("", |l| l.key()))
            .bind(limit)
            .fetch_all(p))?;
        articles(rows)
    }

    /// Every article, for the editors' list, most recently changed first.
    pub async fn all_articles(&self) -> Result<Vec<Article>> {
        let sql =
            format!("SELECT {ARTICLE_COLUMNS} FROM magazine_articles ORDER BY updated_at DESC");
        let rows = read!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .fetch_all(p))?;
        articles(rows)
    }

    pub async fn page_by_slug(&self, locale: Locale, slug: &str) -> Result<Page> {
        let sql =
            format!("SELECT {PAGE_COLUMNS} FROM magazine_pages WHERE locale = $1 AND slug = $2");
        let row: PageRow = read!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(locale.key())
            .bind(slug)
            .fetch_one(p))?;
        row.try_into()
    }

    /// All pages; those with a navigation order first, in that order.
    pub async fn pages(&self) -> Result<Vec<Page>> {
        let sql = format!(
            "SELECT {PAGE_COLUMNS} FROM magazine_pages \
             ORDER BY nav_order IS NULL, nav_order, locale, slug"
        );
        let rows: Vec<PageRow> =
            read!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .fetch_all(p))?;
        rows.into_iter().map(Page::try_from).collect()
    }

    /// The most recently uploaded images as (id, smallest stored width, upload time), newest
    /// first: what the article form offers as its picture.
    pub async fn recent_images(&self, limit: i64) -> Result<Vec<(Uuid, i32, i64)>> {
        Ok(read!(self, |p| sqlx::query_as(
            "SELECT i.id, MIN(v.width), i.created_at FROM magazine_images i \
             JOIN magazine_image_variants v ON v.image_id = i.id AND v.format = 'jpeg' \
             GROUP BY i.id, i.created_at ORDER BY i.created_at DESC, i.id LIMIT $1"
        )
        .bind(limit)
        .fetch_all(p))?)
    }

    pub async fn image(&self, id: Uuid) -> Result<Image> {
        Ok(read!(self, |p| sqlx::query_as(
            "SELECT id, width, height FROM magazine_images WHERE id = $1"
        )
        .bind(id)
        .fetch_one(p))?)
    }

    /// The widths stored for an image (each in every format), ascending.
    /// The (width, format) of every stored variant of an image, smallest first; `format` is
    /// `webp` or `jpeg`.
    pub async fn image_variants(&self, id: Uuid) -> Result<Vec<(i32, String)>> {
        Ok(read!(self, |p| sqlx::query_as(
            "SELECT width, format FROM magazine_image_variants WHERE image_id = $1 \
             ORDER BY width, format"
        )
        .bind(id)
        .fetch_all(p))?)
    }

    pub async fn image_variant(&self, id: Uuid, width: i32, format: &str) -> Result<Vec<u8>> {
        Ok(read!(self, |p| sqlx::query_scalar(
            "SELECT bytes FROM magazine_image_variants WHERE image_id = $1 AND width = $2 \
             AND format = $3"
        )
        .bind(id)
        .bind(width)
        .bind(format)
        .fetch_one(p))?)
    }
}

impl Tx {
    pub async fn set_editor(&mut self, user: Uuid, editor: bool, now: i64) -> Result<()> {
        if editor {
            exec!(self, |c| sqlx::query(
                "INSERT INTO magazine_editors (user_id, created_at) VALUES ($1, $2) \
                 ON CONFLICT (user_id) DO NOTHING"
            )
            .bind(user)
            .bind(now)
            .execute(c))?;
        } else {
            exec!(self, |c| sqlx::query(
                "DELETE FROM magazine_editors WHERE user_id = $1"
            )
            .bind(user)
            .execute(c))?;
        }
        Ok(())
    }

    /// Creates an article; returns its id.
    pub async fn create_article(&mut self, f: &ArticleFields, now: i64) -> Result<Uuid> {
        let id = new_id();
        let group = f.translation_group.unwrap_or(id);
        exec!(self, |c| sqlx::query(
            "INSERT INTO magazine_articles (id, translation_group, locale, slug, title, lead, \
             body_md, author_name, author_id, tags, hero_image_id, hero_alt, hero_credit, status, \
             publish_at, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16)"
        )
        .bind(id)
        .bind(group)
        .bind(f.locale.key())
        .bind(&f.slug)
        .bind(&f.title)
        .bind(&f.lead)
        .bind(&f.body_md)
        .bind(&f.author_name)
        .bind(f.author_id)
        .bind(to_json(&f.tags))
        .bind(f.hero_image_id)
        .bind(&f.hero_alt)
        .bind(&f.hero_credit)
        .bind(f.status.key())
        .bind(f.publish_at)
        .bind(now)
        .execute(c))?;
        Ok(id)
    }

    /// Replaces an article's fields (its translation group and author stay).
    pub async fn update_article(&mut self, id: Uuid, f: &ArticleFields, now: i64) -> Result<()> {
        let n = exec!(self, |c| sqlx::query(
            "UPDATE magazine_articles SET locale = $2, slug = $3, title = $4, lead = $5, \
             body_md = $6, author_name = $7, tags = $8, hero_image_id = $9, hero_alt = $10, \
             hero_credit = $11, status = $12, publish_at = $13, updated_at = $14 WHERE id = $1"
        )
        .bind(id)
        .bind(f.locale.key())
        .bind(&f.slug)
        .bind(&f.title)
        .bind(&f.lead)
        .bind(&f.body_md)
        .bind(&f.author_name)
        .bind(to_json(&f.tags))
        .bind(f.hero_image_id)
        .bind(&f.hero_alt)
        .bind(&f.hero_credit)
        .bind(f.status.key())
        .bind(f.publish_at)
        .bind(now)
        .execute(c))?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Creates or replaces the page at (`locale`, `slug`); returns its id.
    pub async fn upsert_page(&mut self, f: &PageFields, now: i64) -> Result<Uuid> {
        let id = new_id();
        let id: Uuid = write!(self, |c| sqlx::query_scalar(
            "INSERT INTO magazine_pages (id, translation_group, locale, slug, title, body_md, \
             nav_order, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (locale, slug) DO UPDATE SET title = excluded.title, \
             body_md = excluded.body_md, nav_order = excluded.nav_order, \
             updated_at = excluded.updated_at RETURNING id"
        )
        .bind(id)
        .bind(f.translation_group.unwrap_or(id))
        .bind(f.locale.key())
        .bind(&f.slug)
        .bind(&f.title)
        .bind(&f.body_md)
        .bind(f.nav_order)
        .bind(now)
        .fetch_one(c))?;
        Ok(id)
    }

    /// Stores an image with its variants; returns its id.
    pub async fn create_image(
        &mut self,
        width: i32,
        height: i32,
        uploaded_by: Option<Uuid>,
        variants: &[ImageVariant],
        now: i64,
    ) -> Result<Uuid> {
        let id = new_id();
        exec!(self, |c| sqlx::query(
            "INSERT INTO magazine_images (id, width, height, uploaded_by, created_at) \
             VALUES ($1, $2, $3, $4, $5)"
        )
        .bind(id)
        .bind(width)
        .bind(height)
        .bind(uploaded_by)
        .bind(now)
        .execute(c))?;
        for v in variants {
            exec!(self, |c| sqlx::query(
                "INSERT INTO magazine_image_variants (image_id, width, format, bytes) \
                 VALUES ($1, $2, $3, $4)"
            )
            .bind(id)
            .bind(v.width)
            .bind(v.format)
            .bind(&v.bytes)
            .execute(c))?;
        }
        Ok(id)
    }
}
