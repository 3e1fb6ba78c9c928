//! A keep-alive HTTP/1.1 client for plain `http://` backends, made for the
//! proxy path.
//!
//! The endpoint request is encoded straight into one buffer and sent with
//! one write. The answer is parsed with `httparse` from one read buffer;
//! its header values and a `Content-Length` body are shared slices of that
//! buffer, not copies. The connection is driven by the request's own task,
//! and an idle one waits in the pool unpolled, as nginx's upstream
//! keep-alive does. (hyper's client connection, used here before, cost
//! about a quarter of a proxied request's instructions in its dispatch
//! channel and buffers.)
//!
//! Framing follows RFC 9112 §6.3: no body after HEAD, 1xx, 204 and 304; a
//! chunked body when `Transfer-Encoding` ends in `chunked`; else
//! `Content-Length` bytes; else the body runs to the end of the
//! connection. Interim answers (100 Continue, 103 Early Hints) are skipped.
//! A connection goes back to the pool when the answer was HTTP/1.1 (or
//! HTTP/1.0 with `keep-alive`) without `Connection: close` and its body
//! ended exactly where the bytes read did.
//!
//! A pooled connection the backend closed while it was idle is noticed at
//! checkout. When the close races the request instead (the connection was
//! reused and not one byte of an answer came), the request goes once more
//! on a fresh connection if it could not be written or its method is
//! idempotent: nginx's `proxy_next_upstream error` rule.

use std::collections::VecDeque;
use std::io;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bytes::{Buf, Bytes, BytesMut};
use http::{HeaderMap, HeaderName, HeaderValue, Method, header};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Largest answer head (status line and headers) accepted.
const MAX_HEAD_BYTES: usize = 64 * 1024;
/// Most headers in one answer (hyper's default is 100).
const MAX_HEADERS: usize = 128;
/// Free space each read asks for.
const READ_SPACE: usize = 8 * 1024;
/// A body at most this long goes out in the same write as the head.
const INLINE_BODY_BYTES: usize = 16 * 1024;
/// Most bytes reserved ahead of a long `Content-Length` body: a length the
/// backend claims but does not send cannot make us allocate it.
const RESERVE_STEP: usize = 1024 * 1024;

/// Why a request to a backend failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error(transparent)]
    Io(#[from] io::Error),
    #[error("connection closed before the response was complete")]
    Closed,
    #[error("invalid HTTP response: {0}")]
    Invalid(String),
}

/// One endpoint request, borrowed from the pipeline's.
pub struct Request<'a> {
    pub method: &'a Method,
    /// `host[:port]` as the URL wrote it: the `Host` header unless the
    /// request has one.
    pub host: &'a str,
    /// The origin form: `/path?query`.
    pub target: &'a str,
    pub headers: &'a HeaderMap,
    pub body: &'a Bytes,
}

/// What a backend answered.
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

struct Idle {
    stream: TcpStream,
    since: Instant,
}

/// Idle connections by `host:port` (Fx: the keys come from the project's
/// integration URIs, not from clients).
pub struct Http1Pool {
    idle: Mutex<rustc_hash::FxHashMap<String, VecDeque<Idle>>>,
    max_idle_per_host: usize,
    idle_timeout: Duration,
}

impl std::fmt::Debug for Http1Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Http1Pool")
            .field("max_idle_per_host", &self.max_idle_per_host)
            .finish_non_exhaustive()
    }
}

impl Http1Pool {
    pub fn new(max_idle_per_host: usize, idle_timeout: Duration) -> Http1Pool {
        Http1Pool {
            idle: Mutex::new(Default::default()),
            max_idle_per_host,
            idle_timeout,
        }
    }

    /// Sends `request` to `address` (`host:port`, connected to as given).
    pub async fn send(&self, address: &str, request: &Request<'_>) -> Result<Answer, ClientError> {
        let inline = request.body.len() <= INLINE_BODY_BYTES;
        let mut head = Vec::with_capacity(
            256 + request.target.len()
                + request.headers.len() * 48
                + if inline { request.body.len() } else { 0 },
        );
        encode_head(&mut head, request);
        let rest: &[u8] = if inline {
            head.extend_from_slice(request.body);
            &[]
        } else {
            request.body
        };
        let head_only = request.method == Method::HEAD;
        if let Some(stream) = self.checkout(address) {
            match exchange(stream, &head, rest, head_only).await {
                Ok((answer, reusable)) => {
                    if let Some(stream) = reusable {
                        self.checkin(address, stream);
                    }
                    return Ok(answer);
                }
                Err(failure)
                    if !failure.answered && (!failure.written || idempotent(request.method)) => {}
                Err(failure) => return Err(failure.error),
            }
        }
        let stream = TcpStream::connect(address).await?;
        stream.set_nodelay(true)?;
        let (answer, reusable) = exchange(stream, &head, rest, head_only)
            .await
            .map_err(|failure| failure.error)?;
        if let Some(stream) = reusable {
            self.checkin(address, stream);
        }
        Ok(answer)
    }

    /// The most recently used idle connection that is still open.
    fn checkout(&self, address: &str) -> Option<TcpStream> {
        let mut idle = self.idle.lock().ok()?;
        let connections = idle.get_mut(address)?;
        while let Some(pooled) = connections.pop_back() {
            if pooled.since.elapsed() < self.idle_timeout && still_open(&pooled.stream) {
                return Some(pooled.stream);
            }
        }
        None
    }

    /// Closes the idle connections that have waited past the idle
    /// timeout, for every backend, and forgets backends left with none.
    pub fn close_expired(&self, now: Instant) {
        let Ok(mut idle) = self.idle.lock() else {
            return;
        };
        idle.retain(|_, connections| {
            self.close_expired_of(connections, now);
            !connections.is_empty()
        });
    }

    /// Closes one backend's idle connections past the idle timeout: the
    /// oldest wait at the front.
    fn close_expired_of(&self, connections: &mut VecDeque<Idle>, now: Instant) {
        while connections
            .front()
            .is_some_and(|oldest| now.duration_since(oldest.since) >= self.idle_timeout)
        {
            connections.pop_front();
        }
    }

    /// Idle connections kept now, for every backend.
    #[cfg(test)]
    fn idle_count(&self) -> usize {
        self.idle
            .lock()
            .map(|idle| idle.values().map(VecDeque::len).sum())
            .unwrap_or(0)
    }

    fn checkin(&self, address: &str, stream: TcpStream) {
        if self.max_idle_per_host == 0 {
            return;
        }
        let now = Instant::now();
        let Ok(mut idle) = self.idle.lock() else {
            return;
        };
        // The key is copied only for a backend's first connection.
        let connections = match idle.get_mut(address) {
            Some(connections) => connections,
            None => idle.entry(address.to_string()).or_default(),
        };
        self.close_expired_of(connections, now);
        if connections.len() < self.max_idle_per_host {
            connections.push_back(Idle { stream, since: now });
        }
    }
}

/// RFC 9110 §9.2.2.
fn idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE | Method::PUT | Method::DELETE
    )
}

/// `false` when an idle connection has been closed by the backend, broke,
/// or holds bytes nobody asked for. No system call unless the reactor saw
/// the socket become readable.
fn still_open(stream: &TcpStream) -> bool {
    let mut probe = [0u8; 1];
    matches!(stream.try_read(&mut probe), Err(e) if e.kind() == io::ErrorKind::WouldBlock)
}

/// The request line and headers. `Content-Length` is ours to set (the body
/// is whole); a `Transfer-Encoding` from a mapping is dropped for the same
/// reason.
fn encode_head(out: &mut Vec<u8>, request: &Request<'_>) {
    out.extend_from_slice(request.method.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(request.target.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\n");
    if !request.headers.contains_key(header::HOST) {
        out.extend_from_slice(b"host: ");
        out.extend_from_slice(request.host.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    for (name, value) in request.headers {
        if name == header::CONTENT_LENGTH || name == header::TRANSFER_ENCODING {
            continue;
        }
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    // RFC 9110 §8.6: a POST (or any method whose content means something)
    // carries a length even when it is 0; some servers answer 411 without.
    let bodiless_method = matches!(
        *request.method,
        Method::GET | Method::HEAD | Method::DELETE | Method::OPTIONS | Method::TRACE
    );
    if !request.body.is_empty() || !bodiless_method {
        out.extend_from_slice(b"content-length: ");
        out.extend_from_slice(itoa::Buffer::new().format(request.body.len()).as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
}

/// A failed exchange, with what the retry rule needs to know.
struct Failure {
    error: ClientError,
    /// The whole request was written.
    written: bool,
    /// At least one byte of an answer came.
    answered: bool,
}

/// One request and its answer on `stream`; the stream back when it can be
/// reused.
async fn exchange(
    mut stream: TcpStream,
    head: &[u8],
    rest: &[u8],
    head_only: bool,
) -> Result<(Answer, Option<TcpStream>), Failure> {
    let written = async {
        stream.write_all(head).await?;
        if !rest.is_empty() {
            stream.write_all(rest).await?;
        }
        Ok::<(), io::Error>(())
    };
    if let Err(error) = written.await {
        return Err(Failure {
            error: error.into(),
            written: false,
            answered: false,
        });
    }
    let mut reader = Reader {
        stream,
        buffer: BytesMut::with_capacity(READ_SPACE),
        received: false,
    };
    match read_answer(&mut reader, head_only).await {
        Ok((answer, reusable)) => {
            let reusable = reusable && reader.buffer.is_empty();
            Ok((answer, reusable.then_some(reader.stream)))
        }
        Err(error) => Err(Failure {
            error,
            written: true,
            answered: reader.received,
        }),
    }
}

struct Reader {
    stream: TcpStream,
    buffer: BytesMut,
    received: bool,
}

impl Reader {
    /// Reads what the socket has; `false` at the end of the stream.
    async fn fill(&mut self) -> Result<bool, ClientError> {
        if self.buffer.capacity() - self.buffer.len() < READ_SPACE / 4 {
            self.buffer.reserve(READ_SPACE);
        }
        let read = self.stream.read_buf(&mut self.buffer).await?;
        self.received |= read > 0;
        Ok(read > 0)
    }

    /// Like [`Reader::fill`], the end of the stream an error.
    async fn fill_some(&mut self) -> Result<(), ClientError> {
        if self.fill().await? {
            Ok(())
        } else {
            Err(ClientError::Closed)
        }
    }
}

/// A parsed answer head.
struct Head {
    status: u16,
    /// HTTP/1.1 (else 1.0).
    http11: bool,
    headers: HeaderMap,
}

/// Reads one final answer. `true` beside it when its framing lets the
/// connection carry another request.
async fn read_answer(reader: &mut Reader, head_only: bool) -> Result<(Answer, bool), ClientError> {
    let head = loop {
        let head = loop {
            if let Some(head) = parse_head(&mut reader.buffer)? {
                break head;
            }
            if reader.buffer.len() > MAX_HEAD_BYTES {
                return Err(invalid("response head too large"));
            }
            reader.fill_some().await?;
        };
        // 100 Continue, 102 Processing, 103 Early Hints: the real answer
        // follows on the same connection.
        if (100..200).contains(&head.status) && head.status != 101 {
            continue;
        }
        break head;
    };
    let mut reusable = if head.http11 {
        !has_token(&head.headers, "close")
    } else {
        has_token(&head.headers, "keep-alive")
    };
    let status = head.status;
    let bodiless = head_only || (100..200).contains(&status) || status == 204 || status == 304;
    let body = if bodiless {
        reusable &= status != 101;
        Bytes::new()
    } else if let Some(codings) = last_value(&head.headers, &header::TRANSFER_ENCODING) {
        // A length beside a transfer coding is ignored, and the
        // connection not trusted afterwards (RFC 9112 §6.3).
        reusable &= !head.headers.contains_key(header::CONTENT_LENGTH);
        let last = codings.rsplit(',').next().unwrap_or("").trim();
        if last.eq_ignore_ascii_case("chunked") {
            read_chunked(reader).await?
        } else {
            reusable = false;
            read_to_end(reader).await?
        }
    } else if let Some(length) = content_length(&head.headers)? {
        read_length(reader, length).await?
    } else {
        reusable = false;
        read_to_end(reader).await?
    };
    Ok((
        Answer {
            status,
            headers: head.headers,
            body,
        },
        reusable,
    ))
}

fn invalid(what: &str) -> ClientError {
    ClientError::Invalid(what.to_string())
}

/// Parses a complete head off the front of `buffer`; `None` while it is
/// incomplete. Header values are slices of the head's bytes.
fn parse_head(buffer: &mut BytesMut) -> Result<Option<Head>, ClientError> {
    if buffer.is_empty() {
        return Ok(None);
    }
    let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut slots);
    let length = match response.parse(buffer) {
        Ok(httparse::Status::Complete(length)) => length,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(error) => return Err(ClientError::Invalid(error.to_string())),
    };
    let status = response.code.unwrap_or(0);
    let http11 = response.version == Some(1);
    // Where each value lies in the head, to slice the frozen head below.
    let base = buffer.as_ptr() as usize;
    let mut names: smallvec::SmallVec<[(HeaderName, usize, usize); 24]> =
        smallvec::SmallVec::with_capacity(response.headers.len());
    for slot in response.headers.iter() {
        let name = HeaderName::from_bytes(slot.name.as_bytes())
            .map_err(|_| ClientError::Invalid(format!("invalid header name {:?}", slot.name)))?;
        let start = (slot.value.as_ptr() as usize).wrapping_sub(base);
        let end = start.wrapping_add(slot.value.len());
        let (start, end) = if !slot.value.is_empty() && end <= length && start < end {
            (start, end)
        } else {
            (0, 0)
        };
        names.push((name, start, end));
    }
    let head = buffer.split_to(length).freeze();
    let mut headers = HeaderMap::with_capacity(names.len());
    for (name, start, end) in names {
        let value = if start == end {
            HeaderValue::from_static("")
        } else {
            HeaderValue::from_maybe_shared(head.slice(start..end))
                .map_err(|_| invalid("invalid header value"))?
        };
        headers.append(name, value);
    }
    Ok(Some(Head {
        status,
        http11,
        headers,
    }))
}

/// Whether any `Connection` header lists `token`.
fn has_token(headers: &HeaderMap, token: &str) -> bool {
    headers.get_all(header::CONNECTION).iter().any(|value| {
        value.to_str().is_ok_and(|list| {
            list.split(',')
                .any(|item| item.trim().eq_ignore_ascii_case(token))
        })
    })
}

fn last_value<'h>(headers: &'h HeaderMap, name: &HeaderName) -> Option<&'h str> {
    let value = headers.get_all(name).iter().next_back()?;
    Some(value.to_str().unwrap_or(""))
}

/// The `Content-Length`; every copy of it must agree (RFC 9112 §6.3).
fn content_length(headers: &HeaderMap) -> Result<Option<usize>, ClientError> {
    let mut length = None;
    for value in headers.get_all(header::CONTENT_LENGTH) {
        let text = value.to_str().unwrap_or("");
        for item in text.split(',') {
            let item = item.trim();
            let parsed = (!item.is_empty() && item.bytes().all(|b| b.is_ascii_digit()))
                .then(|| item.parse::<usize>().ok())
                .flatten()
                .ok_or_else(|| invalid("invalid Content-Length"))?;
            if length.is_some_and(|known| known != parsed) {
                return Err(invalid("conflicting Content-Length values"));
            }
            length = Some(parsed);
        }
    }
    Ok(length)
}

async fn read_length(reader: &mut Reader, length: usize) -> Result<Bytes, ClientError> {
    while reader.buffer.len() < length {
        let missing = length - reader.buffer.len();
        let free = reader.buffer.capacity() - reader.buffer.len();
        if free < missing.min(READ_SPACE) {
            reader.buffer.reserve(missing.min(RESERVE_STEP));
        }
        if reader.stream.read_buf(&mut reader.buffer).await? == 0 {
            return Err(ClientError::Closed);
        }
        reader.received = true;
    }
    Ok(reader.buffer.split_to(length).freeze())
}

async fn read_to_end(reader: &mut Reader) -> Result<Bytes, ClientError> {
    while reader.fill().await? {}
    Ok(reader.buffer.split().freeze())
}

/// The end of the line at the front of the buffer: (length of the line
/// without its CRLF or bare LF, length with it).
fn line_end(buffer: &[u8]) -> Option<(usize, usize)> {
    let newline = buffer.iter().position(|&b| b == b'\n')?;
    let text = if newline > 0 && buffer[newline - 1] == b'\r' {
        newline - 1
    } else {
        newline
    };
    Some((text, newline + 1))
}

/// A chunked body (RFC 9112 §7.1); trailers are read and dropped, as
/// API Gateway has no use for them.
async fn read_chunked(reader: &mut Reader) -> Result<Bytes, ClientError> {
    let mut body = BytesMut::new();
    loop {
        let (text, whole) = loop {
            if let Some(end) = line_end(&reader.buffer) {
                break end;
            }
            if reader.buffer.len() > MAX_HEAD_BYTES {
                return Err(invalid("chunk size line too long"));
            }
            reader.fill_some().await?;
        };
        let size = chunk_size(&reader.buffer[..text])?;
        reader.buffer.advance(whole);
        if size == 0 {
            let mut trailers = 0usize;
            loop {
                let (text, whole) = loop {
                    if let Some(end) = line_end(&reader.buffer) {
                        break end;
                    }
                    if reader.buffer.len() > MAX_HEAD_BYTES {
                        return Err(invalid("trailers too large"));
                    }
                    reader.fill_some().await?;
                };
                reader.buffer.advance(whole);
                trailers += whole;
                if text == 0 {
                    return Ok(body.freeze());
                }
                if trailers > MAX_HEAD_BYTES {
                    return Err(invalid("trailers too large"));
                }
            }
        }
        while reader.buffer.len() < size + 2 {
            let missing = size + 2 - reader.buffer.len();
            if reader.buffer.capacity() - reader.buffer.len() < missing.min(READ_SPACE) {
                reader.buffer.reserve(missing.min(RESERVE_STEP));
            }
            reader.fill_some().await?;
        }
        // A body of one chunk is a slice of the read buffer, not a copy.
        let data = reader.buffer.split_to(size);
        if body.is_empty() {
            body = data;
        } else {
            body.extend_from_slice(&data);
        }
        let after = reader.buffer.get(..2).unwrap_or(&[]);
        match after {
            b"\r\n" => reader.buffer.advance(2),
            [b'\n', ..] => reader.buffer.advance(1),
            _ => return Err(invalid("chunk data not followed by CRLF")),
        }
    }
}

/// The hexadecimal size before any `;extension`.
fn chunk_size(line: &[u8]) -> Result<usize, ClientError> {
    let digits = line
        .split(|&b| b == b';')
        .next()
        .unwrap_or(&[])
        .trim_ascii();
    if digits.is_empty() || digits.len() > 15 {
        return Err(invalid("invalid chunk size"));
    }
    digits.iter().try_fold(0usize, |size, &b| {
        let digit = (b as char)
            .to_digit(16)
            .ok_or_else(|| invalid("invalid chunk size"))?;
        Ok(size * 16 + digit as usize)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The serving threads' housekeeping closes idle connections past the
    /// timeout and keeps the younger ones.
    #[tokio::test]
    async fn expired_idle_connections_are_closed() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let pool = Http1Pool::new(8, Duration::from_secs(90));
        for _ in 0..2 {
            let stream = TcpStream::connect(&address).await.unwrap();
            let (_accepted, _) = listener.accept().await.unwrap();
            pool.checkin(&address, stream);
        }
        let now = Instant::now();
        pool.close_expired(now + Duration::from_secs(89));
        assert_eq!(pool.idle_count(), 2);
        pool.close_expired(now + Duration::from_secs(91));
        assert_eq!(pool.idle_count(), 0);
        assert!(
            pool.idle.lock().unwrap().is_empty(),
            "the backend is forgotten"
        );
    }

    #[test]
    fn chunk_sizes() {
        assert_eq!(chunk_size(b"0").unwrap(), 0);
        assert_eq!(chunk_size(b"1a").unwrap(), 26);
        assert_eq!(chunk_size(b"FF;name=value").unwrap(), 255);
        assert_eq!(chunk_size(b" 10 ").unwrap(), 16);
        for bad in [&b""[..], b"x", b"-1", b"1 2", b"ffffffffffffffff"] {
            assert!(chunk_size(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn content_lengths_must_agree() {
        let mut headers = HeaderMap::new();
        assert_eq!(content_length(&headers).unwrap(), None);
        headers.append(header::CONTENT_LENGTH, HeaderValue::from_static("5"));
        headers.append(header::CONTENT_LENGTH, HeaderValue::from_static("5, 5"));
        assert_eq!(content_length(&headers).unwrap(), Some(5));
        headers.append(header::CONTENT_LENGTH, HeaderValue::from_static("6"));
        assert!(content_length(&headers).is_err());
        let mut signed = HeaderMap::new();
        signed.append(header::CONTENT_LENGTH, HeaderValue::from_static("+5"));
        assert!(content_length(&signed).is_err());
    }

    #[test]
    fn head_values_are_slices_of_the_head() {
        let mut buffer =
            BytesMut::from(&b"HTTP/1.1 200 OK\r\nX-A: one\r\nEmpty:\r\nx-a: two\r\n\r\nbody"[..]);
        let head = parse_head(&mut buffer).unwrap().unwrap();
        assert_eq!(head.status, 200);
        assert!(head.http11);
        let values: Vec<_> = head.headers.get_all("x-a").iter().collect();
        assert_eq!(values, ["one", "two"]);
        assert_eq!(head.headers["empty"], "");
        assert_eq!(&buffer[..], b"body");
        let mut partial = BytesMut::from(&b"HTTP/1.1 200 OK\r\nX-A: o"[..]);
        assert!(parse_head(&mut partial).unwrap().is_none());
        let mut garbage = BytesMut::from(&b"HTTP/1.1 2x0 OK\r\n\r\n"[..]);
        assert!(parse_head(&mut garbage).is_err());
    }

    #[test]
    fn request_heads() {
        let mut headers = HeaderMap::new();
        headers.insert("x-a", HeaderValue::from_static("1"));
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from_static("99"));
        headers.insert(
            header::TRANSFER_ENCODING,
            HeaderValue::from_static("chunked"),
        );
        let empty = Bytes::new();
        let body = Bytes::from_static(b"abc");
        let encode = |method: &Method, body: &Bytes| {
            let mut out = Vec::new();
            encode_head(
                &mut out,
                &Request {
                    method,
                    host: "backend:8080",
                    target: "/p?q=1",
                    headers: &headers,
                    body,
                },
            );
            String::from_utf8(out).unwrap()
        };
        assert_eq!(
            encode(&Method::GET, &empty),
            "GET /p?q=1 HTTP/1.1\r\nhost: backend:8080\r\nx-a: 1\r\n\r\n"
        );
        assert_eq!(
            encode(&Method::POST, &empty),
            "POST /p?q=1 HTTP/1.1\r\nhost: backend:8080\r\nx-a: 1\r\ncontent-length: 0\r\n\r\n"
        );
        assert_eq!(
            encode(&Method::PUT, &body),
            "PUT /p?q=1 HTTP/1.1\r\nhost: backend:8080\r\nx-a: 1\r\ncontent-length: 3\r\n\r\n"
        );
    }
}
