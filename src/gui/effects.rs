//! What the GUI does outside the model: the running gateway, and (to
//! come) console sends, sockets, file dialogs and reads. Called from the
//! app's command queue, never from a panel.

use crate::gateway::Gateway;
use crate::model::Project;

/// The running gateway serves `project` as it now is.
pub fn reload_gateway(gateway: Option<&Gateway>, project: &Project) -> Result<(), String> {
    match gateway {
        Some(gateway) => gateway.reload(project).map_err(|e| e.to_string()),
        None => Ok(()),
    }
}
