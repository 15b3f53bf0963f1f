//! Portal helpers for the story: read OTPs from the outbox, register clients and taxpayers,
//! create API users.

use serde_json::{json, Value};

pub struct Portal {
    pub base: String,
    pub http: reqwest::Client,
}

impl Portal {
    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> (u16, Value) {
        let mut request = self.http.post(format!("{}{path}", self.base)).json(body);
        if let Some(t) = token {
            request = request.bearer_auth(t);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> (u16, Value) {
        let mut request = self.http.get(format!("{}{path}", self.base));
        if let Some(t) = token {
            request = request.bearer_auth(t);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// The newest OTP sent to a mobile, read from the outbox.
    pub async fn last_otp(&self, mobile: &str) -> String {
        let (_, outbox) = self
            .get(&format!("/portal/outbox?mobile={mobile}"), None)
            .await;
        let message = outbox["messages"][0]["message"]
            .as_str()
            .unwrap()
            .to_string();
        message.split_whitespace().next().unwrap().to_string()
    }

    /// Registers a client; returns (client_id, client_secret).
    pub async fn register_client(
        &self,
        kind: &str,
        pan: &str,
        mobile: &str,
        email: &str,
    ) -> (String, String) {
        let (status, started) = self
            .post(
                "/portal/clients/register",
                None,
                &json!({"kind": kind, "pan": pan, "mobile": mobile, "email": email}),
            )
            .await;
        assert_eq!(status, 200, "{started}");
        let otp = self.last_otp(mobile).await;
        let (status, issued) = self
            .post(
                "/portal/clients/verify",
                None,
                &json!({"request_id": started["request_id"], "otp": otp}),
            )
            .await;
        assert_eq!(status, 200, "{issued}");
        (
            issued["client_id"].as_str().unwrap().to_string(),
            issued["client_secret"].as_str().unwrap().to_string(),
        )
    }

    /// Registers a taxpayer on the portal and logs in; returns the portal token.
    pub async fn register_taxpayer(
        &self,
        gstin: &str,
        mobile: &str,
        user_id: &str,
        password: &str,
    ) -> String {
        let (status, started) = self
            .post(
                "/portal/register/send-otp",
                None,
                &json!({"gstin": gstin, "mobile": mobile}),
            )
            .await;
        assert_eq!(status, 200, "{started}");
        let otp = self.last_otp(mobile).await;
        let (status, verified) = self
            .post(
                "/portal/register/verify-otp",
                None,
                &json!({"request_id": started["request_id"], "otp": otp}),
            )
            .await;
        assert_eq!(status, 200, "{verified}");
        let (status, created) = self.post("/portal/register/create-user", None, &json!({"request_id": started["request_id"], "user_id": user_id, "password": password})).await;
        assert_eq!(status, 200, "{created}");
        self.login(user_id, password).await
    }

    pub async fn login(&self, user_id: &str, password: &str) -> String {
        let (status, login) = self
            .post(
                "/portal/login",
                None,
                &json!({"user_id": user_id, "password": password}),
            )
            .await;
        assert_eq!(status, 200, "{login}");
        login["token"].as_str().unwrap().to_string()
    }

    /// Creates an API user through a GSP for the logged-in taxpayer.
    pub async fn create_api_user(
        &self,
        token: &str,
        mobile: &str,
        gsp_client_id: &str,
        username: &str,
        password: &str,
    ) -> (u16, Value) {
        let (status, started) = self
            .post("/portal/api-users/send-otp", Some(token), &json!({}))
            .await;
        assert_eq!(status, 200, "{started}");
        let otp = self.last_otp(mobile).await;
        self.post(
            "/portal/api-users",
            Some(token),
            &json!({"request_id": started["request_id"], "otp": otp, "mode": "GSP", "gsp_client_id": gsp_client_id, "username": username, "password": password}),
        )
        .await
    }
}
