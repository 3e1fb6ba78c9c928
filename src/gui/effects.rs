//! What the GUI does outside the model: the running gateway, console
//! sends, function invocations, and (to come) sockets, file dialogs and
//! reads. Called from the app's command queue, never from a panel.

use std::sync::mpsc::Sender;

use super::commands::{Command, InvokeResult};
use super::console::{ConsoleRequest, ConsoleResponse, send_http, test_invoke};
use crate::functions::Outcome;
use crate::gateway::Gateway;
use crate::model::{Project, RestApi};

/// The running gateway serves `project` as it now is.
pub fn reload_gateway(gateway: Option<&Gateway>, project: &Project) -> Result<(), String> {
    match gateway {
        Some(gateway) => gateway.reload(project).map_err(|e| e.to_string()),
        None => Ok(()),
    }
}

/// Sends the console's `request` on the gateway's runtime (test invoke:
/// against `draft`); the answer comes back as [`Command::ConsoleAnswer`].
pub fn send_console_request(
    gateway: &Gateway,
    draft: Option<&RestApi>,
    request: ConsoleRequest,
    report: Sender<Command>,
    repaint: impl Fn() + Send + 'static,
) {
    let answer = move |response: ConsoleResponse| {
        let _ = report.send(Command::ConsoleAnswer(Box::new(response)));
    };
    if request.test_invoke {
        let Some(api) = draft.cloned() else {
            answer(ConsoleResponse {
                error: Some("the project has no REST API".into()),
                ..Default::default()
            });
            return;
        };
        let services = gateway.test_invoke_services();
        gateway.spawn(async move {
            answer(test_invoke(&api, &request, &services).await);
            repaint();
        });
        return;
    }
    let url = format!("http://{}{}", gateway.local_addr(), request.target());
    let log = gateway.request_log().clone();
    gateway.spawn(async move {
        answer(send_http(&url, &request, &log).await);
        repaint();
    });
}

/// Invokes `function` with `event` on the gateway's runtime; the answer
/// comes back as [`Command::FunctionInvoked`] (`None` if the invocation
/// is dropped before it answers).
pub fn invoke_function(
    gateway: &Gateway,
    function: String,
    event: String,
    report: Sender<Command>,
    repaint: impl Fn() + Send + 'static,
) {
    /// Reports `None` unless an answer was sent.
    struct Answer(Option<Sender<Command>>);
    impl Drop for Answer {
        fn drop(&mut self) {
            if let Some(report) = self.0.take() {
                let _ = report.send(Command::FunctionInvoked(None));
            }
        }
    }
    let host = gateway.services().functions;
    let payload = bytes::Bytes::from(event);
    let mut answer = Answer(Some(report));
    gateway.spawn(async move {
        let started = std::time::Instant::now();
        let outcome = host.invoke(&function, payload).await;
        let millis = started.elapsed().as_millis();
        let (error, text) = match outcome {
            Ok(Outcome::Success(body)) => (false, String::from_utf8_lossy(&body).into_owned()),
            Ok(Outcome::Error { payload, .. }) => {
                (true, String::from_utf8_lossy(&payload).into_owned())
            }
            Err(e) => (true, e.to_string()),
        };
        if let Some(report) = answer.0.take() {
            let _ = report.send(Command::FunctionInvoked(Some(InvokeResult {
                function,
                error,
                text,
                millis,
            })));
        }
        repaint();
    });
}
