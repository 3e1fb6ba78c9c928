//! Recently opened projects, newest first, kept in the user's config
//! directory (`directories`: `~/.config/portico/recent.json` on Linux) and
//! written atomically like project files.

use std::path::{Path, PathBuf};

/// How many projects the File -> Recent menu lists.
pub const MAX_RECENT: usize = 10;

#[derive(Debug, Clone, Default)]
pub struct RecentProjects {
    /// Where the list is stored; `None` keeps it in memory only.
    file: Option<PathBuf>,
    pub projects: Vec<PathBuf>,
}

impl RecentProjects {
    /// The list in the user's config directory (empty if there is none or
    /// it cannot be read: a broken list is not worth an error dialog).
    pub fn for_user() -> RecentProjects {
        let file = directories::ProjectDirs::from("dev", "portico", "portico")
            .map(|dirs| dirs.config_dir().join("recent.json"));
        match file {
            Some(file) => RecentProjects::load(&file),
            None => RecentProjects::default(),
        }
    }

    /// The list stored in `file`.
    pub fn load(file: &Path) -> RecentProjects {
        let projects = std::fs::read_to_string(file)
            .ok()
            .and_then(|text| serde_json::from_str::<Vec<PathBuf>>(&text).ok())
            .unwrap_or_default();
        RecentProjects {
            file: Some(file.to_path_buf()),
            projects,
        }
    }

    /// Puts `project` first (once) and stores the list.
    pub fn add(&mut self, project: &Path) -> Result<(), String> {
        let project = std::fs::canonicalize(project).unwrap_or_else(|_| project.to_path_buf());
        self.projects.retain(|p| *p != project);
        self.projects.insert(0, project);
        self.projects.truncate(MAX_RECENT);
        self.store()
    }

    /// Forgets `project` (it could not be opened any more).
    pub fn remove(&mut self, project: &Path) -> Result<(), String> {
        self.projects.retain(|p| p != project);
        self.store()
    }

    fn store(&self) -> Result<(), String> {
        match &self.file {
            Some(file) => crate::model::project::write_json_atomic(file, &self.projects)
                .map_err(|e| e.to_string()),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newest_first_once_bounded_and_stored() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("config/recent.json");
        let mut recent = RecentProjects::load(&file);
        assert!(recent.projects.is_empty());
        for i in 0..12 {
            recent
                .add(&dir.path().join(format!("p{i}")))
                .expect("stored");
        }
        recent.add(&dir.path().join("p5")).expect("stored");
        let names: Vec<String> = RecentProjects::load(&file)
            .projects
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            ["p5", "p11", "p10", "p9", "p8", "p7", "p6", "p4", "p3", "p2"]
        );
        std::fs::write(&file, "not json").expect("write");
        assert!(RecentProjects::load(&file).projects.is_empty());
    }
}
