//! Gateway responses, by type (`DEFAULT_4XX`, `MISSING_AUTHENTICATION_TOKEN`,
//! ...): `GetGatewayResponses`, `Put/Get/Update/DeleteGatewayResponse`.

use http::Method as M;
use serde_json::{Map, Value, json};

use crate::control::error::ControlError;
use crate::control::operation::{Answer, Call, Effects, Op};
use crate::model::{GatewayResponse, RestApi};

use super::edit::{Routed, change_api, create_in_api, list_in_api, patch_api, patched, read_api};
use super::json::{parse, to_json};
use super::lookup::{gateway_response, gateway_response_mut, remove_gateway_response};

pub(super) fn route(call: &Call, path: &[&str]) -> Routed {
    Some(match (call.method.clone(), path) {
        (M::GET, ["restapis", api_id, "gatewayresponses"]) => list_in_api(api_id, |api| {
            api.gateway_responses.values().map(to_json).collect()
        }),
        (M::PUT, ["restapis", api_id, "gatewayresponses", kind]) => {
            put_gateway_response(call, api_id, kind)
        }
        (M::GET, ["restapis", api_id, "gatewayresponses", kind]) => {
            let kind = kind.to_string();
            read_api(api_id, move |api| {
                Ok(to_json(gateway_response(api, &kind)?))
            })
        }
        (M::PATCH, ["restapis", api_id, "gatewayresponses", kind]) => {
            let kind = kind.to_string();
            patch_api(call, Effects::DRAFT, api_id, move |api, ops| {
                patched(
                    gateway_response_mut(api, &kind)?,
                    ops,
                    &["responseType"],
                    &[],
                )
            })
        }
        (M::DELETE, ["restapis", api_id, "gatewayresponses", kind]) => {
            let kind = kind.to_string();
            change_api(Effects::DRAFT, api_id, move |api| {
                remove_gateway_response(api, &kind)?;
                Ok(Answer::Empty(202))
            })
        }
        _ => return None,
    })
}

fn put_gateway_response(call: &Call, api_id: &str, kind: &str) -> Result<Op, ControlError> {
    let kind = kind.to_string();
    let kind_in_body = kind.clone();
    let make = move |mut body: Map<String, Value>| {
        body.insert("responseType".into(), json!(kind_in_body));
        parse::<GatewayResponse>(Value::Object(body))
    };
    create_in_api(call, api_id, make, move |api: &mut RestApi, response| {
        api.gateway_responses.insert(kind, response);
        Ok(())
    })
}
