//! The web server in-process (no sockets): access control, cross-site requests, bad input in
//! every language, the sign-up flow through the outbox, the newsletter subscription (on SQLite
//! and PostgreSQL), and the OpenAPI snapshot.

mod access;
mod helpers;
mod input;
mod jobs;
mod magazine;
mod marketplace;
mod meetings;
mod newsletter;
mod openapi;
mod partnerships;
mod rooms;
mod scheduling;
mod signup;
mod subscribe;
