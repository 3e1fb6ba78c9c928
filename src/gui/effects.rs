//! What the GUI does outside the model: the running gateway, and (to
//! come) console sends, sockets, file dialogs and reads. Called from the
//! app's command queue, never from a panel.

use std::sync::mpsc::Sender;

use super::commands::Command;
use super::console::{ConsoleRequest, ConsoleResponse, send_http, test_invoke};
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
