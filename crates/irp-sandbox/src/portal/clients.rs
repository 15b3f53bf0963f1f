//! Client registration for a GSP, ERP, e-commerce operator or taxpayer (PAN or GSTIN, the
//! registered mobile and email, then an OTP), and what a registered client can do: generate
//! dummy GSTINs, create API users for them, and whitelist IPs.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::ToSchema;

use super::{otp, VerifyOtp};
use crate::error::PortalError;
use crate::state::{hash_secret, random_alnum, verify_secret, Sandbox};

/// A registration request.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterClient {
    /// `GSP`, `ERP`, `ECO` or `TAXPAYER`.
    pub kind: String,
    /// PAN (GSP, ERP, ECO), or omit and give `gstin`.
    pub pan: Option<String>,
    /// GSTIN (taxpayer).
    pub gstin: Option<String>,
    /// The mobile registered on the GST common portal.
    pub mobile: String,
    /// The email registered on the GST common portal.
    pub email: String,
}

/// Client credentials, for calls that act as the client.
#[derive(Deserialize, ToSchema)]
pub struct ClientAuth {
    /// The client id.
    pub client_id: String,
    /// The client secret.
    pub client_secret: String,
}

/// Generate a dummy GSTIN.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DummyGstin {
    /// The client id.
    pub client_id: String,
    /// The client secret.
    pub client_secret: String,
    /// Two-digit state code.
    pub state_code: String,
}

/// Create an API user for one of the client's dummy GSTINs.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientApiUser {
    /// The client id.
    pub client_id: String,
    /// The client secret.
    pub client_secret: String,
    /// A dummy GSTIN of the client's PAN.
    pub gstin: String,
    /// 6 to 15 letters and digits.
    pub username: String,
    /// NIC's password rule (3003).
    pub password: String,
}

/// Whitelist up to four IPs (production profile).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Whitelist {
    /// The client id.
    pub client_id: String,
    /// The client secret.
    pub client_secret: String,
    /// At most four addresses.
    pub ips: Vec<String>,
}

fn unprocessable(code: &str, message: &str) -> PortalError {
    PortalError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
}

/// Step 1: checks PAN or GSTIN against the master with the registered mobile and email, and
/// sends an OTP to that mobile.
#[utoipa::path(post, path = "/portal/clients/register", tag = "portal", request_body = RegisterClient, responses((status = 200, description = "OTP sent")))]
pub async fn register(
    State(sandbox): State<Sandbox>,
    crate::json::PortalJson(body): crate::json::PortalJson<RegisterClient>,
) -> Result<Json<Value>, PortalError> {
    let kind = body.kind.to_ascii_uppercase();
    if !matches!(kind.as_str(), "GSP" | "ERP" | "ECO" | "TAXPAYER") {
        return Err(unprocessable(
            "invalid_kind",
            "kind must be GSP, ERP, ECO or TAXPAYER",
        ));
    }
    let pan = match (&body.pan, &body.gstin) {
        (Some(pan), _) => pan.to_ascii_uppercase(),
        (None, Some(gstin)) if gstin.len() == 15 && gstin.is_ascii() => {
            gstin[2..12].to_ascii_uppercase()
        }
        _ => return Err(unprocessable("pan_or_gstin", "give the PAN, or the GSTIN")),
    };
    let matching: Option<String> = match &body.gstin {
        Some(gstin) => sqlx::query_scalar("SELECT legal_name FROM taxpayers WHERE gstin = $1 AND mobile = $2 AND lower(email) = lower($3)")
            .bind(gstin.to_ascii_uppercase())
            .bind(&body.mobile)
            .bind(&body.email)
            .fetch_optional(&sandbox.pool)
            .await?,
        None => sqlx::query_scalar("SELECT legal_name FROM taxpayers WHERE pan = $1 AND mobile = $2 AND lower(email) = lower($3) LIMIT 1")
            .bind(&pan)
            .bind(&body.mobile)
            .bind(&body.email)
            .fetch_optional(&sandbox.pool)
            .await?,
    };
    let Some(name) = matching else {
        return Err(unprocessable("not_registered", "the PAN or GSTIN with this mobile and email is not registered on the GST common portal"));
    };
    let context =
        json!({"kind": kind, "pan": pan, "name": name, "mobile": body.mobile, "email": body.email});
    let request_id = otp::send(
        &sandbox,
        "client registration",
        &body.mobile,
        &body.email,
        &context,
    )
    .await?;
    Ok(Json(
        json!({"request_id": request_id, "message": "OTP sent to the registered mobile"}),
    ))
}

/// Step 2: verifies the OTP and issues client_id and client_secret (shown once; the secret is
/// stored hashed). A taxpayer's or ERP's pair covers every GSTIN with its PAN.
#[utoipa::path(post, path = "/portal/clients/verify", tag = "portal", request_body = VerifyOtp, responses((status = 200, description = "Credentials issued")))]
pub async fn verify(
    State(sandbox): State<Sandbox>,
    crate::json::PortalJson(body): crate::json::PortalJson<VerifyOtp>,
) -> Result<Json<Value>, PortalError> {
    let context = otp::verify(&sandbox, &body.request_id, "client registration", &body.otp).await?;
    let field = |k: &str| context[k].as_str().unwrap_or("").to_string();
    let pan = field("pan");
    let client_id = format!(
        "{}{}",
        &pan[..5.min(pan.len())],
        random_alnum(10).to_ascii_uppercase()
    );
    let client_secret = random_alnum(20);
    sqlx::query("INSERT INTO clients (client_id, secret_hash, kind, pan, name, mobile, email, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
        .bind(&client_id)
        .bind(hash_secret(&client_secret))
        .bind(field("kind"))
        .bind(&pan)
        .bind(field("name"))
        .bind(field("mobile"))
        .bind(field("email"))
        .bind(sandbox.clock.now_ms())
        .execute(&sandbox.pool)
        .await?;
    sqlx::query("INSERT INTO outbox (mobile, email, message, at) VALUES ($1, $2, $3, $4)")
        .bind(field("mobile"))
        .bind(field("email"))
        .bind(format!("Your e-invoice API client id is {client_id}. The client secret is shown once on the portal."))
        .bind(sandbox.clock.now_ms())
        .execute(&sandbox.pool)
        .await?;
    Ok(Json(
        json!({"client_id": client_id, "client_secret": client_secret, "kind": field("kind"), "pan": pan, "name": field("name")}),
    ))
}

/// Checks a client's credentials; returns (kind, pan, name, mobile, email).
pub async fn client_of(
    sandbox: &Sandbox,
    client_id: &str,
    secret: &str,
) -> Result<(String, String, String, String, String), PortalError> {
    let row: Option<(String, String, String, String, String, String)> = sqlx::query_as(
        "SELECT secret_hash, kind, pan, name, mobile, email FROM clients WHERE client_id = $1",
    )
    .bind(client_id)
    .fetch_optional(&sandbox.pool)
    .await?;
    match row {
        Some((hash, kind, pan, name, mobile, email)) if verify_secret(secret, &hash) => {
            Ok((kind, pan, name, mobile, email))
        }
        _ => Err(PortalError::new(
            StatusCode::UNAUTHORIZED,
            "1010",
            "Invalid Client-ID/Client-Secret",
        )),
    }
}

/// The registered GSPs, for the "Through GSP" choice.
#[utoipa::path(get, path = "/portal/gsps", tag = "portal", responses((status = 200, description = "GSPs")))]
pub async fn list_gsps(State(sandbox): State<Sandbox>) -> Result<Json<Value>, PortalError> {
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT client_id, name FROM clients WHERE kind = 'GSP' ORDER BY name")
            .fetch_all(&sandbox.pool)
            .await?;
    Ok(Json(
        json!({"gsps": rows.into_iter().map(|(id, name)| json!({"client_id": id, "name": name})).collect::<Vec<_>>()}),
    ))
}

/// Generates the next dummy GSTIN `<state><PAN>00<n>` for the client's PAN.
#[utoipa::path(post, path = "/portal/clients/dummy-gstins", tag = "portal", request_body = DummyGstin, responses((status = 200, description = "Dummy GSTIN")))]
pub async fn dummy_gstin(
    State(sandbox): State<Sandbox>,
    crate::json::PortalJson(body): crate::json::PortalJson<DummyGstin>,
) -> Result<Json<Value>, PortalError> {
    let (_, pan, name, mobile, email) =
        client_of(&sandbox, &body.client_id, &body.client_secret).await?;
    let state = gst_core::StateCode::parse(&body.state_code).ok_or_else(|| {
        unprocessable(
            "invalid_state",
            "state_code must be a known two-digit state code",
        )
    })?;
    for n in 1..=9 {
        let gstin = format!("{state}{pan}00{n}");
        let done = sqlx::query(
            "INSERT OR IGNORE INTO taxpayers (gstin, pan, legal_name, trade_name, address, location, pin, state_code, status, blocked, mobile, email, einvoice_enabled, registered_on) \
             VALUES ($1, $2, $3, $3, 'Sandbox address', 'Sandbox', 999999, $4, 'ACT', 0, $5, $6, 1, '2020-01-01')",
        )
        .bind(&gstin)
        .bind(&pan)
        .bind(&name)
        .bind(i64::from(state.code()))
        .bind(&mobile)
        .bind(&email)
        .execute(&sandbox.pool)
        .await?;
        if done.rows_affected() == 1 {
            sandbox.remember_taxpayer(&gstin);
            return Ok(Json(json!({"gstin": gstin})));
        }
    }
    Err(unprocessable(
        "dummy_limit",
        "at most 9 dummy GSTINs per state and PAN",
    ))
}

/// A GSP creates an API user for one of its own dummy GSTINs.
#[utoipa::path(post, path = "/portal/clients/api-users", tag = "portal", request_body = ClientApiUser, responses((status = 200, description = "API user created")))]
pub async fn client_api_user(
    State(sandbox): State<Sandbox>,
    crate::json::PortalJson(body): crate::json::PortalJson<ClientApiUser>,
) -> Result<Json<Value>, PortalError> {
    let (_, pan, ..) = client_of(&sandbox, &body.client_id, &body.client_secret).await?;
    let gstin = body.gstin.to_ascii_uppercase();
    if gstin.len() != 15
        || gstin.get(2..12) != Some(pan.as_str())
        || gstin.get(12..14) != Some("00")
    {
        return Err(PortalError::new(
            StatusCode::FORBIDDEN,
            "not_your_dummy",
            "API users can be created here only for the client's own dummy GSTINs",
        ));
    }
    super::api_users::insert_api_user(
        &sandbox,
        &gstin,
        &body.client_id,
        &body.username,
        &body.password,
    )
    .await
    .map(Json)
}

/// Whitelists up to four IPs for the client (checked under the production profile, 3059).
#[utoipa::path(post, path = "/portal/clients/whitelist", tag = "portal", request_body = Whitelist, responses((status = 200, description = "Whitelisted")))]
pub async fn whitelist(
    State(sandbox): State<Sandbox>,
    crate::json::PortalJson(body): crate::json::PortalJson<Whitelist>,
) -> Result<Json<Value>, PortalError> {
    client_of(&sandbox, &body.client_id, &body.client_secret).await?;
    if body.ips.is_empty()
        || body.ips.len() > 4
        || body
            .ips
            .iter()
            .any(|ip| ip.parse::<std::net::IpAddr>().is_err())
    {
        return Err(unprocessable(
            "invalid_ips",
            "give one to four IP addresses",
        ));
    }
    sqlx::query("UPDATE clients SET whitelisted_ips = $1 WHERE client_id = $2")
        .bind(body.ips.join(","))
        .bind(&body.client_id)
        .execute(&sandbox.pool)
        .await?;
    sandbox.forget_client(&body.client_id);
    Ok(Json(json!({"whitelisted": body.ips})))
}
