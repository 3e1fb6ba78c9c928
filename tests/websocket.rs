//! WebSocket APIs over a real port with real clients: tokio-tungstenite
//! here, and python's `websockets` and boto3's `apigatewaymanagementapi`
//! as independent clients. The sample chat runs its real python function.

mod common;

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use portico::gateway::websocket::WebSocketLimits;
use portico::gateway::{Gateway, GatewayConfig};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use common::TempProject;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

fn start(project: &portico::model::Project, limits: WebSocketLimits) -> Gateway {
    let config = GatewayConfig {
        port: 0,
        worker_threads: 2,
        websocket_limits: limits,
        ..GatewayConfig::default()
    };
    Gateway::start(project, &config).expect("gateway starts")
}

fn stage_url(gateway: &Gateway, api: &str, stage: &str) -> String {
    format!(
        "ws://{}/restapis/{api}/{stage}/_user_request_/",
        gateway.local_addr()
    )
}

async fn connect(url: &str) -> Socket {
    tokio_tungstenite::connect_async(url)
        .await
        .expect("handshake")
        .0
}

/// The next text frame (pings and pongs skipped), within 10 s.
/// Sends `text` and reads the next text frame as JSON.
async fn ask(socket: &mut Socket, text: &str) -> Value {
    socket.send(Message::text(text)).await.unwrap();
    serde_json::from_str(&next_text(socket).await).unwrap()
}

async fn next_text(socket: &mut Socket) -> String {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("a frame within 10 s")
            .expect("the socket is open")
            .expect("a frame");
        match message {
            Message::Text(text) => return text.as_str().to_string(),
            Message::Ping(_) | Message::Pong(_) => continue,
            other => panic!("expected a text frame, got {other:?}"),
        }
    }
}

/// The close code the gateway sends, within 5 s (frames before it are
/// skipped; `None` if the socket ends without a close frame).
async fn close_code(socket: &mut Socket) -> Option<u16> {
    tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(message) = socket.next().await {
            match message {
                Ok(Message::Close(frame)) => return frame.map(|f| u16::from(f.code)),
                Ok(_) => continue,
                Err(_) => return None,
            }
        }
        None
    })
    .await
    .expect("the socket closes within 5 s")
}

/// A WebSocket API with MOCK routes: `ping` (two-way), `quiet` (one-way),
/// and `$connect` admitting only `?token=ok`.
fn mock_api(with_default: bool) -> Value {
    let mut routes = vec![
        json!({"routeId": "c", "routeKey": "$connect", "target": "integrations/gate"}),
        json!({"routeId": "p", "routeKey": "ping", "target": "integrations/pong",
               "routeResponseSelectionExpression": "$default"}),
        json!({"routeId": "q", "routeKey": "quiet", "target": "integrations/pong"}),
        json!({"routeId": "d", "routeKey": "$disconnect", "target": "integrations/gate"}),
    ];
    if with_default {
        routes.push(
            json!({"routeId": "x", "routeKey": "$default", "target": "integrations/fallback",
                           "routeResponseSelectionExpression": "$default"}),
        );
    }
    json!({
        "version": 1,
        "webSocketApis": [{
            "apiId": "wsapi00001",
            "name": "Mock",
            "routeSelectionExpression": "$request.body.action",
            "routes": routes,
            "integrations": [
                {"integrationId": "gate", "integrationType": "MOCK",
                 "requestTemplates": {"$default":
                    "#if($input.params('token') == 'ok' || $context.eventType == 'DISCONNECT'){\"statusCode\": 200}#else{\"statusCode\": 401}#end"}},
                {"integrationId": "pong", "integrationType": "MOCK",
                 "requestTemplates": {"$default": "{\"statusCode\": 200}"},
                 "integrationResponses": [{"integrationResponseId": "ok", "integrationResponseKey": "$default",
                    "responseTemplates": {"$default": "{\"pong\": \"$context.routeKey\", \"stage\": \"$context.stage\", \"who\": \"$context.connectionId\"}"}}]},
                {"integrationId": "fallback", "integrationType": "MOCK",
                 "requestTemplates": {"$default": "{\"statusCode\": 200}"},
                 "integrationResponses": [{"integrationResponseId": "ok", "integrationResponseKey": "$default",
                    "responseTemplates": {"$default": "default:$context.routeKey"}}]}
            ],
            "stages": [{"stageName": "dev", "autoDeploy": true, "stageVariables": {"v": "1"}}]
        }]
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_is_decided_by_the_connect_route_and_rejections_keep_its_status() {
    let project = TempProject::from_json(&mock_api(true));
    let gateway = start(&project.load(), WebSocketLimits::default());
    let url = stage_url(&gateway, "wsapi00001", "dev");
    // The $connect MOCK answers 401 without the token: the handshake fails
    // with that status (AWS's docs: a $connect integration's 400 reaches
    // wscat as "Unexpected server response: 400").
    match tokio_tungstenite::connect_async(&url).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 401)
        }
        other => panic!("expected a rejected handshake, got {other:?}"),
    }
    let mut socket = connect(&format!("{url}?token=ok")).await;
    let reply = ask(&mut socket, r#"{"action": "ping"}"#).await;
    assert_eq!(reply["pong"], "ping");
    assert_eq!(reply["stage"], "dev");
    let id = reply["who"].as_str().unwrap().to_string();
    // AWS's ids: 16 characters ending in '='.
    assert_eq!(id.len(), 16, "{id}");
    assert!(id.ends_with('='));
    // An unknown key and a non-JSON message take $default.
    socket
        .send(Message::text(r#"{"action": "nope"}"#))
        .await
        .unwrap();
    assert_eq!(next_text(&mut socket).await, "default:$default");
    socket.send(Message::text("plain words")).await.unwrap();
    assert_eq!(next_text(&mut socket).await, "default:$default");
    // A one-way route sends nothing back: the next frame is the ping's.
    socket
        .send(Message::text(r#"{"action": "quiet"}"#))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let reply = ask(&mut socket, r#"{"action": "ping"}"#).await;
    assert_eq!(reply["pong"], "ping");
    socket.close(None).await.unwrap();
    // $disconnect runs when the client closes; the live log has every
    // route execution.
    let mut seen = false;
    for _ in 0..100 {
        let mut methods = Vec::new();
        gateway.request_log().visit_newest(|r| {
            methods.push((r.http_method.clone(), r.resource_path.clone()));
            true
        });
        if methods.contains(&("DISCONNECT".into(), Some("$disconnect".into()))) {
            assert!(methods.contains(&("MESSAGE".into(), Some("ping".into()))));
            assert!(methods.contains(&("MESSAGE".into(), Some("quiet".into()))));
            assert!(methods.contains(&("CONNECT".into(), Some("$connect".into()))));
            seen = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(seen, "the $disconnect route ran");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_default_route_an_unmatched_message_gets_awss_forbidden_frame() {
    let project = TempProject::from_json(&mock_api(false));
    let gateway = start(&project.load(), WebSocketLimits::default());
    let url = stage_url(&gateway, "wsapi00001", "dev");
    let mut socket = connect(&format!("{url}?token=ok")).await;
    socket.send(Message::text("not json")).await.unwrap();
    // The shape AWS sends (aws-samples/simple-websockets-chat-app issue
    // #24): {"message": "Forbidden", "connectionId":"...", "requestId":"..."}.
    let frame = next_text(&mut socket).await;
    assert!(
        frame.starts_with(r#"{"message": "Forbidden", "connectionId":""#),
        "{frame}"
    );
    let parsed: Value = serde_json::from_str(&frame).unwrap();
    assert_eq!(parsed["connectionId"].as_str().unwrap().len(), 16);
    assert!(parsed["requestId"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_api_posts_describes_and_deletes_and_says_gone_after() {
    let project = TempProject::from_json(&mock_api(true));
    let gateway = start(&project.load(), WebSocketLimits::default());
    let url = stage_url(&gateway, "wsapi00001", "dev");
    let mut socket = connect(&format!("{url}?token=ok")).await;
    let reply = ask(&mut socket, r#"{"action": "ping"}"#).await;
    let id = reply["who"].as_str().unwrap().to_string();
    let client = common::client();
    // Both URL forms: the stage URL's path form, and the host form.
    let path_form = format!(
        "http://{}/restapis/wsapi00001/dev/_user_request_/@connections/{}",
        gateway.local_addr(),
        id.replace('=', "%3D")
    );
    let posted = client
        .post(&path_form)
        .body("hello from the backend")
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 200);
    assert_eq!(next_text(&mut socket).await, "hello from the backend");
    let described = client
        .get(format!(
            "http://{}/dev/@connections/{id}",
            gateway.local_addr()
        ))
        .header("host", "wsapi00001.execute-api.localhost")
        .send()
        .await
        .unwrap();
    assert_eq!(described.status(), 200);
    let described: Value = described.json().await.unwrap();
    assert_eq!(described["identity"]["sourceIp"], "127.0.0.1");
    assert!(described["connectedAt"].as_str().unwrap().ends_with('Z'));
    assert!(described["lastActiveAt"].is_string());
    let deleted = client.delete(&path_form).send().await.unwrap();
    assert_eq!(deleted.status(), 204);
    // The client sees the close.
    let closed = close_code(&mut socket).await;
    assert_eq!(closed, Some(1000));
    // Gone: 410 with GoneException and no body (AWS's SDKs report a null
    // message for it).
    let mut gone = None;
    for _ in 0..100 {
        let answer = client.post(&path_form).body("x").send().await.unwrap();
        if answer.status() == 410 {
            gone = Some(answer);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let gone = gone.expect("410 once the connection is gone");
    assert_eq!(gone.headers()["x-amzn-errortype"], "GoneException");
    assert!(gone.bytes().await.unwrap().is_empty());
    // An id that never was is gone too.
    let never = client
        .get(format!(
            "http://{}/restapis/wsapi00001/dev/_user_request_/@connections/AAAAAAAAAAAAAAA=",
            gateway.local_addr()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(never.status(), 410);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_over_the_quota_close_with_1009_and_idle_connections_with_1001() {
    let project = TempProject::from_json(&mock_api(true));
    let limits = WebSocketLimits {
        max_message_bytes: 2048,
        max_frame_bytes: 1024,
        idle_timeout: Duration::from_millis(400),
        ..WebSocketLimits::default()
    };
    let gateway = start(&project.load(), limits);
    let url = format!("{}?token=ok", stage_url(&gateway, "wsapi00001", "dev"));
    let mut socket = connect(&url).await;
    socket.send(Message::text("x".repeat(4096))).await.unwrap();
    let code = close_code(&mut socket).await;
    assert_eq!(code, Some(1009), "over the frame quota");
    // Idle: nothing sent for longer than the timeout.
    let mut socket = connect(&url).await;
    let started = std::time::Instant::now();
    let code = close_code(&mut socket).await;
    assert_eq!(code, Some(1001));
    assert!(started.elapsed() >= Duration::from_millis(350));
}

/// The sample chat with its python function: whoami answers the caller,
/// sendmessage broadcasts through @connections, $disconnect forgets.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chat_sample_broadcasts_and_answers_whoami() {
    let project = TempProject::copy_of("projects/chat");
    let gateway = start(&project.load(), WebSocketLimits::default());
    let url = stage_url(&gateway, "chatapi001", "dev");
    let mut ada = connect(&url).await;
    let mut bob = connect(&url).await;
    let whoami = |s: &'static str| Message::text(s);
    ada.send(whoami(r#"{"action": "whoami"}"#)).await.unwrap();
    let ada_id = serde_json::from_str::<Value>(&next_text(&mut ada).await).unwrap()["connectionId"]
        .as_str()
        .unwrap()
        .to_string();
    bob.send(whoami(r#"{"action": "whoami"}"#)).await.unwrap();
    let bob_id = serde_json::from_str::<Value>(&next_text(&mut bob).await).unwrap()["connectionId"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(ada_id, bob_id);
    ada.send(Message::text(
        r#"{"action": "sendmessage", "data": "hello, bob"}"#,
    ))
    .await
    .unwrap();
    let heard: Value = serde_json::from_str(&next_text(&mut bob).await).unwrap();
    assert_eq!(heard, json!({"from": ada_id, "data": "hello, bob"}));
    let echoed: Value = serde_json::from_str(&next_text(&mut ada).await).unwrap();
    assert_eq!(echoed["data"], "hello, bob");
    ada.send(Message::text(r#"{"action": "dance"}"#))
        .await
        .unwrap();
    let unknown: Value = serde_json::from_str(&next_text(&mut ada).await).unwrap();
    assert_eq!(unknown["error"], "unknown action");
    bob.close(None).await.unwrap();
    // After bob left, a broadcast reaches ada only (and the function drops
    // bob's id, whether $disconnect or a 410 told it).
    tokio::time::sleep(Duration::from_millis(300)).await;
    ada.send(Message::text(
        r#"{"action": "sendmessage", "data": "anyone?"}"#,
    ))
    .await
    .unwrap();
    let echoed: Value = serde_json::from_str(&next_text(&mut ada).await).unwrap();
    assert_eq!(echoed["data"], "anyone?");
}

/// The Lambda proxy event against the CONNECT event AWS sends (the fields of
/// one recorded from AWS, as published in the AWS docs' and users' examples),
/// field by field; and a MESSAGE event's body.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_events_have_awss_websocket_request_context() {
    let handler = r#"
import json, os, tempfile
def handler(event, context):
    route = event["requestContext"]["routeKey"]
    path = os.path.join(tempfile.gettempdir(), "portico-ws-event-" + event["requestContext"]["apiId"] + ".json")
    if route == "$connect":
        with open(path, "w") as f:
            json.dump(event, f)
        return {"statusCode": 200, "headers": {"Sec-WebSocket-Protocol": "chat"}}
    connect = json.load(open(path))
    return {"statusCode": 200, "body": json.dumps({"connect": connect, "message": event})}
"#;
    let api_id = format!("evt{:07}", fastrand::u32(..10_000_000));
    let project = TempProject::from_json(&json!({
        "version": 1,
        "functions": [{"functionName": "events", "runtime": "python3.12", "handler": "app.handler",
                       "codeUri": "functions/events", "timeout": 5}],
        "webSocketApis": [{
            "apiId": api_id, "name": "Events",
            "routes": [
                {"routeId": "c", "routeKey": "$connect", "target": "integrations/fn"},
                {"routeId": "x", "routeKey": "$default", "target": "integrations/fn",
                 "routeResponseSelectionExpression": "$default"}
            ],
            "integrations": [{"integrationId": "fn", "integrationType": "AWS_PROXY",
                "integrationUri": "arn:aws:lambda:us-east-1:000000000000:function:events"}],
            "stages": [{"stageName": "prod", "autoDeploy": true}]
        }]
    }));
    let dir = project.path().join("functions/events");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("app.py"), handler).unwrap();
    let gateway = start(&project.load(), WebSocketLimits::default());
    let mut request = format!("{}?room=blue", stage_url(&gateway, &api_id, "prod"))
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("sec-websocket-protocol", "chat".parse().unwrap());
    let (mut socket, response) = tokio_tungstenite::connect_async(request).await.unwrap();
    // The $connect function's headers reach the handshake (AWS docs: a
    // subprotocol chosen by the $connect route).
    assert_eq!(response.headers()["sec-websocket-protocol"], "chat");
    let both = ask(&mut socket, "hello").await;
    let connect = &both["connect"];
    let context = &connect["requestContext"];
    // Every field of the recorded AWS CONNECT event's requestContext.
    for field in [
        "routeKey",
        "disconnectStatusCode",
        "messageId",
        "eventType",
        "extendedRequestId",
        "requestTime",
        "messageDirection",
        "disconnectReason",
        "stage",
        "connectedAt",
        "requestTimeEpoch",
        "identity",
        "requestId",
        "domainName",
        "connectionId",
        "apiId",
    ] {
        assert!(context.get(field).is_some(), "requestContext.{field}");
    }
    assert_eq!(context["routeKey"], "$connect");
    assert_eq!(context["eventType"], "CONNECT");
    assert_eq!(context["messageDirection"], "IN");
    assert_eq!(context["messageId"], Value::Null);
    assert_eq!(context["stage"], "prod");
    assert_eq!(context["apiId"], api_id.as_str());
    assert_eq!(context["identity"]["sourceIp"], "127.0.0.1");
    assert!(context["connectedAt"].as_i64().unwrap() > 1_600_000_000_000);
    // requestTime in CLF: 13/Dec/2020:10:17:47 +0000.
    let time = context["requestTime"].as_str().unwrap();
    assert!(time.ends_with(" +0000") && time.len() == 26, "{time}");
    assert_eq!(connect["headers"]["Sec-Websocket-Version"], "13");
    assert_eq!(
        connect["multiValueHeaders"]["Sec-Websocket-Version"],
        json!(["13"])
    );
    assert_eq!(connect["queryStringParameters"], json!({"room": "blue"}));
    assert_eq!(connect["isBase64Encoded"], false);
    let message = &both["message"];
    assert_eq!(message["body"], "hello");
    assert_eq!(message["requestContext"]["eventType"], "MESSAGE");
    assert_eq!(message["requestContext"]["routeKey"], "$default");
    assert!(message["requestContext"]["messageId"].is_string());
    assert_eq!(
        message["requestContext"]["connectionId"],
        context["connectionId"]
    );
    assert_eq!(
        message["requestContext"]["connectedAt"],
        context["connectedAt"]
    );
    assert!(message.get("headers").is_none());
}

/// Independent clients: python's `websockets` connects and talks to the
/// sample, boto3's `apigatewaymanagementapi` (endpoint_url = the stage URL)
/// posts, reads and deletes the connection, and raises GoneException after.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_websockets_and_boto3_management_api() {
    let project = TempProject::from_json(&mock_api(true));
    let gateway = start(&project.load(), WebSocketLimits::default());
    let ws_url = format!("{}?token=ok", stage_url(&gateway, "wsapi00001", "dev"));
    let endpoint = format!(
        "http://{}/restapis/wsapi00001/dev/_user_request_",
        gateway.local_addr()
    );
    let script = r#"
import asyncio, json, sys
import boto3, botocore
import websockets

async def main(ws_url, endpoint):
    api = boto3.client("apigatewaymanagementapi", endpoint_url=endpoint, region_name="us-east-1",
                       aws_access_key_id="test", aws_secret_access_key="test")
    async with websockets.connect(ws_url) as ws:
        await ws.send(json.dumps({"action": "ping"}))
        me = json.loads(await ws.recv())["who"]
        await asyncio.to_thread(api.post_to_connection, ConnectionId=me, Data=b"from boto3")
        assert await ws.recv() == "from boto3"
        info = await asyncio.to_thread(api.get_connection, ConnectionId=me)
        assert info["Identity"]["SourceIp"] == "127.0.0.1", info
        assert info["ConnectedAt"].year >= 2024, info
        await asyncio.to_thread(api.delete_connection, ConnectionId=me)
        try:
            await asyncio.wait_for(ws.recv(), 5)
        except websockets.ConnectionClosed as closed:
            assert closed.rcvd.code == 1000, closed
    for _ in range(100):
        try:
            await asyncio.to_thread(api.post_to_connection, ConnectionId=me, Data=b"late")
        except api.exceptions.GoneException:
            print("gone")
            return
        await asyncio.sleep(0.02)
    sys.exit("no GoneException")

asyncio.run(main(sys.argv[1], sys.argv[2]))
"#;
    let output = tokio::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&ws_url)
        .arg(&endpoint)
        .output()
        .await
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "gone");
}

/// An HTTP (non-proxy) integration: the request template shapes the
/// backend call, the backend's answer goes back as the frame.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_integrations_use_the_request_template_and_answer_two_way() {
    let backend = common::start_upstream(common::Upstream::Echo);
    let project = TempProject::from_json(&json!({
        "version": 1,
        "webSocketApis": [{
            "apiId": "wshttp0001", "name": "Http",
            "routes": [{"routeId": "x", "routeKey": "$default", "target": "integrations/echo",
                        "routeResponseSelectionExpression": "$default"}],
            "integrations": [{"integrationId": "echo", "integrationType": "HTTP",
                "integrationUri": format!("http://{backend}/shaped"),
                "requestTemplates": {"$default": "{\"said\": $input.json('$.text'), \"by\": \"$context.connectionId\"}"}}],
            "stages": [{"stageName": "dev", "autoDeploy": true}]
        }]
    }));
    let gateway = start(&project.load(), WebSocketLimits::default());
    let mut socket = connect(&stage_url(&gateway, "wshttp0001", "dev")).await;
    let echoed = ask(&mut socket, r#"{"text": "hi there"}"#).await;
    assert_eq!(echoed["method"], "POST");
    assert_eq!(echoed["path"], "/shaped");
    let sent: Value = serde_json::from_str(echoed["body"].as_str().unwrap()).unwrap();
    assert_eq!(sent["said"], "hi there");
    assert_eq!(sent["by"].as_str().unwrap().len(), 16);
}

/// The stage's route throttling: `routeSettings` for one key over the
/// `defaultRouteSettings`, a bucket per route; a throttled message gets the
/// error frame, a throttled `$connect` a 429 handshake.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn route_throttling_follows_the_stage_settings() {
    let mut definition = mock_api(true);
    definition["webSocketApis"][0]["stages"][0]["routeSettings"] = json!({
        "ping": {"throttlingBurstLimit": 2, "throttlingRateLimit": 0.001}
    });
    let project = TempProject::from_json(&definition);
    let gateway = start(&project.load(), WebSocketLimits::default());
    let url = format!("{}?token=ok", stage_url(&gateway, "wsapi00001", "dev"));
    let mut socket = connect(&url).await;
    for _ in 0..2 {
        let reply = ask(&mut socket, r#"{"action": "ping"}"#).await;
        assert_eq!(reply["pong"], "ping");
    }
    socket
        .send(Message::text(r#"{"action": "ping"}"#))
        .await
        .unwrap();
    let frame = next_text(&mut socket).await;
    assert!(
        frame.starts_with(r#"{"message": "Too Many Requests", "connectionId":""#),
        "{frame}"
    );
    // Other routes have no settings: not throttled.
    socket.send(Message::text("anything")).await.unwrap();
    assert_eq!(next_text(&mut socket).await, "default:$default");

    definition["webSocketApis"][0]["stages"][0]["routeSettings"] = json!({
        "$connect": {"throttlingBurstLimit": 1, "throttlingRateLimit": 0.001}
    });
    let project = TempProject::from_json(&definition);
    let gateway = start(&project.load(), WebSocketLimits::default());
    let url = format!("{}?token=ok", stage_url(&gateway, "wsapi00001", "dev"));
    let _first = connect(&url).await;
    match tokio_tungstenite::connect_async(&url).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 429)
        }
        other => panic!("expected a throttled handshake, got {other:?}"),
    }
}

/// An auto-deployed change reaches connections that are already open.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_apply_to_open_connections() {
    let project = TempProject::from_json(&mock_api(true));
    let mut loaded = project.load();
    let gateway = start(&loaded, WebSocketLimits::default());
    let url = format!("{}?token=ok", stage_url(&gateway, "wsapi00001", "dev"));
    let mut socket = connect(&url).await;
    socket.send(Message::text("x")).await.unwrap();
    assert_eq!(next_text(&mut socket).await, "default:$default");
    loaded.web_socket_apis[0].integrations[2].integration_responses[0]
        .response_templates
        .insert("$default".into(), "changed:$context.routeKey".into());
    gateway.reload(&loaded).unwrap();
    socket.send(Message::text("x")).await.unwrap();
    assert_eq!(next_text(&mut socket).await, "changed:$default");
}

/// A broken WebSocket API in `portico.json` is refused with the file, line
/// and column and exit code 2; `ls --json` and `deploy` know WebSocket APIs.
#[test]
fn the_cli_reports_bad_definitions_lists_and_deploys_websocket_apis() {
    let portico = || std::process::Command::new(env!("CARGO_BIN_EXE_portico"));
    let mut definition = mock_api(true);
    definition["webSocketApis"][0]["routes"][1]["routeKey"] = json!("$ping");
    let project = TempProject::from_json(&definition);
    let output = portico()
        .args(["ls", "--project"])
        .arg(project.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let text = std::fs::read_to_string(project.path().join("portico.json")).unwrap();
    let line = text.lines().position(|l| l.contains("\"$ping\"")).unwrap() + 1;
    assert!(
        stderr.contains(&format!("portico.json:{line}:")) && stderr.contains("$connect"),
        "{stderr}"
    );

    let project = TempProject::copy_of("projects/chat");
    let output = portico()
        .args(["deploy", "--api", "Chat", "--stage", "prod", "--project"])
        .arg(project.path())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let output = portico()
        .args(["ls", "--json", "--project"])
        .arg(project.path())
        .output()
        .unwrap();
    let listed: Value = serde_json::from_slice(&output.stdout).unwrap();
    let chat = &listed[0];
    assert_eq!(chat["type"], "WEBSOCKET");
    let stages: Vec<&str> = chat["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(stages, ["dev", "prod"]);
    assert!(
        chat["stages"][1]["url"]
            .as_str()
            .unwrap()
            .starts_with("ws://127.0.0.1:4455/restapis/chatapi001/prod/")
    );
    // The deployed stage serves its snapshot after a restart.
    let gateway = start(&project.load(), WebSocketLimits::default());
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let mut socket = connect(&stage_url(&gateway, "chatapi001", "prod")).await;
        let me = ask(&mut socket, r#"{"action": "whoami"}"#).await;
        assert!(me["connectionId"].is_string());
    });
}

/// A REQUEST Lambda authorizer on `$connect` (a real python function):
/// without its identity source the handshake is 401, a Deny 403, an Allow
/// connects and its principal reaches `$context.authorizer`. A plain HTTP
/// request to the stage (no upgrade) is 403.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_authorizer_decides_the_handshake() {
    let handler = r#"
def handler(event, context):
    allowed = event["headers"].get("Auth") == "letmein"
    return {
        "principalId": "ada",
        "policyDocument": {"Version": "2012-10-17", "Statement": [{
            "Action": "execute-api:Invoke",
            "Effect": "Allow" if allowed else "Deny",
            "Resource": event["methodArn"],
        }]},
        "context": {"team": "blue"},
    }
"#;
    let mut definition = mock_api(true);
    definition["functions"] = json!([{"functionName": "gate", "runtime": "python3.12",
        "handler": "app.handler", "codeUri": "functions/gate", "timeout": 5}]);
    let api = &mut definition["webSocketApis"][0];
    api["authorizers"] = json!([{"authorizerId": "auth1", "name": "gate",
        "authorizerType": "REQUEST", "identitySource": ["route.request.header.Auth"],
        "authorizerUri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:gate/invocations"}]);
    api["routes"][0]["authorizationType"] = json!("CUSTOM");
    api["routes"][0]["authorizerId"] = json!("auth1");
    api["integrations"][1]["integrationResponses"][0]["responseTemplates"]["$default"] = json!(
        "{\"pong\": \"$context.routeKey\", \"who\": \"$context.authorizer.principalId\", \"team\": \"$context.authorizer.team\"}"
    );
    let project = TempProject::from_json(&definition);
    let dir = project.path().join("functions/gate");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("app.py"), handler).unwrap();
    let gateway = start(&project.load(), WebSocketLimits::default());
    let url = format!("{}?token=ok", stage_url(&gateway, "wsapi00001", "dev"));
    let handshake = |auth: Option<&'static str>| {
        let mut request = url.as_str().into_client_request().unwrap();
        if let Some(auth) = auth {
            request.headers_mut().insert("auth", auth.parse().unwrap());
        }
        tokio_tungstenite::connect_async(request)
    };
    for (auth, status) in [(None, 401), (Some("guess"), 403)] {
        match handshake(auth).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                assert_eq!(response.status(), status, "{auth:?}")
            }
            other => panic!("expected a rejected handshake, got {other:?}"),
        }
    }
    let (mut socket, _) = handshake(Some("letmein")).await.expect("allowed");
    let reply = ask(&mut socket, r#"{"action": "ping"}"#).await;
    assert_eq!(reply["who"], "ada");
    assert_eq!(reply["team"], "blue");
    let plain = common::client()
        .get(url.replace("ws://", "http://"))
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), 403);
}
