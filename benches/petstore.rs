//! The workload the VTL benchmarks share: the AWS docs' PetStore
//! list-reshaping template over a 100-item pet list, and a ~10 KB template.
//! Shared by `benches/vtl.rs` and `benches/vtl_render.rs`; each uses part of it.
#![allow(dead_code)]

pub const PETSTORE_TEMPLATE: &str = "#set($inputRoot = $input.path('$'))\n[\n#foreach($elem in $inputRoot)\n  {\n    \"description\" : \"Item $elem.id is a $elem.type.\",\n    \"askingPrice\" : $elem.price\n  }#if($foreach.hasNext),#end\n\n#end\n]";

/// `[{"id": 1, "type": "dog", "price": 249.99}, ...]`, 100 items.
pub fn pets(count: usize) -> String {
    let kinds = ["dog", "cat", "fish", "bird"];
    let items: Vec<String> = (1..=count)
        .map(|i| {
            format!(
                "{{\"id\": {i}, \"type\": \"{}\", \"price\": {}.99}}",
                kinds[i % kinds.len()],
                i * 10
            )
        })
        .collect();
    format!("[{}]", items.join(", "))
}

/// A realistic template of about 10 KB: the method-request passthrough
/// template plus field mappings, repeated.
pub fn ten_kilobyte_template() -> String {
    let block = r#"#set($allParams = $input.params())
{
"body-json" : $input.json('$'),
"params" : {
#foreach($type in $allParams.keySet())
    #set($params = $allParams.get($type))
"$type" : {
    #foreach($paramName in $params.keySet())
    "$paramName" : "$util.escapeJavaScript($params.get($paramName))"
        #if($foreach.hasNext),#end
    #end
}
    #if($foreach.hasNext),#end
#end
},
"stage-variables" : {
#foreach($key in $stageVariables.keySet())
"$key" : "$util.escapeJavaScript($stageVariables.get($key))"
    #if($foreach.hasNext),#end
#end
},
"context" : {
    "account-id" : "$context.identity.accountId",
    "api-id" : "$context.apiId",
    "http-method" : "$context.httpMethod",
    "stage" : "$context.stage",
    "source-ip" : "$context.identity.sourceIp",
    "request-id" : "$context.requestId",
    "resource-path" : "$context.resourcePath"
}
}
"#;
    let mut template = String::new();
    while template.len() < 10 * 1024 {
        template.push_str(block);
    }
    template
}

/// Renders `template` over `body` with nothing else bound, as both
/// benchmarks do.
pub fn render(template: &portico::vtl::Template, body: &str) -> String {
    template
        .render(&portico::vtl::Bindings {
            body,
            path: &[],
            querystring: &[],
            header: &[],
            context: &serde_json::Value::Null,
            stage_variables: &[],
        })
        .expect("renders")
        .output
}
