//! Differential test: Portico's JSONPath against Jayway JsonPath itself
//! (Debian's `libjsonpath-java`, 2.0), the library API Gateway evaluates
//! `$input.path` / `$input.json` and `integration.response.body.x` with.
//! Every (document, path) pair must select the same JSON, or nothing on
//! both sides, or be an invalid path on both. `.ci/run` installs the JDK
//! and the jars. (Jayway 2.0 predates path functions such as `length()`;
//! those are tested against Jayway's README in `src/jsonpath.rs`.)

mod oracle;

const JARS: [&str; 4] = [
    "/usr/share/java/json-path.jar",
    "/usr/share/java/json-smart.jar",
    "/usr/share/java/accessors-smart.jar",
    "/usr/share/java/slf4j-api.jar",
];

/// Documents with the paths a template would use on them. Left out:
/// features newer than Debian's Jayway 2.0 (`[-1]`, the `in` / `size` /
/// `empty` filter operators, functions), tested in `src/jsonpath.rs`
/// against Jayway's README instead.
const CASES: [(&str, &[&str]); 4] = [
    (
        r#"{"store":{"book":[{"category":"reference","author":"Nigel Rees","title":"Sayings of the Century","price":8.95},{"category":"fiction","author":"Evelyn Waugh","title":"Sword of Honour","price":12.99},{"category":"fiction","author":"Herman Melville","title":"Moby Dick","isbn":"0-553-21311-3","price":8.99},{"category":"fiction","author":"J. R. R. Tolkien","title":"The Lord of the Rings","isbn":"0-395-19395-8","price":22.99}],"bicycle":{"color":"red","price":19.95}},"expensive":10}"#,
        &[
            "$",
            "$.store",
            "$.store.book",
            "$.store.book[0]",
            "$.store.book[0].author",
            "$.store.book[1,2]",
            "$.store.book[:2]",
            "$.store.book[1:3]",
            "$.store.book[-2:]",
            "$.store.book[*].author",
            "$..author",
            "$.store.*",
            "$.store..price",
            "$..book[2]",
            "$..book[?(@.isbn)]",
            "$..book[?(@.price < 10)].title",
            "$..book[?(@.price > 8.99)]",
            "$..book[?(@.category == 'fiction')].author",
            "$..book[?(@.category != 'fiction')]",
            "$..book[?(@.price <= $.expensive)].price",
            "$..book[?(@.author =~ /.*Rees/)]",
            "$..book[?(@.price < 10 && @.category == 'fiction')].title",
            "$..book[?(@.price > 20 || @.category == 'reference')].title",
            "$['store']['bicycle']['color']",
            "$['store']['bicycle','book']",
            "$.store.bicycle['color','price']",
            "$.store.bicycle.nope",
            "$.nope",
            "$.nope.deeper",
            "$.store.book[9]",
            "$.store.book[",
            "$..book[?(@.price <)]",
            "$.expensive",
            "$..*",
        ],
    ),
    (
        r#"[{"id":1,"type":"dog","price":249.99},{"id":2,"type":"cat","price":124.99},{"id":3,"type":"fish","price":0.99}]"#,
        &[
            "$",
            "$[0]",
            "$[1].type",
            "$[*].id",
            "$[?(@.price < 200)].id",
            "$[0:2]",
            "$..id",
            "$..price",
            "$[5]",
            "$[*]",
            "$[0,2].type",
            "$[?(@.type == 'cat')]",
        ],
    ),
    (
        r#"{"a":{"b":{"c":[1,2,3],"d":null,"e":"x"}},"list":[[1,2],[3,[4,5]]],"k-e_y":{"v":true},"n":0,"s":"text"}"#,
        &[
            "$.a.b.c",
            "$.a.b.c[1]",
            "$.a.b.d",
            "$.a.b.e",
            "$.a.*",
            "$..c",
            "$.list[1][1][0]",
            "$.list[*][0]",
            "$['k-e_y'].v",
            "$.k-e_y",
            "$.n",
            "$.s",
            "$..v",
            "$.a.b.c[*]",
        ],
    ),
    (
        r#"{"order":{"id":"o-1","items":[{"sku":"a","qty":2,"tags":["x","y"]},{"sku":"b","qty":1,"tags":[]}],"note":"fragile"},"flag":false}"#,
        &[
            "$.order.items[0].tags",
            "$.order.items[*].sku",
            "$.order.items[?(@.qty > 1)].sku",
            "$.order..tags",
            "$.order.items[1].tags[0]",
            "$.flag",
            "$.order.note",
            "$.order.items[?(@.sku == 'b')].qty",
            "$.order.items[?(!@.nope)].sku",
        ],
    ),
];

fn jayway(cases: &[(&str, &str)]) -> Vec<String> {
    let lines: Vec<String> = cases.iter().map(|(d, p)| format!("{d}\t{p}")).collect();
    oracle::run(
        "jsonpath_oracle/JsonPathOracle.java",
        "JsonPathOracle",
        &JARS,
        "libjsonpath-java",
        &(lines.join("\n") + "\n"),
    )
    .lines()
    .map(str::to_string)
    .collect()
}

fn ours(document: &str, path: &str) -> String {
    let document: serde_json::Value = serde_json::from_str(document).expect("valid JSON");
    match portico::jsonpath::select(&document, path) {
        Ok(Some(value)) => format!("OK {value}"),
        Ok(None) => "MISSING".into(),
        Err(_) => "ERROR".into(),
    }
}

/// Same JSON: numbers compared by value (json-smart prints `8.95`, serde
/// the same; integers may print as `1` or `1.0`).
fn same(a: &str, b: &str) -> bool {
    match (a.strip_prefix("OK "), b.strip_prefix("OK ")) {
        (Some(a), Some(b)) => {
            let (Ok(a), Ok(b)) = (
                serde_json::from_str::<serde_json::Value>(a),
                serde_json::from_str::<serde_json::Value>(b),
            ) else {
                return a == b;
            };
            a == b
        }
        _ => a == b,
    }
}

#[test]
fn jsonpath_matches_jayway() {
    let cases: Vec<(&str, &str)> = CASES
        .iter()
        .flat_map(|(d, paths)| paths.iter().map(move |p| (*d, *p)))
        .collect();
    let expected = jayway(&cases);
    assert_eq!(expected.len(), cases.len());
    let mismatches: Vec<String> = cases
        .iter()
        .zip(&expected)
        .filter_map(|((document, path), expected)| {
            let actual = ours(document, path);
            (!same(&actual, expected)).then(|| {
                format!(
                    "{path} on {}...\n  Jayway: {expected}\n  ours:   {actual}",
                    &document[..30.min(document.len())]
                )
            })
        })
        .collect();
    assert!(
        mismatches.is_empty(),
        "{} of {} differ from Jayway:\n{}",
        mismatches.len(),
        cases.len(),
        mismatches.join("\n")
    );
}
