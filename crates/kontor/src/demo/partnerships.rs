//! The demo partnerships: Guiyang with a signed memorandum, its timeline and a draft letter of
//! intent ready to send (sending it fills the demo mailbox with the signing links), and Beijing
//! with a partnership of many years. Every person is invented; `.example` is reserved.

use kontor_domain::partnership::{AgreementKind, CooperationField, MilestoneKind};
use kontor_domain::{Country, Locale, LocalizedText};
use kontor_store::Store;
use kontor_store::partnerships::{AgreementFields, CityFields, MilestoneFields, SignatoryFields};

fn text(de: &str, en: &str, zh: &str) -> LocalizedText {
    LocalizedText::one(Locale::De, de)
        .with(Locale::En, en)
        .with(Locale::Zh, zh)
}

fn signatory(name: &str, capacity: &str, email: &str, locale: Locale) -> SignatoryFields {
    SignatoryFields {
        name: name.into(),
        capacity: capacity.into(),
        email: email.into(),
        locale,
    }
}

const MOU_DE: &str = "## Präambel\n\nDie Wirtschaftsförderung Köln und das Investitionsförderamt Guiyang wollen die wirtschaftliche Zusammenarbeit beider Städte vertiefen.\n\n## Artikel 1: Schwerpunkte\n\nWasserstoff, Life Sciences und Umwelttechnik.\n\n## Artikel 2: Maßnahmen\n\n- jährliche B2B-Tage, vor Ort und online;\n- gegenseitige Delegationsreisen;\n- ein gemeinsamer Ansprechpartner auf beiden Seiten.\n\n## Artikel 3: Laufzeit\n\nDiese Absichtserklärung gilt drei Jahre und verlängert sich stillschweigend.";
const MOU_ZH: &str = "## 序言\n\n科隆经济促进局与贵阳市投资促进局希望深化两市之间的经济合作。\n\n## 第一条：重点领域\n\n氢能、生命科学和环境技术。\n\n## 第二条：措施\n\n- 每年举办线上线下结合的企业对接日；\n- 互派代表团；\n- 双方各设一名联络人。\n\n## 第三条：期限\n\n本备忘录有效期三年，期满自动延续。";
const MOU_EN: &str = "## Preamble\n\nCologne's economic-development agency and the Guiyang Investment Promotion Bureau intend to deepen the economic cooperation of both cities.\n\n## Article 1: Focus areas\n\nHydrogen, life sciences and environmental technology.\n\n## Article 2: Measures\n\n- annual B2B days, on site and online;\n- delegation visits both ways;\n- one contact person on each side.\n\n## Article 3: Term\n\nThis memorandum runs for three years and is renewed unless terminated.";

/// Seeds the partnerships; `now` is the demo's start (the memorandum is signed a year before).
pub async fn seed(store: &Store, now: i64) -> anyhow::Result<()> {
    const DAY: i64 = 86_400_000_000;
    let mut tx = store.begin().await?;
    let guiyang = tx
        .create_partner_city(
            &CityFields {
                slug: "guiyang".into(),
                name: text("Guiyang", "Guiyang", "贵阳"),
                country: Country::CHINA,
                since_year: Some(2025),
                description: text(
                    "Die Hauptstadt der Provinz Guizhou ist ein Zentrum für Rechenzentren und Big Data. Die Partnerschaft verbindet Unternehmen beider Städte in Wasserstoff, Life Sciences und Umwelttechnik.",
                    "The capital of Guizhou province is a hub for data centres and big data. The partnership connects companies of both cities in hydrogen, life sciences and environmental technology.",
                    "贵州省省会贵阳是数据中心和大数据产业的聚集地。两市合作在氢能、生命科学和环境技术领域连接双方企业。",
                ),
            },
            now - 400 * DAY,
        )
        .await?;
    let mou = AgreementFields {
        kind: AgreementKind::Memorandum,
        title: text(
            "Absichtserklärung über wirtschaftliche Zusammenarbeit",
            "Memorandum of understanding on economic cooperation",
            "经济合作备忘录",
        ),
        body: LocalizedText::one(Locale::De, MOU_DE)
            .with(Locale::En, MOU_EN)
            .with(Locale::Zh, MOU_ZH),
        fields: vec![
            CooperationField::Economy,
            CooperationField::Science,
            CooperationField::Environment,
            CooperationField::Health,
        ],
        signatories: vec![
            signatory(
                "Dr. Anna Becker",
                "Geschäftsführerin der Wirtschaftsförderung Köln",
                "anna.becker@agentur.example",
                Locale::De,
            ),
            signatory(
                "李伟",
                "贵阳市投资促进局局长",
                "li.wei@guiyang-invest.example",
                Locale::Zh,
            ),
        ],
    };
    let signed_at = now - 365 * DAY;
    let id = tx
        .create_agreement(guiyang, &mou, None, signed_at - 5 * DAY)
        .await?;
    let frozen = tx.lock_agreement(id).await?;
    // Demo links nobody holds: the tokens are random and thrown away.
    let hashes: Vec<(i32, String)> = frozen
        .signatories
        .iter()
        .map(|s| (s.position, uuid::Uuid::now_v7().simple().to_string()))
        .collect();
    let digest = frozen.text_digest();
    tx.send_agreement(id, &digest, &hashes, signed_at - 5 * DAY)
        .await?;
    for (i, (_, hash)) in hashes.iter().enumerate() {
        let name = &frozen.signatories[i].name;
        tx.sign_agreement(hash, name, &digest, signed_at - (1 - i as i64) * DAY)
            .await?;
    }
    tx.create_agreement(
        guiyang,
        &AgreementFields {
            kind: AgreementKind::LetterOfIntent,
            title: text(
                "Absichtserklärung zur Berufsbildung",
                "Letter of intent on vocational training",
                "职业教育合作意向书",
            ),
            body: LocalizedText::one(Locale::De, "Beide Seiten wollen jährlich zehn Auszubildende austauschen und gemeinsame Prüfungsstandards für Mechatronik entwickeln.")
                .with(Locale::Zh, "双方拟每年互派十名学徒，并共同制定机电一体化专业的考核标准。"),
            fields: vec![CooperationField::Education, CooperationField::Youth],
            signatories: vec![
                signatory(
                    "Dr. Anna Becker",
                    "Geschäftsführerin der Wirtschaftsförderung Köln",
                    "anna.becker@agentur.example",
                    Locale::De,
                ),
                signatory(
                    "王芳",
                    "贵阳职业技术学院院长",
                    "wang.fang@gyvtc.example",
                    Locale::Zh,
                ),
            ],
        },
        None,
        now - 3 * DAY,
    )
    .await?;
    let milestones = [
        (
            "2025-03-18",
            MilestoneKind::Delegation,
            text(
                "Delegation aus Guiyang in Köln",
                "Delegation from Guiyang visits Cologne",
                "贵阳代表团访问科隆",
            ),
            text(
                "Zwölf Unternehmen besuchten Wasserstoffprojekte im Rheinland.",
                "Twelve companies visited hydrogen projects in the Rhineland.",
                "十二家企业参观了莱茵地区的氢能项目。",
            ),
        ),
        (
            "2025-11-04",
            MilestoneKind::Project,
            text(
                "Pilotprojekt Brennstoffzellen-Busse",
                "Fuel-cell bus pilot project",
                "燃料电池公交车试点项目",
            ),
            text(
                "Zwei Kölner Zulieferer und ein Verkehrsbetrieb in Guiyang testen zehn Busse.",
                "Two Cologne suppliers and a Guiyang transport operator test ten buses.",
                "两家科隆供应商与贵阳一家公交企业共同测试十辆公交车。",
            ),
        ),
        (
            "2026-06-10",
            MilestoneKind::Event,
            text(
                "Erste gemeinsame B2B-Tage",
                "First joint B2B days",
                "首届联合企业对接日",
            ),
            LocalizedText::new(),
        ),
    ];
    for (day, kind, title, body) in milestones {
        tx.add_milestone(
            guiyang,
            &MilestoneFields {
                happened_on: day.parse()?,
                kind,
                title,
                body,
            },
            now,
        )
        .await?;
    }
    let beijing = tx
        .create_partner_city(
            &CityFields {
                slug: "beijing".into(),
                name: text("Peking", "Beijing", "北京"),
                country: Country::CHINA,
                since_year: Some(1987),
                description: text(
                    "Eine der ältesten Städtepartnerschaften zwischen Deutschland und China, mit Austausch in Kultur, Bildung und Stadtentwicklung.",
                    "One of the oldest city partnerships between Germany and China, with exchanges in culture, education and urban development.",
                    "中德之间历史最悠久的友好城市关系之一，在文化、教育和城市发展领域开展交流。",
                ),
            },
            now,
        )
        .await?;
    tx.add_milestone(
        beijing,
        &MilestoneFields {
            happened_on: "2020-04-08".parse()?,
            kind: MilestoneKind::Aid,
            title: text(
                "Schutzmasken für Kölner Kliniken",
                "Face masks for Cologne's hospitals",
                "向科隆医院捐赠口罩",
            ),
            body: text(
                "Die Partnerstadt schickte 100.000 Masken.",
                "The partner city sent 100,000 masks.",
                "友好城市捐赠了十万只口罩。",
            ),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
