//! An async client for NIC's IRP API, built on `irp-protocol`: auth (v1.04), generate, get by
//! IRN, get by document, cancel, GSTIN details, and e-way bills by IRN (generate, get, and the
//! e-way bill system's cancel). Errors carry NIC's codes. [`IrpClient::sandbox_portal`] drives
//! an IRP sandbox's portal API as the same GSP.

mod portal;

pub use portal::{PortalError, SandboxPortal};

use std::time::Duration;

use irp_protocol::crypto::{seal_auth_v104, AesKey, AuthPayload, RsaPublicKey};
use irp_protocol::envelope::{Envelope, ErrorDetail, InfoDetail};
use irp_protocol::ewb::{CancelEwb, CancelledEwb, EwbDetails};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Value};

/// What a call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum IrpError {
    /// The IRP answered `Status: 0` with these NIC errors.
    #[error("IRP error {}", .errors.iter().map(|e| format!("{}: {}", e.error_code, e.error_message)).collect::<Vec<_>>().join("; "))]
    Nic {
        /// The errors.
        errors: Vec<ErrorDetail>,
        /// Extra information (e.g. DUPIRN).
        info: Vec<InfoDetail>,
    },
    /// Connecting failed, so the request was certainly not processed.
    #[error("could not connect to the IRP: {0}")]
    Connect(String),
    /// The request may have been sent but no complete answer came (timeout, dropped
    /// connection): the outcome is unknown and must be reconciled before any retry.
    #[error("no answer from the IRP (outcome unknown): {0}")]
    NoAnswer(String),
    /// The IRP answered with an HTTP error status and no envelope.
    #[error("IRP answered HTTP {0}")]
    Http(u16),
    /// The answer could not be read (bad envelope or decryption).
    #[error("unreadable IRP answer: {0}")]
    Protocol(String),
}

impl IrpError {
    /// The NIC codes, if the IRP answered with errors.
    pub fn codes(&self) -> Vec<&str> {
        match self {
            IrpError::Nic { errors, .. } => errors.iter().map(|e| e.error_code.as_str()).collect(),
            _ => Vec::new(),
        }
    }

    /// Whether the IRP answered with this code.
    pub fn has_code(&self, code: &str) -> bool {
        self.codes().contains(&code)
    }
}

/// A decrypted success answer and the `InfoDtls` that came with it (e.g. `EWBPPD`, `EWBERR`).
#[derive(Debug, Clone)]
pub struct Answer {
    /// The decrypted `Data`.
    pub data: Value,
    /// NIC's info entries.
    pub info: Vec<InfoDetail>,
}

/// Where and as whom to call the IRP.
pub struct IrpConfig {
    /// Base URL, e.g. `https://einv-apisandbox.nic.in`.
    pub base_url: String,
    /// The IRP's RSA encryption public key.
    pub public_key: RsaPublicKey,
    /// Our GSP client id.
    pub client_id: String,
    /// Our GSP client secret.
    pub client_secret: SecretString,
    /// Connect timeout (default 5 s).
    pub connect_timeout: Duration,
    /// Whole-request timeout (default 30 s).
    pub request_timeout: Duration,
    /// Calls (and so HTTP/1.1 connections) open at once; further calls wait for one to end.
    pub max_connections: usize,
}

/// An authenticated session.
#[derive(Clone)]
pub struct Session {
    /// The GSTIN it is for.
    pub gstin: String,
    /// The API user.
    pub username: String,
    /// The AuthToken.
    pub auth_token: SecretString,
    /// The session key.
    pub sek: AesKey,
    /// `TokenExpiry` as NIC sent it (IST).
    pub token_expiry: String,
    /// The `irp` header (`NIC1`, `NIC2`): the IRP that generated the IRN a call names, when
    /// the call goes to the other one (NIC's criss-cross operations).
    pub irp: Option<String>,
}

impl Session {
    /// This session for a call about an IRN generated at `origin`: the `irp` header names it
    /// when it is not `here`.
    pub fn for_irn_from(&self, origin: Option<&str>, here: &str) -> Session {
        let mut session = self.clone();
        session.irp = origin
            .filter(|origin| !origin.eq_ignore_ascii_case(here))
            .map(str::to_string);
        session
    }
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("gstin", &self.gstin)
            .field("username", &self.username)
            .field("token_expiry", &self.token_expiry)
            .finish_non_exhaustive()
    }
}

/// The permits for `max_connections` calls at once (at least one).
fn permits(max_connections: usize) -> usize {
    max_connections.clamp(1, tokio::sync::Semaphore::MAX_PERMITS)
}

/// The IRP client.
pub struct IrpClient {
    config: IrpConfig,
    http: reqwest::Client,
    /// One permit per call open at the IRP: bounds the connections, their buffers, and the
    /// load one gateway puts on the IRP.
    open_calls: tokio::sync::Semaphore,
}

impl IrpClient {
    /// A client with its own connection pool.
    pub fn new(config: IrpConfig) -> Result<Self, IrpError> {
        let http = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(config.max_connections)
            .build()
            .map_err(|e| IrpError::Connect(e.to_string()))?;
        let open_calls = tokio::sync::Semaphore::new(permits(config.max_connections));
        Ok(IrpClient {
            config,
            http,
            open_calls,
        })
    }

    /// Calls open at the IRP now (each holds one of `max_connections` permits).
    pub fn open_calls(&self) -> usize {
        permits(self.config.max_connections).saturating_sub(self.open_calls.available_permits())
    }

    /// The client id.
    pub fn client_id(&self) -> &str {
        &self.config.client_id
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.config.base_url.trim_end_matches('/'), path)
    }

    fn transport_error(e: reqwest::Error) -> IrpError {
        if e.is_connect() {
            IrpError::Connect(e.to_string())
        } else {
            IrpError::NoAnswer(e.to_string())
        }
    }

    /// Sends a request and reads its whole answer, holding one of the client's permits from
    /// before the request is sent until the answer is read (so the connection is free again).
    async fn exchange(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<(reqwest::StatusCode, bytes::Bytes), IrpError> {
        // The semaphore is never closed; should it be, the call goes ahead unbounded.
        let _permit = self.open_calls.acquire().await.ok();
        let response = request.send().await.map_err(Self::transport_error)?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| IrpError::NoAnswer(e.to_string()))?;
        Ok((status, bytes))
    }

    /// Sends a request and reads NIC's envelope from the answer.
    async fn envelope(&self, request: reqwest::RequestBuilder) -> Result<Envelope, IrpError> {
        let (status, bytes) = self.exchange(request).await?;
        match Envelope::parse(&bytes) {
            Ok(envelope) => Ok(envelope),
            Err(_) if !status.is_success() => Err(IrpError::Http(status.as_u16())),
            Err(e) => Err(IrpError::Protocol(e.to_string())),
        }
    }

    fn failure(envelope: Envelope) -> IrpError {
        IrpError::Nic {
            errors: envelope.error_details.unwrap_or_default(),
            info: envelope.info_dtls.unwrap_or_default(),
        }
    }

    /// Authenticates (v1.04): RSA-sealed credentials and a fresh AppKey; returns the session.
    pub async fn authenticate(
        &self,
        gstin: &str,
        username: &str,
        password: &SecretString,
        force_refresh: bool,
    ) -> Result<Session, IrpError> {
        let app_key = AesKey::generate();
        let payload = AuthPayload {
            user_name: username.to_string(),
            password: password.clone(),
            app_key: app_key.to_base64(),
            force_refresh,
        };
        let data = seal_auth_v104(&self.config.public_key, &payload)
            .map_err(|e| IrpError::Protocol(e.to_string()))?;
        let request = self
            .http
            .post(self.url("/eivital/v1.04/auth"))
            .header("client_id", &self.config.client_id)
            .header("client_secret", self.config.client_secret.expose_secret())
            .header("Gstin", gstin)
            .json(&json!({"Data": data}));
        let envelope = self.envelope(request).await?;
        if !envelope.is_success() {
            return Err(Self::failure(envelope));
        }
        let data = envelope.data.unwrap_or(Value::Null);
        let field = |k: &str| {
            data.get(k)
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| IrpError::Protocol(format!("auth answer lacks {k}")))
        };
        let sek = app_key
            .open_key(&field("Sek")?)
            .map_err(|e| IrpError::Protocol(e.to_string()))?;
        Ok(Session {
            gstin: gstin.to_string(),
            username: field("UserName")?,
            auth_token: SecretString::from(field("AuthToken")?),
            sek,
            token_expiry: field("TokenExpiry")?,
            irp: None,
        })
    }

    fn with_session(
        &self,
        request: reqwest::RequestBuilder,
        session: &Session,
    ) -> reqwest::RequestBuilder {
        let request = request
            .header("client_id", &self.config.client_id)
            .header("client_secret", self.config.client_secret.expose_secret())
            .header("Gstin", &session.gstin)
            .header("user_name", &session.username)
            .header("AuthToken", session.auth_token.expose_secret());
        match &session.irp {
            Some(irp) => request.header("irp", irp),
            None => request,
        }
    }

    async fn decrypted(envelope: Envelope, session: &Session) -> Result<Answer, IrpError> {
        if !envelope.is_success() {
            return Err(Self::failure(envelope));
        }
        let info = envelope.info_dtls.unwrap_or_default();
        let data = match envelope.data {
            Some(Value::String(cipher)) => {
                let plain = session
                    .sek
                    .decrypt_b64(&cipher)
                    .map_err(|e| IrpError::Protocol(e.to_string()))?;
                serde_json::from_slice(&plain).map_err(|e| IrpError::Protocol(e.to_string()))?
            }
            Some(other) => other,
            None => Value::Null,
        };
        Ok(Answer { data, info })
    }

    async fn post_answer(
        &self,
        path: &str,
        session: &Session,
        body: &Value,
    ) -> Result<Answer, IrpError> {
        let data = session.sek.encrypt_b64(body.to_string().as_bytes());
        let request = self
            .with_session(self.http.post(self.url(path)), session)
            .json(&json!({"Data": data}));
        Self::decrypted(self.envelope(request).await?, session).await
    }

    async fn post(&self, path: &str, session: &Session, body: &Value) -> Result<Value, IrpError> {
        Ok(self.post_answer(path, session, body).await?.data)
    }

    async fn get(&self, path: &str, session: &Session) -> Result<Value, IrpError> {
        let request = self.with_session(self.http.get(self.url(path)), session);
        Ok(Self::decrypted(self.envelope(request).await?, session)
            .await?
            .data)
    }

    /// Generates an IRN for an INV-01 document.
    pub async fn generate(&self, session: &Session, invoice: &Value) -> Result<Value, IrpError> {
        Ok(self.generate_with_info(session, invoice).await?.data)
    }

    /// Generates an IRN, with NIC's info entries (`EWBPPD`, `EWBERR` when the document carried
    /// `EwbDtls`).
    pub async fn generate_with_info(
        &self,
        session: &Session,
        invoice: &Value,
    ) -> Result<Answer, IrpError> {
        self.post_answer("/eicore/v1.03/Invoice", session, invoice)
            .await
    }

    /// Raises an e-way bill for an IRN (`{Irn, Distance, TransMode, …}`); the answer's fields
    /// and NIC's info (`EWBPPD` when it computed the distance).
    pub async fn generate_ewb(
        &self,
        session: &Session,
        request: &Value,
    ) -> Result<(EwbDetails, Vec<InfoDetail>), IrpError> {
        let answer = self
            .post_answer("/eiewb/v1.03/ewaybill", session, request)
            .await?;
        let details = serde_json::from_value(answer.data)
            .map_err(|e| IrpError::Protocol(format!("e-way bill answer: {e}")))?;
        Ok((details, answer.info))
    }

    /// An IRN's e-way bill (`EwbNo`, `EwbDt`, `EwbValidTill`, `Status`…).
    pub async fn get_ewb_by_irn(&self, session: &Session, irn: &str) -> Result<Value, IrpError> {
        self.get(
            &format!("/eiewb/v1.03/ewaybill/irn/{}", path_segment(irn)?),
            session,
        )
        .await
    }

    /// Cancels an e-way bill through the e-way bill system's API (`CANEWB`), with its headers
    /// and its answers: `{"status":"1","data":…}`, or `{"status":"0","error":…}` carrying only
    /// codes, whose messages come from the catalogue.
    pub async fn cancel_ewb(
        &self,
        session: &Session,
        cancel: &CancelEwb,
    ) -> Result<CancelledEwb, IrpError> {
        use base64::Engine;
        let engine = base64::engine::general_purpose::STANDARD;
        let body = serde_json::to_vec(cancel).map_err(|e| IrpError::Protocol(e.to_string()))?;
        let data = session.sek.encrypt_b64(engine.encode(body).as_bytes());
        let request = self
            .http
            .post(self.url("/ewaybillapi/v1.03/ewayapi"))
            .header("client-id", &self.config.client_id)
            .header("client-secret", self.config.client_secret.expose_secret())
            .header("Gstin", &session.gstin)
            .header("authtoken", session.auth_token.expose_secret())
            .json(&json!({"action": "CANEWB", "data": data}));
        let (status, bytes) = self.exchange(request).await?;
        let answer: Value = match serde_json::from_slice(&bytes) {
            Ok(answer) => answer,
            Err(_) if !status.is_success() => return Err(IrpError::Http(status.as_u16())),
            Err(e) => return Err(IrpError::Protocol(e.to_string())),
        };
        let text = |key: &str| match answer.get(key) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => String::new(),
        };
        if text("status") == "1" {
            let plain = session
                .sek
                .decrypt_b64(&text("data"))
                .map_err(|e| IrpError::Protocol(e.to_string()))?;
            return serde_json::from_slice(&plain).map_err(|e| IrpError::Protocol(e.to_string()));
        }
        let codes = engine
            .decode(text("error"))
            .ok()
            .and_then(|json| serde_json::from_slice::<Value>(&json).ok())
            .and_then(|error| {
                error
                    .get("errorCodes")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
            .ok_or_else(|| IrpError::Protocol("e-way bill error without codes".into()))?;
        let errors = codes
            .split(',')
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(|code| ErrorDetail {
                error_code: code.to_string(),
                error_message: irp_protocol::errors::lookup(code)
                    .map(|known| known.format(&[]))
                    .unwrap_or_else(|| format!("e-way bill system error {code}")),
            })
            .collect();
        Err(IrpError::Nic {
            errors,
            info: Vec::new(),
        })
    }

    /// Fetches an e-invoice by IRN.
    pub async fn get_by_irn(&self, session: &Session, irn: &str) -> Result<Value, IrpError> {
        self.get(
            &format!("/eicore/v1.03/Invoice/irn/{}", path_segment(irn)?),
            session,
        )
        .await
    }

    /// Fetches an e-invoice by document type, number and date (dd/mm/yyyy).
    pub async fn get_by_document(
        &self,
        session: &Session,
        doc_type: &str,
        doc_no: &str,
        doc_date: &str,
    ) -> Result<Value, IrpError> {
        let query = format!(
            "/eicore/v1.03/Invoice/irnbydocdetails?doctype={}&docnum={}&docdate={}",
            encode(doc_type),
            encode(doc_no),
            encode(doc_date)
        );
        self.get(&query, session).await
    }

    /// Cancels an IRN (reason 1–4, remark up to 100 characters).
    pub async fn cancel(
        &self,
        session: &Session,
        irn: &str,
        reason: &str,
        remark: &str,
    ) -> Result<Value, IrpError> {
        self.post(
            "/eicore/v1.03/Invoice/Cancel",
            session,
            &json!({"Irn": irn, "CnlRsn": reason, "CnlRem": remark}),
        )
        .await
    }

    /// Taxpayer details of a GSTIN.
    pub async fn gstin_details(&self, session: &Session, gstin: &str) -> Result<Value, IrpError> {
        self.get(
            &format!("/eivital/v1.03/Master/gstin/{}", path_segment(gstin)?),
            session,
        )
        .await
    }

    /// Refreshes a GSTIN's details from the common portal.
    pub async fn sync_gstin(&self, session: &Session, gstin: &str) -> Result<Value, IrpError> {
        self.get(
            &format!("/eivital/v1.03/Master/syncgstin/{}", path_segment(gstin)?),
            session,
        )
        .await
    }
}

/// Characters kept as they are in a query value or a path segment: RFC 3986's unreserved set.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');
/// In a path segment a dot is encoded too.
const PATH_SEGMENT: &AsciiSet = &QUERY_VALUE.add(b'.');

fn encode(text: &str) -> String {
    utf8_percent_encode(text, QUERY_VALUE).to_string()
}

/// One path segment, percent-encoded. URL parsers read `..` (also spelt `%2e%2e`) as "up one
/// level", so an empty, `.` or `..` segment is refused rather than sent: a value from a caller
/// can never reach another IRP path.
fn path_segment(text: &str) -> Result<String, IrpError> {
    if text.is_empty() || text == "." || text == ".." {
        return Err(IrpError::Protocol(
            "refused to send an empty, . or .. path segment".into(),
        ));
    }
    Ok(utf8_percent_encode(text, PATH_SEGMENT).to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(super::encode("INV/2023-01 a"), "INV%2F2023-01%20a");
        assert_eq!(super::encode("09/05/2023"), "09%2F05%2F2023");
    }

    #[test]
    fn path_segments_cannot_leave_their_path() {
        assert_eq!(
            super::path_segment("../../keys/x").unwrap(),
            "%2E%2E%2F%2E%2E%2Fkeys%2Fx"
        );
        assert_eq!(super::path_segment("a?b#c").unwrap(), "a%3Fb%23c");
        for bad in ["", ".", ".."] {
            assert!(super::path_segment(bad).is_err());
        }
    }
}
