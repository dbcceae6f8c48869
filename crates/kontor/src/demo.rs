//! `kontor demo`: a believable Cologne–Guiyang corridor in a fresh SQLite database (or an empty
//! PostgreSQL one, `--database-url`), served with a public local mailbox so that a newcomer can
//! read sign-in codes in the browser.
//! Every name and text here is invented.

use std::path::PathBuf;

use jiff::ToSpan;
use jiff::civil::Date;
use kontor_domain::{
    Country, Email, EventFormat, EventKind, JobDetails, Locale, LocalizedText, MatchmakingSession,
    MeetingMode, MeetingPriority, MeetingRequestStatus, OpportunityKind, OrgKind, OrgSize,
    ParticipantRole, Password, RegistrationStatus, Sector, Slug, TimeZoneName, now_micros,
};
use kontor_store::Store;
use kontor_store::accounts::{NewUser, ProfileUpdate};
use kontor_store::events::NewEvent;
use kontor_store::matchmaking::{NewMeetingRequest, OpportunityFields};
use kontor_store::organisations::OrganisationFields;
use uuid::Uuid;

use crate::config::Config;

mod cv;
mod magazine;
mod newsletter;
mod partnerships;

pub const PASSWORD: &str = "kontor-demo-2027";

pub async fn run(
    mut config: Config,
    data: PathBuf,
    listen: String,
    database_url: Option<String>,
) -> anyhow::Result<()> {
    let url = match database_url {
        Some(url) => url,
        None => {
            if data.exists() {
                std::fs::remove_dir_all(&data)?;
            }
            std::fs::create_dir_all(&data)?;
            format!("sqlite://{}/kontor.db", data.display())
        }
    };
    let store = Store::connect(&url).await?;
    store.migrate().await?;
    let today = jiff::Timestamp::now()
        .to_zoned_datetime(TimeZoneName::berlin().tz())
        .date();
    let logins = seed(&store, today).await?;

    let listener = tokio::net::TcpListener::bind(&listen).await?;
    let addr = listener.local_addr()?;
    config.base_url = format!("http://{addr}");
    config.smtp_url.clear();
    config.mailbox_public = true;
    let base = config.base_url.clone();
    crate::run(store, config, listener, move |_| {
        println!("Kontor demo is running at {base}");
        println!("Demo logins (password for all: {PASSWORD}; or ask for a code and read it at {base}/mailbox):");
        for (role, email) in &logins {
            println!("  {role:<38} {email}");
        }
        println!("Press Ctrl-C to stop.");
    })
    .await
}

/// A small deterministic generator (SplitMix64): the same demo every time.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}

const DE_FIRST: [&str; 24] = [
    "Anna",
    "Jonas",
    "Lena",
    "Felix",
    "Marie",
    "Lukas",
    "Sophie",
    "Paul",
    "Clara",
    "Maximilian",
    "Hannah",
    "Tobias",
    "Julia",
    "Niklas",
    "Laura",
    "David",
    "Katharina",
    "Jan",
    "Miriam",
    "Stefan",
    "Eva",
    "Matthias",
    "Ines",
    "Ralf",
];
const DE_LAST: [&str; 24] = [
    "Becker", "Schmitz", "Hoffmann", "Wagner", "Krüger", "Neumann", "Schulte", "Vogel", "Lehmann",
    "Brandt", "Kaiser", "Fuchs", "Peters", "Lange", "Jansen", "Horn", "Winkler", "Berger",
    "Franke", "Albers", "Ziegler", "Roth", "Engel", "Sommer",
];
const DE_CITIES: [(&str, &str); 8] = [
    ("Köln", "koeln"),
    ("Düsseldorf", "duesseldorf"),
    ("Bonn", "bonn"),
    ("Leverkusen", "leverkusen"),
    ("Aachen", "aachen"),
    ("Essen", "essen"),
    ("Dortmund", "dortmund"),
    ("Bergisch Gladbach", "gladbach"),
];
const DE_STEMS: [&str; 16] = [
    "Rheinwerk",
    "Domtec",
    "Auenfeld",
    "Nordlicht",
    "Kranhaus",
    "Severin",
    "Hafenkant",
    "Lindenhof",
    "Silberberg",
    "Brückmann",
    "Eifelgrün",
    "Altstadt",
    "Kolonia",
    "Ufertal",
    "Sternwerk",
    "Vierlinden",
];
const ZH_SURNAMES: [(&str, &str); 16] = [
    ("王", "Wang"),
    ("李", "Li"),
    ("张", "Zhang"),
    ("刘", "Liu"),
    ("陈", "Chen"),
    ("杨", "Yang"),
    ("赵", "Zhao"),
    ("黄", "Huang"),
    ("周", "Zhou"),
    ("吴", "Wu"),
    ("徐", "Xu"),
    ("孙", "Sun"),
    ("胡", "Hu"),
    ("朱", "Zhu"),
    ("高", "Gao"),
    ("林", "Lin"),
];
const ZH_GIVEN: [(&str, &str); 16] = [
    ("伟", "Wei"),
    ("芳", "Fang"),
    ("娜", "Na"),
    ("敏", "Min"),
    ("静", "Jing"),
    ("磊", "Lei"),
    ("洋", "Yang"),
    ("艳", "Yan"),
    ("勇", "Yong"),
    ("杰", "Jie"),
    ("婷", "Ting"),
    ("强", "Qiang"),
    ("晨", "Chen"),
    ("欣怡", "Xinyi"),
    ("子涵", "Zihan"),
    ("浩然", "Haoran"),
];
const ZH_CITIES: [(&str, &str); 6] = [
    ("贵阳", "Guiyang"),
    ("北京", "Beijing"),
    ("上海", "Shanghai"),
    ("深圳", "Shenzhen"),
    ("成都", "Chengdu"),
    ("廊坊", "Langfang"),
];
const ZH_STEMS: [(&str, &str); 12] = [
    ("黔云", "Qianyun"),
    ("筑城", "Zhucheng"),
    ("华氢", "Huaqing"),
    ("博远", "Boyuan"),
    ("绿源", "Lüyuan"),
    ("天工", "Tiangong"),
    ("数联", "Shulian"),
    ("康瑞", "Kangrui"),
    ("恒通", "Hengtong"),
    ("启明", "Qiming"),
    ("山水", "Shanshui"),
    ("智航", "Zhihang"),
];

/// What an organisation of a sector does, in three languages.
fn sector_text(s: Sector) -> (&'static str, &'static str, &'static str) {
    match s {
        Sector::Hydrogen => (
            "Elektrolyseure und Wasserstoffspeicher für Industrie und Kommunen.",
            "Electrolysers and hydrogen storage for industry and municipalities.",
            "为工业和城市提供电解槽和储氢解决方案。",
        ),
        Sector::LifeSciences => (
            "Wirkstoffforschung und Labordienstleistungen für Biotechnologie.",
            "Drug discovery and laboratory services for biotechnology.",
            "面向生物技术的药物研发和实验室服务。",
        ),
        Sector::EnvironmentalTechnology => (
            "Wasseraufbereitung, Luftreinhaltung und Recyclingtechnik.",
            "Water treatment, clean air and recycling technology.",
            "水处理、空气净化和回收利用技术。",
        ),
        Sector::Logistics => (
            "Multimodale Logistik zwischen Rhein, Schiene und Luftfracht.",
            "Multimodal logistics across river, rail and air freight.",
            "涵盖内河、铁路和航空货运的多式联运物流。",
        ),
        Sector::Automotive => (
            "Komponenten und Software für Elektro- und Brennstoffzellenfahrzeuge.",
            "Components and software for electric and fuel-cell vehicles.",
            "电动及燃料电池汽车的零部件和软件。",
        ),
        Sector::Digital => (
            "Cloud-Plattformen und Datenanalyse für den Mittelstand.",
            "Cloud platforms and data analytics for mid-sized companies.",
            "为中型企业提供云平台和数据分析。",
        ),
        Sector::MedicalTechnology => (
            "Diagnostikgeräte und vernetzte Medizintechnik.",
            "Diagnostic devices and connected medical technology.",
            "诊断设备和互联医疗技术。",
        ),
        Sector::Energy => (
            "Planung und Betrieb erneuerbarer Energieanlagen.",
            "Planning and operation of renewable energy plants.",
            "可再生能源设施的规划和运营。",
        ),
        _ => (
            "Beratung und Dienstleistungen für internationale Kooperationen.",
            "Consulting and services for international cooperation.",
            "为国际合作提供咨询和服务。",
        ),
    }
}

const DE_JOBS: [&str; 5] = [
    "Geschäftsführerin",
    "Leiter Vertrieb",
    "Business Development",
    "Projektleiterin",
    "CTO",
];
/// Job postings of the job fair's employers (German, English, Chinese).
const JOB_POSTINGS: [(&str, &str, &str); 5] = [
    (
        "Vertriebsingenieur (m/w/d) China-Geschäft",
        "Sales engineer (m/f/d), China business",
        "销售工程师（中国业务）",
    ),
    (
        "Projektmanager (m/w/d) Wasserstoff",
        "Project manager (m/f/d), hydrogen",
        "氢能项目经理",
    ),
    (
        "Werkstudent (m/w/d) Marketing China",
        "Working student (m/f/d), China marketing",
        "中国市场营销实习生（在读学生）",
    ),
    (
        "Softwareentwickler (m/w/d) Industrie 4.0",
        "Software developer (m/f/d), Industry 4.0",
        "工业4.0软件开发工程师",
    ),
    (
        "Einkäufer (m/w/d) Asien",
        "Buyer (m/f/d), Asia",
        "亚洲区采购专员",
    ),
];

/// The facts of the `i`th person's job posting (the order of `JOB_POSTINGS`): applications
/// close with the job fair's second and last day, work starts about three months later.
fn demo_job(i: usize, job_fair: jiff::civil::Date) -> anyhow::Result<JobDetails> {
    use kontor_domain::{Employment::*, Workplace::*};
    let n = i / 8;
    let (employment, workplace) = [
        (FullTime, OnSite),
        (FullTime, Hybrid),
        (WorkingStudent, Hybrid),
        (FullTime, Remote),
        (PartTime, OnSite),
    ][n % JOB_POSTINGS.len()];
    Ok(JobDetails {
        employment,
        workplace,
        location: DE_CITIES[n % DE_CITIES.len()].0.to_string(),
        starts_on: Some(job_fair.checked_add(jiff::ToSpan::days(90 + 14 * (n % 3) as i64))?),
        apply_by: Some(job_fair.tomorrow()?),
    })
}

/// A job posting in German, English and Chinese (title and text in that order), for Chinese
/// candidates.
fn job_posting(
    (de, en, zh): (&str, &str, &str),
    [text_de, text_en, text_zh]: [&str; 3],
    event_id: Option<Uuid>,
    job: JobDetails,
) -> OpportunityFields {
    OpportunityFields {
        event_id,
        kind: OpportunityKind::JobPosting,
        title: LocalizedText::one(Locale::De, de)
            .with(Locale::En, en)
            .with(Locale::Zh, zh),
        description: LocalizedText::one(Locale::De, text_de)
            .with(Locale::En, text_en)
            .with(Locale::Zh, text_zh),
        sectors: vec![],
        target_countries: vec![Country::CHINA],
        languages: vec!["de".into(), "en".into(), "zh".into()],
        interpreter_needed: false,
        job: Some(job),
    }
}

const ZH_JOBS: [&str; 5] = [
    "总经理",
    "国际业务经理",
    "技术总监",
    "研发负责人",
    "市场部主任",
];

const SECTORS: [Sector; 9] = [
    Sector::Hydrogen,
    Sector::Hydrogen,
    Sector::LifeSciences,
    Sector::EnvironmentalTechnology,
    Sector::Logistics,
    Sector::Automotive,
    Sector::Digital,
    Sector::MedicalTechnology,
    Sector::Energy,
];

struct Person {
    email: Email,
    name: String,
    job: &'static str,
    zone: TimeZoneName,
    locale: Locale,
    languages: Vec<String>,
}

/// Writes the demo data; returns the logins to print.
pub async fn seed(store: &Store, today: Date) -> anyhow::Result<Vec<(String, String)>> {
    let now = now_micros();
    let mut rng = Rng(2027);
    let password = kontor_web::hash_password(&Password::parse(PASSWORD).expect("long enough"))?;
    let berlin = TimeZoneName::berlin();
    let shanghai = TimeZoneName::parse("Asia/Shanghai").expect("known zone");
    let mut tx = store.begin().await?;

    let staff =
        |email: &str, name: &str, admin: bool, zone: &TimeZoneName, locale: Locale| NewUser {
            email: Email::parse(email).expect("valid"),
            name: name.into(),
            time_zone: zone.clone(),
            locale,
            is_admin: admin,
            password_hash: Some(password.clone()),
            email_verified: true,
        };
    let admin = tx
        .create_user(
            staff(
                "admin@kontor.example",
                "Katrin Albers",
                true,
                &berlin,
                Locale::De,
            ),
            now,
        )
        .await?;
    let organiser = tx
        .create_user(
            staff(
                "organiser@kontor.example",
                "Martin Roth",
                false,
                &berlin,
                Locale::De,
            ),
            now,
        )
        .await?;
    let agency = tx.create_organisation(&OrganisationFields {
        name: "Wirtschaftsförderung Köln – International Desk".into(),
        kind: OrgKind::PublicBody,
        country: Country::GERMANY,
        city: Some("Köln".into()),
        website: Some("https://wirtschaft.koeln.example".into()),
        sectors: vec![Sector::Consulting],
        size: Some(OrgSize::Medium),
        description: LocalizedText::one(Locale::De, "Das International Desk begleitet Unternehmen in die Partnerstädte und empfängt Delegationen.")
            .with(Locale::En, "The International Desk accompanies companies to the partner cities and welcomes delegations.")
            .with(Locale::Zh, "国际服务部陪同企业前往友好城市，并接待来访代表团。"),
    }, now).await?;
    // The partner city: Guiyang signed a memorandum on hydrogen, life sciences and environmental
    // protection with the agency.
    tx.create_organisation(
        &OrganisationFields {
            name: "贵阳市投资促进局 (Guiyang Investment Promotion Bureau)".into(),
            kind: OrgKind::PublicBody,
            country: Country::CHINA,
            city: Some("Guiyang".into()),
            website: None,
            sectors: vec![Sector::Hydrogen, Sector::LifeSciences, Sector::EnvironmentalTechnology],
            size: Some(OrgSize::Medium),
            description: LocalizedText::one(Locale::Zh, "科隆的友好合作伙伴。双方签署了经济合作备忘录，合作领域包括氢能技术、生命科学和环境保护。")
                .with(Locale::En, "Cologne's partner in Guizhou. A memorandum of understanding on economic cooperation covers hydrogen technology, life sciences and environmental protection.")
                .with(Locale::De, "Kölns Partner in Guizhou. Eine Absichtserklärung zur wirtschaftlichen Zusammenarbeit umfasst Wasserstofftechnik, Life Sciences und Umweltschutz."),
        },
        now,
    )
    .await?;
    for (id, job) in [
        (admin, "Leiterin International Desk"),
        (organiser, "Projektleiter Messen"),
    ] {
        tx.update_profile(
            id,
            &profile(
                &staff_name(id, admin),
                job,
                Some(agency),
                &berlin,
                Locale::De,
                &["de", "en"],
            ),
        )
        .await?;
    }

    // About 300 organisations, one contact person each: half from the Rhineland, half from China.
    let mut people: Vec<uuid::Uuid> = Vec::new();
    let mut featured: Vec<(String, String)> = Vec::new();
    // Two participants (one German, one Chinese) with an online meeting starting right away.
    let mut video_guests: Vec<(Uuid, String)> = Vec::new();
    for i in 0..300 {
        let sector = rng.pick(&SECTORS);
        let second = rng.pick(&SECTORS);
        let sectors = if second == sector {
            vec![sector]
        } else {
            vec![sector, second]
        };
        let (de_text, en_text, zh_text) = sector_text(sector);
        let kind = rng.pick(&[
            OrgKind::Company,
            OrgKind::Company,
            OrgKind::Company,
            OrgKind::Startup,
            OrgKind::ResearchInstitute,
            OrgKind::University,
        ]);
        let size = rng.pick(&[
            OrgSize::Micro,
            OrgSize::Small,
            OrgSize::Medium,
            OrgSize::Large,
        ]);
        let german = i % 2 == 0;
        let (org, person) = if german {
            let stem = rng.pick(&DE_STEMS);
            let (city, city_key) = rng.pick(&DE_CITIES);
            let suffix = match kind {
                OrgKind::ResearchInstitute => " Institut",
                OrgKind::University => " Hochschule",
                OrgKind::Startup => " Labs",
                _ => " GmbH",
            };
            let (first, last) = (rng.pick(&DE_FIRST), rng.pick(&DE_LAST));
            let domain = format!(
                "{}{}-{city_key}.example",
                stem.to_lowercase().replace(['ü', 'ö', 'ä'], "u"),
                i
            );
            let org = OrganisationFields {
                name: format!("{stem} {}{suffix}", label_de(sector)),
                kind,
                country: Country::GERMANY,
                city: Some(city.into()),
                website: Some(format!("https://{domain}")),
                sectors,
                size: Some(size),
                description: LocalizedText::one(
                    Locale::De,
                    format!("{de_text} Sitz in {city}; wir suchen Partner in China."),
                )
                .with(
                    Locale::En,
                    format!("{en_text} Based in {city}; looking for partners in China."),
                ),
            };
            let email = format!("{}.{}@{domain}", ascii(first), ascii(last));
            let person = Person {
                email: Email::parse(&email)?,
                name: format!("{first} {last}"),
                job: rng.pick(&DE_JOBS),
                zone: berlin.clone(),
                locale: Locale::De,
                languages: vec!["de".into(), "en".into()],
            };
            (org, person)
        } else {
            let (stem, stem_py) = rng.pick(&ZH_STEMS);
            let (city, city_py) = rng.pick(&ZH_CITIES);
            let (sn, sn_py) = rng.pick(&ZH_SURNAMES);
            let (gn, gn_py) = rng.pick(&ZH_GIVEN);
            let domain = format!("{}{}-{}.example", ascii(stem_py), i, city_py.to_lowercase());
            let org = OrganisationFields {
                name: format!(
                    "{city}{stem}{}有限公司 ({city_py} {stem_py} Co., Ltd.)",
                    label_zh(sector)
                ),
                kind,
                country: Country::CHINA,
                city: Some(city_py.into()),
                website: Some(format!("https://{domain}")),
                sectors,
                size: Some(size),
                description: LocalizedText::one(
                    Locale::Zh,
                    format!("{zh_text}总部位于{city}，寻求德国合作伙伴。"),
                )
                .with(
                    Locale::En,
                    format!(
                        "{en_text} Headquartered in {city_py}; looking for partners in Germany."
                    ),
                ),
            };
            let email = format!("{}.{}@{domain}", ascii(sn_py), ascii(gn_py));
            let person = Person {
                email: Email::parse(&email)?,
                name: format!("{sn}{gn} ({sn_py} {gn_py})"),
                job: rng.pick(&ZH_JOBS),
                zone: shanghai.clone(),
                locale: Locale::Zh,
                languages: vec!["zh".into(), "en".into()],
            };
            (org, person)
        };
        let org_id = tx.create_organisation(&org, now).await?;
        let id = tx
            .create_user(
                NewUser {
                    email: person.email.clone(),
                    name: person.name.clone(),
                    time_zone: person.zone.clone(),
                    locale: person.locale,
                    is_admin: false,
                    password_hash: (i < 4).then(|| password.clone()),
                    email_verified: true,
                },
                now,
            )
            .await?;
        let langs: Vec<&str> = person.languages.iter().map(String::as_str).collect();
        tx.update_profile(
            id,
            &profile(
                &person.name,
                person.job,
                Some(org_id),
                &person.zone,
                person.locale,
                &langs,
            ),
        )
        .await?;
        // Most people publish one opportunity, in their languages.
        if i % 3 != 2 {
            let kind = [
                OpportunityKind::BusinessOffer,
                OpportunityKind::TechnologyOffer,
                OpportunityKind::BusinessRequest,
                OpportunityKind::TechnologyRequest,
                OpportunityKind::ResearchPartner,
            ][i % 5];
            let (de, en, zh) = opportunity_text(kind, sector);
            let title = if german {
                LocalizedText::one(Locale::De, de).with(Locale::En, en)
            } else {
                LocalizedText::one(Locale::Zh, zh).with(Locale::En, en)
            };
            let (de_text, en_text, zh_text) = sector_text(sector);
            let description = if german {
                LocalizedText::one(Locale::De, de_text).with(Locale::En, en_text)
            } else {
                LocalizedText::one(Locale::Zh, zh_text).with(Locale::En, en_text)
            };
            tx.create_opportunity(
                id,
                &OpportunityFields {
                    event_id: None,
                    kind,
                    title,
                    description,
                    sectors: vec![sector],
                    target_countries: vec![if german {
                        Country::CHINA
                    } else {
                        Country::GERMANY
                    }],
                    languages: person.languages.clone(),
                    interpreter_needed: i % 4 == 0,
                    job: None,
                },
                now,
            )
            .await?;
        }
        // The candidates of the job fair (below) have a CV; every other one shows it to
        // everyone at their events.
        if i % 4 == 1 {
            let latin = person
                .name
                .split_once('(')
                .map_or(person.name.as_str(), |(_, l)| l.trim_end_matches(')'));
            let lines = [
                "Curriculum vitae".to_string(),
                latin.to_string(),
                person.email.to_string(),
                String::new(),
                format!(
                    "{} years in international business between China and Germany",
                    3 + i % 9
                ),
                "Languages: Chinese (native), English (C1), German (B1)".to_string(),
                "Education: M.Sc. International Business, Tongji University, Shanghai".to_string(),
            ];
            let file = format!("CV {latin}.pdf");
            tx.put_cv(id, &file, &cv::pdf(&lines), Some(i % 8 == 1), now)
                .await?;
        }
        if (2..4).contains(&i) {
            video_guests.push((id, person.email.to_string()));
        }
        if i < 2 {
            let role = if german {
                "Participant (Deutsch, Europe/Berlin)"
            } else {
                "Participant (中文, Asia/Shanghai)"
            };
            featured.push((role.into(), person.email.to_string()));
        }
        people.push(id);
    }

    // An upcoming hybrid B2B trade fair and an online job fair.
    let fair_start = today.checked_add(45.days())?;
    let fair = NewEvent {
        slug: Slug::parse("hydrogen-life-sciences-b2b-days")?,
        kind: EventKind::TradeFair,
        format: EventFormat::Hybrid,
        title: LocalizedText::one(Locale::De, "Köln–Guiyang B2B-Tage: Wasserstoff, Life Sciences, Umwelttechnik")
            .with(Locale::En, "Cologne–Guiyang B2B Days: Hydrogen, Life Sciences, Environmental Technology")
            .with(Locale::Zh, "科隆–贵阳 B2B 对接日：氢能、生命科学、环保技术"),
        description: LocalizedText::one(Locale::De, "Zwei Tage Matchmaking zwischen Unternehmen und Forschungseinrichtungen aus dem Rheinland und aus Guizhou. Vor Ort in Köln oder per Video.\n\nDie Gespräche dauern 30 Minuten; die Agenda wird vor der Veranstaltung optimiert.")
            .with(Locale::En, "Two days of matchmaking between companies and research institutes from the Rhineland and Guizhou, on site in Cologne or by video.\n\nMeetings last 30 minutes; the agenda is optimised before the event.")
            .with(Locale::Zh, "莱茵地区与贵州的企业和科研机构为期两天的配对洽谈，可在科隆现场或通过视频参加。\n\n每场会谈 30 分钟，活动前将优化日程安排。"),
        venue: Some("KölnKongress, Köln-Deutz".into()),
        time_zone: berlin.clone(),
        starts_on: fair_start,
        ends_on: fair_start.tomorrow()?,
        registration_opens_at: now - 7 * 86_400_000_000,
        registration_closes_at: at_midnight(&berlin, fair_start),
        needs_approval: true,
        roles: vec![ParticipantRole::Exhibitor, ParticipantRole::Visitor, ParticipantRole::Delegate],
        sessions: vec![
            MatchmakingSession::parse(&fair_start.to_string(), "09:00", "12:30", 30, &[("10:30".into(), "11:00".into())])?,
            MatchmakingSession::parse(&fair_start.tomorrow()?.to_string(), "09:00", "12:00", 30, &[])?,
        ],
        rules: kontor_store::events::MatchmakingRules {
            scheduling: kontor_domain::SchedulingMode::Organiser,
            max_requests: Some(30),
            max_meetings: Some(12),
            allowed_pairs: None,
        },
    };
    let fair_id = tx.create_event(&fair, organiser, now).await?;
    let job_start = today.checked_add(21.days())?;
    let job = NewEvent {
        slug: Slug::parse("chinese-talent-days-online")?,
        kind: EventKind::JobFair,
        format: EventFormat::Online,
        title: LocalizedText::one(Locale::De, "Chinese Talent Days online").with(Locale::En, "Chinese Talent Days online").with(Locale::Zh, "中国人才日（线上）"),
        description: LocalizedText::one(Locale::De, "Die Online-Jobmesse für chinesische Fachkräfte, Führungskräfte und Absolventen und für Arbeitgeber im Rheinland.")
            .with(Locale::En, "The online job fair for Chinese professionals, executives and graduates, and for employers in the Rhineland.")
            .with(Locale::Zh, "面向中国专业人才、管理人员和毕业生以及莱茵地区用人单位的线上招聘会。"),
        venue: None,
        time_zone: berlin.clone(),
        starts_on: job_start,
        ends_on: job_start.tomorrow()?,
        registration_opens_at: now - 86_400_000_000,
        registration_closes_at: at_midnight(&berlin, job_start),
        needs_approval: false,
        roles: vec![ParticipantRole::Employer, ParticipantRole::Candidate],
        sessions: vec![
            MatchmakingSession::parse(&job_start.to_string(), "10:00", "13:00", 20, &[])?,
            MatchmakingSession::parse(&job_start.tomorrow()?.to_string(), "09:00", "12:00", 20, &[])?,
        ],
        rules: kontor_store::events::MatchmakingRules {
            allowed_pairs: Some(vec![
                (ParticipantRole::Candidate, ParticipantRole::Employer),
                (ParticipantRole::Employer, ParticipantRole::Candidate),
            ]),
            ..Default::default()
        },
    };
    let job_id = tx.create_event(&job, organiser, now).await?;

    let (mut candidates, mut employers) = (vec![], vec![]);
    // Registrations: most people for the fair (some still to be approved), some for the job fair.
    // The featured participants stay unregistered so that a newcomer can try it.
    for (i, id) in people.iter().enumerate().skip(2) {
        if i % 5 != 4 {
            let role = if i % 2 == 0 {
                ParticipantRole::Exhibitor
            } else {
                ParticipantRole::Visitor
            };
            let status = if i % 7 == 0 {
                RegistrationStatus::Pending
            } else {
                RegistrationStatus::Approved
            };
            tx.register(fair_id, *id, role, status, None, now).await?;
        }
        // Chinese professionals (odd) look for work; every fourth German organisation hires,
        // with a job posting for the job fair.
        let job_role = if i % 4 == 1 {
            Some(ParticipantRole::Candidate)
        } else if i % 8 == 2 {
            Some(ParticipantRole::Employer)
        } else {
            None
        };
        if let Some(role) = job_role {
            tx.register(job_id, *id, role, RegistrationStatus::Approved, None, now)
                .await?;
        }
        if job_role == Some(ParticipantRole::Candidate) {
            candidates.push(*id);
        }
        if job_role == Some(ParticipantRole::Employer) {
            let open = job_posting(
                JOB_POSTINGS[(i / 8) % JOB_POSTINGS.len()],
                [
                    "Wir suchen Verstärkung für unser China-Geschäft; Deutsch- oder Englischkenntnisse und Chinesisch als Muttersprache.",
                    "We are looking for people for our China business; German or English, and Chinese as a native language.",
                    "我们正在为中国业务招聘人才；要求德语或英语能力，母语为中文。",
                ],
                Some(job_id),
                demo_job(i, job_start)?,
            );
            let posting = tx.create_opportunity(*id, &open, now).await?;
            // Two employers still list a posting whose applications closed last week: the
            // marketplace leaves such postings out until asked for.
            if employers.len() < 2 {
                let today = TimeZoneName::berlin().today();
                let mut job = demo_job(i, job_start)?;
                job.apply_by = Some(today.checked_sub(7.days())?);
                job.starts_on = Some(today.checked_add(30.days())?);
                let closed = job_posting(
                    JOB_POSTINGS[(i / 8 + 2) % JOB_POSTINGS.len()],
                    [
                        "Die Bewerbungsphase ist abgeschlossen; vielen Dank für Ihr Interesse.",
                        "Applications have closed; thank you for your interest.",
                        "申请已截止，感谢您的关注。",
                    ],
                    None,
                    job,
                );
                tx.create_opportunity(*id, &closed, now).await?;
            }
            employers.push((*id, posting));
        }
    }
    // A few candidates have asked employers about their postings, half of them proposing an
    // interview time: pending, for an employer to answer.
    let job_slots = job.sessions[0].slots(&berlin);
    for (k, candidate) in candidates.iter().take(12).enumerate() {
        let (employer, posting) = employers[k % employers.len()];
        let request = tx
            .create_meeting_request(
                &NewMeetingRequest {
                    event_id: job_id,
                    from_user: *candidate,
                    to_user: employer,
                    opportunity_id: Some(posting),
                    message: Some(
                        "我对这个职位很感兴趣，期待与您面谈。 I look forward to talking with you.",
                    ),
                    priority: MeetingPriority::Must,
                },
                now,
            )
            .await?;
        if k % 2 == 0 {
            let slot = &job_slots[(k / 2) % job_slots.len()];
            tx.propose_slot(request, slot.start.as_microsecond())
                .await?;
        }
    }
    // Meeting requests at the fair, with skewed popularity (a few are wanted by many): about
    // 1,400 requests, most accepted, ready for the organiser's optimiser.
    let confirmed: Vec<Uuid> = people
        .iter()
        .enumerate()
        .skip(2)
        .filter(|(i, _)| i % 5 != 4 && i % 7 != 0)
        .map(|(_, id)| *id)
        .collect();
    let n = confirmed.len();
    let mut seen = std::collections::HashSet::new();
    for from in confirmed.iter() {
        for k in 0..6 {
            // Squaring a uniform number favours the start of the list: popular participants.
            let r = (rng.below(1000) as f64 / 1000.0).powi(2);
            let b = ((r * n as f64) as usize + k) % n;
            let to = confirmed[b];
            if to == *from || !seen.insert((*from.min(&to), *from.max(&to))) {
                continue;
            }
            let priority = if rng.below(4) == 0 {
                MeetingPriority::Must
            } else {
                MeetingPriority::WouldLike
            };
            let id = tx
                .create_meeting_request(
                    &NewMeetingRequest {
                        event_id: fair_id,
                        from_user: *from,
                        to_user: to,
                        opportunity_id: None,
                        message: None,
                        priority,
                    },
                    now,
                )
                .await?;
            let outcome = match rng.below(10) {
                0 => Some(MeetingRequestStatus::Declined),
                1 => None,
                _ => Some(MeetingRequestStatus::Accepted),
            };
            if let Some(status) = outcome {
                tx.change_request_status(id, &[MeetingRequestStatus::Pending], status, None, now)
                    .await?;
            }
        }
    }
    video_meeting(&mut tx, organiser, &video_guests, &berlin, now).await?;
    tx.commit().await?;

    let mut logins = vec![
        (
            "Administrator (agency staff)".to_string(),
            "admin@kontor.example".to_string(),
        ),
        (
            "Organiser of both events".to_string(),
            "organiser@kontor.example".to_string(),
        ),
    ];
    logins.extend(featured);
    for ((_, email), label) in video_guests.iter().zip(["Deutsch", "中文"]) {
        logins.push((format!("Video meeting now ({label})"), email.clone()));
    }
    let editor = magazine::NewEditor {
        user: staff(
            "editor@kontor.example",
            "Lena Hoffmann",
            false,
            &berlin,
            Locale::De,
        ),
        email: "editor@kontor.example".into(),
    };
    logins.push(magazine::seed(store, editor).await?);
    newsletter::seed(store, kontor_domain::now_micros()).await?;
    partnerships::seed(store, kontor_domain::now_micros()).await?;
    Ok(logins)
}

/// A consultation day online today, with one video meeting that starts three minutes after the
/// demo does (its room is open at once) between the two `guests`.
async fn video_meeting(
    tx: &mut kontor_store::Tx,
    organiser: Uuid,
    guests: &[(Uuid, String)],
    berlin: &TimeZoneName,
    now: i64,
) -> anyhow::Result<()> {
    let [(a, _), (b, _)] = guests else {
        anyhow::bail!("two video guests expected")
    };
    let minute = 60_000_000;
    let start = (now / minute + 3) * minute;
    let end = start + 30 * minute;
    let (local_start, local_end) = (
        jiff::Timestamp::from_microsecond(start)?.to_zoned_datetime(berlin.tz()),
        jiff::Timestamp::from_microsecond(end)?.to_zoned_datetime(berlin.tz()),
    );
    // The session holds the meeting's slot, unless that runs past midnight.
    let sessions = if local_start.date() == local_end.date() {
        vec![MatchmakingSession::parse(
            &local_start.date().to_string(),
            &local_start.strftime("%H:%M").to_string(),
            &local_end.strftime("%H:%M").to_string(),
            30,
            &[],
        )?]
    } else {
        vec![]
    };
    let event = NewEvent {
        slug: Slug::parse("online-consultation-day")?,
        kind: EventKind::TradeFair,
        format: EventFormat::Online,
        title: LocalizedText::one(Locale::De, "Online-Sprechtag Köln–Guiyang")
            .with(Locale::En, "Cologne–Guiyang online consultation day")
            .with(Locale::Zh, "科隆–贵阳线上咨询日"),
        description: LocalizedText::one(
            Locale::De,
            "Kurze Videogespräche zwischen Unternehmen aus beiden Regionen, direkt im Browser.",
        )
        .with(
            Locale::En,
            "Short video meetings between companies of both regions, right in the browser.",
        )
        .with(
            Locale::Zh,
            "两地企业之间的简短视频会谈，直接在浏览器中进行。",
        ),
        venue: None,
        time_zone: berlin.clone(),
        starts_on: local_start.date(),
        ends_on: local_end.date(),
        registration_opens_at: now - 86_400_000_000,
        registration_closes_at: start,
        needs_approval: false,
        roles: vec![ParticipantRole::Exhibitor, ParticipantRole::Visitor],
        sessions,
        rules: Default::default(),
    };
    let event_id = tx.create_event(&event, organiser, now).await?;
    tx.register(
        event_id,
        *a,
        ParticipantRole::Exhibitor,
        RegistrationStatus::Approved,
        None,
        now,
    )
    .await?;
    tx.register(
        event_id,
        *b,
        ParticipantRole::Visitor,
        RegistrationStatus::Approved,
        None,
        now,
    )
    .await?;
    let request = tx
        .create_meeting_request(
            &NewMeetingRequest {
                event_id,
                from_user: *a,
                to_user: *b,
                opportunity_id: None,
                message: None,
                priority: MeetingPriority::Must,
            },
            now,
        )
        .await?;
    let request = tx
        .change_request_status(
            request,
            &[MeetingRequestStatus::Pending],
            MeetingRequestStatus::Accepted,
            None,
            now,
        )
        .await?;
    tx.book_meeting(
        &request,
        &[*a, *b],
        (start, end),
        MeetingMode::Online,
        None,
        now,
    )
    .await?;
    Ok(())
}

/// A title for an opportunity of `kind` in `sector`, in German, English and Chinese.
fn opportunity_text(kind: OpportunityKind, sector: Sector) -> (String, String, String) {
    let (de_s, en_s, zh_s) = match sector {
        Sector::Hydrogen => ("Wasserstofftechnik", "hydrogen technology", "氢能技术"),
        Sector::LifeSciences => ("Wirkstoffforschung", "drug discovery", "药物研发"),
        Sector::EnvironmentalTechnology => ("Wasseraufbereitung", "water treatment", "水处理"),
        Sector::Logistics => ("Schienenlogistik", "rail logistics", "铁路物流"),
        Sector::Automotive => (
            "Brennstoffzellenfahrzeuge",
            "fuel-cell vehicles",
            "燃料电池汽车",
        ),
        Sector::Digital => ("Datenplattformen", "data platforms", "数据平台"),
        Sector::MedicalTechnology => ("Diagnostikgeräte", "diagnostic devices", "诊断设备"),
        _ => ("erneuerbare Energien", "renewable energy", "可再生能源"),
    };
    match kind {
        OpportunityKind::BusinessOffer => (
            format!("Wir liefern {de_s}"),
            format!("We supply {en_s}"),
            format!("提供{zh_s}产品"),
        ),
        OpportunityKind::TechnologyOffer => (
            format!("Technologietransfer: {de_s}"),
            format!("Technology transfer: {en_s}"),
            format!("技术转让：{zh_s}"),
        ),
        OpportunityKind::BusinessRequest => (
            format!("Vertriebspartner für {de_s} gesucht"),
            format!("Looking for distributors of {en_s}"),
            format!("寻找{zh_s}分销合作伙伴"),
        ),
        OpportunityKind::TechnologyRequest => (
            format!("Gesucht: Lösungen für {de_s}"),
            format!("Wanted: solutions for {en_s}"),
            format!("寻求{zh_s}解决方案"),
        ),
        _ => (
            format!("Forschungspartner für {de_s}"),
            format!("Research partner for {en_s}"),
            format!("寻找{zh_s}研发伙伴"),
        ),
    }
}

fn staff_name(id: uuid::Uuid, admin: uuid::Uuid) -> String {
    if id == admin {
        "Katrin Albers".into()
    } else {
        "Martin Roth".into()
    }
}

fn profile(
    name: &str,
    job: &str,
    org: Option<uuid::Uuid>,
    zone: &TimeZoneName,
    locale: Locale,
    langs: &[&str],
) -> ProfileUpdate {
    ProfileUpdate {
        name: name.into(),
        job_title: Some(job.into()),
        organisation_id: org,
        languages: langs.iter().map(|l| l.to_string()).collect(),
        time_zone: zone.clone(),
        locale,
        phone: None,
        contact_public: false,
    }
}

fn at_midnight(zone: &TimeZoneName, d: Date) -> i64 {
    zone.tz()
        .to_timestamp(d.to_datetime(jiff::civil::Time::midnight()))
        .map(|t| t.as_microsecond())
        .unwrap_or(0)
}

fn ascii(s: &str) -> String {
    s.to_lowercase()
        .replace('ä', "ae")
        .replace('ö', "oe")
        .replace('ü', "ue")
        .replace('ß', "ss")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect()
}

fn label_de(s: Sector) -> &'static str {
    match s {
        Sector::Hydrogen => "Wasserstofftechnik",
        Sector::LifeSciences => "Biotech",
        Sector::EnvironmentalTechnology => "Umwelttechnik",
        Sector::Logistics => "Logistik",
        Sector::Automotive => "Automotive",
        Sector::Digital => "Digital",
        Sector::MedicalTechnology => "Medizintechnik",
        _ => "Energie",
    }
}

fn label_zh(s: Sector) -> &'static str {
    match s {
        Sector::Hydrogen => "氢能科技",
        Sector::LifeSciences => "生物医药",
        Sector::EnvironmentalTechnology => "环保科技",
        Sector::Logistics => "物流",
        Sector::Automotive => "汽车科技",
        Sector::Digital => "数字科技",
        Sector::MedicalTechnology => "医疗器械",
        _ => "新能源",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The demo's job fair works as one: employers with job postings for it, and candidates
    /// who may ask them (and only them) for an interview, over both of its days.
    #[tokio::test]
    async fn the_job_fair_has_employers_with_postings_and_candidates() {
        let store = Store::connect("sqlite::memory:").await.unwrap();
        store.migrate().await.unwrap();
        seed(&store, "2030-03-01".parse().unwrap()).await.unwrap();
        let event = store
            .event_by_slug("chinese-talent-days-online")
            .await
            .unwrap();
        assert_eq!(store.event_sessions(event.id).await.unwrap().len(), 2);
        let people = store
            .participants(event.id, Some(RegistrationStatus::Approved))
            .await
            .unwrap();
        let of = |role| {
            people
                .iter()
                .filter(|p| p.registration.role == role)
                .collect::<Vec<_>>()
        };
        let (employers, candidates) = (
            of(ParticipantRole::Employer),
            of(ParticipantRole::Candidate),
        );
        assert!(
            employers.len() >= 20 && candidates.len() >= 50,
            "{} {}",
            employers.len(),
            candidates.len()
        );
        for e in employers {
            let postings = store
                .opportunities_of_user(e.registration.user_id)
                .await
                .unwrap();
            assert!(
                postings
                    .iter()
                    .any(|o| o.kind == OpportunityKind::JobPosting && o.event_id == Some(event.id)),
                "{} has no job posting",
                e.name
            );
        }
        assert!(
            event
                .rules
                .allows(ParticipantRole::Candidate, ParticipantRole::Employer)
        );
        assert!(
            !event
                .rules
                .allows(ParticipantRole::Candidate, ParticipantRole::Candidate)
        );
    }
}
