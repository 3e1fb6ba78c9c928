//! `cargo fuzz run vtl_parse`: any byte string, compiled as a mapping
//! template and rendered over a small request, must not panic, hang or
//! overflow the stack.
#![no_main]

use libfuzzer_sys::fuzz_target;
use portico::vtl::{Bindings, Template};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(template) = Template::compile(text) else {
        return;
    };
    let pairs = [("id".to_string(), "7".to_string())];
    let context = serde_json::json!({"stage": "dev"});
    let _ = template.render(&Bindings {
        body: r#"{"a": [1, 2], "b": {"c": "d"}}"#,
        path: &pairs,
        querystring: &pairs,
        header: &pairs,
        context: &context,
        stage_variables: &pairs,
    });
});
