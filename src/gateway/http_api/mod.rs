//! The HTTP API (API Gateway v2) runtime: route selection as AWS documents
//! it (the most specific route wins: literal segments over `{param}` over
//! a greedy `{proxy+}`, a verb over `ANY`, `$default` last; no match ->
//! 404 `{"message":"Not Found"}`), CORS answered from
//! `corsConfiguration`, and the two proxy integrations: `HTTP_PROXY` to a
//! URL and `AWS_PROXY` to a local Lambda function with payload format 2.0
//! (or 1.0).

//!
//! The phase list is [`handle`] and `route_and_integrate`: CORS preflight
//! -> route -> throttle -> authenticate (JWT, Lambda authorizer) ->
//! integrate -> map response -> CORS headers. Each phase is in its own
//! file here or in `gateway/phases/`.

mod authorize;
mod cors;
mod integrate;
mod mapping;
mod payload;
mod stage;

use bytes::Bytes;
use http::HeaderMap;
use serde_json::{Value, json};

use crate::gateway::responses::Reply;
use crate::gateway::services::Services;

use authorize::{authorize, authorize_lambda, authorizer_context};
use cors::{preflight_headers, response_headers};
use integrate::{http_proxy, lambda_proxy};
use mapping::{Sources, map_response};
pub use payload::{event_v2, response_v2};
pub(crate) use stage::substitute_stage_variables;
pub use stage::{CompiledHttpStage, CompiledRoute, HttpRequest, Served, compile};
use stage::{Target, message};

/// Serves one request.
pub async fn handle(
    stage: &CompiledHttpStage,
    request: &HttpRequest,
    services: &Services,
) -> Served {
    let origin = request
        .headers
        .get(http::header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    // CORS preflight, answered by the gateway itself.
    if let (Some(cors), Some(origin)) = (&stage.cors, &origin)
        && request.method == http::Method::OPTIONS
        && request
            .headers
            .contains_key(http::header::ACCESS_CONTROL_REQUEST_METHOD)
    {
        let mut reply = Reply {
            status: 204,
            headers: HeaderMap::new(),
            body: Bytes::new(),
        };
        preflight_headers(cors, origin, &request.headers, &mut reply.headers);
        return Served {
            reply,
            route: None,
            integration_latency: None,
        };
    }
    let mut served = route_and_integrate(stage, request, services).await;
    if let (Some(cors), Some(origin)) = (&stage.cors, &origin) {
        response_headers(cors, origin, &mut served.reply.headers);
    }
    served
}

async fn route_and_integrate(
    stage: &CompiledHttpStage,
    request: &HttpRequest,
    services: &Services,
) -> Served {
    let Some((route, parameters)) = stage.select(request.method.as_str(), &request.path) else {
        return Served {
            reply: message(404, "Not Found"),
            route: None,
            integration_latency: None,
        };
    };
    let refused = |reply| Served {
        reply,
        route: Some(route.key.clone()),
        integration_latency: None,
    };
    // The account's and the route's buckets: 429 Too Many Requests.
    if crate::gateway::phases::throttle::admit(services, route.throttle.as_deref()).is_err() {
        return refused(message(429, "Too Many Requests"));
    }
    let mut authorizer: Option<Value> = None;
    if let Some(jwt) = &route.jwt {
        match authorize(jwt, request, services).await {
            Ok(verified) => authorizer = Some(authorizer_context(&verified)),
            Err(reply) => return refused(reply),
        }
    }
    if let Some(lambda) = &route.lambda_auth {
        let sources = Sources {
            request,
            stage,
            route_key: &route.key,
            parameters: &parameters,
            response: None,
        };
        match authorize_lambda(lambda, &sources, services).await {
            Ok(context) => authorizer = Some(json!({"lambda": context})),
            Err(reply) => return refused(reply),
        }
    }
    let Some(integration) = &route.integration else {
        return Served {
            reply: message(404, "Not Found"),
            route: Some(route.key.clone()),
            integration_latency: None,
        };
    };
    let started = std::time::Instant::now();
    let reply = match &integration.target {
        Target::Http { uri, method } => {
            let sources = Sources {
                request,
                stage,
                route_key: &route.key,
                parameters: &parameters,
                response: None,
            };
            http_proxy(uri, method.as_deref(), integration, &sources, services).await
        }
        Target::Lambda {
            function,
            version_2,
        } => {
            lambda_proxy(
                function,
                *version_2,
                integration.timeout,
                stage,
                &route.key,
                &parameters,
                authorizer.as_ref(),
                request,
                services,
            )
            .await
        }
    };
    let integration_latency = Some(started.elapsed());
    let mut reply = reply;
    if let Some((_, mappings)) = integration
        .response_mappings
        .iter()
        .find(|(status, _)| *status == reply.status)
    {
        let (headers, body) = (reply.headers.clone(), reply.body.clone());
        let sources = Sources {
            request,
            stage,
            route_key: &route.key,
            parameters: &parameters,
            response: Some((&headers, &body)),
        };
        map_response(mappings, &sources, &mut reply);
    }
    Served {
        reply,
        route: Some(route.key.clone()),
        integration_latency,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{HttpApi, HttpStage};

    fn stage(keys: &[&str]) -> CompiledHttpStage {
        let api: HttpApi = serde_json::from_value(json!({
            "apiId": "h1", "name": "t",
            "routes": keys.iter().enumerate().map(|(i, k)| json!({"routeId": format!("r{i}"), "routeKey": k})).collect::<Vec<_>>(),
        }))
        .unwrap();
        let stage: HttpStage =
            serde_json::from_value(json!({"stageName": "$default", "autoDeploy": true})).unwrap();
        compile(&api, &stage)
    }

    fn selected(stage: &CompiledHttpStage, verb: &str, path: &str) -> Option<String> {
        stage.select(verb, path).map(|(r, _)| r.key.clone())
    }

    /// AWS: "API Gateway selects the route with the most-specific match";
    /// greedy variables match last, `$default` only when nothing else does
    /// (<https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-routes.html>).
    #[test]
    fn the_most_specific_route_wins() {
        let s = stage(&[
            "GET /pets/{id}",
            "GET /pets/dog",
            "ANY /pets/dog",
            "ANY /{proxy+}",
            "$default",
        ]);
        assert_eq!(
            selected(&s, "GET", "/pets/dog").as_deref(),
            Some("GET /pets/dog")
        );
        assert_eq!(
            selected(&s, "POST", "/pets/dog").as_deref(),
            Some("ANY /pets/dog")
        );
        assert_eq!(
            selected(&s, "GET", "/pets/7").as_deref(),
            Some("GET /pets/{id}")
        );
        assert_eq!(
            selected(&s, "GET", "/a/b/c").as_deref(),
            Some("ANY /{proxy+}")
        );
        assert_eq!(selected(&s, "GET", "/").as_deref(), Some("$default"));
        let (_, parameters) = s.select("GET", "/x/y%20z").unwrap();
        assert_eq!(parameters, [("proxy".to_string(), "x/y z".to_string())]);
        let none = stage(&["GET /pets"]);
        assert_eq!(selected(&none, "GET", "/cats"), None);
        assert_eq!(selected(&none, "POST", "/pets"), None);
    }

    #[test]
    fn payload_2_responses_are_inferred() {
        let plain = response_v2(br#"{"hello": "world"}"#).unwrap();
        assert_eq!(plain.status, 200);
        assert_eq!(plain.headers["content-type"], "application/json");
        assert_eq!(&plain.body[..], br#"{"hello":"world"}"#);
        let full = response_v2(
            br#"{"statusCode": 201, "headers": {"x-a": "1"}, "cookies": ["a=1", "b=2"], "body": "made"}"#,
        )
        .unwrap();
        assert_eq!(full.status, 201);
        assert_eq!(full.headers["x-a"], "1");
        assert_eq!(full.headers.get_all("set-cookie").iter().count(), 2);
        assert_eq!(&full.body[..], b"made");
        assert!(response_v2(b"not json").is_err());
    }
}
