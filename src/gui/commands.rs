//! The GUI's one command queue (rerun's `SystemCommand` model): panels
//! read the model and push [`Command`]s into a [`CommandSender`]; the app
//! drains the queue once per frame, after every panel has drawn, and
//! applies the edits there (undo and redo included).
//!
//! Imports no panel and not `app.rs`: both import this module.

use std::path::PathBuf;
use std::sync::mpsc::{Receiver, Sender, channel};

use super::console::{ConsoleRequest, ConsoleResponse};
use super::workspace::{AuthorizerDraft, CanaryChange, FunctionDraft};
use crate::model::{QuotaSettings, ThrottleSettings};

/// The window's tabs, and the one table of the names they are remembered
/// by between runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Designer,
    Console,
    Logs,
    Stages,
    Models,
    Functions,
    Metrics,
    Keys,
    HttpApis,
    WebSockets,
}

/// Each tab and the name eframe's storage keeps it under.
const TAB_NAMES: [(Tab, &str); 10] = [
    (Tab::Designer, "designer"),
    (Tab::Console, "console"),
    (Tab::Logs, "logs"),
    (Tab::Stages, "stages"),
    (Tab::Models, "models"),
    (Tab::Functions, "functions"),
    (Tab::Metrics, "metrics"),
    (Tab::Keys, "keys"),
    (Tab::HttpApis, "http-apis"),
    (Tab::WebSockets, "websockets"),
];

impl Tab {
    /// The name the tab is remembered by.
    pub fn storage_name(self) -> &'static str {
        TAB_NAMES
            .iter()
            .find(|(tab, _)| *tab == self)
            .map_or("designer", |(_, name)| name)
    }

    /// The tab remembered as `name`; the designer for an unknown name.
    pub fn from_storage_name(name: Option<&str>) -> Tab {
        TAB_NAMES
            .iter()
            .find(|(_, known)| Some(*known) == name)
            .map_or(Tab::Designer, |(tab, _)| *tab)
    }
}

/// Every edit and every request a panel makes of the app.
#[derive(Debug)]
pub enum Command {
    Undo,
    Redo,
    /// Save the project to its folder.
    Save,
    /// Deploy the draft to the top bar's stage.
    Deploy,
    /// Show a tab.
    ShowTab(Tab),
    /// A message for the status bar (errors in red).
    Status(Result<String, String>),
    /// Send the console's request (or test-invoke the draft).
    SendConsoleRequest,
    /// The console's request was answered (from the effect's thread).
    ConsoleAnswer(Box<ConsoleResponse>),
    /// Load a request into the console and show it.
    OpenInConsole(Box<ConsoleRequest>),
    /// An edit of the API keys tab.
    Keys(KeysEdit),
    /// An edit of the Stages tab.
    Stage(StageEdit),
    /// An edit or invocation of the Functions tab.
    Function(FunctionEdit),
    /// A test invocation finished (`None`: it was dropped unanswered).
    FunctionInvoked(Option<InvokeResult>),
    /// The File menu's New, Open and Save As.
    File(FileCommand),
    /// File -> Import / Export OpenAPI.
    OpenApi(OpenApiCommand),
    /// An edit of the HTTP APIs tab (of its selected API).
    HttpApi(HttpApiEdit),
}

/// The HTTP APIs tab's edits; what they add is read from the tab's fields.
#[derive(Debug)]
pub enum HttpApiEdit {
    NewApi,
    AddRoute,
    DeleteRoute(String),
    AddIntegration,
    DeleteIntegration(String),
    AddJwtAuthorizer,
    AddMapping,
    /// Integration id, status code (None: the request), key.
    DeleteMapping(String, Option<String>, String),
    Cors,
    AddStage,
    AutoDeploy(String, bool),
    Deploy(String),
    /// Put the route (its key) in the console.
    Try(String),
    Mint,
}

impl From<HttpApiEdit> for Command {
    fn from(edit: HttpApiEdit) -> Command {
        Command::HttpApi(edit)
    }
}

/// What a picked folder is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileAction {
    New,
    Open,
    SaveAs,
}

/// The File menu's project commands.
#[derive(Debug)]
pub enum FileCommand {
    /// Open the native folder dialog for `action`.
    PickFolder(FileAction),
    /// The dialog answered (`None`: no folder chosen).
    FolderPicked(FileAction, Option<PathBuf>),
    /// Run `action` on the folder, asking first if it drops unsaved edits.
    Request(FileAction, PathBuf),
    /// The "unsaved changes" question was answered (save them first?).
    Confirmed {
        action: FileAction,
        folder: PathBuf,
        save: bool,
    },
}

impl From<FileCommand> for Command {
    fn from(command: FileCommand) -> Command {
        Command::File(command)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenApiAction {
    Import,
    Export,
}

/// File -> Import / Export OpenAPI.
#[derive(Debug)]
pub enum OpenApiCommand {
    /// Open the native file dialog for `action`.
    PickFile(OpenApiAction),
    /// The dialog answered (`None`: no file chosen).
    FilePicked(OpenApiAction, Option<PathBuf>),
    /// Import or export the file.
    Request(OpenApiAction, PathBuf),
}

impl From<OpenApiCommand> for Command {
    fn from(command: OpenApiCommand) -> Command {
        Command::OpenApi(command)
    }
}

/// The Functions tab's edits and test invocations.
#[derive(Debug)]
pub enum FunctionEdit {
    /// Save the draft in the project (and the running gateway).
    Apply(FunctionDraft),
    Delete(String),
    /// Invoke `function` with the test `event` (JSON); `started` is the
    /// status bar's message once it is on its way.
    Invoke {
        function: String,
        event: String,
        started: String,
    },
    SetAuthorizer(AuthorizerDraft),
    /// Delete the authorizer with this id.
    DeleteAuthorizer(String),
}

impl From<FunctionEdit> for Command {
    fn from(edit: FunctionEdit) -> Command {
        Command::Function(edit)
    }
}

/// A test invocation's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvokeResult {
    pub function: String,
    pub error: bool,
    pub text: String,
    pub millis: u128,
}

/// The Stages tab's edits of one stage of the selected REST API.
#[derive(Debug)]
pub enum StageEdit {
    Variables {
        stage: String,
        variables: Vec<(String, String)>,
    },
    /// Point the stage at an earlier deployment.
    Rollback {
        stage: String,
        id: String,
    },
    /// The default method throttling as typed (empty: none).
    Throttling {
        stage: String,
        rate: String,
        burst: String,
    },
    Cache {
        stage: String,
        enabled: bool,
    },
    FlushCache(String),
    /// Deploy the draft as the stage's canary (10% of its traffic).
    DeployCanary(String),
    /// Split the running gateway's traffic while the slider moves.
    LiveCanaryPercent {
        stage: String,
        percent: f64,
    },
    Canary {
        stage: String,
        change: CanaryChange,
    },
}

impl From<StageEdit> for Command {
    fn from(edit: StageEdit) -> Command {
        Command::Stage(edit)
    }
}

/// The API keys tab's edits (ids are the model's).
#[derive(Debug)]
pub enum KeysEdit {
    AddKey {
        name: String,
        /// Empty: generate a value.
        value: String,
        plan: Option<String>,
    },
    Enable(String, bool),
    DeleteKey(String),
    AddPlan {
        name: String,
        api_id: String,
        stage: String,
        throttle: Option<ThrottleSettings>,
        quota: Option<QuotaSettings>,
    },
    /// (plan, key, member?)
    Member(String, String, bool),
    DeletePlan(String),
}

impl From<KeysEdit> for Command {
    fn from(edit: KeysEdit) -> Command {
        Command::Keys(edit)
    }
}

/// Where panels put their commands during a frame, and where effects
/// running on other threads report back (through [`CommandSender::remote`]).
#[derive(Debug)]
pub struct CommandSender {
    queue: Vec<Command>,
    remote: Sender<Command>,
    arrived: Receiver<Command>,
}

impl Default for CommandSender {
    fn default() -> Self {
        let (remote, arrived) = channel();
        CommandSender {
            queue: Vec::new(),
            remote,
            arrived,
        }
    }
}

impl CommandSender {
    pub fn send(&mut self, command: Command) {
        self.queue.push(command);
    }

    /// A sender for an effect's thread: what it sends is taken with the
    /// next frame's commands.
    pub fn remote(&self) -> Sender<Command> {
        self.remote.clone()
    }

    /// The commands sent since the last call: what arrived from effects
    /// first, then the frame's own, each oldest first.
    pub fn take(&mut self) -> Vec<Command> {
        let mut commands: Vec<Command> = self.arrived.try_iter().collect();
        commands.append(&mut self.queue);
        commands
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tab_has_one_storage_name() {
        for (tab, name) in TAB_NAMES {
            assert_eq!(tab.storage_name(), name);
            assert_eq!(Tab::from_storage_name(Some(name)), tab);
        }
        assert_eq!(Tab::from_storage_name(Some("nonsense")), Tab::Designer);
        assert_eq!(Tab::from_storage_name(None), Tab::Designer);
    }
}
