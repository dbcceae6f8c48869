//! The magazine on both databases: visibility (draft, scheduled), translations, sanitising,
//! feeds and sitemap, image uploads, related articles, Chinese search and the editor role.

use axum::body::Body;
use axum::http::{Request, header};
use kontor_domain::{Locale, now_micros};
use kontor_store::Store;
use kontor_store::magazine::{ArticleFields, ArticleStatus};
use uuid::Uuid;

use crate::helpers::{BASE, Reply, TestApp};

/// One app per backend: SQLite always, PostgreSQL when `KONTOR_TEST_DATABASE_URL` is set
/// (required with `KONTOR_REQUIRE_POSTGRES=1`).
async fn apps() -> Vec<TestApp> {
    let mut out = vec![TestApp::new().await];
    if let Some(server) = kontor_store::testing::postgres_server() {
        let url = kontor_store::testing::fresh_postgres_url(&server).await;
        let store = Store::connect(&url).await.unwrap();
        store.migrate().await.unwrap();
        out.push(TestApp::on(store));
    }
    out
}

pub(crate) fn fields(
    locale: Locale,
    slug: &str,
    title: &str,
    body: &str,
    tags: &[&str],
) -> ArticleFields {
    ArticleFields {
        translation_group: None,
        locale,
        slug: slug.into(),
        title: title.into(),
        lead: format!("Lead of {title}"),
        body_md: body.into(),
        author_name: "Redaktion".into(),
        author_id: None,
        tags: tags.iter().map(|t| t.to_string()).collect(),
        hero_image_id: None,
        hero_alt: String::new(),
        hero_credit: String::new(),
        status: ArticleStatus::Published,
        publish_at: Some(now_micros() - 1_000_000),
    }
}

/// A published article with these fields.
async fn publish(
    app: &TestApp,
    locale: Locale,
    slug: &str,
    title: &str,
    body: &str,
    tags: &[&str],
) -> Uuid {
    create(app, fields(locale, slug, title, body, tags)).await
}

pub(crate) async fn create(app: &TestApp, f: ArticleFields) -> Uuid {
    let mut tx = app.store.begin().await.unwrap();
    let id = tx.create_article(&f, now_micros()).await.unwrap();
    tx.commit().await.unwrap();
    id
}

pub(crate) async fn editor(app: &TestApp, email: &str) -> String {
    let id = app.user(email, Locale::En, false).await;
    let mut tx = app.store.begin().await.unwrap();
    tx.set_editor(id, true, now_micros()).await.unwrap();
    tx.commit().await.unwrap();
    app.sign_in(email).await
}

async fn upload(app: &TestApp, cookie: &str, filename: &str, bytes: &[u8]) -> Reply {
    app.post_multipart(
        "/magazine/editor/images",
        cookie,
        "en",
        &[("image", Some(filename), bytes)],
    )
    .await
}

#[tokio::test]
async fn drafts_are_invisible_and_scheduled_articles_appear_at_their_time() {
    for app in apps().await {
        let mut draft = fields(
            Locale::En,
            "draft-story",
            "Secret draft",
            "Not yet.",
            &["china"],
        );
        draft.status = ArticleStatus::Draft;
        create(&app, draft).await;
        let mut review = fields(Locale::En, "review-story", "Under review", "Soon.", &[]);
        review.status = ArticleStatus::Review;
        create(&app, review).await;
        let mut scheduled = fields(Locale::En, "later", "Scheduled story", "Later.", &[]);
        scheduled.publish_at = Some(now_micros() + 1_500_000);
        create(&app, scheduled).await;
        publish(&app, Locale::En, "now", "Visible story", "Now.", &["china"]).await;

        for path in [
            "/magazine/en/draft-story",
            "/magazine/en/review-story",
            "/magazine/en/later",
        ] {
            assert_eq!(app.get(path, None, "en").await.status, 404, "{path}");
        }
        // A tag nobody uses has no page; a topic of the list has one even while empty.
        assert_eq!(
            app.get("/magazine/tags/nonexistent", None, "en")
                .await
                .status,
            404
        );
        assert_eq!(app.get("/magazine/tags/jobs", None, "en").await.status, 200);
        let sitemap = app.get("/sitemap.xml", None, "en").await.body;
        assert!(sitemap.contains("/magazine/en/now<"), "{sitemap}");
        assert!(!sitemap.contains("/magazine/en/later"), "{sitemap}");
        assert!(!sitemap.contains("draft-story"), "{sitemap}");
        for path in [
            "/magazine",
            "/",
            "/magazine/tags/china",
            "/magazine/feed.en.atom",
        ] {
            let r = app.get(path, None, "en").await;
            assert_eq!(r.status, 200, "{path}");
            assert!(r.body.contains("Visible story"), "{path}: {}", r.body);
            assert!(!r.body.contains("Secret draft"), "{path}");
            assert!(!r.body.contains("Scheduled story"), "{path}");
            assert!(!r.body.contains("draft-story"), "{path}");
        }
        // An editor previews the draft, marked and not indexed.
        let cookie = editor(&app, "ed@example.com").await;
        let r = app
            .get("/magazine/en/draft-story", Some(&cookie), "en")
            .await;
        assert_eq!(r.status, 200);
        assert!(r.body.contains("noindex"));
        // One scheduled for tomorrow says when the public will see it.
        let mut tomorrow = fields(Locale::En, "tomorrow", "Tomorrow's story", "Soon.", &[]);
        tomorrow.publish_at = Some(now_micros() + 86_400_000_000);
        create(&app, tomorrow).await;
        let r = app.get("/magazine/en/tomorrow", Some(&cookie), "en").await;
        assert!(r.body.contains("Scheduled for "), "{}", r.body);

        tokio::time::sleep(std::time::Duration::from_millis(1600)).await;
        let r = app.get("/magazine/en/later", None, "en").await;
        assert_eq!(r.status, 200);
        assert!(
            app.get("/magazine", None, "en")
                .await
                .body
                .contains("Scheduled story")
        );
    }
}

#[tokio::test]
async fn translations_are_linked_and_the_switcher_points_to_them() {
    for app in apps().await {
        let cookie = editor(&app, "ed@example.com").await;
        let r = app
            .post_form(
                "/magazine/editor/new",
                Some(&cookie),
                "en",
                &[
                    ("locale", "de"),
                    ("title", "Partnerschaft mit Guiyang"),
                    ("slug", ""),
                    ("lead", "Ein neues Kapitel."),
                    ("body", "Text **fett**."),
                    ("author_name", "Redaktion"),
                    ("tags", "china, partnership"),
                    ("status", "published"),
                    ("publish_at", ""),
                ],
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.body);
        assert_eq!(
            r.header("location"),
            "/magazine/de/partnerschaft-mit-guiyang?saved=1"
        );
        // Tags are boxes to tick, the article's own ticked.
        let de_id = app
            .store
            .article_by_slug(Locale::De, "partnerschaft-mit-guiyang")
            .await
            .unwrap()
            .id;
        let form = app
            .get(&format!("/magazine/editor/{de_id}"), Some(&cookie), "de")
            .await;
        for (tag, ticked) in [("china", true), ("partnership", true), ("hydrogen", false)] {
            let at = form
                .body
                .find(&format!(r#"name="tags" value="{tag}""#))
                .unwrap_or_else(|| panic!("a box for {tag}: {}", form.body));
            let input = &form.body[at..at + form.body[at..].find('>').unwrap()];
            assert_eq!(input.contains("checked"), ticked, "{tag}: {input}");
        }
        // The editor lands on the article with a "saved" notice; readers never see one.
        let saved = app.get(r.header("location"), Some(&cookie), "de").await;
        assert!(
            saved.body.contains("data-testid=\"saved\""),
            "{}",
            saved.body
        );
        let reader = app.get(r.header("location"), None, "de").await;
        assert!(!reader.body.contains("data-testid=\"saved\""));
        let de = app
            .store
            .article_by_slug(Locale::De, "partnerschaft-mit-guiyang")
            .await
            .unwrap();
        let source = de.id.to_string();
        // A Chinese title makes no slug: the form says so (in the editor's language, English).
        let zh_form = |slug: &'static str| {
            vec![
                ("translation_of", source.clone()),
                ("locale", "zh".into()),
                ("title", "与贵阳的伙伴关系".into()),
                ("slug", slug.into()),
                ("lead", "新的篇章。".into()),
                ("body", "正文。".into()),
                ("author_name", "编辑部".into()),
                ("tags", "china".into()),
                ("status", "published".into()),
                ("publish_at", "".into()),
            ]
        };
        let form: Vec<(&str, String)> = zh_form("");
        let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = app
            .post_form("/magazine/editor/new", Some(&cookie), "de", &pairs)
            .await;
        assert_eq!(r.status, 422);
        assert!(
            r.body
                .contains("Please type an address: none can be made from this title"),
            "{}",
            r.body
        );
        // A control character (pasted from elsewhere) is no part of a title.
        let mut form = zh_form("mit-glocke");
        form[2].1 = "标题\u{7}".into();
        let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = app
            .post_form("/magazine/editor/new", Some(&cookie), "en", &pairs)
            .await;
        assert_eq!(r.status, 422);
        assert!(
            r.body.contains("characters that are not allowed"),
            "{}",
            r.body
        );
        let form = zh_form("partnerschaft-guiyang");
        let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = app
            .post_form("/magazine/editor/new", Some(&cookie), "en", &pairs)
            .await;
        assert_eq!(r.status, 303, "{}", r.body);
        // A second Chinese version of the same article is refused.
        let form = zh_form("noch-eine");
        let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = app
            .post_form("/magazine/editor/new", Some(&cookie), "en", &pairs)
            .await;
        assert_eq!(r.status, 422);
        assert!(r.body.contains("already has a version"), "{}", r.body);

        let zh = app
            .store
            .article_by_slug(Locale::Zh, "partnerschaft-guiyang")
            .await
            .unwrap();
        assert_eq!(zh.translation_group, de.translation_group);
        let page = app
            .get("/magazine/de/partnerschaft-mit-guiyang", None, "en")
            .await;
        assert_eq!(page.status, 200);
        assert!(
            page.body.contains(
                r#"<a href="&#x2f;magazine&#x2f;zh&#x2f;partnerschaft-guiyang" hreflang="zh-Hans""#
            ) || page
                .body
                .contains(r#"<a href="/magazine/zh/partnerschaft-guiyang" hreflang="zh-Hans""#),
            "{}",
            page.body
        );
        assert!(page.body.contains(r#"rel="canonical""#));
        // Switching the language on the article leads to its translation.
        let r = app
            .post_form(
                "/lang",
                None,
                "en",
                &[
                    ("to", "zh"),
                    ("back", "/magazine/de/partnerschaft-mit-guiyang"),
                ],
            )
            .await;
        assert_eq!(r.header("location"), "/magazine/zh/partnerschaft-guiyang");
        // The German article, the English reader's interface around it: each marked.
        assert!(
            page.body.contains(r#"<article lang="de""#)
                && page.body.contains(r#"<p class="meta" lang="en">"#),
            "{}",
            page.body
        );
        assert!(page.body.contains("application/ld+json"));
        assert!(page.body.contains("\"@type\":\"NewsArticle\""));
        assert!(
            page.body
                .contains(r#"property="og:title" content="Partnerschaft mit Guiyang""#)
        );
        let zh_page = app
            .get("/magazine/zh/partnerschaft-guiyang", None, "zh")
            .await;
        assert!(
            zh_page
                .body
                .contains("partnerschaft-mit-guiyang\" hreflang=\"de\""),
            "{}",
            zh_page.body
        );
        assert!(zh_page.body.contains("<article lang=\"zh-Hans\""));
    }
}

#[tokio::test]
async fn markdown_is_sanitised() {
    for app in apps().await {
        let body = "Hello <script>alert('x')</script>\n\n<img src=x onerror=alert(1)>\n\n\
                    [click](javascript:alert(1)) [ok](https://example.com/a) **bold**";
        publish(&app, Locale::En, "xss", "Tricky", body, &[]).await;
        let r = app.get("/magazine/en/xss", None, "en").await;
        assert_eq!(r.status, 200);
        assert!(!r.body.contains("<script>alert"), "{}", r.body);
        assert!(!r.body.contains("<img src=x"), "{}", r.body);
        assert!(!r.body.to_lowercase().contains("javascript:"), "{}", r.body);
        assert!(r.body.contains("<strong>bold</strong>"));
        assert!(r.body.contains("href=\"https://example.com/a\""));
        // The feed carries the same sanitised HTML (escaped once more as XML text).
        let feed = app.get("/magazine/feed.en.atom", None, "en").await;
        assert!(!feed.body.contains("&lt;script&gt;alert"), "{}", feed.body);
    }
}

#[tokio::test]
async fn atom_feed_is_well_formed_and_in_its_language() {
    for app in apps().await {
        publish(
            &app,
            Locale::Zh,
            "zh-1",
            "数字化氢能展会 & 更多",
            "正文",
            &["hydrogen"],
        )
        .await;
        publish(
            &app,
            Locale::En,
            "en-1",
            "Digital hydrogen fair",
            "Body",
            &["hydrogen"],
        )
        .await;
        let r = app.get("/magazine/feed.zh.atom", None, "en").await;
        assert_eq!(r.status, 200);
        assert!(r.header("content-type").starts_with("application/atom+xml"));
        let doc = roxmltree::Document::parse(&r.body).expect("well-formed XML");
        let feed = doc.root_element();
        assert_eq!(feed.tag_name().name(), "feed");
        assert_eq!(
            feed.tag_name().namespace(),
            Some("http://www.w3.org/2005/Atom")
        );
        assert_eq!(
            feed.attribute(("http://www.w3.org/XML/1998/namespace", "lang")),
            Some("zh-Hans")
        );
        let titles: Vec<_> = feed
            .descendants()
            .filter(|n| n.has_tag_name("entry"))
            .filter_map(|e| e.children().find(|c| c.has_tag_name("title")))
            .filter_map(|t| t.text())
            .collect();
        assert_eq!(titles, vec!["数字化氢能展会 & 更多"]);
        assert!(
            r.body
                .contains(&format!("<id>{BASE}/magazine/zh/zh-1</id>"))
        );
        assert_eq!(
            app.get("/magazine/feed.fr.atom", None, "en").await.status,
            404
        );
    }
}

#[tokio::test]
async fn sitemap_has_hreflang_alternates() {
    for app in apps().await {
        let de = publish(&app, Locale::De, "messe", "Digitale Messe", "Text", &[]).await;
        let mut en = fields(Locale::En, "fair", "Digital fair", "Text", &[]);
        en.translation_group = Some(app.store.article(de).await.unwrap().translation_group);
        create(&app, en).await;
        publish(&app, Locale::En, "alone", "Alone", "Text", &[]).await;
        let r = app.get("/sitemap.xml", None, "en").await;
        assert_eq!(r.status, 200);
        let doc = roxmltree::Document::parse(&r.body).expect("well-formed XML");
        let url_of = |loc: &str| {
            doc.descendants()
                .filter(|n| n.has_tag_name("url"))
                .find(|u| {
                    u.children()
                        .any(|c| c.has_tag_name("loc") && c.text() == Some(loc))
                })
                .unwrap_or_else(|| panic!("{loc} missing in {}", r.body))
        };
        let alternates = |loc: &str| {
            let mut v: Vec<(String, String)> = url_of(loc)
                .children()
                .filter(|c| {
                    c.tag_name().name() == "link"
                        && c.tag_name().namespace() == Some("http://www.w3.org/1999/xhtml")
                })
                .map(|c| {
                    (
                        c.attribute("hreflang").unwrap().into(),
                        c.attribute("href").unwrap().into(),
                    )
                })
                .collect();
            v.sort();
            v
        };
        let expected = vec![
            ("de".to_string(), format!("{BASE}/magazine/de/messe")),
            ("en".to_string(), format!("{BASE}/magazine/en/fair")),
        ];
        assert_eq!(alternates(&format!("{BASE}/magazine/de/messe")), expected);
        assert_eq!(alternates(&format!("{BASE}/magazine/en/fair")), expected);
        assert!(alternates(&format!("{BASE}/magazine/en/alone")).is_empty());
    }
}

/// A PNG whose header claims `w` × `h` pixels, with almost no data (a decompression bomb's
/// shape): the header is patched and its checksum recomputed.
fn png_claiming(w: u32, h: u32) -> Vec<u8> {
    let mut bytes = encode(
        &image::DynamicImage::new_rgb8(1, 1),
        image::ImageFormat::Png,
    );
    // Signature (8), length (4), "IHDR" (4), then width and height.
    bytes[16..20].copy_from_slice(&w.to_be_bytes());
    bytes[20..24].copy_from_slice(&h.to_be_bytes());
    let crc = crc32(&bytes[12..29]);
    bytes[29..33].copy_from_slice(&crc.to_be_bytes());
    bytes
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for b in data {
        crc ^= u32::from(*b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn encode(img: &image::DynamicImage, format: image::ImageFormat) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, format).unwrap();
    out.into_inner()
}

/// The widths an image is stored in, in `format`.
async fn widths_in(app: &TestApp, id: Uuid, format: &str) -> Vec<i32> {
    let variants = app.store.image_variants(id).await.unwrap();
    variants
        .into_iter()
        .filter(|(_, f)| f == format)
        .map(|(w, _)| w)
        .collect()
}

/// Uploads `img` as a PNG named `name`; the new image's id.
async fn uploaded_png(app: &TestApp, cookie: &str, name: &str, img: &image::DynamicImage) -> Uuid {
    let r = upload(app, cookie, name, &encode(img, image::ImageFormat::Png)).await;
    assert_eq!(r.status, 303, "{}", r.body);
    r.header("location")
        .rsplit('=')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

fn photo(w: u32, h: u32) -> image::DynamicImage {
    image::DynamicImage::ImageRgb8(image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, ((x + y) % 256) as u8])
    }))
}

#[tokio::test]
async fn bad_uploads_get_clear_errors() {
    for app in apps().await {
        let cookie = editor(&app, "ed@example.com").await;
        let r = upload(
            &app,
            &cookie,
            "notes.png",
            b"this is plain text, not a picture",
        )
        .await;
        assert_eq!(r.status, 415);
        assert!(
            r.body.contains("not a JPEG, PNG or WebP image"),
            "{}",
            r.body
        );

        let big = vec![0xFFu8; 16 * 1024 * 1024];
        let r = upload(&app, &cookie, "big.jpg", &big).await;
        assert_eq!(r.status, 413);
        assert!(r.body.contains("too large"), "{}", r.body);
        // Declared too large: refused before reading, with the same message.
        let req = Request::post("/magazine/editor/images")
            .header(
                header::CONTENT_TYPE,
                "multipart/form-data; boundary=----kontor-test-boundary",
            )
            .header(header::CONTENT_LENGTH, (40 * 1024 * 1024).to_string())
            .header("sec-fetch-site", "same-origin")
            .header(header::COOKIE, &cookie)
            .body(Body::from(vec![0u8; 40 * 1024 * 1024]))
            .unwrap();
        let r = app.send(req).await;
        assert_eq!(r.status, 413);
        assert!(r.body.contains("too large"), "{}", r.body);

        let r = upload(&app, &cookie, "bomb.png", &png_claiming(100_000, 100_000)).await;
        assert_eq!(r.status, 413);
        assert!(r.body.contains("too many pixels"), "{}", r.body);

        // A truncated real image.
        let png = encode(&photo(64, 64), image::ImageFormat::Png);
        let r = upload(&app, &cookie, "cut.png", &png[..png.len() / 2]).await;
        assert_eq!(r.status, 422, "{}", r.body);

        // Not an editor: no upload at all.
        app.user("plain@example.com", Locale::En, false).await;
        let plain = app.sign_in("plain@example.com").await;
        let r = upload(&app, &plain, "ok.png", &png).await;
        assert_eq!(r.status, 403);
    }
}

#[tokio::test]
async fn real_images_give_webp_and_jpeg_variants_without_metadata() {
    for app in apps().await {
        let cookie = editor(&app, "ed@example.com").await;
        // A JPEG with an EXIF segment (camera and GPS data live there) right after SOI.
        let jpeg = encode(&photo(1000, 500), image::ImageFormat::Jpeg);
        let mut exif = vec![0xFF, 0xE1];
        let payload = b"Exif\0\0GPS-SECRET-LOCATION-52.52N-13.40E";
        exif.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
        exif.extend_from_slice(payload);
        let mut with_exif = jpeg[..2].to_vec();
        with_exif.extend_from_slice(&exif);
        with_exif.extend_from_slice(&jpeg[2..]);
        let png = encode(&photo(300, 200), image::ImageFormat::Png);

        for (name, bytes, widths) in [
            ("photo.jpg", with_exif, vec![480, 960, 1000]),
            ("shot.png", png, vec![300]),
        ] {
            let r = upload(&app, &cookie, name, &bytes).await;
            assert_eq!(r.status, 303, "{}", r.body);
            let id: Uuid = r
                .header("location")
                .strip_prefix("/magazine/editor?image=")
                .unwrap()
                .parse()
                .unwrap();
            assert_eq!(widths_in(&app, id, "jpeg").await, widths);
            // A drawing gets a WebP at every width; a photograph where it is smaller.
            let webp_widths = widths_in(&app, id, "webp").await;
            if name == "shot.png" {
                assert_eq!(webp_widths, widths);
            }
            for w in &widths {
                let jpeg = app.store.image_variant(id, *w, "jpeg").await.unwrap();
                let webp = app
                    .get(&format!("/magazine/images/{id}/{w}.webp"), None, "en")
                    .await;
                if !webp_widths.contains(w) {
                    assert_eq!(webp.status, 404);
                } else {
                    assert_eq!(webp.status, 200);
                    assert_eq!(webp.header("content-type"), "image/webp");
                    assert!(webp.header("cache-control").contains("immutable"));
                    let raw = app.store.image_variant(id, *w, "webp").await.unwrap();
                    assert_eq!(&raw[..4], b"RIFF");
                    assert_eq!(&raw[8..12], b"WEBP");
                    assert!(raw.len() < jpeg.len(), "a WebP only where it is smaller");
                    let decoded = image::load_from_memory(&raw).unwrap();
                    assert_eq!(decoded.width(), *w as u32);
                }
                let raw = jpeg;
                assert_eq!(&raw[..2], &[0xFF, 0xD8]);
                assert!(
                    !raw.windows(4).any(|x| x == b"Exif"),
                    "EXIF left in {name} {w}"
                );
                assert!(!raw.windows(6).any(|x| x == b"SECRET"));
            }
            // The editor page shows the uploaded image.
            let r = app
                .get(&format!("/magazine/editor?image={id}"), Some(&cookie), "en")
                .await;
            assert!(r.body.contains(&id.to_string()));
            // The fixed widths of cards (480) and social previews (960) always answer, with
            // the nearest width there is.
            for fixed in [480, 960] {
                let r = app
                    .get(&format!("/magazine/images/{id}/{fixed}.jpeg"), None, "en")
                    .await;
                assert_eq!(r.status, 200, "{name} at {fixed}");
                let nearest = widths
                    .iter()
                    .copied()
                    .find(|w| *w >= fixed)
                    .unwrap_or(widths[widths.len() - 1]);
                let decoded = image::load_from_memory(&r.bytes).unwrap();
                assert_eq!(decoded.width(), nearest as u32, "{name} at {fixed}");
            }
        }
        // A noisy photograph: lossless WebP would be larger than the JPEG, so there is none
        // and the article page offers the JPEG alone.
        let mut seed = 0x2545_f491_u32;
        let noise = image::DynamicImage::ImageRgb8(image::RgbImage::from_fn(600, 400, |_, _| {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            let [r, g, b, _] = seed.to_le_bytes();
            image::Rgb([r, g, b])
        }));
        let id = uploaded_png(&app, &cookie, "noise.png", &noise).await;
        assert_eq!(widths_in(&app, id, "jpeg").await, vec![480, 600]);
        assert!(widths_in(&app, id, "webp").await.is_empty());
        let webp = app
            .get(&format!("/magazine/images/{id}/480.webp"), None, "en")
            .await;
        assert_eq!(webp.status, 404);
        let mut f = fields(Locale::En, "noisy", "Noisy", "Text", &[]);
        f.hero_image_id = Some(id);
        f.hero_alt = "Noise".into();
        create(&app, f).await;
        let page = app.get("/magazine/en/noisy", None, "en").await;
        assert!(page.body.contains("480.jpeg 480w"), "{}", page.body);
        assert!(!page.body.contains("image/webp"), "{}", page.body);

        assert_eq!(
            app.get(
                &format!("/magazine/images/{}/480.gif", Uuid::now_v7()),
                None,
                "en"
            )
            .await
            .status,
            404
        );
    }
}

#[tokio::test]
async fn article_page_serves_responsive_hero_image() {
    for app in apps().await {
        let cookie = editor(&app, "ed@example.com").await;
        let id = uploaded_png(&app, &cookie, "p.png", &photo(1200, 600)).await;
        // The article form offers the upload as a picture to choose, by its smallest variant.
        let form = app.get("/magazine/editor/new", Some(&cookie), "en").await;
        assert!(
            form.body
                .contains(&format!(r#"name="hero_image_id" value="{id}""#))
                && form
                    .body
                    .contains(&format!("/magazine/images/{id}/480.jpeg")),
            "{}",
            form.body
        );
        let mut f = fields(Locale::En, "with-image", "With image", "Text", &[]);
        f.hero_image_id = Some(id);
        f.hero_alt = "A gradient".into();
        f.hero_credit = "Kontor".into();
        create(&app, f).await;
        let r = app.get("/magazine/en/with-image", None, "en").await;
        assert!(r.body.contains(r#"type="image/webp""#), "{}", r.body);
        // Editing it, its picture is the one chosen.
        let article = app
            .store
            .article_by_slug(Locale::En, "with-image")
            .await
            .unwrap();
        let edit = app
            .get(
                &format!("/magazine/editor/{}", article.id),
                Some(&cookie),
                "en",
            )
            .await;
        assert!(
            edit.body
                .contains(&format!(r#"name="hero_image_id" value="{id}" checked"#)),
            "{}",
            edit.body
        );
        assert!(r.body.contains("480.webp 480w"), "{}", r.body);
        assert!(r.body.contains("1200.jpeg 1200w"), "{}", r.body);
        assert!(r.body.contains(r#"alt="A gradient""#));
        assert!(r.body.contains("Photo: Kontor"));
        assert!(r.body.contains("og:image"));
    }
}

#[tokio::test]
async fn related_articles_share_tags_or_words() {
    for app in apps().await {
        publish(
            &app,
            Locale::En,
            "h2-fair",
            "Hydrogen fair opens",
            "Fuel cells and electrolysers.",
            &["hydrogen", "events"],
        )
        .await;
        publish(
            &app,
            Locale::En,
            "h2-valley",
            "Hydrogen valley",
            "Pipelines and storage.",
            &["hydrogen"],
        )
        .await;
        publish(
            &app,
            Locale::En,
            "jobs",
            "Talent days",
            "Interviews with graduates.",
            &["jobs"],
        )
        .await;
        let r = app.get("/magazine/en/h2-fair", None, "en").await;
        let related = r
            .body
            .split("id=\"related-h\"")
            .nth(1)
            .expect("a related section");
        assert!(related.contains("Hydrogen valley"));
        assert!(!related.contains("Talent days"));
        assert!(!related.contains("Hydrogen fair opens"));
    }
}

#[tokio::test]
async fn search_finds_a_chinese_article_by_a_chinese_word() {
    for app in apps().await {
        publish(
            &app,
            Locale::Zh,
            "h2",
            "数字化氢能与生命科学展会",
            "我们邀请生产氢燃料电池的企业参加线上洽谈。",
            &["hydrogen"],
        )
        .await;
        publish(
            &app,
            Locale::Zh,
            "jobs",
            "中国人才日",
            "线上招聘会面向毕业生。",
            &["jobs"],
        )
        .await;
        publish(
            &app,
            Locale::En,
            "en",
            "Fuel cells",
            "燃料电池 in English text.",
            &[],
        )
        .await;
        let r = app
            .get(
                "/magazine/search?q=%E7%87%83%E6%96%99%E7%94%B5%E6%B1%A0&lang=zh",
                None,
                "zh",
            )
            .await;
        assert_eq!(r.status, 200);
        assert!(r.body.contains("数字化氢能与生命科学展会"), "{}", r.body);
        assert!(!r.body.contains("中国人才日"));
        // Only the reader's language.
        assert!(!r.body.contains("Fuel cells"));
        let r = app
            .get("/magazine/search?q=%E6%8B%9B%E8%81%98&lang=zh", None, "zh")
            .await;
        assert!(r.body.contains("中国人才日"));
        assert!(!r.body.contains("数字化氢能与生命科学展会"));
        // A word's beginning finds it too: one character in Chinese ("招" for 招聘), three
        // letters or more elsewhere; but not one Latin letter.
        let r = app
            .get("/magazine/search?q=%E6%8B%9B&lang=zh", None, "zh")
            .await;
        assert!(r.body.contains("中国人才日"), "{}", r.body);
        assert!(!r.body.contains("数字化氢能与生命科学展会"));
        let r = app.get("/magazine/search?q=fue", None, "en").await;
        assert!(r.body.contains("Fuel cells"), "{}", r.body);
        let r = app.get("/magazine/search?q=fu", None, "en").await;
        assert!(!r.body.contains("Fuel cells"), "{}", r.body);
        // No match says so (not "no articles yet"), and an empty search is the magazine.
        let r = app.get("/magazine/search?q=xyzzy", None, "en").await;
        assert!(r.body.contains("No articles match “xyzzy”."), "{}", r.body);
        assert!(!r.body.contains("No articles yet."));
        let r = app.get("/magazine/search?q=+", None, "en").await;
        assert_eq!((r.status, r.header("location")), (303, "/magazine"));
    }
}

#[tokio::test]
async fn only_editors_and_administrators_write() {
    for app in apps().await {
        let form = [
            ("locale", "en"),
            ("title", "Hello"),
            ("slug", "hello"),
            ("lead", "Lead"),
            ("body", "Body"),
            ("author_name", "Me"),
            ("tags", ""),
            ("status", "published"),
            ("publish_at", ""),
        ];
        // Anonymous: sent to sign in; a POST is refused.
        let r = app.get("/magazine/editor", None, "en").await;
        assert_eq!(r.status, 303);
        assert_eq!(
            app.post_form("/magazine/editor/new", None, "en", &form)
                .await
                .status,
            401
        );
        app.user("plain@example.com", Locale::En, false).await;
        let plain = app.sign_in("plain@example.com").await;
        assert_eq!(
            app.get("/magazine/editor", Some(&plain), "en").await.status,
            403
        );
        assert_eq!(
            app.get("/magazine/editor/new", Some(&plain), "en")
                .await
                .status,
            403
        );
        assert_eq!(
            app.post_form("/magazine/editor/new", Some(&plain), "en", &form)
                .await
                .status,
            403
        );
        assert!(matches!(
            app.store.article_by_slug(Locale::En, "hello").await,
            Err(kontor_store::StoreError::NotFound)
        ));

        let ed = editor(&app, "ed@example.com").await;
        assert_eq!(
            app.get("/magazine/editor", Some(&ed), "en").await.status,
            200
        );
        // Editors find their desk in the navigation; other readers do not.
        let nav = r#"<a href="/magazine/editor">Magazine editing</a>"#;
        assert!(app.get("/events", Some(&ed), "en").await.body.contains(nav));
        assert!(
            !app.get("/events", Some(&plain), "en")
                .await
                .body
                .contains(nav)
        );
        // An empty form: the summary names each field, and the form marks what is required.
        let empty = app
            .post_form("/magazine/editor/new", Some(&ed), "en", &[("locale", "en")])
            .await;
        assert_eq!(empty.status, 422);
        for named in [
            ">Lead: Please fill in this field.</a>",
            ">Text (Markdown): Please fill in this field.</a>",
        ] {
            assert!(empty.body.contains(named), "{named}: {}", empty.body);
        }
        assert!(
            empty
                .body
                .contains(r#"Lead <span aria-hidden="true">*</span>"#)
        );
        assert_eq!(
            app.post_form("/magazine/editor/new", Some(&ed), "en", &form)
                .await
                .status,
            303
        );
        app.user("admin@example.com", Locale::En, true).await;
        let admin = app.sign_in("admin@example.com").await;
        let id = app
            .store
            .article_by_slug(Locale::En, "hello")
            .await
            .unwrap()
            .id;
        let mut edit = form.to_vec();
        edit[1] = ("title", "Hello again");
        // Ticked boxes arrive as one value each.
        edit.retain(|(k, _)| *k != "tags");
        edit.extend([("tags", "china"), ("tags", "events"), ("tags", "china")]);
        let r = app
            .post_form(&format!("/magazine/editor/{id}"), Some(&admin), "en", &edit)
            .await;
        assert_eq!(r.status, 303, "{}", r.body);
        let saved = app.store.article(id).await.unwrap();
        assert_eq!(saved.title, "Hello again");
        assert_eq!(saved.tags, ["china", "events"]);
        // Administrators grant and revoke the role; editors cannot.
        let r = app
            .post_form(
                "/magazine/editor/editors",
                Some(&ed),
                "en",
                &[("email", "plain@example.com")],
            )
            .await;
        assert_eq!(r.status, 403);
        let r = app
            .post_form(
                "/magazine/editor/editors",
                Some(&admin),
                "en",
                &[("email", "nobody@example.com")],
            )
            .await;
        assert_eq!(r.status, 422);
        let r = app
            .post_form(
                "/magazine/editor/editors",
                Some(&admin),
                "en",
                &[("email", "plain@example.com")],
            )
            .await;
        assert_eq!(r.status, 303);
        assert_eq!(
            app.get("/magazine/editor", Some(&plain), "en").await.status,
            200
        );
        let listing = app.get("/magazine/editor", Some(&admin), "en").await.body;
        assert!(listing.contains("plain@example.com"));
        assert!(
            listing.contains("<title>Magazine editing · Kontor</title>"),
            "{listing}"
        );
        let plain_id = app
            .store
            .editors()
            .await
            .unwrap()
            .into_iter()
            .find(|e| e.2 == "plain@example.com")
            .unwrap()
            .0
            .to_string();
        let r = app
            .post_form(
                "/magazine/editor/editors",
                Some(&admin),
                "en",
                &[("remove", plain_id.as_str())],
            )
            .await;
        assert_eq!(r.status, 303);
        assert_eq!(
            app.get("/magazine/editor", Some(&plain), "en").await.status,
            403
        );
        // Cross-site posts are refused even for editors.
        let req = Request::post("/magazine/editor/new")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header("sec-fetch-site", "cross-site")
            .header(header::COOKIE, &ed)
            .body(Body::from(serde_urlencoded::to_string(form).unwrap()))
            .unwrap();
        assert_eq!(app.send(req).await.status, 403);
    }
}

fn page_form<'a>(
    locale: &'a str,
    slug: &'a str,
    title: &'a str,
    body: &'a str,
    translation_of: &'a str,
) -> [(&'static str, &'a str); 6] {
    [
        ("locale", locale),
        ("slug", slug),
        ("title", title),
        ("body", body),
        ("nav_order", "1"),
        ("translation_of", translation_of),
    ]
}

async fn post_page(app: &TestApp, cookie: &str, form: &[(&str, &str)]) -> Reply {
    app.post_form("/magazine/editor/page", Some(cookie), "en", form)
        .await
}

#[tokio::test]
async fn static_pages_are_translated_and_in_the_navigation() {
    for app in apps().await {
        let ed = editor(&app, "ed@example.com").await;
        let r = post_page(
            &app,
            &ed,
            &page_form(
                "de",
                "standort",
                "Standort und Infrastruktur",
                "Köln liegt am **Rhein**.",
                "",
            ),
        )
        .await;
        assert_eq!(r.status, 303, "{}", r.body);
        let r = post_page(
            &app,
            &ed,
            &page_form(
                "en",
                "location",
                "Location and infrastructure",
                "Cologne lies on the **Rhine**.",
                "de/standort",
            ),
        )
        .await;
        assert_eq!(r.status, 303, "{}", r.body);
        let r = post_page(
            &app,
            &ed,
            &[
                ("locale", "en"),
                ("slug", "x"),
                ("title", ""),
                ("body", "b"),
            ],
        )
        .await;
        assert_eq!(r.status, 422);
        // The editor's list offers the one language the page still lacks, and only it.
        let list = app.get("/magazine/editor", Some(&ed), "en").await.body;
        assert!(
            list.contains("translation_of=de/standort&amp;locale=zh"),
            "{list}"
        );
        assert!(!list.contains("&amp;locale=en\" lang=\"en\">English</a></li>"));
        assert_eq!(
            list.matches("translation_of=de/standort").count(),
            1,
            "{list}"
        );
        assert_eq!(
            list.matches("translation_of=en/location").count(),
            1,
            "{list}"
        );

        let page = app.get("/pages/en/location", None, "en").await;
        assert_eq!(page.status, 200);
        assert!(page.body.contains("<strong>Rhine</strong>"));
        assert!(page.body.contains("hreflang=\"de\""), "{}", page.body);
        assert!(page.body.contains("standort"));
        // The English navigation lists the English page only.
        let list = app.get("/magazine", None, "en").await.body;
        assert!(list.contains("Location and infrastructure"));
        assert!(!list.contains("Standort und Infrastruktur"));
        let sitemap = app.get("/sitemap.xml", None, "en").await.body;
        assert!(sitemap.contains(&format!(
            "<xhtml:link rel=\"alternate\" hreflang=\"de\" href=\"{BASE}/pages/de/standort\"/>"
        )));
        // Not an editor: no page writing.
        app.user("plain@example.com", Locale::En, false).await;
        let plain = app.sign_in("plain@example.com").await;
        let r = post_page(
            &app,
            &plain,
            &[
                ("locale", "en"),
                ("slug", "location"),
                ("title", "Hacked"),
                ("body", "x"),
            ],
        )
        .await;
        assert_eq!(r.status, 403);
        assert_eq!(
            app.store
                .page_by_slug(Locale::En, "location")
                .await
                .unwrap()
                .title,
            "Location and infrastructure"
        );
    }
}
