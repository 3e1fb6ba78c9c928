//! The Functions tab's drafts (a function definition and a Lambda
//! authorizer as typed) and the workspace's edits of functions and
//! authorizers, each undoable.

use crate::model::FunctionDefinition;

/// A function definition being edited, as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionDraft {
    /// The name it had (`None` for a new function).
    pub original: Option<String>,
    pub name: String,
    pub runtime: String,
    pub handler: String,
    pub code: String,
    pub timeout: String,
    pub memory: String,
    /// Empty for the default.
    pub concurrency: String,
    /// `K=V` lines.
    pub environment: String,
}

impl FunctionDraft {
    pub fn of(definition: &FunctionDefinition) -> FunctionDraft {
        FunctionDraft {
            original: Some(definition.function_name.clone()),
            name: definition.function_name.clone(),
            runtime: definition.runtime.clone(),
            handler: definition.handler.clone(),
            code: definition.code_uri.clone(),
            timeout: definition.timeout.to_string(),
            memory: definition.memory_size.to_string(),
            concurrency: definition
                .reserved_concurrent_executions
                .map(|c| c.to_string())
                .unwrap_or_default(),
            environment: definition
                .environment
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("\n"),
        }
    }

    /// The definition this draft describes, checked as `CreateFunction`.
    pub fn definition(&self) -> Result<FunctionDefinition, String> {
        let number = |text: &str, what: &str| {
            text.trim()
                .parse::<u32>()
                .map_err(|_| format!("{what} must be a whole number: {text:?}"))
        };
        let mut definition = FunctionDefinition::new(
            self.name.trim(),
            self.runtime.trim(),
            self.handler.trim(),
            self.code.trim(),
        );
        definition.timeout = number(&self.timeout, "Timeout")?;
        definition.memory_size = number(&self.memory, "Memory")?;
        definition.reserved_concurrent_executions = if self.concurrency.trim().is_empty() {
            None
        } else {
            Some(number(&self.concurrency, "Concurrency")?)
        };
        for line in self
            .environment
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
        {
            let (k, v) = line
                .split_once('=')
                .ok_or_else(|| format!("Environment line {line:?}: expected KEY=value"))?;
            definition
                .environment
                .insert(k.trim().to_string(), v.to_string());
        }
        definition.validate().map_err(|e| e.to_string())?;
        Ok(definition)
    }
}

/// An authorizer being edited, as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizerDraft {
    /// The id of the authorizer it edits (`None` for a new one).
    pub id: Option<String>,
    pub name: String,
    /// `TOKEN` or `REQUEST`.
    pub kind: String,
    pub function: String,
    pub identity_source: String,
    pub validation: String,
    pub ttl: String,
}

impl AuthorizerDraft {
    pub fn of(authorizer: &crate::model::Authorizer) -> AuthorizerDraft {
        AuthorizerDraft {
            id: Some(authorizer.id.clone()),
            name: authorizer.name.clone(),
            kind: authorizer.authorizer_type.clone(),
            function: authorizer
                .authorizer_uri
                .as_deref()
                .and_then(crate::model::function_from_uri)
                .map(|(name, _)| name.to_string())
                .unwrap_or_default(),
            identity_source: authorizer.identity_source.clone().unwrap_or_default(),
            validation: authorizer
                .identity_validation_expression
                .clone()
                .unwrap_or_default(),
            ttl: authorizer
                .authorizer_result_ttl_in_seconds
                .unwrap_or(crate::auth::lambda_authorizer::DEFAULT_TTL_SECONDS)
                .to_string(),
        }
    }

    /// The authorizer this draft describes, checked as `CreateAuthorizer`
    /// and compiled as the gateway would.
    pub fn authorizer(&self) -> Result<crate::model::Authorizer, String> {
        let name = self.name.trim();
        if name.is_empty() {
            return Err("Give the authorizer a name".into());
        }
        if !matches!(self.kind.as_str(), "TOKEN" | "REQUEST") {
            return Err(format!("Invalid authorizer type {}", self.kind));
        }
        let function = self.function.trim();
        if function.is_empty() {
            return Err("Pick the authorizer's function".into());
        }
        let ttl: u32 = self
            .ttl
            .trim()
            .parse()
            .ok()
            .filter(|t| *t <= 3600)
            .ok_or("Result TTL must be 0 to 3600 seconds")?;
        let optional = |text: &str| {
            let text = text.trim();
            (!text.is_empty()).then(|| text.to_string())
        };
        let authorizer = crate::model::Authorizer {
            id: self
                .id
                .clone()
                .unwrap_or_else(crate::model::new_resource_id),
            name: name.to_string(),
            authorizer_type: self.kind.clone(),
            provider_arns: Vec::new(),
            auth_type: Some("custom".into()),
            authorizer_uri: Some(format!(
                "arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/arn:aws:lambda:{region}:{account}:function:{function}/invocations",
                region = crate::model::function::REGION,
                account = crate::model::function::ACCOUNT_ID
            )),
            authorizer_credentials: None,
            identity_source: optional(&self.identity_source).or_else(|| {
                (self.kind == "TOKEN").then(|| "method.request.header.Authorization".to_string())
            }),
            identity_validation_expression: optional(&self.validation),
            authorizer_result_ttl_in_seconds: Some(ttl),
        };
        crate::auth::lambda_authorizer::CompiledAuthorizer::compile(
            &authorizer,
            authorizer.authorizer_uri.as_deref().unwrap_or_default(),
        )?;
        Ok(authorizer)
    }
}

impl super::Workspace {
    /// Applies a function draft (undoable): a new function, or the one it
    /// was opened from (renamed if its name changed). Returns the name.
    pub fn apply_function_draft(&mut self, draft: &FunctionDraft) -> Result<String, String> {
        let definition = draft.definition()?;
        let name = definition.function_name.clone();
        let code_dir = definition.code_dir(&self.project.dir);
        if !code_dir.is_dir() {
            return Err(format!(
                "Code directory {} does not exist",
                code_dir.display()
            ));
        }
        self.edit_functions(|functions| {
            if draft.original.as_deref() != Some(name.as_str())
                && functions.iter().any(|f| f.function_name == name)
            {
                return Err(format!("Function already exist: {name}"));
            }
            match draft.original.as_deref() {
                Some(original) => {
                    let slot = functions
                        .iter_mut()
                        .find(|f| f.function_name == original)
                        .ok_or("no such function")?;
                    *slot = definition;
                }
                None => functions.push(definition),
            }
            Ok(())
        })?;
        Ok(name)
    }

    /// Deletes the function `name` (undoable).
    pub fn delete_function(&mut self, name: &str) -> Result<(), String> {
        let name = name.to_string();
        self.edit_functions(|functions| {
            let before = functions.len();
            functions.retain(|f| f.function_name != name);
            if functions.len() == before {
                return Err(format!("Function not found: {name}"));
            }
            Ok(())
        })
    }

    /// Creates or updates an authorizer of the selected API (undoable).
    pub fn set_authorizer(&mut self, draft: &AuthorizerDraft) -> Result<String, String> {
        let authorizer = draft.authorizer()?;
        self.edit(move |api| {
            if api
                .authorizers
                .iter()
                .any(|a| a.name == authorizer.name && a.id != authorizer.id)
            {
                return Err(format!(
                    "Authorizer name already exists: {}",
                    authorizer.name
                ));
            }
            let id = authorizer.id.clone();
            match api.authorizers.iter_mut().find(|a| a.id == authorizer.id) {
                Some(existing) => *existing = authorizer,
                None => api.authorizers.push(authorizer),
            }
            Ok(id)
        })
    }

    /// Deletes an authorizer no method uses (undoable).
    pub fn delete_authorizer(&mut self, id: &str) -> Result<(), String> {
        let id = id.to_string();
        self.edit(move |api| {
            for resource in &api.resources {
                for (verb, method) in &resource.resource_methods {
                    if method.authorizer_id.as_deref() == Some(id.as_str()) {
                        return Err(format!(
                            "Cannot delete authorizer: {verb} {} uses it",
                            resource.path
                        ));
                    }
                }
            }
            api.authorizers.retain(|a| a.id != id);
            Ok(())
        })
    }

    /// The selected method's authorizer name, or `NONE`.
    pub fn method_authorizer(&self) -> Option<String> {
        let api = self.api()?;
        let method = self.selected_method()?;
        Some(
            method
                .authorizer_id
                .as_deref()
                .filter(|_| method.authorization_type == "CUSTOM")
                .and_then(|id| api.authorizers.iter().find(|a| a.id == id))
                .map_or_else(|| "NONE".to_string(), |a| a.name.clone()),
        )
    }

    /// Guards the selected method with the named authorizer (`CUSTOM`), or
    /// with none (`NONE`).
    pub fn set_method_authorizer(&mut self, name: &str) -> Result<(), String> {
        let (resource, verb) = self.selected_method_key().ok_or("select a method first")?;
        let name = name.to_string();
        self.edit(move |api| {
            let id = if name == "NONE" {
                None
            } else {
                Some(
                    api.authorizers
                        .iter()
                        .find(|a| a.name == name)
                        .map(|a| a.id.clone())
                        .ok_or_else(|| format!("Invalid authorizer: {name}"))?,
                )
            };
            let method = api
                .resource_mut(&resource)
                .and_then(|r| r.resource_methods.get_mut(&verb))
                .ok_or("no such method")?;
            method.authorization_type = if id.is_some() { "CUSTOM" } else { "NONE" }.into();
            method.authorizer_id = id;
            Ok(())
        })
    }
}
