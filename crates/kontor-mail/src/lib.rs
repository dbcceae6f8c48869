//! Mail: what Kontor says (composed per language from the message catalogue), and how it gets
//! there (the outbox worker, SMTP or the local demo mailbox).
//!
//! Invariant: nothing here sends a mail directly. A change writes its mail to the outbox in its
//! own transaction ([`kontor_store::Tx::enqueue_mail`]); only [`worker`] delivers.

pub mod bulk;
pub mod compose;
pub mod dkim;
pub mod journal;
pub mod mailbox;
pub mod newsletter;
pub mod smtp;
pub mod worker;

pub use compose::Composer;
pub use smtp::{SmtpConfig, SmtpSender};
pub use worker::{Delivery, OutboxWorker};
