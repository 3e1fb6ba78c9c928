//! What the control plane's HTTP side hands an operation ([`Call`]) and what
//! it gets back: an [`Op`] to run (a read or a write of the project, with
//! the [`Effects`] a write has on what is served) and, once run, an
//! [`Answer`] or a [`ControlError`]. Shared by every AWS service the control
//! plane speaks; nothing here knows HTTP's types beyond the method.

use serde_json::{Map, Value};

use crate::model::Project;

use super::error::{ControlError, bad_request};

/// What an operation answers.
#[derive(Debug)]
pub enum Answer {
    Json(u16, Value),
    /// A body of some content type (`get-export`).
    Text(u16, String, String),
    Empty(u16),
}

/// What a change touches, so the server recompiles only what it must.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Effects {
    /// Stages or deployments changed: recompile the served routes.
    pub routes: bool,
    /// API keys or usage plans changed.
    pub keys: bool,
}

impl Effects {
    /// Only the draft changed: nothing served moves.
    pub const DRAFT: Effects = Effects {
        routes: false,
        keys: false,
    };
    /// Stages or deployments changed.
    pub const ROUTES: Effects = Effects {
        routes: true,
        keys: false,
    };
    /// API keys or usage plans changed.
    pub const KEYS: Effects = Effects {
        routes: false,
        keys: true,
    };
}

/// A parsed control-plane request.
#[derive(Debug)]
pub struct Call<'a> {
    pub method: &'a http::Method,
    pub segments: Vec<String>,
    pub query: Vec<(String, String)>,
    pub body: &'a [u8],
    pub accept: Option<&'a str>,
}

impl Call<'_> {
    /// A query parameter's (first) value.
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as a JSON object; an empty body is an empty object.
    pub fn json(&self) -> Result<Map<String, Value>, ControlError> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Map::new());
        }
        match serde_json::from_slice(self.body) {
            Ok(Value::Object(map)) => Ok(map),
            Ok(_) => Err(bad_request("Invalid request body: expected a JSON object")),
            Err(e) => Err(bad_request(format!("Invalid request body: {e}"))),
        }
    }
}

/// An operation that reads the project.
pub type Reader = Box<dyn FnOnce(&Project) -> Result<Answer, ControlError> + Send>;
/// An operation that changes the project.
pub type Writer = Box<dyn FnOnce(&mut Project) -> Result<Answer, ControlError> + Send>;

/// A read or a write of the project.
pub enum Op {
    Read(Reader),
    Write(Effects, Writer),
    /// `test-invoke-method`: runs a request against an API's draft.
    TestInvoke {
        api_id: String,
        resource_id: String,
        verb: String,
        body: Map<String, Value>,
    },
}

/// An [`Op::Read`].
pub fn read(f: impl FnOnce(&Project) -> Result<Answer, ControlError> + Send + 'static) -> Op {
    Op::Read(Box::new(f))
}

/// An [`Op::Write`].
pub fn write(
    effects: Effects,
    f: impl FnOnce(&mut Project) -> Result<Answer, ControlError> + Send + 'static,
) -> Op {
    Op::Write(effects, Box::new(f))
}
