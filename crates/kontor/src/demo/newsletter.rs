//! The demo newsletter: invented readers in German, English and Chinese (imported, with the
//! consent on record as an import states it) and a draft issue in three languages, so that
//! "Send" at `/admin/newsletter` fills the demo mailbox (no SMTP in the demo).

use kontor_domain::{Email, Keyed, Locale, SubscriberStatus, Topic};
use kontor_store::Store;
use kontor_store::newsletter::{EditionInput, IssueFields};
use kontor_store::subscribers::{ConsentEvent, NewSubscriber};

/// Address, language, topics (none: every issue). Every name is invented; `.example` is reserved.
const READERS: [(&str, Locale, &[Topic]); 12] = [
    ("jonas.weber@leser.example", Locale::De, &[]),
    ("sabine.koch@leser.example", Locale::De, &[Topic::Hydrogen]),
    ("mehmet.yilmaz@leser.example", Locale::De, &[Topic::Jobs]),
    (
        "claudia.roth@leser.example",
        Locale::De,
        &[Topic::China, Topic::Events],
    ),
    ("emma.clarke@readers.example", Locale::En, &[]),
    (
        "david.osei@readers.example",
        Locale::En,
        &[Topic::International],
    ),
    (
        "priya.nair@readers.example",
        Locale::En,
        &[Topic::LifeSciences],
    ),
    ("liu.yang@duzhe.example", Locale::Zh, &[]),
    (
        "zhang.min@duzhe.example",
        Locale::Zh,
        &[Topic::Hydrogen, Topic::China],
    ),
    ("chen.jing@duzhe.example", Locale::Zh, &[Topic::Jobs]),
    ("wang.lei@duzhe.example", Locale::Zh, &[Topic::Events]),
    ("zhao.xue@duzhe.example", Locale::Zh, &[]),
];

const EDITIONS: [(Locale, &str, &str); 3] = [
    (
        Locale::De,
        "Kontor-Newsletter: Neues aus dem Austausch mit China",
        "Liebe Leserinnen und Leser,\n\nin dieser Ausgabe: unsere neuen Magazinartikel und die \
         nächsten Veranstaltungen – Fachmesse, Online-Jobmesse und Beratungstag.\n\nIhr Team \
         der Wirtschaftsförderung",
    ),
    (
        Locale::En,
        "Kontor newsletter: news from our exchange with China",
        "Dear readers,\n\nin this issue: our new magazine articles and the next events – the \
         trade fair, the online job fair and the consultation day.\n\nYour economic \
         development team",
    ),
    (
        Locale::Zh,
        "Kontor 简报：中德交流最新动态",
        "亲爱的读者：\n\n本期内容：杂志新文章，以及即将举行的活动——专业展会、线上招聘会和咨询日。\n\n\
         经济促进局团队",
    ),
];

/// Twelve confirmed readers and a draft issue.
pub async fn seed(store: &Store, now: i64) -> anyhow::Result<()> {
    let emails = READERS
        .iter()
        .map(|(e, _, _)| Email::parse(e))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| anyhow::anyhow!("demo reader address: {e:?}"))?;
    let tokens: Vec<String> = READERS
        .iter()
        .map(|_| uuid::Uuid::now_v7().simple().to_string())
        .collect();
    let new: Vec<NewSubscriber> = READERS
        .iter()
        .zip(&emails)
        .zip(&tokens)
        .map(|(((_, locale, topics), email), token)| NewSubscriber {
            email,
            locale: *locale,
            topics,
            status: SubscriberStatus::Confirmed,
            unsubscribe_token: token,
        })
        .collect();
    let mut tx = store.begin().await?;
    let ids = tx.create_subscribers(&new, now).await?;
    let events: Vec<_> = ids
        .iter()
        .map(|id| {
            let event = ConsentEvent {
                source: Some("Demo data (invented readers)".into()),
                claimed_at: Some(now - 30 * 86_400_000_000),
                detail: Some(format!(
                    "status={} imported by the demo",
                    SubscriberStatus::Confirmed.key()
                )),
                ..ConsentEvent::new("imported", now)
            };
            (*id, event)
        })
        .collect();
    tx.add_consent_events(&events).await?;
    let issue = IssueFields {
        title: "Demo: monthly newsletter".into(),
        include_events: true,
        topic: None,
        editions: EDITIONS
            .iter()
            .map(|(locale, subject, intro)| EditionInput {
                locale: *locale,
                subject: subject.to_string(),
                intro: intro.to_string(),
            })
            .collect(),
    };
    tx.create_issue(&issue, now).await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sending the demo's draft without SMTP puts one message per reader in the mailbox.
    #[tokio::test]
    async fn the_demo_draft_goes_to_every_reader_through_the_mailbox() {
        let store = Store::connect("sqlite::memory:").await.unwrap();
        store.migrate().await.unwrap();
        let now = kontor_domain::now_micros();
        seed(&store, now).await.unwrap();
        let issue = store.newsletter_issues().await.unwrap().remove(0);
        assert_eq!(issue.status, "draft");
        let base = "http://127.0.0.1:8080";
        let queued = kontor_mail::newsletter::start_issue(&store, base, issue.id, now)
            .await
            .unwrap();
        assert_eq!(queued, READERS.len() as u64);
        let from = kontor_mail::smtp::sender_address("Kontor <noreply@kontor.example>").unwrap();
        let mailer = kontor_mail::bulk::NewsletterMailer::new(from, base, None);
        let starter = kontor_mail::newsletter::starter(&store, base);
        let sender = kontor_mail::mailbox::MailboxSender::new(store.clone(), mailer, starter);
        assert_eq!(sender.deliver_due().await.unwrap(), READERS.len() as u64);
        let zh = store
            .outbox(Some("liu.yang@duzhe.example"), 5)
            .await
            .unwrap();
        assert_eq!(zh.len(), 1);
        assert_eq!(zh[0].subject, "Kontor 简报：中德交流最新动态");
    }
}
