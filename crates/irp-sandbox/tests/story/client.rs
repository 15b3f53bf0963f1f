//! A test-side NIC client built only on `irp-protocol` and real HTTP: what an ERP or GSP
//! would write from NIC's documentation.

use irp_protocol::crypto::{seal_auth_v103, seal_auth_v104, AesKey, AuthPayload, RsaPublicKey};
use irp_protocol::envelope::Envelope;
use secrecy::SecretString;
use serde_json::{json, Value};

pub struct NicClient {
    pub base: String,
    pub client_id: String,
    pub client_secret: String,
    pub key: RsaPublicKey,
    pub http: reqwest::Client,
}

#[derive(Clone)]
pub struct Session {
    pub gstin: String,
    pub username: String,
    pub token: String,
    pub sek: AesKey,
    pub expiry: String,
}

/// An answer: the envelope, and its `Data` decrypted when the call succeeded.
pub struct Answer {
    pub envelope: Envelope,
    pub data: Value,
}

impl Answer {
    pub fn codes(&self) -> Vec<String> {
        self.envelope
            .error_codes()
            .into_iter()
            .map(str::to_string)
            .collect()
    }
}

impl NicClient {
    pub async fn new(base: &str, client_id: &str, client_secret: &str) -> NicClient {
        let http = reqwest::Client::new();
        let pem = http
            .get(format!("{base}/keys/encryption-public-key.pem"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        NicClient {
            base: base.to_string(),
            client_id: client_id.to_string(),
            client_secret: client_secret.to_string(),
            key: RsaPublicKey::from_pem(&pem).unwrap(),
            http,
        }
    }

    fn finish(envelope: Envelope, app_key: &AesKey, gstin: &str) -> Result<Session, Envelope> {
        if !envelope.is_success() {
            return Err(envelope);
        }
        let data = envelope.data.clone().unwrap();
        let sek = app_key.open_key(data["Sek"].as_str().unwrap()).unwrap();
        Ok(Session {
            gstin: gstin.to_string(),
            username: data["UserName"].as_str().unwrap().to_string(),
            token: data["AuthToken"].as_str().unwrap().to_string(),
            sek,
            expiry: data["TokenExpiry"].as_str().unwrap().to_string(),
        })
    }

    pub async fn auth_v104(
        &self,
        gstin: &str,
        username: &str,
        password: &str,
        force_refresh: bool,
    ) -> Result<Session, Envelope> {
        let app_key = AesKey::generate();
        let payload = AuthPayload {
            user_name: username.to_string(),
            password: SecretString::from(password.to_string()),
            app_key: app_key.to_base64(),
            force_refresh,
        };
        let data = seal_auth_v104(&self.key, &payload).unwrap();
        let response = self
            .http
            .post(format!("{}/eivital/v1.04/auth", self.base))
            .header("client_id", &self.client_id)
            .header("client_secret", &self.client_secret)
            .header("Gstin", gstin)
            .json(&json!({"Data": data}))
            .send()
            .await
            .unwrap();
        let envelope = Envelope::parse(&response.bytes().await.unwrap()).unwrap();
        Self::finish(envelope, &app_key, gstin)
    }

    pub async fn auth_v103(
        &self,
        gstin: &str,
        username: &str,
        password: &str,
    ) -> Result<Session, Envelope> {
        let app_key = AesKey::generate();
        let data = seal_auth_v103(
            &self.key,
            username,
            &SecretString::from(password.to_string()),
            &app_key,
            false,
        )
        .unwrap();
        let response = self
            .http
            .post(format!("{}/eivital/v1.03/auth", self.base))
            .header("client-id", &self.client_id)
            .header("client-secret", &self.client_secret)
            .json(&json!({"data": data}))
            .send()
            .await
            .unwrap();
        let envelope = Envelope::parse(&response.bytes().await.unwrap()).unwrap();
        Self::finish(envelope, &app_key, gstin)
    }

    fn headers(
        &self,
        request: reqwest::RequestBuilder,
        session: &Session,
    ) -> reqwest::RequestBuilder {
        request
            .header("client_id", &self.client_id)
            .header("client_secret", &self.client_secret)
            .header("Gstin", &session.gstin)
            .header("user_name", &session.username)
            .header("AuthToken", &session.token)
    }

    async fn answer(&self, response: reqwest::Response, session: &Session) -> Answer {
        let envelope = Envelope::parse(&response.bytes().await.unwrap()).unwrap();
        let data = match (&envelope.data, envelope.is_success()) {
            (Some(Value::String(cipher)), true) => {
                serde_json::from_slice(&session.sek.decrypt_b64(cipher).unwrap()).unwrap()
            }
            _ => Value::Null,
        };
        Answer { envelope, data }
    }

    pub async fn post_encrypted(&self, path: &str, session: &Session, body: &Value) -> Answer {
        self.post_encrypted_text(path, session, &body.to_string())
            .await
    }

    /// Sends a JSON text exactly as a client wrote it (its spacing, indentation and key order).
    pub async fn post_encrypted_text(&self, path: &str, session: &Session, body: &str) -> Answer {
        let data = session.sek.encrypt_b64(body.as_bytes());
        let request = self
            .headers(self.http.post(format!("{}{path}", self.base)), session)
            .json(&json!({"Data": data}));
        let response = request.send().await.unwrap();
        self.answer(response, session).await
    }

    pub async fn generate(&self, session: &Session, invoice: &Value) -> Answer {
        self.post_encrypted("/eicore/v1.03/Invoice", session, invoice)
            .await
    }

    pub async fn cancel(&self, session: &Session, irn: &str, reason: &str, remark: &str) -> Answer {
        self.post_encrypted(
            "/eicore/v1.03/Invoice/Cancel",
            session,
            &json!({"Irn": irn, "Cnlrsn": reason, "Cnlrem": remark}),
        )
        .await
    }

    pub async fn get(&self, path: &str, session: &Session) -> Answer {
        let response = self
            .headers(self.http.get(format!("{}{path}", self.base)), session)
            .send()
            .await
            .unwrap();
        self.answer(response, session).await
    }
}
