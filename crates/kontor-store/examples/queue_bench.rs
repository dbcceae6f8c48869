//! The newsletter delivery queue alone (no SMTP): what claiming and recording costs per row,
//! with `workers` claims outstanding, each recorded in steps of 100 rows as the sender does.
//! Usage: queue_bench [rows=100000] [workers=4] [claim=500]
//! (`cargo run --release -p kontor-store --example queue_bench`; see bench/newsletter/README.md)
use std::time::Instant;

use kontor_domain::Locale;
use kontor_store::newsletter::{EditionInput, IssueFields, RenderedEdition};
use kontor_store::{Store, Uuid};

#[tokio::main]
async fn main() {
    let args: Vec<i64> = std::env::args()
        .skip(1)
        .map(|a| a.parse().unwrap())
        .collect();
    let n = args.first().copied().unwrap_or(100_000);
    let workers = args.get(1).copied().unwrap_or(4) as usize;
    let claim = args.get(2).copied().unwrap_or(500);
    let dir = std::env::temp_dir().join(format!("kontor-qbench-{}", Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}/k.db", dir.display());
    let store = Store::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    kontor_store::testing::confirmed_readers(&store, n as usize)
        .await
        .unwrap();
    let editions: Vec<EditionInput> = [Locale::De, Locale::En, Locale::Zh]
        .map(|locale| EditionInput {
            locale,
            subject: "s".into(),
            intro: "i".into(),
        })
        .to_vec();
    let now = kontor_domain::now_micros();
    let mut tx = store.begin().await.unwrap();
    let id = tx
        .create_issue(
            &IssueFields {
                title: "Bench".into(),
                include_events: false,
                topic: None,
                editions,
            },
            now,
        )
        .await
        .unwrap();
    let rendered: Vec<RenderedEdition> = [Locale::De, Locale::En, Locale::Zh]
        .map(|locale| RenderedEdition {
            locale,
            subject: "s".into(),
            text: "t".into(),
            html: "h".into(),
        })
        .to_vec();
    let queued = tx.start_sending(id, &rendered, now).await.unwrap();
    tx.commit().await.unwrap();
    println!("{queued} rows queued; {workers} claims outstanding, {claim} rows each");

    let lease = 600_000_000;
    let mut outstanding = std::collections::VecDeque::new();
    let (mut t_claim, mut t_mark, mut rows) = (0.0, 0.0, 0usize);
    let wall = Instant::now();
    loop {
        while outstanding.len() < workers {
            let t = Instant::now();
            let got = store
                .claim_deliveries(kontor_domain::now_micros(), lease, claim)
                .await
                .unwrap();
            t_claim += t.elapsed().as_secs_f64();
            if got.is_empty() {
                break;
            }
            outstanding.push_back(got);
        }
        let Some(batch) = outstanding.pop_front() else {
            break;
        };
        let sent: Vec<(Uuid, i64, Uuid)> = batch
            .iter()
            .map(|d| (d.issue_id, d.seq, d.claim_id))
            .collect();
        rows += sent.len();
        let t = Instant::now();
        for chunk in sent.chunks(100) {
            store
                .mark_deliveries_sent(chunk, kontor_domain::now_micros())
                .await
                .unwrap();
        }
        store.settle_claim(batch[0].claim_id).await.unwrap();
        t_mark += t.elapsed().as_secs_f64();
    }
    let us = |t: f64| t * 1e6 / rows as f64;
    println!(
        "{rows} rows: claim {:.2} µs/row, record {:.2} µs/row, wall {:.2} µs/row",
        us(t_claim),
        us(t_mark),
        us(wall.elapsed().as_secs_f64())
    );
    let _ = std::fs::remove_dir_all(&dir);
}
