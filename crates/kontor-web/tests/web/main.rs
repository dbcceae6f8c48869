//! The web server in-process (no sockets): access control, cross-site requests, bad input in
//! every language, the sign-up flow through the outbox, and the OpenAPI snapshot.

mod access;
mod helpers;
mod input;
mod marketplace;
mod meetings;
mod newsletter;
mod openapi;
mod scheduling;
mod signup;
