//! Our own SMTP client against the sink: a final dot pipelined with the next envelope, and
//! what a refusal on either side of that write does to the other message and the connection.

use kontor_mail::SmtpConfig;
use kontor_mail::bulk::{Envelope, SmtpClient, dot_stuffed};
use kontor_mail::smtp::SendError;

use crate::sink::Sink;

const FROM: &str = "newsletter@news.example.de";

fn to(to: &str) -> Envelope<'_> {
    Envelope {
        from: FROM,
        to,
        eight_bit: false,
    }
}

fn data(n: usize) -> Vec<u8> {
    dot_stuffed(format!("Subject: {n}\r\n\r\n.a line with a dot\r\nmessage {n}\r\n").as_bytes())
}

#[tokio::test]
async fn a_refusal_on_either_side_of_a_pipelined_dot_touches_only_its_own_message() {
    let sink = Sink::start(0).await;
    sink.refuse_recipient("gone@firma.de");
    sink.busy_after_data("late@firma.de", 1);
    let config = SmtpConfig::parse(&format!("smtp://127.0.0.1:{}", sink.port), FROM).unwrap();
    let mut c = SmtpClient::connect(&config).await.unwrap();

    c.begin(&to("a@firma.de")).await.unwrap();
    c.write_data(&data(1)).await.unwrap();
    // The next recipient is refused for good: this message still goes, the connection stays.
    let (verdict, next) = c
        .commit_and_finish(|| Ok(()), Some(&to("gone@firma.de")))
        .await;
    verdict.unwrap();
    assert!(
        matches!(next, Some(Err(SendError::Permanent(ref e))) if e.contains("550")),
        "{next:?}"
    );
    assert!(!c.broken);

    c.begin(&to("late@firma.de")).await.unwrap();
    c.write_data(&data(2)).await.unwrap();
    // This message's dot is refused for now: the next envelope is still accepted.
    let (verdict, next) = c
        .commit_and_finish(|| Ok(()), Some(&to("b@firma.de")))
        .await;
    assert!(
        matches!(verdict, Err(kontor_mail::bulk::FinishError::Send(SendError::Temporary(ref e))) if e.contains("451")),
        "{verdict:?}"
    );
    assert!(matches!(next, Some(Ok(()))), "{next:?}");
    c.write_data(&data(3)).await.unwrap();
    let (verdict, next) = c.commit_and_finish(|| Ok(()), None).await;
    verdict.unwrap();
    assert!(next.is_none());

    // A failed commit writes no dot: the message is not delivered.
    c.begin(&to("c@firma.de")).await.unwrap();
    c.write_data(&data(4)).await.unwrap();
    let (verdict, _) = c
        .commit_and_finish(|| Err(std::io::Error::other("disk full")), None)
        .await;
    assert!(matches!(
        verdict,
        Err(kontor_mail::bulk::FinishError::Commit(_))
    ));
    drop(c);

    let got: Vec<(Vec<String>, String)> = sink
        .messages()
        .into_iter()
        .map(|m| (m.to, m.data))
        .collect();
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[0].0, ["a@firma.de"]);
    assert!(got[0].1.contains("\r\n.a line with a dot\r\nmessage 1\r\n"));
    assert_eq!(got[1].0, ["b@firma.de"]);
    assert!(got[1].1.contains("message 3"));
    assert_eq!(sink.connections(), 1);
}
