//! Properties of the VTL engine: no input, however malformed, panics the
//! parser or the renderer, and rendering is deterministic.

use portico::vtl::{Bindings, Template};
use proptest::prelude::*;

/// Strings biased towards VTL syntax, so the parser's corners get reached.
fn template_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("$".to_string()),
        Just("$!".to_string()),
        Just("${".to_string()),
        Just("}".to_string()),
        Just("#".to_string()),
        Just("#set(".to_string()),
        Just("#if(".to_string()),
        Just("#elseif(".to_string()),
        Just("#else".to_string()),
        Just("#end".to_string()),
        Just("#foreach($i in ".to_string()),
        Just("#macro(m $a)".to_string()),
        Just("#m(".to_string()),
        Just("#define($d)".to_string()),
        Just("#break".to_string()),
        Just("#stop".to_string()),
        Just("##".to_string()),
        Just("#*".to_string()),
        Just("*#".to_string()),
        Just("#[[".to_string()),
        Just("]]#".to_string()),
        Just("\\".to_string()),
        Just("$input.path('$')".to_string()),
        Just("$input.json('$.a[0]')".to_string()),
        Just("$util.escapeJavaScript(".to_string()),
        Just("$context.requestOverride.header.X".to_string()),
        Just("[1..".to_string()),
        Just("{\"k\":".to_string()),
        Just("(".to_string()),
        Just(")".to_string()),
        Just("\"".to_string()),
        Just("'".to_string()),
        Just(" = ".to_string()),
        Just(" + ".to_string()),
        Just(" / 0".to_string()),
        Just("\n".to_string()),
        "[a-z0-9 .,\\[\\]]{0,6}",
        any::<char>().prop_map(|c| c.to_string()),
    ];
    proptest::collection::vec(piece, 0..40).prop_map(|pieces| pieces.concat())
}

fn render(template: &Template) -> Result<String, String> {
    let context = serde_json::json!({"stage": "dev", "requestOverride": {"header": {}}});
    let pairs = [("a".to_string(), "1".to_string())];
    template
        .render(&Bindings {
            body: r#"{"a": [1, {"b": "c"}], "s": "x"}"#,
            path: &pairs,
            querystring: &pairs,
            header: &pairs,
            context: &context,
            stage_variables: &pairs,
        })
        .map(|r| r.output)
        .map_err(|e| e.to_string())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn nothing_panics(text in template_text()) {
        if let Ok(template) = Template::compile(&text) {
            let first = render(&template);
            prop_assert_eq!(first, render(&template));
        }
    }

    #[test]
    fn arbitrary_unicode_never_panics(text in "\\PC{0,200}") {
        if let Ok(template) = Template::compile(&text) {
            let _ = render(&template);
        }
    }

    #[test]
    fn text_without_markup_renders_as_itself(text in "[^$#\\\\]{0,200}") {
        let template = Template::compile(&text).expect("plain text compiles");
        prop_assert_eq!(render(&template).expect("plain text renders"), text);
    }
}
