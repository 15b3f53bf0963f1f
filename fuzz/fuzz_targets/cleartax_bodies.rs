//! The ClearTax-compatible request bodies (store, bulk, verify, generate, cancel) as the API
//! reads them: any bytes are either refused with a reason or give a body whose credentials
//! check runs, without a panic.
#![no_main]

use gateway::http::routes::einvoice::{CancelItem, GenerateItem};
use gateway::http::routes::nic_credentials::{BulkBody, StoreCredentialsBody, VerifyBody};
use gateway::service::credentials::auth_payload_len;
use libfuzzer_sys::fuzz_target;
use secrecy::ExposeSecret;

fuzz_target!(|data: &[u8]| {
    if let Ok(body) = serde_json::from_slice::<StoreCredentialsBody>(data) {
        let _ = auth_payload_len(&body.username, body.password.expose_secret());
    }
    if let Ok(bulk) = serde_json::from_slice::<BulkBody>(data) {
        for row in &bulk.credentials {
            let _ = auth_payload_len(&row.username, row.password.expose_secret());
        }
    }
    let _ = serde_json::from_slice::<VerifyBody>(data);
    let _ = serde_json::from_slice::<Vec<GenerateItem>>(data);
    let _ = serde_json::from_slice::<Vec<CancelItem>>(data);
});
