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
    /// The contract's YAML as a JSON value, unchanged (references as written).
    pub fn raw() -> Value {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi.yaml");
        let text = std::fs::read_to_string(path).expect("openapi.yaml is readable");
        serde_norway::from_str(&text).expect("openapi.yaml is valid YAML")
    }

    pub fn load() -> Self {
        Self::from_spec(Self::raw())
    }

    /// A contract from a spec already parsed (the tests' controls alter a copy).
    pub fn from_spec(mut spec: Value) -> Self {
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

    /// A response as written, or the shared one it references (`#/components/responses/X`).
    fn resolve<'a>(&'a self, response: &'a Value) -> &'a Value {
        match response
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix("#/components/responses/"))
        {
            Some(name) => &self.spec["components"]["responses"][name],
            None => response,
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
        // Strict: the exact status, never a `default` or `4XX` catch-all (the spec has none, and
        // one would let any undocumented status pass).
        let key = status.to_string();
        let response = responses
            .get(&key)
            .ok_or_else(|| format!("{method} {} does not document status {status}", op.template))?;
        let response = self.resolve(response);
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

    /// Every example of the contract that is missing or does not validate, one line each:
    /// each schema under `components/schemas` carries `examples`; each JSON body of an
    /// operation (request or response, in `paths` and `webhooks`) has an example, its own or
    /// its referenced schema's; and every example, wherever written, validates against its schema.
    pub fn example_problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let mut pending = Vec::new();
        if let Some(schemas) = self.schemas.as_object() {
            for (name, schema) in schemas {
                match schema.get("examples").and_then(Value::as_array) {
                    Some(examples) if !examples.is_empty() => {
                        for (i, example) in examples.iter().enumerate() {
                            pending.push((format!("schema {name} example {i}"), schema, example));
                        }
                    }
                    _ => problems.push(format!("schema {name} has no examples")),
                }
            }
        }
        for section in ["paths", "webhooks"] {
            let Some(items) = self.spec.get(section).and_then(Value::as_object) else {
                continue;
            };
            for (path, item) in items {
                for method in ["get", "post", "put", "patch", "delete"] {
                    let Some(op) = item.get(method) else { continue };
                    let here = format!("{section} {} {path}", method.to_uppercase());
                    if let Some(body) = op.get("requestBody") {
                        self.examples_of(&format!("{here} request"), body, true, &mut pending, &mut problems);
                    }
                    for (status, response) in op.get("responses").and_then(Value::as_object).into_iter().flatten() {
                        let response = self.resolve(response);
                        let needed = status.starts_with('2');
                        self.examples_of(
                            &format!("{here} {status}"),
                            response,
                            needed,
                            &mut pending,
                            &mut problems,
                        );
                    }
                }
            }
        }
        for (name, response) in self.spec["components"]["responses"].as_object().into_iter().flatten() {
            self.examples_of(&format!("response {name}"), response, true, &mut pending, &mut problems);
        }
        // One validator for all of them (compiling one per example takes a minute in debug):
        // each example is the property of its index, under a root that maps each index to its
        // schema.
        let root = serde_json::json!({
            "type": "object",
            "properties": pending.iter().enumerate().map(|(i, (_, schema, _))| (i.to_string(), (*schema).clone())).collect::<serde_json::Map<_, _>>(),
            "$defs": self.schemas,
        });
        let instance: serde_json::Map<_, _> = pending
            .iter()
            .enumerate()
            .map(|(i, (_, _, example))| (i.to_string(), (*example).clone()))
            .collect();
        match jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .should_validate_formats(true)
            .build(&root)
        {
            Ok(validator) => {
                for error in validator.iter_errors(&Value::Object(instance)) {
                    let pointer = error.instance_path().to_string();
                    let mut parts = pointer.trim_start_matches('/').splitn(2, '/');
                    let index: usize = parts.next().and_then(|i| i.parse().ok()).unwrap_or(usize::MAX);
                    let here = pending.get(index).map_or("?", |p| p.0.as_str());
                    problems.push(format!("{here}: {error} at /{}", parts.next().unwrap_or_default()));
                }
            }
            Err(e) => problems.push(format!("the examples' schemas do not compile: {e}")),
        }
        problems
    }

    fn examples_of<'a>(
        &'a self,
        here: &str,
        holder: &'a Value,
        needed: bool,
        pending: &mut Vec<(String, &'a Value, &'a Value)>,
        problems: &mut Vec<String>,
    ) {
        for (media, entry) in holder.get("content").and_then(Value::as_object).into_iter().flatten() {
            if !media.ends_with("json") {
                continue;
            }
            let Some(schema) = entry.get("schema") else { continue };
            let mut examples: Vec<&Value> = entry.get("example").into_iter().collect();
            if let Some(named) = entry.get("examples").and_then(Value::as_object) {
                examples.extend(named.values().filter_map(|e| e.get("value")));
            }
            let referenced = schema
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/$defs/"))
                .is_some_and(|name| self.schemas[name].get("examples").is_some());
            if needed && examples.is_empty() && !referenced {
                problems.push(format!("{here} {media} has no example"));
            }
            for (i, example) in examples.into_iter().enumerate() {
                pending.push((format!("{here} {media} example {i}"), schema, example));
            }
        }
    }

    /// Checks one message a partner received against the contract's `webhooks` section: the
    /// event its `type` names is documented, each header parameter it declares is present and
    /// matches its schema, and the body matches the event's schema.
    pub fn check_webhook(&self, headers: &[(&str, &str)], body: &[u8]) -> Result<(), String> {
        let instance: Value = serde_json::from_slice(body).map_err(|e| format!("the webhook body is not JSON: {e}"))?;
        let event = instance["type"].as_str().ok_or("the webhook body has no type")?;
        let operation = self.spec["webhooks"][event]
            .get("post")
            .ok_or_else(|| format!("webhook {event} is not in the contract's webhooks section"))?;
        let mut errors = Vec::new();
        for parameter in operation["parameters"].as_array().into_iter().flatten() {
            let parameter = match parameter
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/components/parameters/"))
            {
                Some(name) => &self.spec["components"]["parameters"][name],
                None => parameter,
            };
            if parameter["in"] != "header" {
                continue;
            }
            let name = parameter["name"].as_str().unwrap_or_default();
            let Some((_, value)) = headers.iter().find(|(h, _)| h.eq_ignore_ascii_case(name)) else {
                if parameter["required"] == true {
                    errors.push(format!("header {name} is missing"));
                }
                continue;
            };
            let validator = self.validator(&format!("webhook header {name}"), &parameter["schema"])?;
            errors.extend(
                validator
                    .iter_errors(&Value::String((*value).to_owned()))
                    .map(|e| format!("header {name}: {e}")),
            );
        }
        let schema = &operation["requestBody"]["content"]["application/json"]["schema"];
        let validator = self.validator(&format!("webhook {event}"), schema)?;
        errors.extend(
            validator
                .iter_errors(&instance)
                .map(|e| format!("{e} at {}", e.instance_path())),
        );
        if errors.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "webhook {event} does not match the contract:\n  {}\nbody: {instance}",
                errors.join("\n  ")
            ))
        }
    }
}
