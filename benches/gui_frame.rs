//! GUI frame time (issue: the desktop app): the live log tab with 100,000
//! requests in the log while 1,000 requests/s arrive (16 per frame at
//! 60 frames/s). egui_kittest runs the UI pass without a GPU, so this is
//! the CPU cost of a frame. `cargo bench --bench gui_frame`.

use std::time::{Duration, SystemTime};

use criterion::{Criterion, criterion_group, criterion_main};
use egui_kittest::Harness;
use portico::gateway::{Gateway, GatewayConfig};
use portico::gui::{Studio, Workspace, app::Tab};
use portico::model::Project;
use portico::observe::{ExecutionLog, RequestRecord};

fn record(i: u64) -> RequestRecord {
    let mut log = ExecutionLog::new();
    log.push("Starting execution for request");
    log.push("Method completed with status: 200");
    log.compact();
    RequestRecord {
        seq: 0,
        request_id: format!("req-{i}"),
        at: SystemTime::now(),
        api_id: "petstore42".into(),
        stage: "dev".into(),
        canary: i % 10 == 3,
        http_method: "GET".into(),
        path: format!("/pets/{}", i % 1000),
        raw_query: String::new(),
        resource_path: Some("/pets/{petId}".into()),
        status: if i % 10 == 0 { 404 } else { 200 },
        latency_us: 300 + i % 200,
        integration_latency_us: None,
        request_headers: Default::default(),
        request_body: bytes::Bytes::new(),
        response_headers: Default::default(),
        response_body: bytes::Bytes::from_static(b"{}"),
        execution_log: log,
    }
}

fn log_frame(c: &mut Criterion) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("projects/petstore");
    let project = Project::load(&dir).expect("the sample loads");
    let config = GatewayConfig {
        port: 0,
        worker_threads: 1,
        // The target is a frame with 100,000 entries loaded: no byte
        // budget, so all of them stay.
        request_log_capacity: 100_000,
        request_log_bytes: usize::MAX,
        ..GatewayConfig::default()
    };
    let gateway = Gateway::start(&project, &config).expect("gateway starts");
    for i in 0..100_000 {
        gateway.request_log().push(record(i));
    }
    assert_eq!(gateway.request_log().len(), 100_000);
    let mut studio = Studio::new(Workspace::new(project), Some(gateway));
    studio.tab = Tab::Logs;
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .build_ui_state(|ui, studio: &mut Studio| studio.ui(ui), studio);
    harness.run();
    let mut next = 100_000;
    let mut group = c.benchmark_group("gui");
    group.measurement_time(Duration::from_secs(5));
    // One frame: 16 new requests (1,000/s at 60 frames/s), then the UI pass.
    let mut frame = move |harness: &mut Harness<'_, Studio>| {
        for _ in 0..16 {
            harness
                .state()
                .gateway
                .as_ref()
                .unwrap()
                .request_log()
                .push(record(next));
            next += 1;
        }
        harness.step();
    };
    group.bench_function("logs_frame_100k_entries_1000_rps", |b| {
        b.iter(|| frame(&mut harness))
    });
    harness.state_mut().logs.filter = "pets/7".into();
    group.bench_function("logs_frame_100k_entries_1000_rps_filtered", |b| {
        b.iter(|| frame(&mut harness))
    });
    group.finish();
}

criterion_group!(benches, log_frame);
criterion_main!(benches);
