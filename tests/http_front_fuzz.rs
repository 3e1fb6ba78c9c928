//! The HTTP front, fuzzed: malformed and hostile HTTP/1.1 requests (and
//! HTTP/2 garbage after the preface) sent over raw TCP to a real gateway.
//! Whatever arrives, the gateway answers or closes the connection, and a
//! well-formed request on a fresh connection is still served afterwards.
//!
//! Runs for `PORTICO_FUZZ_SECS` seconds (10 by default, CI-sized;
//! `benches/reliability.sh` runs it for 10 minutes), seeded from
//! `PORTICO_FUZZ_SEED` or the clock; the seed is printed so a failure can
//! be replayed.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use common::{TempProject, start_gateway};

/// A small xorshift generator: reproducible from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const METHODS: &[&str] = &[
    "GET",
    "POST",
    "PUT",
    "DELETE",
    "PATCH",
    "OPTIONS",
    "HEAD",
    "TRACE",
    "CONNECT",
    "get",
    "G\0T",
    "",
    "PRI",
    "X-VERY-LONG-METHOD-NAME-THAT-GOES-ON",
];
const TARGETS: &[&str] = &[
    "/dev/pets",
    "/dev/pets/7",
    "/dev/status/404",
    "/prod/echo/a/b?q=1",
    "/restapis",
    "/restapis/petstore42/dev/_user_request_/pets",
    "/_portico/issuer/token",
    "/dev/@connections/abc",
    "*",
    "http://evil.example/dev/pets",
    "//dev//pets",
    "/dev/pets/%ZZ",
    "/dev/pets/%00",
    "/dev/../../etc/passwd",
    "/dev/pets?x=%",
    "",
];
const VERSIONS: &[&str] = &[
    "HTTP/1.1",
    "HTTP/1.0",
    "HTTP/2.0",
    "HTTP/9.9",
    "HTTP/1.1 extra",
    "",
];
const HEADERS: &[&str] = &[
    "Host: 127.0.0.1",
    "Host: petstore42.execute-api.localhost",
    "Host:",
    "Host: a\r\nHost: b",
    "Content-Length: 5",
    "Content-Length: -1",
    "Content-Length: 99999999999999999999",
    "Content-Length: 3\r\nContent-Length: 4",
    "Transfer-Encoding: chunked",
    "Transfer-Encoding: chunked, identity",
    "Transfer-Encoding: xchunked",
    "Content-Type: application/json",
    "Content-Type: text/plain",
    "Accept: application/xml",
    "Expect: 100-continue",
    "Connection: close",
    "Connection: Upgrade\r\nUpgrade: websocket",
    "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA",
    "X-Amz-Invocation-Type: Event",
    "Authorization: AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/apigateway/aws4_request, SignedHeaders=host, Signature=00",
    "Authorization: Bearer a.b.c",
    "Origin: http://evil.example",
    "Bad Header: x",
    ": empty name",
    "X-Ctl: \x01\x02",
    "X-Obs-Fold: a\r\n  folded",
    "\u{7f}: del",
];
const BODIES: &[&str] = &[
    "",
    "hello",
    "{\"a\":1}",
    "{\"a\":",
    "5\r\nhello\r\n0\r\n\r\n",
    "zz\r\nhello\r\n0\r\n\r\n",
    "ffffffffffffffff\r\nx\r\n",
    "0\r\n\r\n",
    "GET /dev/pets HTTP/1.1\r\nHost: x\r\n\r\n",
];

/// One request: built from the grammar's parts, then sometimes damaged.
fn request(rng: &mut Rng) -> Vec<u8> {
    let mut text = format!(
        "{} {} {}\r\n",
        rng.pick(METHODS),
        rng.pick(TARGETS),
        rng.pick(VERSIONS)
    );
    for _ in 0..rng.below(6) {
        text.push_str(rng.pick(HEADERS));
        text.push_str("\r\n");
    }
    if rng.below(8) == 0 {
        // Many headers, or one long one.
        let count = rng.below(300);
        for i in 0..count {
            text.push_str(&format!("X-Many-{i}: {}\r\n", "v".repeat(rng.below(64))));
        }
    }
    if rng.below(10) == 0 {
        text.push_str(&format!("X-Long: {}\r\n", "L".repeat(rng.below(64 * 1024))));
    }
    text.push_str(if rng.below(10) == 0 { "\n" } else { "\r\n" });
    text.push_str(rng.pick(BODIES));
    let mut bytes = text.into_bytes();
    // Damage: flip, insert or cut bytes.
    for _ in 0..rng.below(4) {
        if bytes.is_empty() {
            break;
        }
        let at = rng.below(bytes.len());
        match rng.below(3) {
            0 => bytes[at] = rng.next() as u8,
            1 => bytes.insert(at, rng.next() as u8),
            _ => bytes.truncate(at),
        }
    }
    if rng.below(25) == 0 {
        // HTTP/2 prior knowledge followed by garbage frames.
        let mut h2 = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
        for _ in 0..rng.below(64) {
            h2.push(rng.next() as u8);
        }
        return h2;
    }
    bytes
}

/// Sends `bytes`, maybe half-closes, reads whatever comes back for a
/// moment. Any outcome is fine except the gateway going away.
fn send(addr: SocketAddr, bytes: &[u8], half_close: bool) {
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_secs(5)) else {
        panic!("the gateway stopped accepting connections");
    };
    stream
        .set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    let _ = stream.write_all(bytes);
    if half_close {
        let _ = stream.shutdown(std::net::Shutdown::Write);
    }
    let mut buffer = [0u8; 4096];
    let _ = stream.read(&mut buffer);
}

fn healthy(addr: SocketAddr) -> bool {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
        .write_all(b"GET /dev/pets HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    answer.starts_with(b"HTTP/1.1 200")
}

#[test]
fn malformed_requests_never_take_the_gateway_down() {
    let seconds: u64 = std::env::var("PORTICO_FUZZ_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let seed: u64 = std::env::var("PORTICO_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    println!("PORTICO_FUZZ_SEED={seed}");
    let project = TempProject::petstore();
    let gateway = start_gateway(&project.load());
    let addr = gateway.local_addr();
    assert!(healthy(addr));

    let mut rng = Rng(seed);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut sent = 0u64;
    while Instant::now() < deadline {
        // A few connections at once, as a client pool would.
        let batch: Vec<(Vec<u8>, bool)> = (0..16)
            .map(|_| (request(&mut rng), rng.below(3) == 0))
            .collect();
        std::thread::scope(|scope| {
            for (bytes, half_close) in &batch {
                scope.spawn(move || send(addr, bytes, *half_close));
            }
        });
        sent += batch.len() as u64;
        if sent % 400 == 0 {
            assert!(
                healthy(addr),
                "not served after {sent} requests (seed {seed})"
            );
        }
    }
    assert!(
        healthy(addr),
        "not served after {sent} requests (seed {seed})"
    );
    println!("{sent} malformed requests sent");
    assert!(sent > 100, "only {sent} requests in {seconds} s");
}
