//! Template cases with their expected output, one table, each naming where
//! its expectation comes from: an AWS documentation example or fact, or
//! Apache Velocity 1.7's behaviour (those are also checked against the
//! real engine by `tests/vtl_differential.rs`). Plus parser errors with
//! their line, column and excerpt.

use portico::vtl::{Bindings, Template};

struct Case {
    source: &'static str,
    template: &'static str,
    body: &'static str,
    expected: &'static str,
}

const PETS: &str = r#"[{"id": 1, "type": "dog", "price": 249.99}, {"id": 2, "type": "cat", "price": 124.99}, {"id": 3, "type": "fish", "price": 0.99}]"#;
const ORDER: &str = r#"{"order": {"id": "o-1", "items": [{"sku": "a", "qty": 2}, {"sku": "b", "qty": 1}], "note": "it's \"fragile\""}, "empty": [], "flag": false, "n": null}"#;

const CASES: &[Case] = &[
    Case {
        source: "AWS docs, 'Example data model and mapping templates: PetStore' output template",
        template: "#set($inputRoot = $input.path('$'))\n[\n#foreach($elem in $inputRoot)\n  {\n    \"description\" : \"Item $elem.id is a $elem.type.\",\n    \"askingPrice\" : $elem.price\n  }#if($foreach.hasNext),#end\n\n#end\n]",
        body: PETS,
        expected: "[\n  {\n    \"description\" : \"Item 1 is a dog.\",\n    \"askingPrice\" : 249.99\n  },\n  {\n    \"description\" : \"Item 2 is a cat.\",\n    \"askingPrice\" : 124.99\n  },\n  {\n    \"description\" : \"Item 3 is a fish.\",\n    \"askingPrice\" : 0.99\n  }\n]",
    },
    Case {
        source: "AWS mapping template reference: $input.json(x) returns a JSON string",
        template: "$input.json('$.order.items')|$input.json('$.order.id')|$input.json('$.flag')|$input.json('$.n')",
        body: ORDER,
        expected: r#"[{"sku":"a","qty":2},{"sku":"b","qty":1}]|"o-1"|false|null"#,
    },
    Case {
        source: "AWS mapping template reference: $input.path(x) returns an object to manipulate (size(), fields)",
        template: "$input.path('$.order.items').size() $input.path('$.order.items')[1].sku $input.path('$.order.id') $input.path('$.empty').size()",
        body: ORDER,
        expected: "2 b o-1 0",
    },
    Case {
        source: "API Gateway returns JSON arrays from $input.path as JSON text (json-smart JSONArray), objects as Java maps (LocalStack's AWS-validated VTLJsonList/VTLJsonDict)",
        template: "$input.path('$.order.items') $input.path('$.order.items[0]')",
        body: ORDER,
        expected: r#"[{"sku":"a","qty":2},{"sku":"b","qty":1}] {sku=a, qty=2}"#,
    },
    Case {
        source: "AWS mapping template reference: a JSONPath filter in $input.path",
        template: "#foreach($i in $input.path('$.order.items[?(@.qty > 1)]'))$i.sku#end",
        body: ORDER,
        expected: "a",
    },
    Case {
        source: "AWS mapping template reference: $input.body is the raw payload string",
        template: "$input.body",
        body: "raw text, not JSON",
        expected: "raw text, not JSON",
    },
    Case {
        source: "AWS mapping template reference: $util.escapeJavaScript escapes with JavaScript string rules, ' becoming \\'",
        template: "$util.escapeJavaScript($input.path('$.order.note'))",
        body: ORDER,
        expected: "it\\'s \\\"fragile\\\"",
    },
    Case {
        source: "AWS mapping template reference: $util.parseJson turns a JSON string into an object",
        template: "#set($o = $util.parseJson('{\"a\": {\"b\": [1, 2]}}'))$o.a.b.size() $o.a.b[1]",
        body: "",
        expected: "2 2",
    },
    Case {
        source: "AWS mapping template reference: $util.urlEncode / urlDecode (java.net.URLEncoder)",
        template: "$util.urlEncode('a b&c=d/é') $util.urlDecode('a+b%26c')",
        body: "",
        expected: "a+b%26c%3Dd%2F%C3%A9 a b&c",
    },
    Case {
        source: "AWS mapping template reference: $util.base64Encode / base64Decode",
        template: "$util.base64Encode('hello') $util.base64Decode('aGVsbG8=')",
        body: "",
        expected: "aGVsbG8= hello",
    },
    Case {
        source: "AWS mapping template reference: $input.params(x) searches path, then query string, then header",
        template: "$input.params('id')|$input.params('q')|$input.params('X-Trace')|$input.params('absent')|",
        body: "",
        expected: "p-7|search|t-1||",
    },
    Case {
        source: "AWS's generated 'Method Request passthrough' template walks $input.params()",
        template: "#set($allParams = $input.params())\n{\n\"params\" : {\n#foreach($type in $allParams.keySet())\n    #set($params = $allParams.get($type))\n\"$type\" : {\n    #foreach($paramName in $params.keySet())\n    \"$paramName\" : \"$util.escapeJavaScript($params.get($paramName))\"\n        #if($foreach.hasNext),#end\n    #end\n}\n    #if($foreach.hasNext),#end\n#end\n}\n}",
        body: "",
        expected: "{\n\"params\" : {\n\"path\" : {\n        \"id\" : \"p-7\"\n            }\n    ,\"querystring\" : {\n        \"q\" : \"search\"\n            }\n    ,\"header\" : {\n        \"X-Trace\" : \"t-1\"\n            }\n    }\n}",
    },
    Case {
        source: "AWS mapping template reference: $context variables",
        template: "$context.stage $context.requestId $context.identity.sourceIp $context.httpMethod",
        body: "",
        expected: "dev req-1 10.0.0.1 GET",
    },
    Case {
        source: "AWS mapping template reference: $stageVariables.<name>",
        template: "$stageVariables.backend/$stageVariables.get('backend')",
        body: "",
        expected: "api.example.com/api.example.com",
    },
    Case {
        source: "Velocity 1.7: undefined references print as written, quiet ones print nothing",
        template: "$nope ${nope} $nope.x $!nope|$!{nope}|",
        body: "",
        expected: "$nope ${nope} $nope.x ||",
    },
    Case {
        source: "Velocity 1.7: #set swallows the rest of its line; indentation before #if stays",
        template: "a\n#set($x = 1)\n  #if($x == 1)\n  one\n  #end\nb",
        body: "",
        expected: "a\n    one\n  b",
    },
    Case {
        source: "Velocity 1.7: $velocityCount is 1-based; $foreach.index 0-based",
        template: "#foreach($x in ['a', 'b'])$velocityCount$foreach.index$x #end",
        body: "",
        expected: "10a 21b ",
    },
    Case {
        source: "Velocity 1.7: integer division and Java toString of lists and maps",
        template: "#set($a = 7 / 2)#set($l = [1, 'two'])#set($m = {'k': 'v'})$a $l $m",
        body: "",
        expected: "3 [1, two] {k=v}",
    },
    Case {
        source: "AWS quotas: a #foreach stops after 1,000 iterations",
        template: "#set($n = 0)#foreach($i in [1..1500])#set($n = $n + 1)#end$n",
        body: "",
        expected: "1000",
    },
    Case {
        source: "AWS mapping template reference: an empty payload reads as an empty object in $input.path",
        template: "$input.path('$').size()|$input.path('$.missing')|",
        body: "",
        expected: "0||",
    },
];

fn bindings_render(case: &Case) -> String {
    let context = serde_json::json!({
        "stage": "dev",
        "requestId": "req-1",
        "httpMethod": "GET",
        "identity": {"sourceIp": "10.0.0.1"},
        "requestOverride": {"header": {}, "path": {}, "querystring": {}},
        "responseOverride": {"header": {}}
    });
    let pair = |k: &str, v: &str| (k.to_string(), v.to_string());
    let path = [pair("id", "p-7")];
    let querystring = [pair("q", "search")];
    let header = [pair("X-Trace", "t-1")];
    let stage_variables = [pair("backend", "api.example.com")];
    let template = Template::compile(case.template)
        .unwrap_or_else(|e| panic!("{}: does not compile: {e}", case.source));
    template
        .render(&Bindings {
            body: case.body,
            path: &path,
            querystring: &querystring,
            header: &header,
            context: &context,
            stage_variables: &stage_variables,
        })
        .unwrap_or_else(|e| panic!("{}: does not render: {e}", case.source))
        .output
}

#[test]
fn template_cases() {
    let mut failures = Vec::new();
    for case in CASES {
        let actual = bindings_render(case);
        if actual != case.expected {
            failures.push(format!(
                "{}\n  expected: {:?}\n  actual:   {:?}",
                case.source, case.expected, actual
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn overrides_are_returned() {
    let template = Template::compile(
        "#set($context.responseOverride.status = 201)\n#set($context.responseOverride.header.X-A = 'a')\n#set($context.requestOverride.querystring.page = 2)ok",
    )
    .unwrap();
    let rendered = template.render_plain().unwrap();
    assert_eq!(rendered.output, "ok");
    assert_eq!(rendered.overrides.response_status, Some(201));
    assert_eq!(
        rendered.overrides.response_headers,
        [("X-A".to_string(), "a".to_string())]
    );
    assert_eq!(
        rendered.overrides.request_querystring,
        [("page".to_string(), "2".to_string())]
    );
}

/// Parser errors name the line and column and show the line with a caret.
#[test]
fn parse_errors_are_located() {
    let cases = [
        ("#if($a == 1)\nyes\n", 1, 1, "#if without #end"),
        ("ok\n#end", 2, 1, "#end without a matching #if or #foreach"),
        ("line\n  #set($x 1)", 2, 11, "expected '=' in #set"),
        ("#foreach($x [1])#end", 1, 13, "expected 'in' in #foreach"),
        ("a ${b.c d", 1, 3, "expected '}' to close '${'"),
        ("#set($x = 'open)", 1, 11, "unterminated string"),
        ("x #", 1, 3, "a '#' cannot end the template"),
    ];
    for (template, line, column, message) in cases {
        let error = Template::compile(template).expect_err(template);
        assert_eq!(
            (error.line, error.column),
            (line, column),
            "{template:?}: {error}"
        );
        assert!(
            error.message.starts_with(message),
            "{template:?}: {}",
            error.message
        );
        let text_line = template.lines().nth(line as usize - 1).unwrap_or_default();
        assert_eq!(
            error.excerpt,
            format!("{text_line}\n{}^", " ".repeat(column as usize - 1)),
            "{template:?}"
        );
    }
}

/// Runaway templates end with an error, never a hang or a stack overflow.
#[test]
fn limits_stop_runaway_templates() {
    let deep = "#if(true)".repeat(200) + &"#end".repeat(200);
    assert!(Template::compile(&deep).is_err());
    let nested_expression =
        "#set($x = ".to_string() + &"(".repeat(500) + "1" + &")".repeat(500) + ")";
    assert!(Template::compile(&nested_expression).is_err());
    let recursive = Template::compile("#macro(r)#r()#end#r()").unwrap();
    let error = recursive.render_plain().unwrap_err();
    assert!(error.message.contains("recurses"), "{error}");
    let huge = Template::compile("#set($s = 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx')#foreach($a in [1..1000])#foreach($b in [1..1000])$s#end#end").unwrap();
    assert!(
        huge.render_plain()
            .unwrap_err()
            .message
            .contains("output exceeds")
    );
    let too_big = "x".repeat(portico::vtl::MAX_TEMPLATE_BYTES + 1);
    assert!(Template::compile(&too_big).is_err());
}

#[test]
fn invalid_json_body_is_a_render_error() {
    let template = Template::compile("$input.path('$.a')").unwrap();
    let error = template
        .render(&Bindings {
            body: "{not json",
            path: &[],
            querystring: &[],
            header: &[],
            context: &serde_json::Value::Null,
            stage_variables: &[],
        })
        .unwrap_err();
    assert!(
        error.message.contains("Unable to parse the body as JSON"),
        "{error}"
    );
}
