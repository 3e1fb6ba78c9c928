//! Portico: design, run and test AWS API Gateway-style APIs locally.
//!
//! The library holds everything; `src/main.rs` only parses the command line.
//! See `ARCHITECTURE.md` (shared) for the layout and the request pipeline.

pub mod auth;
pub mod cli;
pub mod control;
pub mod echo_backend;
pub mod functions;
pub mod gateway;
pub mod gui;
pub mod integrations;
pub mod jsonpath;
pub mod model;
pub mod observe;
pub mod openapi;
pub mod throttle;
pub mod vtl;
