//! What a client connection may hold: how long it may take to send a
//! request head, how long it may sit idle between requests, how many
//! connections stay open at once, and how many bytes a request head may
//! have. Owns the table of open connections the acceptor sheds from when
//! descriptors run short, and the per-connection state the serving code
//! keeps up to date (see `server::serve_connection`).
//!
//! Imports nothing from the rest of the gateway: `server.rs` drives it.

use std::os::fd::RawFd;
use std::pin::Pin;
use std::sync::atomic::{AtomicU8, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use rustc_hash::FxHashMap;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// AWS's quota for the request line and the headers together: "Total
/// combined size of request line and header values: 10240 bytes"
/// (<https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html>).
/// Portico counts the whole head (names, separators and line ends too).
pub const MAX_REQUEST_HEAD_BYTES: usize = 10_240;

/// As many headers as the byte quota can hold (the shortest header line,
/// `a:` and its CRLF, is 4 bytes): the quota is in bytes, not in headers.
pub const MAX_REQUEST_HEADERS: usize = MAX_REQUEST_HEAD_BYTES / 4;

/// How long connections may wait, and how many may be open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// A new connection, or one that started a request after being idle,
    /// must send the whole request head within this time (nginx's
    /// `client_header_timeout` is 60 s, hyper's header read timeout 30 s).
    pub header_timeout: Duration,
    /// A connection with no request in progress is closed after this long
    /// (nginx's `keepalive_timeout`: 75 s).
    pub idle_timeout: Duration,
    /// The most client connections open at once (WebSockets included);
    /// past it the oldest idle one is closed, or the new one when none is
    /// idle. `None`: three quarters of the process's file limit.
    pub max_connections: Option<usize>,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        // nginx's defaults, documented at
        // https://nginx.org/en/docs/http/ngx_http_core_module.html#keepalive_timeout;
        // AWS documents no idle timeout for REST and HTTP APIs. The header
        // timeout is hyper's default (30 s), shorter than nginx's 60 s.
        ConnectionLimits {
            header_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(75),
            max_connections: None,
        }
    }
}

/// Raises the soft limit on open files to the hard limit (a desktop
/// session often starts programs with 1,024), and returns the limit now
/// in force (`None` if it cannot be read).
pub fn raise_file_limit() -> Option<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid rlimit for getrlimit to fill.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return None;
    }
    if limit.rlim_cur < limit.rlim_max {
        // An unlimited hard limit is not a valid soft one on Linux (the
        // kernel caps open files at fs.nr_open): try it, then 2^20.
        for wanted in [limit.rlim_max, 1 << 20] {
            let raised = libc::rlimit {
                rlim_cur: wanted.min(limit.rlim_max),
                rlim_max: limit.rlim_max,
            };
            // SAFETY: `raised` is a valid rlimit.
            if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
                limit.rlim_cur = raised.rlim_cur;
                break;
            }
        }
    }
    Some(limit.rlim_cur)
}

/// What a connection is doing, for its timeouts and for shedding.
mod phase {
    /// Accepted, no request yet: the header timeout runs.
    pub const FRESH: u8 = 0;
    /// Bytes of a request head arrived after an idle spell: the header
    /// timeout runs.
    pub const HEAD: u8 = 1;
    /// A request is in progress: no timeout (the integration's applies).
    pub const BUSY: u8 = 2;
    /// Between requests: the idle timeout runs.
    pub const IDLE: u8 = 3;
    /// Switched protocols (a WebSocket): its own limits apply.
    pub const UPGRADED: u8 = 4;
    /// Chosen to be closed to free its descriptor.
    pub const SHED: u8 = 5;
    /// Idle long enough: the HTTP/1 server is being let go of (its
    /// buffers freed) while the socket waits for the next request.
    pub const PARKING: u8 = 6;
}

/// How long an HTTP/1 connection stays idle with its server state (read
/// and write buffers, some 25 KB) before the state is freed: a client
/// that keeps sending reuses it, one that only holds the connection
/// keeps a few KB.
pub const PARK_AFTER: Duration = Duration::from_secs(1);

/// One open connection, as its serving task and the acceptor see it.
#[derive(Debug)]
pub(crate) struct Tracked {
    fd: RawFd,
    phase: AtomicU8,
    /// Requests in progress (more than one on HTTP/2).
    in_flight: AtomicU32,
    /// Served HTTP/1 so far: its server state may be freed when idle.
    may_park: std::sync::atomic::AtomicBool,
    /// When the phase began, in ms since the table's epoch.
    since_ms: AtomicU64,
}

/// Every open client connection, and the limits they live by.
#[derive(Debug)]
pub(crate) struct ConnectionTable {
    pub limits: ConnectionLimits,
    /// The effective `max_connections`.
    pub max_connections: usize,
    epoch: Instant,
    next_id: AtomicU64,
    live: Mutex<FxHashMap<u64, Arc<Tracked>>>,
}

/// How many idle connections the acceptor closes at once when it is out
/// of descriptors.
const SHED_BATCH: usize = 8;

impl ConnectionTable {
    /// A table for `limits`; `file_limit` (the process's) sizes the
    /// default connection cap.
    pub fn new(limits: ConnectionLimits, file_limit: Option<u64>) -> ConnectionTable {
        let max_connections = limits.max_connections.unwrap_or_else(|| {
            // A quarter of the descriptors stay for backends, function
            // processes and files.
            let files = file_limit.unwrap_or(1024).min(usize::MAX as u64) as usize;
            (files - files / 4).max(16)
        });
        ConnectionTable {
            limits,
            max_connections,
            epoch: Instant::now(),
            next_id: AtomicU64::new(0),
            live: Mutex::new(FxHashMap::default()),
        }
    }

    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, FxHashMap<u64, Arc<Tracked>>> {
        self.live.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Connections open now.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Enters a just-accepted connection (descriptor `fd`); it leaves the
    /// table when the registration drops, which must happen before the
    /// descriptor is closed (see [`Watched`]).
    pub fn register(self: &Arc<Self>, fd: RawFd) -> Registration {
        let tracked = Arc::new(Tracked {
            fd,
            phase: AtomicU8::new(phase::FRESH),
            in_flight: AtomicU32::new(0),
            may_park: std::sync::atomic::AtomicBool::new(false),
            since_ms: AtomicU64::new(self.now_ms()),
        });
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.lock().insert(id, Arc::clone(&tracked));
        Registration {
            table: Arc::clone(self),
            id,
            tracked,
        }
    }

    /// Closes up to `count` connections with no request in progress, the
    /// longest waiting first (an attacker's idle connections, typically);
    /// returns how many. Their tasks see the end of input and finish,
    /// freeing the descriptors. Called under descriptor pressure only.
    pub fn shed_oldest_idle(&self, count: usize) -> usize {
        let live = self.lock();
        let mut candidates: Vec<&Arc<Tracked>> = live
            .values()
            .filter(|t| {
                matches!(
                    t.phase.load(Ordering::Relaxed),
                    phase::FRESH | phase::HEAD | phase::IDLE | phase::PARKING
                ) && t.in_flight.load(Ordering::Relaxed) == 0
            })
            .collect();
        let count = count.min(candidates.len());
        if count == 0 {
            return 0;
        }
        candidates.select_nth_unstable_by_key(count - 1, |t| t.since_ms.load(Ordering::Relaxed));
        for tracked in &candidates[..count] {
            tracked.phase.store(phase::SHED, Ordering::Relaxed);
            // SAFETY: the descriptor is open: it leaves the table (under
            // this lock) before it is closed. shutdown() only ends the
            // connection; its task closes the descriptor.
            unsafe { libc::shutdown(tracked.fd, libc::SHUT_RDWR) };
        }
        count
    }

    /// Makes room for one more connection: false when the table is full
    /// and no connection is idle (the new one should then be refused).
    pub fn make_room(&self) -> bool {
        self.len() < self.max_connections || self.shed_oldest_idle(1) == 1
    }

    /// Under descriptor exhaustion (`accept` failed with EMFILE/ENFILE):
    /// closes a few idle connections; false if there were none.
    pub fn relieve(&self) -> bool {
        self.shed_oldest_idle(SHED_BATCH) > 0
    }

    /// When the connection's current wait runs out, in ms since the
    /// epoch; `None` while it owes nothing (busy, upgraded).
    fn deadline_ms(&self, tracked: &Tracked) -> Option<u64> {
        let since = tracked.since_ms.load(Ordering::Relaxed);
        let limit = match tracked.phase.load(Ordering::Relaxed) {
            phase::FRESH | phase::HEAD | phase::SHED => self.limits.header_timeout,
            phase::IDLE | phase::PARKING => self.limits.idle_timeout,
            _ => return None,
        };
        Some(since.saturating_add(limit.as_millis() as u64))
    }

    fn instant(&self, ms: u64) -> tokio::time::Instant {
        tokio::time::Instant::from_std(self.epoch + Duration::from_millis(ms))
    }

    /// What the connection's watchdog does next (called when its timer
    /// fires, and at the start). It looks at least once per
    /// [`PARK_AFTER`] while a request may start or run, so that an HTTP/1
    /// connection is parked soon after it falls idle.
    pub fn next_check(&self, tracked: &Tracked) -> Check {
        let now = self.now_ms();
        let soon = now + PARK_AFTER.as_millis() as u64;
        let header_ms = self.limits.header_timeout.as_millis() as u64;
        let since = tracked.since_ms.load(Ordering::Relaxed);
        let mut phase = tracked.phase.load(Ordering::Relaxed);
        if phase == phase::IDLE && tracked.may_park.load(Ordering::Relaxed) {
            let park_at = since.saturating_add(PARK_AFTER.as_millis() as u64);
            if park_at > now {
                return Check::Sleep(self.instant(park_at));
            }
            tracked.phase.store(phase::PARKING, Ordering::Relaxed);
            phase = phase::PARKING;
        }
        let Some(deadline) = self.deadline_ms(tracked) else {
            // Busy (or upgraded): no deadline while a request runs.
            return Check::Sleep(self.instant(soon));
        };
        if deadline <= now {
            return Check::Close;
        }
        let next = match phase {
            // A request head may begin any time: look again within the
            // header timeout.
            phase::IDLE | phase::PARKING => deadline.min(now + header_ms),
            // A request may start any time.
            _ => deadline.min(soon),
        };
        Check::Sleep(self.instant(next))
    }

    /// A parked connection is idle again (its server state gone): when its
    /// idle time runs out.
    pub fn parked(&self, tracked: &Tracked) -> tokio::time::Instant {
        let _ = tracked.phase.compare_exchange(
            phase::PARKING,
            phase::IDLE,
            Ordering::Relaxed,
            Ordering::Relaxed,
        );
        // No further parking until it has served again.
        tracked.may_park.store(false, Ordering::Relaxed);
        let since = tracked.since_ms.load(Ordering::Relaxed);
        self.instant(since.saturating_add(self.limits.idle_timeout.as_millis() as u64))
    }
}

/// The watchdog's next step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Check {
    /// Sleep until then and look again.
    Sleep(tokio::time::Instant),
    /// Out of time: close the connection.
    Close,
}

/// A connection's place in the table; leaves it on drop.
#[derive(Debug)]
pub(crate) struct Registration {
    table: Arc<ConnectionTable>,
    id: u64,
    tracked: Arc<Tracked>,
}

impl Registration {
    pub fn tracked(&self) -> &Arc<Tracked> {
        &self.tracked
    }

    pub fn table(&self) -> &Arc<ConnectionTable> {
        &self.table
    }

    /// What the connection's service needs to count its requests.
    pub fn requests(&self) -> Requests {
        Requests {
            table: Arc::clone(&self.table),
            tracked: Arc::clone(&self.tracked),
        }
    }

    /// Whether the connection is being parked (its server let go of).
    pub fn is_parking(&self) -> bool {
        self.tracked.phase.load(Ordering::Relaxed) == phase::PARKING
    }

    /// Bytes arrived: after an idle spell, a new request head has begun.
    fn on_read(&self) {
        if matches!(
            self.tracked.phase.load(Ordering::Relaxed),
            phase::IDLE | phase::PARKING
        ) {
            self.tracked
                .since_ms
                .store(self.table.now_ms(), Ordering::Relaxed);
            self.tracked.phase.store(phase::HEAD, Ordering::Relaxed);
        }
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.table.lock().remove(&self.id);
    }
}

/// Counts a connection's requests (held by its service).
#[derive(Debug, Clone)]
pub(crate) struct Requests {
    table: Arc<ConnectionTable>,
    tracked: Arc<Tracked>,
}

impl Requests {
    /// A request starts (`http1`: on an HTTP/1 connection, whose server
    /// state may be freed while idle); the returned guard ends it.
    pub fn request(&self, http1: bool) -> InFlight {
        if http1 {
            self.tracked.may_park.store(true, Ordering::Relaxed);
        }
        self.tracked.in_flight.fetch_add(1, Ordering::Relaxed);
        if self.tracked.phase.load(Ordering::Relaxed) != phase::UPGRADED {
            self.tracked.phase.store(phase::BUSY, Ordering::Relaxed);
        }
        InFlight {
            table: Arc::clone(&self.table),
            tracked: Arc::clone(&self.tracked),
        }
    }
}

/// A request in progress on a connection.
#[derive(Debug)]
pub(crate) struct InFlight {
    table: Arc<ConnectionTable>,
    tracked: Arc<Tracked>,
}

impl InFlight {
    /// The request switched protocols: the connection is a WebSocket now,
    /// never idle in this table's sense.
    pub fn upgraded(&self) {
        self.tracked.may_park.store(false, Ordering::Relaxed);
        self.tracked.phase.store(phase::UPGRADED, Ordering::Relaxed);
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if self.tracked.in_flight.fetch_sub(1, Ordering::Relaxed) == 1
            && self.tracked.phase.load(Ordering::Relaxed) == phase::BUSY
        {
            self.tracked
                .since_ms
                .store(self.table.now_ms(), Ordering::Relaxed);
            self.tracked.phase.store(phase::IDLE, Ordering::Relaxed);
        }
    }
}

/// A client socket and its place in the table. The registration drops
/// first (fields drop in order): the entry leaves the table before the
/// socket closes, so the acceptor never shuts down a reused descriptor.
#[derive(Debug)]
pub(crate) struct Socket<S> {
    registration: Registration,
    io: S,
}

impl<S> Socket<S> {
    pub fn new(registration: Registration, io: S) -> Socket<S> {
        Socket { registration, io }
    }

    pub fn registration(&self) -> &Registration {
        &self.registration
    }

    pub fn io(&self) -> &S {
        &self.io
    }
}

/// The socket as the HTTP server sees it: keeps the connection's entry up
/// to date and, once the connection is parking, ends the input (the
/// server then lets go of the connection as if the client had closed it
/// while idle) and hands the socket back instead of closing it.
#[derive(Debug)]
pub(crate) struct Watched<S> {
    /// `None` only once handed back (in `drop`).
    socket: Option<Socket<S>>,
    hand_back: Option<tokio::sync::oneshot::Sender<Socket<S>>>,
}

impl<S> Watched<S> {
    pub fn new(
        socket: Socket<S>,
        hand_back: tokio::sync::oneshot::Sender<Socket<S>>,
    ) -> Watched<S> {
        Watched {
            socket: Some(socket),
            hand_back: Some(hand_back),
        }
    }

    fn socket(&mut self) -> &mut Socket<S> {
        self.socket
            .as_mut()
            .expect("the socket is only taken on drop")
    }
}

impl<S> Drop for Watched<S> {
    fn drop(&mut self) {
        if let (Some(socket), Some(hand_back)) = (self.socket.take(), self.hand_back.take())
            && socket.registration.is_parking()
        {
            // If nobody waits any more, the socket closes here.
            let _ = hand_back.send(socket);
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let socket = self.socket();
        let polled = Pin::new(&mut socket.io).poll_read(cx, buf);
        if buf.filled().len() > before {
            socket.registration.on_read();
        } else if polled.is_pending() && socket.registration.is_parking() {
            // Nothing to read and parking: the end of input.
            return Poll::Ready(Ok(()));
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.socket().io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.socket().io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.socket
            .as_ref()
            .is_some_and(|s| s.io.is_write_vectored())
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.socket().io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let socket = self.socket();
        if socket.registration.is_parking() {
            // Parking: the socket stays open for the next request.
            return Pin::new(&mut socket.io).poll_flush(cx);
        }
        Pin::new(&mut socket.io).poll_shutdown(cx)
    }
}

/// A request's head in bytes as HTTP/1.1 writes it: the request line and
/// each header line (an HTTP/2 request's authority counted as its `Host`
/// line). Hyper drops the spaces around values, so a head sent with extra
/// spaces counts a little short.
pub(crate) fn request_head_bytes<B>(request: &http::Request<B>) -> usize {
    const CRLF: usize = 2;
    let uri = request.uri();
    let target = uri.path_and_query().map_or(1, |p| p.as_str().len());
    // "{method} {target} HTTP/1.1\r\n"
    let mut total = request.method().as_str().len() + 1 + target + 9 + CRLF;
    if let Some(authority) = uri.authority()
        && !request.headers().contains_key(http::header::HOST)
    {
        total += "host: ".len() + authority.as_str().len() + CRLF;
    }
    for (name, value) in request.headers() {
        // "{name}: {value}\r\n"
        total += name.as_str().len() + 2 + value.len() + CRLF;
    }
    total + CRLF
}

/// Whether an `accept` error means the process (or system) is out of
/// file descriptors.
pub(crate) fn out_of_descriptors(error: &std::io::Error) -> bool {
    matches!(error.raw_os_error(), Some(libc::EMFILE | libc::ENFILE))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_head_counts_as_http_1_1_writes_it() {
        let head = "GET /dev/pets?x=1 HTTP/1.1\r\nhost: localhost\r\nx-a: b\r\n\r\n";
        let request = http::Request::get("/dev/pets?x=1")
            .header("host", "localhost")
            .header("x-a", "b")
            .body(())
            .unwrap();
        assert_eq!(request_head_bytes(&request), head.len());
        let h2 = http::Request::get("http://localhost/dev/pets?x=1")
            .header("x-a", "b")
            .body(())
            .unwrap();
        assert_eq!(request_head_bytes(&h2), head.len());
    }

    #[test]
    fn the_default_cap_leaves_descriptors_spare() {
        let table = ConnectionTable::new(ConnectionLimits::default(), Some(1024));
        assert_eq!(table.max_connections, 768);
        let limits = ConnectionLimits {
            max_connections: Some(5),
            ..ConnectionLimits::default()
        };
        assert_eq!(ConnectionTable::new(limits, Some(1024)).max_connections, 5);
    }

    #[test]
    fn raising_the_file_limit_keeps_it_at_least_as_high() {
        let mut before = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: a valid rlimit to fill.
        assert_eq!(
            unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut before) },
            0
        );
        let now = raise_file_limit().expect("readable");
        assert!(now >= before.rlim_cur);
        assert!(now <= before.rlim_max);
    }
}
