//! One file per tab: each a struct holding its own view state, with a
//! `ui` function that reads the model and sends [`super::commands::Command`]s.
//!
//! Panels import `commands`, `workspace` and the model; never `app.rs`
//! (which owns them) nor one another.

pub mod console;
pub mod file;
pub mod functions;
pub mod http_apis;
pub mod keys;
pub mod logs;
pub mod metrics;
pub mod openapi;
pub mod stages;
