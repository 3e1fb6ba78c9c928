//! Identifiers shaped like AWS's: lowercase alphanumerics, 10 characters for
//! a REST API, 6 for a resource or deployment (AWS's root resource ids are
//! 10 characters, child resources and deployments 6).

const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

fn random_id(len: usize) -> String {
    (0..len)
        .map(|_| ALPHABET[fastrand::usize(..ALPHABET.len())] as char)
        .collect()
}

pub fn new_rest_api_id() -> String {
    random_id(10)
}

pub fn new_resource_id() -> String {
    random_id(6)
}

pub fn new_deployment_id() -> String {
    random_id(6)
}
