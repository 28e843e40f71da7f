//! The contract, tested: loads `openapi.yaml`, lists its operations, and validates each
//! response the tests see (status documented, content type, body against the schema).

use std::collections::HashMap;
use std::sync::Mutex;

use serde_json::Value;

pub struct Contract {
    spec: Value,
    schemas: Value,
    operations: Vec<Operation>,
    validators: Mutex<HashMap<String, std::sync::Arc<jsonschema::Validator>>>,
}

#[derive(Clone, Debug)]
pub struct Operation {
    pub method: String,
    pub template: String,
    segments: Vec<Option<String>>,
}

impl Operation {
    fn matches(&self, method: &str, path: &str) -> bool {
        if !self.method.eq_ignore_ascii_case(method) {
            return false;
        }
        let parts: Vec<&str> = path.trim_end_matches('/').split('/').collect();
        parts.len() == self.segments.len()
            && self.segments.iter().zip(&parts).all(|(seg, part)| match seg {
                Some(fixed) => fixed == part,
                None => !part.is_empty(),
            })
    }
}

/// Rewrites `#/components/schemas/X` references to `#/$defs/X` so that each schema can be
/// compiled on its own with the components alongside.
fn rewrite_refs(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get_mut("$ref")
                && let Some(name) = r.strip_prefix("#/components/schemas/")
            {
                *r = format!("#/$defs/{name}");
            }
            map.values_mut().for_each(rewrite_refs);
        }
        Value::Array(items) => items.iter_mut().for_each(rewrite_refs),
        _ => {}
    }
}

impl Contract {
    pub fn load() -> Self {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi.yaml");
        let text = std::fs::read_to_string(path).expect("openapi.yaml is readable");
        let mut spec: Value = serde_norway::from_str(&text).expect("openapi.yaml is valid YAML");
        rewrite_refs(&mut spec);
        let schemas = spec["components"]["schemas"].clone();
        let mut operations = Vec::new();
        if let Some(paths) = spec["paths"].as_object() {
            for (template, item) in paths {
                for method in ["get", "post", "put", "patch", "delete"] {
                    if item.get(method).is_some() {
                        let segments = template
                            .split('/')
                            .map(|s| if s.starts_with('{') { None } else { Some(s.to_owned()) })
                            .collect();
                        operations.push(Operation {
                            method: method.to_uppercase(),
                            template: template.clone(),
                            segments,
                        });
                    }
                }
            }
        }
        Self {
            spec,
            schemas,
            operations,
            validators: Mutex::new(HashMap::new()),
        }
    }

    pub fn operations(&self) -> &[Operation] {
        &self.operations
    }

    /// The operation a concrete request path falls under; fixed segments win over parameters.
    pub fn find(&self, method: &str, path: &str) -> Option<&Operation> {
        self.operations
            .iter()
            .filter(|op| op.matches(method, path))
            .max_by_key(|op| op.segments.iter().filter(|s| s.is_some()).count())
    }

    fn validator(&self, key: &str, schema: &Value) -> Result<std::sync::Arc<jsonschema::Validator>, String> {
        if let Some(v) = self.validators.lock().map_err(|e| e.to_string())?.get(key) {
            return Ok(v.clone());
        }
        let mut root = schema.clone();
        if let Value::Object(map) = &mut root {
            map.insert("$defs".into(), self.schemas.clone());
        } else {
            root = serde_json::json!({ "allOf": [schema], "$defs": self.schemas });
        }
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .should_validate_formats(true)
            .build(&root)
            .map_err(|e| format!("schema for {key} does not compile: {e}"))?;
        let validator = std::sync::Arc::new(validator);
        self.validators
            .lock()
            .map_err(|e| e.to_string())?
            .insert(key.to_owned(), validator.clone());
        Ok(validator)
    }

    /// Checks one response against the contract.
    pub fn check(
        &self,
        method: &str,
        path: &str,
        status: u16,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Result<(), String> {
        let op = self
            .find(method, path)
            .ok_or_else(|| format!("{method} {path} is not in openapi.yaml"))?;
        let responses = &self.spec["paths"][&op.template][op.method.to_lowercase()]["responses"];
        let status_key = status.to_string();
        let class_key = format!("{}XX", status / 100);
        let (key, response) = [status_key.as_str(), class_key.as_str(), "default"]
            .into_iter()
            .find_map(|k| responses.get(k).map(|r| (k, r)))
            .ok_or_else(|| format!("{method} {} does not document status {status}", op.template))?;
        // A shared response (`#/components/responses/X`) stands for its definition.
        let response = match response.get("$ref").and_then(Value::as_str) {
            Some(r) => r
                .strip_prefix("#/components/responses/")
                .and_then(|name| self.spec["components"]["responses"].get(name))
                .ok_or_else(|| format!("{method} {}: unknown response {r}", op.template))?,
            None => response,
        };
        let Some(content) = response.get("content").and_then(Value::as_object) else {
            return if body.is_empty() {
                Ok(())
            } else {
                Err(format!(
                    "{method} {} {status}: the contract documents no body, the server sent one",
                    op.template
                ))
            };
        };
        let media = content_type
            .unwrap_or_default()
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_owned();
        let entry = content.get(&media).ok_or_else(|| {
            format!(
                "{method} {} {status}: content type {media:?} is not documented",
                op.template
            )
        })?;
        if !(media.ends_with("json")) {
            return Ok(());
        }
        let instance: Value = serde_json::from_slice(body)
            .map_err(|e| format!("{method} {} {status}: body is not JSON: {e}", op.template))?;
        let Some(schema) = entry.get("schema") else {
            return Ok(());
        };
        let validator = self.validator(&format!("{} {} {key} {media}", op.method, op.template), schema)?;
        let errors: Vec<String> = validator
            .iter_errors(&instance)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "{method} {} {status}: body does not match the contract:\n  {}\nbody: {instance}",
                op.template,
                errors.join("\n  ")
            ))
        }
    }
}
