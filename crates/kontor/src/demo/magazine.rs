//! The demo magazine: three articles in German, English and Chinese (written for the demo, every
//! name invented), their lead images drawn in code, a static page in the navigation and an
//! editor account.

use image::{DynamicImage, Rgb, RgbImage};
use kontor_domain::{Locale, now_micros};
use kontor_store::Store;
use kontor_store::magazine::{ArticleFields, ArticleStatus, PageFields};
use uuid::Uuid;

const DAY: i64 = 86_400_000_000;

/// One article in one language: slug, title, lead, body (Markdown).
type Version = (
    Locale,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);

struct Story {
    tags: &'static [&'static str],
    days_ago: i64,
    author: &'static str,
    alt: [&'static str; 3],
    colours: [[u8; 3]; 2],
    versions: [Version; 3],
}

const STORIES: [Story; 3] = [
    Story {
        tags: &[
            "international",
            "china",
            "partnership",
            "hydrogen",
            "life-sciences",
        ],
        days_ago: 12,
        author: "Katrin Albers",
        alt: [
            "Abstrakte Grafik in Blau und Grün: zwei Bögen, die sich berühren",
            "Abstract graphic in blue and green: two arcs that touch",
            "蓝绿色抽象图形：两条相接的弧线",
        ],
        colours: [[20, 70, 140], [40, 160, 120]],
        versions: [
            (
                Locale::De,
                "koeln-und-guiyang-vereinbaren-partnerschaft",
                "Köln und Guiyang vereinbaren eine Wirtschaftspartnerschaft",
                "Wasserstoff, Life Sciences und Umwelttechnik: Die Wirtschaftsförderung und das Investitionsförderamt von Guiyang wollen Unternehmen beider Städte zusammenbringen.",
                "Die Wirtschaftsförderung Köln und das Investitionsförderamt der südwestchinesischen Provinzhauptstadt Guiyang haben eine Absichtserklärung unterzeichnet. Sie soll mittelständischen Unternehmen aus beiden Regionen den Weg zu Partnern, Pilotprojekten und Aufträgen erleichtern.\n\n## Drei Schwerpunkte\n\n- **Wasserstoff:** Elektrolyse, Speicherung und Brennstoffzellen für Nutzfahrzeuge.\n- **Life Sciences:** Medizintechnik, Diagnostik und klinische Studien.\n- **Umwelttechnik:** Wasseraufbereitung und Kreislaufwirtschaft.\n\nGuiyang hat sich in den vergangenen Jahren zu einem Zentrum für Rechenzentren und Big Data entwickelt. „Wir suchen Partner, die Technik nicht nur verkaufen, sondern mit uns vor Ort weiterentwickeln“, sagt die Leiterin des Investitionsförderamts.\n\n## Was Unternehmen jetzt tun können\n\nDer erste Schritt ist ein Profil auf dieser Plattform: Wer sein Angebot oder seine Suche im [Marktplatz](/marketplace) beschreibt, wird bei den kommenden [B2B-Tagen](/events/hydrogen-life-sciences-b2b-days) passenden Gesprächspartnern vorgeschlagen. Das International Desk berät kostenlos zu Markteintritt, Förderprogrammen und Delegationsreisen.",
            ),
            (
                Locale::En,
                "cologne-and-guiyang-agree-partnership",
                "Cologne and Guiyang agree on an economic partnership",
                "Hydrogen, life sciences and environmental technology: the economic-development agency and Guiyang's investment promotion bureau want to bring companies from both cities together.",
                "Cologne's economic-development agency and the investment promotion bureau of Guiyang, capital of the south-western province of Guizhou, have signed a memorandum of understanding. It is meant to make it easier for small and mid-sized companies in both regions to find partners, pilot projects and customers.\n\n## Three focus areas\n\n- **Hydrogen:** electrolysis, storage and fuel cells for commercial vehicles.\n- **Life sciences:** medical technology, diagnostics and clinical trials.\n- **Environmental technology:** water treatment and the circular economy.\n\nOver the past years Guiyang has grown into a hub for data centres and big data. \"We are looking for partners who do not just sell technology but develop it further with us, on site,\" says the head of the investment promotion bureau.\n\n## What companies can do now\n\nStart with a profile on this platform: if you describe what you offer or look for in the [marketplace](/marketplace), you will be suggested to matching partners at the upcoming [B2B Days](/events/hydrogen-life-sciences-b2b-days). The International Desk advises free of charge on market entry, funding programmes and delegation trips.",
            ),
            (
                Locale::Zh,
                "koeln-guiyang-jingji-huoban",
                "科隆与贵阳建立经济合作伙伴关系",
                "氢能、生命科学和环保技术：科隆经济促进机构与贵阳市投资促进局将携手促进两地企业合作。",
                "科隆经济促进机构与贵州省会贵阳市投资促进局签署了合作备忘录，旨在帮助两地中小企业更便捷地寻找合作伙伴、试点项目和客户。\n\n## 三大重点领域\n\n- **氢能：**电解制氢、储氢以及商用车燃料电池。\n- **生命科学：**医疗器械、诊断技术和临床研究。\n- **环保技术：**水处理与循环经济。\n\n近年来，贵阳已发展成为数据中心和大数据产业的重要基地。贵阳市投资促进局负责人表示：“我们寻找的合作伙伴不只是出售技术，而是愿意与我们在当地共同研发。”\n\n## 企业现在可以做什么\n\n第一步是在本平台上创建资料：在[合作市场](/marketplace)中介绍您的产品或需求，系统会在即将举行的[B2B 对接日](/events/hydrogen-life-sciences-b2b-days)为您推荐合适的洽谈对象。国际服务部免费提供市场进入、资助项目和代表团考察方面的咨询。",
            ),
        ],
    },
    Story {
        tags: &["hydrogen", "life-sciences", "events"],
        days_ago: 5,
        author: "Martin Roth",
        alt: [
            "Abstrakte Grafik in Türkis und Gelb: feine diagonale Linien",
            "Abstract graphic in teal and yellow: fine diagonal lines",
            "青色与黄色抽象图形：细斜线",
        ],
        colours: [[0, 110, 120], [230, 190, 40]],
        versions: [
            (
                Locale::De,
                "digitale-b2b-messe-wasserstoff-life-sciences",
                "Digitale B2B-Messe: Wasserstoff und Life Sciences im Gespräch",
                "Vorab vereinbarte Gespräche von 30 Minuten, vor Ort in Köln oder per Video aus Guiyang: So funktionieren die B2B-Tage.",
                "Bei den [Köln–Guiyang B2B-Tagen](/events/hydrogen-life-sciences-b2b-days) treffen sich Unternehmen, Forschungseinrichtungen und Behörden nicht zufällig am Stand, sondern zu vorab vereinbarten Gesprächen von je 30 Minuten.\n\n## So funktioniert es\n\n1. Sie melden sich an und beschreiben im Profil, was Sie anbieten und suchen.\n2. Sie stellen Gesprächsanfragen – die Plattform schlägt passende Partner vor.\n3. Die Veranstalter planen alle bestätigten Gespräche so, dass niemand zwei Termine gleichzeitig hat.\n\nJeder sieht seinen Terminplan in der eigenen Zeitzone: Wer in Guiyang sitzt, liest Pekinger Zeit, wer in Köln ist, mitteleuropäische. Gespräche per Video brauchen keine Software, die in China gesperrt ist.\n\nDie Teilnahme ist für Unternehmen kostenlos. Die Anmeldung ist bis kurz vor Beginn geöffnet.",
            ),
            (
                Locale::En,
                "digital-b2b-fair-hydrogen-life-sciences",
                "Digital B2B fair: hydrogen and life sciences in conversation",
                "Pre-arranged 30-minute meetings, on site in Cologne or by video from Guiyang: this is how the B2B Days work.",
                "At the [Cologne–Guiyang B2B Days](/events/hydrogen-life-sciences-b2b-days), companies, research institutes and public bodies do not meet by chance at a booth but in pre-arranged meetings of 30 minutes each.\n\n## How it works\n\n1. Register and describe in your profile what you offer and what you are looking for.\n2. Send meeting requests – the platform suggests matching partners.\n3. The organisers schedule all accepted meetings so that nobody has two at the same time.\n\nEveryone sees their agenda in their own time zone: participants in Guiyang read China Standard Time, those in Cologne Central European Time. Video meetings need no software that is blocked in China.\n\nParticipation is free for companies. Registration stays open until shortly before the start.",
            ),
            (
                Locale::Zh,
                "shuzihua-b2b-zhanhui-qingneng-shengming-kexue",
                "数字化 B2B 展会：聚焦氢能与生命科学",
                "提前预约的 30 分钟洽谈，可在科隆现场参加，也可在贵阳通过视频参加：B2B 对接日的参与方式。",
                "在[科隆—贵阳 B2B 对接日](/events/hydrogen-life-sciences-b2b-days)上，企业、科研机构和政府部门不是在展台偶遇，而是参加提前预约、每场 30 分钟的一对一洽谈。\n\n## 参与方式\n\n1. 报名并在个人资料中说明您能提供什么、正在寻找什么。\n2. 发送洽谈请求——平台会为您推荐合适的合作伙伴。\n3. 主办方统一安排所有已确认的洽谈，确保任何人都不会同时有两场会谈。\n\n每位参与者都能按自己的时区查看日程：在贵阳的参与者看到北京时间，在科隆的参与者看到中欧时间。视频洽谈无需使用在中国无法访问的软件。\n\n企业可免费参加，报名将一直开放到活动开始前不久。",
            ),
        ],
    },
    Story {
        tags: &["jobs", "china", "events"],
        days_ago: 2,
        author: "Katrin Albers",
        alt: [
            "Abstrakte Grafik in Rot und Orange: Kreise wie Lichtpunkte",
            "Abstract graphic in red and orange: circles like points of light",
            "红色与橙色抽象图形：如光点般的圆圈",
        ],
        colours: [[170, 30, 40], [245, 150, 50]],
        versions: [
            (
                Locale::De,
                "chinese-talent-days-online-jobmesse",
                "Chinese Talent Days: Online-Jobmesse für Fachkräfte mit China-Kompetenz",
                "Unternehmen aus der Region treffen Absolventinnen und Absolventen, die Deutsch und Chinesisch sprechen – in kurzen Videogesprächen.",
                "Viele Unternehmen mit Geschäft in China suchen Mitarbeitende, die beide Sprachen und beide Geschäftskulturen kennen. Die [Chinese Talent Days online](/events/chinese-talent-days-online) bringen sie mit Studierenden und Absolventen der Hochschulen in der Region zusammen.\n\n## Für Unternehmen\n\nStellen Sie Ihre offenen Stellen und Praktika im Profil vor. Bewerberinnen und Bewerber fragen Gespräche an; Sie entscheiden, wen Sie treffen.\n\n## Für Bewerberinnen und Bewerber\n\nDie Gespräche dauern 20 Minuten und finden im Browser statt, ohne zusätzliche Software. Bereiten Sie eine kurze Vorstellung auf Deutsch oder Englisch vor – Chinesischkenntnisse sind ausdrücklich erwünscht.\n\nDie Teilnahme ist für beide Seiten kostenlos.",
            ),
            (
                Locale::En,
                "chinese-talent-days-online-job-fair",
                "Chinese Talent Days: an online job fair for China-savvy professionals",
                "Companies from the region meet graduates who speak German and Chinese – in short video meetings.",
                "Many companies doing business in China look for staff who know both languages and both business cultures. The [Chinese Talent Days online](/events/chinese-talent-days-online) bring them together with students and graduates of the region's universities.\n\n## For companies\n\nPresent your open positions and internships in your profile. Candidates request meetings; you decide whom to meet.\n\n## For candidates\n\nMeetings last 20 minutes and take place in the browser, without extra software. Prepare a short introduction in German or English – Chinese skills are explicitly welcome.\n\nParticipation is free for both sides.",
            ),
            (
                Locale::Zh,
                "zhongguo-rencai-ri-xianshang-zhaopinhui",
                "中国人才日：面向具备中国经验人才的线上招聘会",
                "本地区企业通过简短的视频面谈，结识会说德语和中文的毕业生。",
                "许多在华开展业务的企业都在寻找通晓两种语言、熟悉两种商业文化的员工。[中国人才日（线上）](/events/chinese-talent-days-online)将这些企业与本地区高校的在校生和毕业生联系起来。\n\n## 企业\n\n请在资料中介绍您的空缺职位和实习岗位。求职者发起面谈请求，由您决定与谁见面。\n\n## 求职者\n\n每次面谈 20 分钟，直接在浏览器中进行，无需安装其他软件。请准备一段德语或英语的简短自我介绍——我们非常欢迎具备中文能力的人才。\n\n双方均可免费参加。",
            ),
        ],
    },
];

/// A lead image drawn in code: a diagonal gradient between two colours with soft rings.
fn draw(colours: [[u8; 3]; 2], variant: u32) -> DynamicImage {
    let (w, h) = (1600u32, 900u32);
    let [a, b] = colours;
    let img = RgbImage::from_fn(w, h, |x, y| {
        let t = (x + y) as f32 / (w + h) as f32;
        let (cx, cy) = (w as f32 * 0.7, h as f32 * 0.4);
        let d = ((x as f32 - cx).powi(2) + (y as f32 - cy).powi(2)).sqrt();
        let ring = ((d / (40.0 + 20.0 * variant as f32)).sin() * 0.5 + 0.5) * 0.18;
        let mix = |i: usize| {
            let v = f32::from(a[i]) * (1.0 - t) + f32::from(b[i]) * t;
            (v * (1.0 - ring) + 255.0 * ring).min(255.0) as u8
        };
        Rgb([mix(0), mix(1), mix(2)])
    });
    DynamicImage::ImageRgb8(img)
}

/// Seeds the magazine; returns the editor's login for the demo banner.
pub async fn seed(store: &Store, editor: NewEditor) -> anyhow::Result<(String, String)> {
    let now = now_micros();
    let mut images = Vec::new();
    for (i, story) in STORIES.iter().enumerate() {
        let colours = story.colours;
        let processed =
            tokio::task::spawn_blocking(move || kontor_web::encode_image(&draw(colours, i as u32)))
                .await?;
        images.push(processed);
    }
    let mut tx = store.begin().await?;
    let editor_id = tx.create_user(editor.user, now).await?;
    tx.set_editor(editor_id, true, now).await?;
    for (story, processed) in STORIES.iter().zip(&images) {
        let image = tx
            .create_image(
                processed.width as i32,
                processed.height as i32,
                Some(editor_id),
                &processed.variants,
                now,
            )
            .await?;
        let mut group: Option<Uuid> = None;
        for (i, (locale, slug, title, lead, body)) in story.versions.iter().enumerate() {
            let id = tx
                .create_article(
                    &ArticleFields {
                        translation_group: group,
                        locale: *locale,
                        slug: (*slug).into(),
                        title: (*title).into(),
                        lead: (*lead).into(),
                        body_md: (*body).into(),
                        author_name: story.author.into(),
                        author_id: Some(editor_id),
                        tags: story.tags.iter().map(|t| t.to_string()).collect(),
                        hero_image_id: Some(image),
                        hero_alt: story.alt[i].into(),
                        hero_credit: "Kontor Demo".into(),
                        status: ArticleStatus::Published,
                        publish_at: Some(now - story.days_ago * DAY),
                    },
                    now,
                )
                .await?;
            group.get_or_insert(id);
        }
    }
    for (nav_order, page) in [(1, PAGE), (2, PRIVACY)] {
        let mut group = None;
        for (locale, slug, title, body) in page {
            let id = tx
                .upsert_page(
                    &PageFields {
                        translation_group: group,
                        locale,
                        slug: slug.into(),
                        title: title.into(),
                        body_md: body.into(),
                        nav_order: Some(nav_order),
                    },
                    now,
                )
                .await?;
            group.get_or_insert(id);
        }
    }
    tx.commit().await?;
    Ok(("Magazine editor".into(), editor.email))
}

/// The editor's account, made by the caller (it knows the demo password).
pub struct NewEditor {
    pub user: kontor_store::accounts::NewUser,
    pub email: String,
}

const PAGE: [(Locale, &str, &str, &str); 3] = [
    (
        Locale::De,
        "standort-und-infrastruktur",
        "Standort und Infrastruktur",
        "Köln liegt im Herzen Europas: In vier Stunden erreichen Sie mit dem Zug Paris, Amsterdam und Brüssel, der Flughafen Köln/Bonn und der Flughafen Düsseldorf verbinden die Region mit Asien.\n\n## Auf einen Blick\n\n- Zehn Hochschulen und zahlreiche Forschungsinstitute in der Region\n- Binnenhäfen am Rhein und Güterzüge nach China\n- Flächen für Produktion, Labore und Büros\n\nDas International Desk vermittelt Ansprechpartner bei Genehmigungen, Immobilien und Fachkräftesuche.",
    ),
    (
        Locale::En,
        "location-and-infrastructure",
        "Location and infrastructure",
        "Cologne lies at the heart of Europe: Paris, Amsterdam and Brussels are four hours away by train, and Cologne/Bonn and Düsseldorf airports connect the region with Asia.\n\n## At a glance\n\n- Ten universities and many research institutes in the region\n- Inland ports on the Rhine and freight trains to China\n- Space for production, laboratories and offices\n\nThe International Desk puts you in touch with the right people for permits, real estate and recruiting.",
    ),
    (
        Locale::Zh,
        "quwei-yu-jichu-sheshi",
        "区位与基础设施",
        "科隆位于欧洲中心：乘火车四小时即可抵达巴黎、阿姆斯特丹和布鲁塞尔；科隆/波恩机场和杜塞尔多夫机场将本地区与亚洲相连。\n\n## 概览\n\n- 本地区拥有十所高校和众多科研机构\n- 莱茵河内河港口及开往中国的货运班列\n- 可用于生产、实验室和办公的场地\n\n国际服务部可为您联系审批、房地产和人才招聘方面的对口负责人。",
    ),
];

/// The privacy notice the newsletter's consent text links (`privacy_url` defaults to
/// `/pages/{locale}/privacy`). A demo text: an agency replaces it with its own.
const PRIVACY: [(Locale, &str, &str, &str); 3] = [
    (
        Locale::De,
        "privacy",
        "Datenschutzhinweise zum Newsletter",
        "*Beispieltext der Demo – ersetzen Sie ihn durch die Hinweise Ihrer Behörde.*\n\nVerantwortlich ist die Wirtschaftsförderung (International Desk).\n\n## Was wir speichern\n\n- Ihre E-Mail-Adresse, die Sprache und die Themen, die Sie wählen\n- als Nachweis Ihrer Einwilligung: Zeitpunkt und Seite der Anmeldung, die Fassung des Einwilligungstexts, Ihre IP-Adresse (gekürzt) und Ihren Browser, den Versand der Bestätigungsmail und den Zeitpunkt Ihrer Bestätigung\n\n## Wozu und auf welcher Grundlage\n\nWir senden Ihnen einmal im Monat unseren Newsletter, auf Grundlage Ihrer Einwilligung (Art. 6 Abs. 1 lit. a DSGVO). Wir messen keine Öffnungen und keine Klicks.\n\n## Widerruf und Ihre Rechte\n\nSie können die Einwilligung jederzeit widerrufen: mit dem Abmeldelink in jeder Ausgabe. Danach senden wir nichts mehr; den Nachweis Ihrer Einwilligung und des Widerrufs bewahren wir auf, solange Ansprüche daraus geltend gemacht werden können. Sie haben das Recht auf Auskunft, Berichtigung, Löschung, Einschränkung und Beschwerde bei einer Aufsichtsbehörde.",
    ),
    (
        Locale::En,
        "privacy",
        "Privacy notice for the newsletter",
        "*A demo text – replace it with your agency's own notice.*\n\nThe controller is the economic-development agency (International Desk).\n\n## What we store\n\n- your e-mail address, and the language and topics you choose\n- as proof of your consent: when and on which page you signed up, the version of the consent text, your IP address (shortened) and browser, when the confirmation mail was sent and when you confirmed\n\n## Why, and on what basis\n\nWe send you our newsletter once a month, based on your consent (Art. 6(1)(a) GDPR). We do not track opens or clicks.\n\n## Withdrawal and your rights\n\nYou can withdraw your consent at any time with the unsubscribe link in every issue. We then send nothing more; we keep the proof of your consent and of its withdrawal as long as claims can be based on it. You have the right of access, rectification, erasure, restriction and to lodge a complaint with a supervisory authority.",
    ),
    (
        Locale::Zh,
        "privacy",
        "简报隐私说明",
        "*演示文本——请替换为贵机构自己的说明。*\n\n数据控制者为经济促进机构（国际服务部）。\n\n## 我们存储哪些信息\n\n- 您的电子邮箱地址，以及您选择的语言和主题\n- 作为您同意的证明：订阅的时间和页面、同意文本的版本、您的 IP 地址（已截短）和浏览器、确认邮件的发送时间以及您确认的时间\n\n## 目的与法律依据\n\n我们根据您的同意（《通用数据保护条例》第 6 条第 1 款 a 项）每月向您发送一期简报。我们不统计打开和点击。\n\n## 撤回与您的权利\n\n您可以随时通过每期简报中的退订链接撤回同意。此后我们不再发送任何内容；在可据此提出主张的期限内，我们保留您同意及撤回的证明。您有权查阅、更正、删除、限制处理，并有权向监管机构投诉。",
    ),
];
