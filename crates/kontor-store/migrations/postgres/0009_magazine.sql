-- The magazine: articles with linked translations, static pages, images with their variants,
-- and the editor role. Keep in step with the other dialect's 0009_magazine.sql.

-- Editors write articles and pages (administrators always may).
CREATE TABLE magazine_editors (
    user_id UUID PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL
);

-- An uploaded image; its variants hold the bytes (re-encoded, so without the upload's metadata).
CREATE TABLE magazine_images (
    id UUID PRIMARY KEY,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    uploaded_by UUID REFERENCES users(id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE magazine_image_variants (
    image_id UUID NOT NULL REFERENCES magazine_images(id) ON DELETE CASCADE,
    width INTEGER NOT NULL,
    -- webp | jpeg
    format TEXT NOT NULL,
    bytes BYTEA NOT NULL,
    PRIMARY KEY (image_id, width, format)
);

-- One article in one language; translations share a translation_group.
CREATE TABLE magazine_articles (
    id UUID PRIMARY KEY,
    translation_group UUID NOT NULL,
    locale TEXT NOT NULL,
    slug TEXT NOT NULL,
    title TEXT NOT NULL,
    lead TEXT NOT NULL,
    body_md TEXT NOT NULL,
    author_name TEXT NOT NULL,
    author_id UUID REFERENCES users(id) ON DELETE SET NULL,
    -- JSON array of tag keys
    tags TEXT NOT NULL DEFAULT '[]',
    hero_image_id UUID REFERENCES magazine_images(id) ON DELETE SET NULL,
    hero_alt TEXT NOT NULL DEFAULT '',
    hero_credit TEXT NOT NULL DEFAULT '',
    -- draft | review | published
    status TEXT NOT NULL,
    -- Published articles are public from this instant on (scheduled publishing).
    publish_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (locale, slug),
    UNIQUE (translation_group, locale)
);
CREATE INDEX magazine_articles_public ON magazine_articles (locale, status, publish_at);

-- Static pages (location and infrastructure, …); nav_order puts a page into the navigation.
CREATE TABLE magazine_pages (
    id UUID PRIMARY KEY,
    translation_group UUID NOT NULL,
    locale TEXT NOT NULL,
    slug TEXT NOT NULL,
    title TEXT NOT NULL,
    body_md TEXT NOT NULL,
    nav_order INTEGER,
    updated_at BIGINT NOT NULL,
    UNIQUE (locale, slug),
    UNIQUE (translation_group, locale)
);
