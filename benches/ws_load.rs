//! WebSocket load client for `benches/websocket.sh`: against a running
//! `portico serve`, measures the MOCK two-way round trip on one connection
//! (p50 / p99, messages/s), messages/s across 100 connections, and holds
//! N idle connections open so the script can read the server's memory.
//!
//! Usage: ws_load URL rtt MESSAGES | fanout CONNECTIONS MESSAGES | idle N

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn round_trip(socket: &mut Socket) {
    socket
        .send(Message::text(r#"{"action": "echo"}"#))
        .await
        .expect("send");
    loop {
        match socket.next().await.expect("open").expect("frame") {
            Message::Text(_) => return,
            _ => continue,
        }
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 1)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let url = &args[1];
    let n = |i: usize| args[i].parse::<usize>().expect("a number");
    match args[2].as_str() {
        "rtt" => {
            let (mut socket, _) = tokio_tungstenite::connect_async(url)
                .await
                .expect("connect");
            for _ in 0..200 {
                round_trip(&mut socket).await;
            }
            let mut times = Vec::with_capacity(n(3));
            let started = Instant::now();
            for _ in 0..n(3) {
                let at = Instant::now();
                round_trip(&mut socket).await;
                times.push(at.elapsed());
            }
            let total = started.elapsed();
            times.sort();
            println!(
                "one connection: {:.0} messages/s, round trip p50 {} us, p99 {} us",
                times.len() as f64 / total.as_secs_f64(),
                percentile(&times, 0.5).as_micros(),
                percentile(&times, 0.99).as_micros()
            );
        }
        "fanout" => {
            let mut sockets = Vec::new();
            for _ in 0..n(3) {
                sockets.push(
                    tokio_tungstenite::connect_async(url)
                        .await
                        .expect("connect")
                        .0,
                );
            }
            let messages = n(4);
            let started = Instant::now();
            let tasks: Vec<_> = sockets
                .into_iter()
                .map(|mut socket| {
                    tokio::spawn(async move {
                        for _ in 0..messages {
                            round_trip(&mut socket).await;
                        }
                    })
                })
                .collect();
            let count = tasks.len() * messages;
            for task in tasks {
                task.await.expect("client");
            }
            println!(
                "{} connections: {:.0} messages/s in all",
                n(3),
                count as f64 / started.elapsed().as_secs_f64()
            );
        }
        "idle" => {
            let mut sockets = Vec::with_capacity(n(3));
            for i in 0..n(3) {
                match tokio_tungstenite::connect_async(url).await {
                    Ok((socket, _)) => sockets.push(socket),
                    Err(error) => panic!("connection {i}: {error}"),
                }
            }
            println!("open {}", sockets.len());
            // Held until the script has read the server's memory.
            let mut line = String::new();
            let _ = std::io::stdin().read_line(&mut line);
            drop(sockets);
        }
        other => panic!("unknown mode {other}"),
    }
}
