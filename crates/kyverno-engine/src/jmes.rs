//! JMESPath as Kyverno evaluates it.
//!
//! Kyverno's JMESPath differs from the standard in one way that changes rule results: a field
//! missing from an object on a plain path (`request.object.metadata.labels.team` without labels)
//! is an error ("Unknown key"), not null, unless a projection, flatten, filter, multi-select,
//! function argument, comparison or `||` absorbs it. The AST and the built-in functions come from
//! the `jmespath` crate; this interpreter applies Kyverno's rule over them.

use std::sync::OnceLock;

use jmespath::ast::Ast;
use jmespath::{Context, Rcvar, Runtime, Variable};
use serde_json::Value;

/// Why a query produced no value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueryError {
    /// A plain path named a key the object does not have.
    NotFound(String),
    /// The expression does not parse or a function failed.
    Invalid(String),
}

impl std::fmt::Display for QueryError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            QueryError::NotFound(key) => write!(formatter, "Unknown key \"{key}\" in path"),
            QueryError::Invalid(message) => formatter.write_str(message),
        }
    }
}

fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        let mut runtime = Runtime::new();
        runtime.register_builtin_functions();
        crate::functions::register_all(&mut runtime);
        runtime
    })
}

/// Converts a JSON value into the interpreter's representation.
pub fn to_variable(value: &Value) -> Rcvar {
    Rcvar::new(Variable::try_from(value).unwrap_or(Variable::Null))
}

fn to_json(variable: &Rcvar) -> Value {
    serde_json::to_value(&**variable).unwrap_or(Value::Null)
}

/// Evaluates `expression` against `data` with Kyverno's not-found rule.
pub fn query(expression: &str, data: &Rcvar) -> Result<Value, QueryError> {
    let ast = parsed(expression)?;
    let runtime = runtime();
    let mut context = Context::new(expression, runtime);
    let result = execute(&ast, data, &mut context)?;
    Ok(to_json(&result))
}

/// The AST of `expression`, parsed once per thread: a policy asks the same questions of every
/// resource it is applied to.
fn parsed(expression: &str) -> Result<std::rc::Rc<Ast>, QueryError> {
    thread_local! {
        static PARSED: std::cell::RefCell<std::collections::HashMap<String, std::rc::Rc<Ast>>> =
            std::cell::RefCell::new(std::collections::HashMap::new());
    }
    if let Some(ast) = PARSED.with(|cache| cache.borrow().get(expression).cloned()) {
        return Ok(ast);
    }
    let ast = std::rc::Rc::new(
        jmespath::parse(expression).map_err(|error| QueryError::Invalid(error.to_string()))?,
    );
    PARSED.with(|cache| {
        cache
            .borrow_mut()
            .insert(expression.to_owned(), ast.clone())
    });
    Ok(ast)
}

fn null() -> Rcvar {
    Rcvar::new(Variable::Null)
}

/// Evaluates `node`, turning a not-found into null (where Kyverno's interpreter absorbs it).
fn lenient(node: &Ast, data: &Rcvar, context: &mut Context<'_>) -> Result<Rcvar, QueryError> {
    match execute(node, data, context) {
        Err(QueryError::NotFound(_)) => Ok(null()),
        other => other,
    }
}

fn execute(node: &Ast, data: &Rcvar, context: &mut Context<'_>) -> Result<Rcvar, QueryError> {
    Ok(match node {
        Ast::Field { name, .. } => match &**data {
            Variable::Object(map) => match map.get(name) {
                Some(value) => value.clone(),
                None => return Err(QueryError::NotFound(name.clone())),
            },
            _ => null(),
        },
        Ast::Subexpr { lhs, rhs, .. } => {
            let left = execute(lhs, data, context)?;
            execute(rhs, &left, context)?
        }
        Ast::Identity { .. } => data.clone(),
        Ast::Literal { value, .. } => value.clone(),
        Ast::Index { idx, .. } => {
            if *idx >= 0 {
                data.get_index(*idx as usize)
            } else {
                data.get_negative_index((-idx) as usize)
            }
        }
        Ast::Or { lhs, rhs, .. } => {
            let left = lenient(lhs, data, context)?;
            if left.is_truthy() {
                left
            } else {
                lenient(rhs, data, context)?
            }
        }
        Ast::And { lhs, rhs, .. } => {
            let left = lenient(lhs, data, context)?;
            if !left.is_truthy() {
                left
            } else {
                execute(rhs, data, context)?
            }
        }
        Ast::Not { node, .. } => {
            let value = lenient(node, data, context)?;
            Rcvar::new(Variable::Bool(!value.is_truthy()))
        }
        Ast::Condition {
            predicate, then, ..
        } => {
            let test = lenient(predicate, data, context)?;
            if test.is_truthy() {
                lenient(then, data, context)?
            } else {
                null()
            }
        }
        Ast::Comparison {
            comparator,
            lhs,
            rhs,
            ..
        } => {
            let left = lenient(lhs, data, context)?;
            let right = lenient(rhs, data, context)?;
            left.compare(comparator, &right)
                .map_or_else(null, |result| Rcvar::new(Variable::Bool(result)))
        }
        Ast::ObjectValues { node, .. } => {
            let subject = lenient(node, data, context)?;
            match &*subject {
                Variable::Object(map) => {
                    Rcvar::new(Variable::Array(map.values().cloned().collect()))
                }
                _ => null(),
            }
        }
        Ast::Projection { lhs, rhs, .. } => {
            let left = lenient(lhs, data, context)?;
            match left.as_array() {
                None => null(),
                Some(items) => {
                    let mut collected = Vec::new();
                    for item in items {
                        let current = lenient(rhs, item, context)?;
                        if !current.is_null() {
                            collected.push(current);
                        }
                    }
                    Rcvar::new(Variable::Array(collected))
                }
            }
        }
        Ast::Flatten { node, .. } => {
            let Ok(left) = execute(node, data, context) else {
                return Ok(null());
            };
            match left.as_array() {
                None => null(),
                Some(items) => {
                    let mut collected = Vec::new();
                    for item in items {
                        match item.as_array() {
                            Some(inner) => collected.extend(inner.iter().cloned()),
                            None => collected.push(item.clone()),
                        }
                    }
                    Rcvar::new(Variable::Array(collected))
                }
            }
        }
        Ast::MultiList { elements, .. } => {
            if data.is_null() {
                null()
            } else {
                let mut collected = Vec::new();
                for element in elements {
                    collected.push(lenient(element, data, context)?);
                }
                Rcvar::new(Variable::Array(collected))
            }
        }
        Ast::MultiHash { elements, .. } => {
            if data.is_null() {
                null()
            } else {
                let mut collected = std::collections::BTreeMap::new();
                for pair in elements {
                    collected.insert(pair.key.clone(), lenient(&pair.value, data, context)?);
                }
                Rcvar::new(Variable::Object(collected))
            }
        }
        Ast::Function { name, args, offset } => {
            let mut values = Vec::with_capacity(args.len());
            for arg in args {
                values.push(lenient(arg, data, context)?);
            }
            context.offset = *offset;
            let runtime = context.runtime;
            let function = runtime
                .get_function(name)
                .ok_or_else(|| QueryError::Invalid(format!("unknown function: {name}")))?;
            function
                .evaluate(&values, context)
                .map_err(|error| QueryError::Invalid(error.to_string()))?
        }
        Ast::Expref { ast, .. } => Rcvar::new(Variable::Expref((**ast).clone())),
        Ast::Slice {
            start, stop, step, ..
        } => {
            if *step == 0 {
                return Err(QueryError::Invalid(
                    "invalid slice: step cannot be 0".to_owned(),
                ));
            }
            data.slice(*start, *stop, *step)
                .map_or_else(null, |items| Rcvar::new(Variable::Array(items)))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(expression: &str, data: Value) -> Result<Value, QueryError> {
        query(expression, &to_variable(&data))
    }

    #[test]
    fn missing_key_on_a_plain_path_is_not_found() {
        let data = json!({"request": {"object": {"metadata": {"name": "a"}}}});
        assert_eq!(
            run("request.object.metadata.name", data.clone()),
            Ok(json!("a"))
        );
        assert_eq!(
            run("request.object.metadata.labels.team", data.clone()),
            Err(QueryError::NotFound("labels".into()))
        );
        assert_eq!(
            run("request.object.metadata.labels.team || 'none'", data),
            Ok(json!("none"))
        );
    }

    #[test]
    fn projections_multiselect_and_flatten_absorb_missing_keys() {
        let data = json!({"spec": {"containers": [{"name": "a", "ports": [{"hostPort": 80}]}, {"name": "b"}]}});
        assert_eq!(
            run("spec.containers[].ports[].hostPort", data.clone()),
            Ok(json!([80]))
        );
        assert_eq!(
            run("spec.[initContainers, containers][].name", data.clone()),
            Ok(json!(["a", "b"]))
        );
        assert_eq!(
            run("spec.containers[?name=='b'].name", data),
            Ok(json!(["b"]))
        );
    }

    #[test]
    fn builtin_and_kyverno_functions() {
        let data =
            json!({"volumes": [{"name": "a", "hostPath": {}}, {"name": "b", "emptyDir": {}}]});
        assert_eq!(
            run("volumes[].keys(@)[]", data.clone()),
            Ok(json!(["hostPath", "name", "emptyDir", "name"]))
        );
        assert_eq!(run("length(volumes)", data), Ok(json!(2)));
        assert_eq!(run("to_upper('abc')", json!({})), Ok(json!("ABC")));
        assert_eq!(run("split('a,b', ',')", json!({})), Ok(json!(["a", "b"])));
    }
}
