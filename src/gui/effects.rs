//! What the GUI does outside the model: the running gateway, console
//! sends, function invocations, native file dialogs (on threads of their
//! own, answering through the queue), project and OpenAPI files, and (to
//! come) sockets. Called from the app's command queue, never from a panel.

use std::sync::mpsc::Sender;

use std::path::{Path, PathBuf};

use super::commands::{Command, FileAction, InvokeResult, OpenApiAction};
use super::console::{ConsoleRequest, ConsoleResponse, send_http, test_invoke};
use crate::functions::Outcome;
use crate::gateway::Gateway;
use crate::model::{Project, RestApi};
use crate::openapi::{self, ExportOptions};

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

/// Opens the native folder dialog for `action` on a thread of its own,
/// starting in `start`; the answer comes back as a
/// [`super::commands::FileCommand::FolderPicked`].
pub fn pick_folder(
    action: FileAction,
    start: PathBuf,
    report: Sender<Command>,
    repaint: impl Fn() + Send + 'static,
) -> std::io::Result<()> {
    let title = match action {
        FileAction::New => "New project: choose an empty folder",
        FileAction::Open => "Open project: choose its folder",
        FileAction::SaveAs => "Save project as: choose an empty folder",
    };
    run_dialog(
        move || {
            rfd::AsyncFileDialog::new()
                .set_title(title)
                .set_directory(&start)
                .pick_folder()
        },
        move |picked| super::commands::FileCommand::FolderPicked(action, picked).into(),
        report,
        repaint,
    )
}

/// Opens the native file dialog for an OpenAPI import or export (saving
/// as `suggested`) on a thread of its own; the answer comes back as a
/// [`super::commands::OpenApiCommand::FilePicked`].
pub fn pick_openapi_file(
    action: OpenApiAction,
    start: PathBuf,
    suggested: &'static str,
    report: Sender<Command>,
    repaint: impl Fn() + Send + 'static,
) -> std::io::Result<()> {
    run_dialog(
        move || {
            let dialog = rfd::AsyncFileDialog::new()
                .set_directory(&start)
                .add_filter("OpenAPI", &["json", "yaml", "yml"]);
            async move {
                match action {
                    OpenApiAction::Import => {
                        dialog
                            .set_title("Import an OpenAPI definition")
                            .pick_file()
                            .await
                    }
                    OpenApiAction::Export => {
                        dialog
                            .set_title("Export the API as OpenAPI")
                            .set_file_name(suggested)
                            .save_file()
                            .await
                    }
                }
            }
        },
        move |picked| super::commands::OpenApiCommand::FilePicked(action, picked).into(),
        report,
        repaint,
    )
}

/// Runs a native dialog on a thread of its own (the frame never waits);
/// its answer (`None` when nothing was picked or the dialog failed) is
/// reported as `answer(picked)`.
fn run_dialog<F>(
    dialog: impl FnOnce() -> F + Send + 'static,
    answer: impl FnOnce(Option<PathBuf>) -> Command + Send + 'static,
    report: Sender<Command>,
    repaint: impl Fn() + Send + 'static,
) -> std::io::Result<()>
where
    F: std::future::Future<Output = Option<rfd::FileHandle>>,
{
    std::thread::Builder::new()
        .name("portico-file-dialog".into())
        .spawn(move || {
            let picked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .ok()
                    .and_then(|runtime| runtime.block_on(dialog()))
                    .map(|handle| handle.path().to_path_buf())
            }))
            .ok()
            .flatten();
            let _ = report.send(answer(picked));
            repaint();
        })?;
    Ok(())
}

/// Creates a project with one empty REST API (named after the folder) in
/// `folder`, which must not hold a project yet.
pub fn new_project(folder: &Path) -> Result<Project, String> {
    if folder.join(crate::model::project::PROJECT_FILE).exists() {
        return Err(format!(
            "{} already holds a project: use Open",
            folder.display()
        ));
    }
    let name = folder
        .file_name()
        .map_or("My API".to_string(), |n| n.to_string_lossy().into_owned());
    let mut project = Project::new(folder);
    project.rest_apis.push(RestApi::new(&name));
    project.save().map_err(|e| e.to_string())?;
    Ok(project)
}

/// Reads and imports the OpenAPI definition in `file`: the API and the
/// import's warnings. Errors name the file (and the line, for syntax).
pub fn import_openapi(file: &Path) -> Result<(RestApi, Vec<String>), String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let at_file = |e: openapi::OpenApiError| match e {
        openapi::OpenApiError::Syntax {
            line,
            column,
            message,
        } => format!("{}:{line}:{column}: {message}", file.display()),
        other => format!("{}: {other}", file.display()),
    };
    let document = openapi::parse_document(&text).map_err(at_file)?;
    let imported = openapi::import(&document).map_err(at_file)?;
    Ok((imported.api, imported.warnings))
}

/// Writes `api` to `file` as OpenAPI (YAML for .yaml / .yml).
pub fn export_openapi(api: &RestApi, options: &ExportOptions, file: &Path) -> Result<(), String> {
    let document = openapi::export(api, options).map_err(|e| e.to_string())?;
    let text = openapi::to_text(&document, is_yaml(file));
    crate::model::project::write_text_atomic(file, &text).map_err(|e| e.to_string())
}

fn is_yaml(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"))
}
