//! Observability: the per-request execution log and the bounded buffer of
//! recent requests the GUI and the CLI read.

mod execution_log;
pub mod metrics;
mod request_log;

pub use execution_log::{ExecutionLog, LineWriter, LogText, Lossy, aws_log_time, decimal};
pub use metrics::Metrics;
pub use request_log::{RequestLog, RequestRecord, StoredHeaders};
