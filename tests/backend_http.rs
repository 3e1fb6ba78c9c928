//! The HTTP integrations' own HTTP/1.1 client against raw backends that
//! write their answers byte for byte: framing (chunked, close-delimited,
//! interim 1xx, HEAD), keep-alive reuse, long bodies both ways, and what
//! happens when a backend closes a kept-alive connection under a request.
//! Framing rules: RFC 9112 §6.3 and §7.1; retry rule: nginx's
//! `proxy_next_upstream error` (a request whose connection closed before
//! any answer goes again on a new one only if its method is idempotent).

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::*;
use serde_json::json;

fn base(gateway: &portico::gateway::Gateway) -> String {
    format!("http://{}", gateway.local_addr())
}

/// One request as a backend read it.
struct Seen {
    head: String,
    body: Vec<u8>,
}

/// Reads one request (head, then a `Content-Length` body); `None` at the
/// end of the connection.
fn read_request(stream: &mut TcpStream) -> Option<Seen> {
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 65536];
    let head_end = loop {
        if let Some(end) = bytes.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        let read = stream.read(&mut chunk).ok()?;
        if read == 0 {
            return None;
        }
        bytes.extend_from_slice(&chunk[..read]);
    };
    let head = String::from_utf8_lossy(&bytes[..head_end]).to_string();
    let length = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    let mut body = bytes[head_end..].to_vec();
    while body.len() < length {
        let read = stream.read(&mut chunk).ok()?;
        if read == 0 {
            return None;
        }
        body.extend_from_slice(&chunk[..read]);
    }
    Some(Seen { head, body })
}

/// A backend on its own thread: `answer(connection, request, stream)` runs
/// for each request read and returns `false` to close the connection.
/// The returned counter holds the connections accepted.
fn raw_backend(
    answer: impl Fn(usize, &Seen, &mut TcpStream) -> bool + Send + Sync + 'static,
) -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let connections = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&connections);
    let answer = Arc::new(answer);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let _ = stream.set_nodelay(true);
            let index = counted.fetch_add(1, Ordering::SeqCst);
            let answer = Arc::clone(&answer);
            std::thread::spawn(move || {
                while let Some(request) = read_request(&mut stream) {
                    if !answer(index, &request, &mut stream) {
                        break;
                    }
                }
            });
        }
    });
    (addr, connections)
}

/// A gateway with `ANY /{proxy+}` proxied to `backend`.
fn proxy_to(backend: SocketAddr) -> (TempProject, portico::gateway::Gateway) {
    let project = TempProject::from_json(&api_definition(json!([
        {"id": "root000001", "path": "/"},
        {"id": "proxy1", "parentId": "root000001", "pathPart": "{proxy+}", "path": "/{proxy+}", "resourceMethods": {"ANY": {
            "httpMethod": "ANY",
            "methodIntegration": {"type": "HTTP_PROXY", "httpMethod": "ANY", "uri": format!("http://{backend}/{{proxy}}")}
        }}}
    ])));
    let gateway = start_gateway(&deploy(&project, "dev", &[]));
    (project, gateway)
}

/// Writes `parts` with a pause between them, so the client sees the
/// answer arrive in pieces.
fn write_in_pieces(stream: &mut TcpStream, parts: &[&[u8]]) {
    for part in parts {
        let _ = stream.write_all(part);
        let _ = stream.flush();
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[tokio::test]
async fn chunked_answers_are_reassembled_and_the_connection_kept() {
    let (backend, connections) = raw_backend(|_, _, stream| {
        write_in_pieces(
            stream,
            &[
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\n\r\n5;ext=1\r",
                b"\nhel",
                b"lo\r\n7\r\n, world\r\n0\r\nX-Trailer: t\r\n",
                b"\r\n",
            ],
        );
        true
    });
    let (_project, gateway) = proxy_to(backend);
    let client = client();
    for round in 0..3 {
        let response = client
            .get(format!("{}/dev/c", base(&gateway)))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "round {round}");
        assert_eq!(response.headers()["x-a"], "1");
        assert!(!response.headers().contains_key("x-trailer"));
        assert_eq!(
            response.text().await.unwrap(),
            "hello, world",
            "round {round}"
        );
    }
    assert_eq!(
        connections.load(Ordering::SeqCst),
        1,
        "one kept-alive connection"
    );
}

#[tokio::test]
async fn answers_without_a_length_run_to_the_close() {
    let (backend, connections) = raw_backend(|_, _, stream| {
        write_in_pieces(
            stream,
            &[b"HTTP/1.0 200 OK\r\nX-Old: yes\r\n\r\nuntil ", b"the end"],
        );
        false
    });
    let (_project, gateway) = proxy_to(backend);
    let client = client();
    for _ in 0..2 {
        let response = client
            .get(format!("{}/dev/old", base(&gateway)))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["x-old"], "yes");
        assert_eq!(response.text().await.unwrap(), "until the end");
    }
    assert_eq!(
        connections.load(Ordering::SeqCst),
        2,
        "a connection per answer"
    );
}

#[tokio::test]
async fn interim_answers_are_skipped() {
    let (backend, connections) = raw_backend(|_, _, stream| {
        write_in_pieces(
            stream,
            &[
                b"HTTP/1.1 100 Continue\r\n\r\n",
                b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n",
                b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok",
            ],
        );
        true
    });
    let (_project, gateway) = proxy_to(backend);
    let client = client();
    for _ in 0..2 {
        let response = client
            .post(format!("{}/dev/items", base(&gateway)))
            .body("x")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        assert!(
            !response.headers().contains_key("link"),
            "the 103's header stays in the 103"
        );
        assert_eq!(response.text().await.unwrap(), "ok");
    }
    assert_eq!(connections.load(Ordering::SeqCst), 1);
}

/// A HEAD answer's `Content-Length` describes the GET's body, which is not
/// sent: the next answer on the connection must not be read as that body.
#[tokio::test]
async fn head_answers_have_no_body() {
    let (backend, connections) = raw_backend(|_, request, stream| {
        if request.head.starts_with("HEAD ") {
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n");
        } else {
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789");
        }
        true
    });
    let (_project, gateway) = proxy_to(backend);
    let client = client();
    let head = client
        .head(format!("{}/dev/file", base(&gateway)))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 200);
    let get = client
        .get(format!("{}/dev/file", base(&gateway)))
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), 200);
    assert_eq!(get.text().await.unwrap(), "0123456789");
    assert_eq!(connections.load(Ordering::SeqCst), 1);
}

/// What the backend receives: the request line in origin form, `Host` as
/// the integration URI wrote it, a length on a POST even when its body is
/// empty (RFC 9110 §8.6), none on a bodiless GET, and long bodies whole in
/// both directions.
#[tokio::test]
async fn requests_are_framed_and_long_bodies_pass_whole() {
    let (backend, connections) = raw_backend(|_, request, stream| {
        let mut answer = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nX-Head-Length: {}\r\n\r\n",
            request.head.len() + request.body.len(),
            request.head.len()
        )
        .into_bytes();
        answer.extend_from_slice(request.head.as_bytes());
        answer.extend_from_slice(&request.body);
        let _ = stream.write_all(&answer);
        true
    });
    let (_project, gateway) = proxy_to(backend);
    let client = client();
    let seen = |text: &str, head_length: usize| (text[..head_length].to_string(), text.len());

    let response = client
        .get(format!("{}/dev/a/b?q=1&r=%20", base(&gateway)))
        .send()
        .await
        .unwrap();
    let head_length: usize = response.headers()["x-head-length"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let (head, _) = seen(&response.text().await.unwrap(), head_length);
    assert!(
        head.starts_with("GET /a/b?q=1&r=%20 HTTP/1.1\r\n"),
        "{head}"
    );
    assert!(head.contains(&format!("\r\nhost: {backend}\r\n")), "{head}");
    assert!(
        !head.to_ascii_lowercase().contains("content-length"),
        "{head}"
    );

    let response = client
        .post(format!("{}/dev/empty", base(&gateway)))
        .send()
        .await
        .unwrap();
    let head_length: usize = response.headers()["x-head-length"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let (head, _) = seen(&response.text().await.unwrap(), head_length);
    assert!(head.contains("\r\ncontent-length: 0\r\n"), "{head}");

    // 3 MB up (more than one write), the same 3 MB back after the head.
    let body: Vec<u8> = (0..3 * 1024 * 1024).map(|i| (i % 251) as u8).collect();
    let response = client
        .put(format!("{}/dev/upload", base(&gateway)))
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let head_length: usize = response.headers()["x-head-length"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let echoed = response.bytes().await.unwrap();
    assert!(
        String::from_utf8_lossy(&echoed[..head_length]).contains("\r\ncontent-length: 3145728\r\n")
    );
    assert!(
        echoed[head_length..] == body[..],
        "the body came back whole"
    );
    assert_eq!(connections.load(Ordering::SeqCst), 1);
}

/// A long chunked answer, in many chunks across many reads.
#[tokio::test]
async fn long_chunked_answers_pass_whole() {
    let (backend, _) = raw_backend(|_, _, stream| {
        let mut answer = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
        for i in 0..400u32 {
            let chunk = vec![b'a' + (i % 26) as u8; 5000 + i as usize];
            answer.extend_from_slice(format!("{:X}\r\n", chunk.len()).as_bytes());
            answer.extend_from_slice(&chunk);
            answer.extend_from_slice(b"\r\n");
        }
        answer.extend_from_slice(b"0\r\n\r\n");
        let _ = stream.write_all(&answer);
        true
    });
    let (_project, gateway) = proxy_to(backend);
    let body = client()
        .get(format!("{}/dev/long", base(&gateway)))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let expected: Vec<u8> = (0..400u32)
        .flat_map(|i| vec![b'a' + (i % 26) as u8; 5000 + i as usize])
        .collect();
    assert_eq!(body.len(), expected.len());
    assert!(body[..] == expected[..]);
}

/// The backend answers a connection's first request and closes it when the
/// second arrives, unanswered. A GET that meets the closing connection
/// goes again on a new one; a POST is not sent twice and fails as a
/// network error (AWS's 504 `{"message": "Network error communicating with
/// endpoint"}`).
#[tokio::test]
async fn a_close_under_a_request_retries_only_idempotent_methods() {
    let answered = Arc::new(std::sync::Mutex::new(std::collections::HashSet::new()));
    let (backend, connections) = raw_backend(move |connection, _, stream| {
        if !answered.lock().unwrap().insert(connection) {
            return false;
        }
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        true
    });
    let (_project, gateway) = proxy_to(backend);
    let client = client();
    for round in 0..3 {
        let response = client
            .get(format!("{}/dev/x", base(&gateway)))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "GET round {round}");
        assert_eq!(response.text().await.unwrap(), "ok");
    }
    // Round 0 opened connection 0; rounds 1 and 2 each met a connection
    // the backend closed under them and went again on a new one.
    assert_eq!(connections.load(Ordering::SeqCst), 3);

    let response = client
        .post(format!("{}/dev/x", base(&gateway)))
        .body("once")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 504);
    assert_eq!(
        response.text().await.unwrap(),
        r#"{"message": "Network error communicating with endpoint"}"#
    );
    assert_eq!(
        connections.load(Ordering::SeqCst),
        3,
        "the POST was not sent again"
    );
    let record = gateway.request_log().since(0).pop().unwrap();
    let log = record.execution_log.render();
    assert!(
        log.contains("connection closed before the response was complete"),
        "{log}"
    );
}

/// Bytes that are not an HTTP answer: a network error, with the parser's
/// reason in the execution log.
#[tokio::test]
async fn malformed_answers_are_network_errors() {
    let (backend, _) = raw_backend(|_, request, stream| {
        let answer: &[u8] = if request.head.contains("/length") {
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc"
        } else {
            b"SMTP ready\r\n\r\n"
        };
        let _ = stream.write_all(answer);
        false
    });
    let (_project, gateway) = proxy_to(backend);
    for (path, reason) in [
        ("garbage", "invalid HTTP response"),
        ("length", "conflicting Content-Length values"),
    ] {
        let response = client()
            .get(format!("{}/dev/{path}", base(&gateway)))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 504, "{path}");
        let record = gateway.request_log().since(0).pop().unwrap();
        let log = record.execution_log.render();
        assert!(log.contains(reason), "{path}: {log}");
    }
}
