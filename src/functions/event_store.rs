//! The durable half of a function's event queue: the asynchronous
//! invocations accepted (the caller got its 202) and not yet finished, in
//! `<project>/.portico/events/<function>.jsonl`, so that they survive the
//! gateway stopping or being killed, as AWS's queue does.
//!
//! The file is a log of JSON lines: `put` (an accepted event, with its
//! enqueue time and payload), `retry` (its function errors so far) and
//! `done` (it ran, or was dropped). One thread per file writes them in
//! order: it writes a batch of lines, syncs the file once for every `put`
//! in the batch (group commit: a 202 means the event is on disk), and then
//! answers. When finished events outweigh the live ones the file is
//! rewritten with the live events only (temp file, fsync, rename); when
//! none is live it is truncated. Opening the file reads back the live
//! events; a damaged line (a write cut short by `kill -9` or a full disk)
//! is skipped and logged. A lock file (`flock`) keeps a second gateway on
//! the same project from sharing the file: that one keeps its queue in
//! memory.
//!
//! Imports nothing of the gateway; the queue (`events.rs`) decides
//! what to write.

use std::collections::{HashMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use base64::Engine;
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;

use super::FunctionLog;

/// Where the event files live, below the project directory: runtime state
/// (not part of the project's definition, so hidden and apart from the
/// files a user edits and commits).
pub(super) const EVENTS_DIR: &str = ".portico/events";

/// Below this size a file of finished events is left to grow; above it,
/// it is rewritten once it holds more finished than live bytes.
const COMPACT_MIN_BYTES: u64 = 4 * 1024 * 1024;
/// A file with no live event is truncated once it is this big.
const TRUNCATE_MIN_BYTES: u64 = 64 * 1024;
/// Commands written per batch (and per sync) at most.
const BATCH: usize = 4096;

/// One line of the file.
#[derive(Debug, Serialize, Deserialize)]
#[serde(
    tag = "op",
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    deny_unknown_fields
)]
enum Record {
    Put {
        id: String,
        /// When the event was accepted, in milliseconds since the Unix
        /// epoch: its age (`MaximumEventAgeInSeconds`) counts from here,
        /// across restarts.
        enqueued_ms: u64,
        #[serde(default)]
        function_errors: u32,
        /// The payload as text (Lambda payloads are JSON) ...
        #[serde(default, skip_serializing_if = "Option::is_none")]
        payload: Option<String>,
        /// ... or, when it is not UTF-8, in base64.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        payload_base64: Option<String>,
    },
    Retry {
        id: String,
        function_errors: u32,
    },
    Done {
        id: String,
    },
}

/// An event read back from the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct StoredEvent {
    pub id: String,
    pub enqueued_ms: u64,
    pub function_errors: u32,
    pub payload: Bytes,
}

enum Command {
    Put {
        id: String,
        line: Vec<u8>,
        synced: oneshot::Sender<Result<(), String>>,
    },
    Retry {
        id: String,
        function_errors: u32,
    },
    Done {
        id: String,
        written: oneshot::Sender<()>,
    },
    Close {
        closed: mpsc::Sender<()>,
    },
}

/// A function's event file, open for appending; its writer thread ends
/// when the store is closed or dropped.
pub(super) struct EventStore {
    path: PathBuf,
    commands: Mutex<Option<mpsc::Sender<Command>>>,
}

/// Why a store could not be opened.
#[derive(Debug, thiserror::Error)]
pub(super) enum OpenError {
    #[error("{0} is in use by another gateway")]
    Locked(PathBuf),
    #[error("{0}: {1}")]
    Io(PathBuf, std::io::Error),
}

impl EventStore {
    /// Opens (creating it if need be) `function`'s event file in `dir`,
    /// reads back its live events (in the order they were accepted) and
    /// rewrites the file with them alone. Damaged lines are logged to `log`
    /// and skipped.
    pub(super) fn open(
        dir: &Path,
        function: &str,
        log: Arc<FunctionLog>,
    ) -> Result<(EventStore, Vec<StoredEvent>), OpenError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |e| OpenError::Io(path, e)
        };
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let lock_path = dir.join(format!("{function}.lock"));
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io(&lock_path))?;
        if !try_lock(&lock) {
            return Err(OpenError::Locked(lock_path));
        }
        let path = dir.join(format!("{function}.jsonl"));
        let mut live: Vec<StoredEvent> = Vec::new();
        match File::open(&path) {
            Ok(file) => {
                let mut index: HashMap<String, usize> = HashMap::new();
                let mut done: HashSet<usize> = HashSet::new();
                read_records(file, &path, &log, |record| match record {
                    Record::Put {
                        id,
                        enqueued_ms,
                        function_errors,
                        payload,
                        payload_base64,
                    } => {
                        let payload = match (payload, payload_base64) {
                            (Some(text), _) => Bytes::from(text),
                            (None, Some(encoded)) => {
                                match base64::engine::general_purpose::STANDARD.decode(encoded) {
                                    Ok(bytes) => Bytes::from(bytes),
                                    Err(_) => return false,
                                }
                            }
                            (None, None) => Bytes::new(),
                        };
                        if index.contains_key(&id) {
                            return true;
                        }
                        index.insert(id.clone(), live.len());
                        live.push(StoredEvent {
                            id,
                            enqueued_ms,
                            function_errors,
                            payload,
                        });
                        true
                    }
                    Record::Retry {
                        id,
                        function_errors,
                    } => {
                        if let Some(&at) = index.get(&id) {
                            live[at].function_errors = function_errors;
                        }
                        true
                    }
                    Record::Done { id } => {
                        if let Some(&at) = index.get(&id) {
                            done.insert(at);
                        }
                        true
                    }
                })
                .map_err(io(&path))?;
                let mut position = 0;
                live.retain(|_| {
                    position += 1;
                    !done.contains(&(position - 1))
                });
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(OpenError::Io(path, e)),
        }
        // The live events alone, written anew: a damaged tail is gone and
        // appends start on a line of their own.
        let mut text = Vec::new();
        let mut entries = HashMap::new();
        for event in &live {
            let line = put_line(
                &event.id,
                event.enqueued_ms,
                event.function_errors,
                &event.payload,
            );
            entries.insert(
                event.id.clone(),
                Entry {
                    bytes: line.len() as u64,
                    function_errors: event.function_errors,
                },
            );
            text.extend_from_slice(&line);
        }
        replace_file(&path, &text).map_err(io(&path))?;
        let file = open_append(&path).map_err(io(&path))?;
        let writer = Writer {
            path: path.clone(),
            file,
            file_bytes: text.len() as u64,
            live_bytes: text.len() as u64,
            live: entries,
            broken: None,
            log,
            _lock: lock,
        };
        let (sender, receiver) = mpsc::channel();
        std::thread::Builder::new()
            .name(format!("portico-events-{function}"))
            .spawn(move || writer.run(receiver))
            .map_err(io(&path))?;
        Ok((
            EventStore {
                path,
                commands: Mutex::new(Some(sender)),
            },
            live,
        ))
    }

    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    fn send(&self, command: Command) -> bool {
        let commands = self.commands.lock().unwrap_or_else(|e| e.into_inner());
        commands
            .as_ref()
            .is_some_and(|sender| sender.send(command).is_ok())
    }

    /// Writes an accepted event. The returned future resolves once the
    /// line is synced to disk (or the write failed).
    pub(super) fn put(
        &self,
        id: &str,
        enqueued_ms: u64,
        payload: &Bytes,
    ) -> impl Future<Output = Result<(), String>> + use<> {
        let (synced, result) = oneshot::channel();
        let sent = self.send(Command::Put {
            id: id.to_string(),
            line: put_line(id, enqueued_ms, 0, payload),
            synced,
        });
        async move {
            if !sent {
                return Err("the event file is closed".to_string());
            }
            result
                .await
                .unwrap_or_else(|_| Err("the event file is closed".to_string()))
        }
    }

    /// Records that the event failed `function_errors` times so far.
    pub(super) fn retry(&self, id: &str, function_errors: u32) {
        self.send(Command::Retry {
            id: id.to_string(),
            function_errors,
        });
    }

    /// Records that the event is finished; resolves once written (not
    /// synced: a process killed later still leaves it in the file).
    pub(super) fn done(&self, id: &str) -> impl Future<Output = ()> + use<> {
        let (written, result) = oneshot::channel();
        let sent = self.send(Command::Done {
            id: id.to_string(),
            written,
        });
        async move {
            if sent {
                let _ = result.await;
            }
        }
    }

    /// Writes what was sent, stops the writer and releases the file (for a
    /// gateway started next on the same project). Waits a few seconds at
    /// most.
    pub(super) fn close(&self) {
        let sender = self
            .commands
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(sender) = sender {
            let (closed, wait) = mpsc::channel();
            if sender.send(Command::Close { closed }).is_ok() {
                let _ = wait.recv_timeout(Duration::from_secs(5));
            }
        }
    }
}

impl Drop for EventStore {
    fn drop(&mut self) {
        self.close();
    }
}

/// What the writer knows of a live event.
struct Entry {
    /// Its `put` line's length.
    bytes: u64,
    function_errors: u32,
}

struct Writer {
    path: PathBuf,
    file: File,
    file_bytes: u64,
    live_bytes: u64,
    live: HashMap<String, Entry>,
    /// Set after a failed write: the file may end in a partial line, so
    /// nothing more is appended (events are then kept in memory only).
    broken: Option<String>,
    log: Arc<FunctionLog>,
    /// Held while the writer runs.
    _lock: File,
}

impl Writer {
    fn run(mut self, commands: mpsc::Receiver<Command>) {
        while let Ok(first) = commands.recv() {
            let mut batch = vec![first];
            while batch.len() < BATCH {
                match commands.try_recv() {
                    Ok(command) => batch.push(command),
                    Err(_) => break,
                }
            }
            let mut out = Vec::new();
            let mut synced = Vec::new();
            let mut written = Vec::new();
            let mut closed = None;
            for command in batch {
                match command {
                    Command::Put {
                        id,
                        line,
                        synced: s,
                    } => {
                        if self.broken.is_none() {
                            self.live_bytes += line.len() as u64;
                            self.live.insert(
                                id,
                                Entry {
                                    bytes: line.len() as u64,
                                    function_errors: 0,
                                },
                            );
                            out.extend_from_slice(&line);
                        }
                        synced.push(s);
                    }
                    Command::Retry {
                        id,
                        function_errors,
                    } => {
                        if let Some(entry) = self.live.get_mut(&id) {
                            entry.function_errors = function_errors;
                            out.extend_from_slice(&record_line(&Record::Retry {
                                id,
                                function_errors,
                            }));
                        }
                    }
                    Command::Done { id, written: w } => {
                        if let Some(entry) = self.live.remove(&id) {
                            self.live_bytes -= entry.bytes;
                            out.extend_from_slice(&record_line(&Record::Done { id }));
                        }
                        written.push(w);
                    }
                    Command::Close { closed: c } => closed = Some(c),
                }
            }
            if self.broken.is_none() && !out.is_empty() {
                let result = self.file.write_all(&out).and_then(|_| {
                    if synced.is_empty() {
                        Ok(())
                    } else {
                        self.file.sync_data()
                    }
                });
                self.file_bytes += out.len() as u64;
                if let Err(e) = result {
                    let message = format!("{}: {e}", self.path.display());
                    self.log.push(format!(
                        "ASYNC_QUEUE Status: not persisted\tReason: {message}; events are kept in memory from now on"
                    ));
                    self.broken = Some(message);
                }
            }
            let result = match &self.broken {
                Some(message) => Err(message.clone()),
                None => Ok(()),
            };
            for s in synced {
                let _ = s.send(result.clone());
            }
            for w in written {
                let _ = w.send(());
            }
            if let Some(closed) = closed {
                drop(self);
                let _ = closed.send(());
                return;
            }
            self.compact_if_worth_it();
        }
    }

    fn compact_if_worth_it(&mut self) {
        if self.broken.is_some() {
            return;
        }
        let result = if self.live.is_empty() {
            if self.file_bytes < TRUNCATE_MIN_BYTES {
                return;
            }
            // Appends go to the end, wherever it is.
            self.file.set_len(0)
        } else if self.file_bytes >= COMPACT_MIN_BYTES && self.file_bytes > 2 * self.live_bytes {
            self.rewrite()
        } else {
            return;
        };
        match result {
            Ok(()) => {
                if self.live.is_empty() {
                    self.file_bytes = 0;
                }
            }
            Err(e) => self.log.push(format!(
                "ASYNC_QUEUE Status: not compacted\tReason: {}: {e}",
                self.path.display()
            )),
        }
    }

    /// Rewrites the file with the live events' `put` lines (their function
    /// errors brought up to date), streaming it, then appends there.
    fn rewrite(&mut self) -> std::io::Result<()> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        let mut temp = tempfile::Builder::new()
            .prefix(TEMP_PREFIX)
            .tempfile_in(dir)?;
        let mut seen = HashSet::new();
        let mut bytes = 0u64;
        {
            let mut out = BufWriter::new(temp.as_file_mut());
            let mut failed = None;
            read_records(File::open(&self.path)?, &self.path, &self.log, |record| {
                if let Record::Put {
                    id,
                    enqueued_ms,
                    payload,
                    payload_base64,
                    ..
                } = record
                    && let Some(entry) = self.live.get(&id)
                    && seen.insert(id.clone())
                {
                    let line = record_line(&Record::Put {
                        function_errors: entry.function_errors,
                        id,
                        enqueued_ms,
                        payload,
                        payload_base64,
                    });
                    bytes += line.len() as u64;
                    if let Err(e) = out.write_all(&line) {
                        failed.get_or_insert(e);
                    }
                }
                true
            })?;
            if let Some(e) = failed {
                return Err(e);
            }
            out.flush()?;
        }
        temp.as_file().sync_all()?;
        temp.persist(&self.path).map_err(|e| e.error)?;
        sync_dir(dir);
        self.file = open_append(&self.path)?;
        self.file_bytes = bytes;
        Ok(())
    }
}

/// The prefix of the project's atomic-write temp files
/// (`crate::model::project::remove_stale_temp_files` sweeps them).
const TEMP_PREFIX: &str = ".portico-save-";

fn record_line(record: &Record) -> Vec<u8> {
    let mut line = serde_json::to_vec(record).expect("a record serializes");
    line.push(b'\n');
    line
}

fn put_line(id: &str, enqueued_ms: u64, function_errors: u32, payload: &Bytes) -> Vec<u8> {
    let (text, encoded) = match std::str::from_utf8(payload) {
        Ok(text) => (Some(text.to_string()), None),
        Err(_) => (
            None,
            Some(base64::engine::general_purpose::STANDARD.encode(payload)),
        ),
    };
    record_line(&Record::Put {
        id: id.to_string(),
        enqueued_ms,
        function_errors,
        payload: text,
        payload_base64: encoded,
    })
}

/// Calls `apply` with each record of `file` in order; a line that is not a
/// record (or that `apply` refuses) is logged and skipped.
fn read_records(
    file: File,
    path: &Path,
    log: &FunctionLog,
    mut apply: impl FnMut(Record) -> bool,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(file);
    let mut line = Vec::new();
    let mut number = 0u64;
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            return Ok(());
        }
        number += 1;
        let complete = line.last() == Some(&b'\n');
        let text = line.strip_suffix(b"\n").unwrap_or(&line);
        if text.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let accepted = match serde_json::from_slice::<Record>(text) {
            Ok(record) => apply(record),
            Err(_) => false,
        };
        if !accepted {
            let what = if complete {
                "a damaged line"
            } else {
                "a truncated last line"
            };
            log.push(format!(
                "ASYNC_QUEUE Status: skipped\tReason: {what} ({}:{number}, {} bytes)",
                path.display(),
                text.len()
            ));
        }
    }
}

/// Replaces `path` with `bytes` atomically (temp file, fsync, rename,
/// fsync of the directory).
fn replace_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut temp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .tempfile_in(dir)?;
    temp.write_all(bytes)?;
    temp.as_file().sync_all()?;
    temp.persist(path).map_err(|e| e.error)?;
    sync_dir(dir);
    Ok(())
}

fn open_append(path: &Path) -> std::io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

fn sync_dir(dir: &Path) {
    if let Ok(handle) = File::open(dir) {
        let _ = handle.sync_all();
    }
}

/// Takes an exclusive `flock` on `file` without waiting; released when the
/// file is closed (by this process's death too).
#[cfg(unix)]
fn try_lock(file: &File) -> bool {
    use std::os::fd::AsRawFd;
    // SAFETY: flock on a descriptor this function borrows; no memory is
    // passed.
    unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) == 0 }
}

#[cfg(not(unix))]
fn try_lock(_file: &File) -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(dir: &Path) -> (EventStore, Vec<StoredEvent>, Arc<FunctionLog>) {
        let log = Arc::new(FunctionLog::default());
        let (store, events) = EventStore::open(dir, "fn", Arc::clone(&log)).unwrap();
        (store, events, log)
    }

    fn block_on<T>(future: impl Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(future)
    }

    #[test]
    fn live_events_come_back_in_order_with_their_attempts() {
        let dir = tempfile::tempdir().unwrap();
        let (store, events, _) = open(dir.path());
        assert!(events.is_empty());
        for (id, payload) in [("a", &b"{\"n\":1}"[..]), ("b", b"\xff\x00"), ("c", b"{}")] {
            block_on(store.put(id, 1_000, &Bytes::copy_from_slice(payload))).unwrap();
        }
        store.retry("c", 2);
        block_on(store.done("a"));
        drop(store);
        let (_store, events, log) = open(dir.path());
        assert_eq!(
            events,
            vec![
                StoredEvent {
                    id: "b".into(),
                    enqueued_ms: 1_000,
                    function_errors: 0,
                    payload: Bytes::from_static(b"\xff\x00"),
                },
                StoredEvent {
                    id: "c".into(),
                    enqueued_ms: 1_000,
                    function_errors: 2,
                    payload: Bytes::from_static(b"{}"),
                },
            ]
        );
        assert_eq!(log.render(), "");
    }

    /// `kill -9` in the middle of a write leaves a partial last line: it
    /// is skipped with a log line, the events before it come back, and
    /// appends after the reopen start on a line of their own.
    #[test]
    fn a_damaged_or_truncated_line_is_skipped_and_logged() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _, _) = open(dir.path());
        block_on(store.put("kept", 5, &Bytes::from_static(b"{\"k\":1}"))).unwrap();
        block_on(store.put("cut", 6, &Bytes::from_static(b"{\"k\":2}"))).unwrap();
        drop(store);
        let path = dir.path().join("fn.jsonl");
        let text = std::fs::read_to_string(&path).unwrap();
        let cut = text.rfind("\"payload\"").unwrap();
        // A garbage line in the middle, and the last line cut short.
        let damaged = format!("not json\n{}", &text[..cut]);
        std::fs::write(&path, damaged).unwrap();

        let (store, events, log) = open(dir.path());
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(events[0].id, "kept");
        let lines = log.render();
        assert!(
            lines.contains("Status: skipped\tReason: a damaged line (")
                && lines.contains(":1, 8 bytes)"),
            "{lines}"
        );
        assert!(
            lines.contains("Status: skipped\tReason: a truncated last line ("),
            "{lines}"
        );
        block_on(store.put("after", 7, &Bytes::from_static(b"{}"))).unwrap();
        drop(store);
        let (_store, events, log) = open(dir.path());
        let ids: Vec<_> = events.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, ["kept", "after"]);
        assert_eq!(log.render(), "", "the file was rewritten clean");
    }

    #[test]
    fn a_second_opener_is_refused_until_the_first_closes() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _, _) = open(dir.path());
        let log = Arc::new(FunctionLog::default());
        assert!(matches!(
            EventStore::open(dir.path(), "fn", Arc::clone(&log)),
            Err(OpenError::Locked(_))
        ));
        store.close();
        assert!(EventStore::open(dir.path(), "fn", log).is_ok());
    }

    /// Finished events do not pile up: the file is truncated when nothing
    /// is live and rewritten when finished lines outweigh live ones.
    #[test]
    fn the_file_is_compacted() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _, _) = open(dir.path());
        let path = dir.path().join("fn.jsonl");
        let payload = Bytes::from(format!("\"{}\"", "x".repeat(40_000)));
        block_on(async {
            store.put("keep", 1, &payload).await.unwrap();
            for n in 0..300 {
                let id = format!("e{n}");
                store.put(&id, 1, &payload).await.unwrap();
                store.done(&id).await;
            }
        });
        let size = std::fs::metadata(&path).unwrap().len();
        assert!(size < COMPACT_MIN_BYTES + 100_000, "{size} bytes");
        block_on(async {
            store.done("keep").await;
            for n in 0..10 {
                let id = format!("f{n}");
                store.put(&id, 1, &payload).await.unwrap();
                store.done(&id).await;
            }
        });
        let size = std::fs::metadata(&path).unwrap().len();
        assert!(size < TRUNCATE_MIN_BYTES + 2 * 40_100, "{size} bytes");
        drop(store);
        let (_store, events, _) = open(dir.path());
        assert!(events.is_empty(), "{events:?}");
    }
}
