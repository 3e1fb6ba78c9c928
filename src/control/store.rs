//! The one in-memory project both front doors edit: the control plane
//! (AWS SDKs, Terraform) and the desktop app.
//!
//! Design (one writer at a time, versioned): the project sits behind a
//! mutex with a revision number. A control-plane operation takes the lock,
//! works on a copy, and on success swaps the copy in, saves the project
//! atomically and bumps the revision, so a failed or half-done operation
//! changes nothing and no two writers interleave. The desktop app pushes
//! its edits with a compare-and-swap on the revision it last saw, and
//! adopts the store's project whenever the revision moved under it.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::model::Project;

#[derive(Debug)]
pub struct ModelStore {
    project: Mutex<Project>,
    revision: AtomicU64,
}

impl ModelStore {
    pub fn new(project: Project) -> ModelStore {
        ModelStore {
            project: Mutex::new(project),
            revision: AtomicU64::new(0),
        }
    }

    /// Bumped by every change.
    pub fn revision(&self) -> u64 {
        self.revision.load(Ordering::Acquire)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Project> {
        self.project.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A copy of the project and the revision it is at.
    pub fn snapshot(&self) -> (Project, u64) {
        let project = self.lock();
        (project.clone(), self.revision())
    }

    /// Reads the project without copying it.
    pub fn read<T>(&self, read: impl FnOnce(&Project) -> T) -> T {
        read(&self.lock())
    }

    /// Runs `change` on a copy of the project; on success the copy becomes
    /// the project, is saved, and the revision moves on. Returns the
    /// result, the new project and its revision.
    pub fn write<T, E: From<crate::model::ProjectError>>(
        &self,
        change: impl FnOnce(&mut Project) -> Result<T, E>,
    ) -> Result<(T, Project, u64), E> {
        let mut project = self.lock();
        let mut copy = project.clone();
        let value = change(&mut copy)?;
        copy.save()?;
        *project = copy;
        let revision = self.revision.fetch_add(1, Ordering::AcqRel) + 1;
        Ok((value, project.clone(), revision))
    }

    /// Sets the project without a new revision: what the gateway serves
    /// after a reload becomes what the control plane reads.
    pub fn set(&self, project: Project) {
        *self.lock() = project;
    }

    /// The desktop app's edits: replaces the project if the store is still
    /// at `seen` (nothing changed it meanwhile) and returns the new
    /// revision; otherwise leaves it and returns the current revision as
    /// the error. Not saved: the app saves when its user says so.
    pub fn replace_if(&self, seen: u64, project: Project) -> Result<u64, u64> {
        let mut current = self.lock();
        let revision = self.revision();
        if revision != seen {
            return Err(revision);
        }
        *current = project;
        let revision = self.revision.fetch_add(1, Ordering::AcqRel) + 1;
        Ok(revision)
    }
}
