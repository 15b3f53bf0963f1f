//! The IRP's cryptography (`nic-irp-api.md` §2–§3): RSA-2048 PKCS#1 v1.5 for the auth call,
//! AES-256-ECB with PKCS#7 padding for the session key (Sek) and for every later payload.
//! ECB is what NIC specifies; it is used here only because the protocol demands it.

use aes::cipher::{block_padding::Pkcs7, BlockDecryptMut, BlockEncryptMut, KeyInit};
use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der, PublicKeyX509Der};
use aws_lc_rs::rsa::{
    KeySize, Pkcs1PrivateDecryptingKey, Pkcs1PublicEncryptingKey, PrivateDecryptingKey,
    PublicEncryptingKey,
};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use zeroize::Zeroizing;

type Aes256EcbEnc = ecb::Encryptor<aes::Aes256>;
type Aes256EcbDec = ecb::Decryptor<aes::Aes256>;

/// What can go wrong. Never carries key or plaintext bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// Not valid base64.
    #[error("not valid base64")]
    Base64,
    /// A key could not be parsed or generated.
    #[error("invalid key: {0}")]
    Key(&'static str),
    /// RSA encryption or decryption failed.
    #[error("RSA operation failed")]
    Rsa,
    /// AES decryption failed (wrong key or padding).
    #[error("AES decryption failed")]
    Aes,
    /// The plaintext is too long for one RSA block.
    #[error("auth payload is {0} bytes; RSA-2048 PKCS#1 v1.5 takes at most 245")]
    TooLong(usize),
    /// The decrypted auth payload is not the expected JSON.
    #[error("auth payload is malformed")]
    Payload,
}

/// A 32-byte AES-256 key: an AppKey or a session key (Sek). Zeroed on drop; never printed.
#[derive(Clone)]
pub struct AesKey(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for AesKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AesKey([redacted])")
    }
}

impl AesKey {
    /// 32 random bytes.
    pub fn generate() -> Self {
        let mut bytes = Zeroizing::new([0u8; 32]);
        rand::rngs::OsRng.fill_bytes(bytes.as_mut());
        AesKey(bytes)
    }

    /// From exactly 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, CryptoError> {
        let array: [u8; 32] = bytes
            .try_into()
            .map_err(|_| CryptoError::Key("an AES-256 key has 32 bytes"))?;
        Ok(AesKey(Zeroizing::new(array)))
    }

    /// From base64 of 32 bytes (how an AppKey travels).
    pub fn from_base64(text: &str) -> Result<Self, CryptoError> {
        let bytes = Zeroizing::new(B64.decode(text.trim()).map_err(|_| CryptoError::Base64)?);
        Self::from_slice(&bytes)
    }

    /// The base64 form.
    pub fn to_base64(&self) -> SecretString {
        SecretString::from(B64.encode(self.0.as_ref()))
    }

    /// The raw bytes.
    pub fn bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// AES-256-ECB with PKCS#7 padding.
    pub fn encrypt(&self, plain: &[u8]) -> Vec<u8> {
        Aes256EcbEnc::new(self.0.as_ref().into()).encrypt_padded_vec_mut::<Pkcs7>(plain)
    }

    /// Reverses [`AesKey::encrypt`].
    pub fn decrypt(&self, ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        Aes256EcbDec::new(self.0.as_ref().into())
            .decrypt_padded_vec_mut::<Pkcs7>(ciphertext)
            .map(Zeroizing::new)
            .map_err(|_| CryptoError::Aes)
    }

    /// Encrypts a payload for the wire: base64 of the ciphertext.
    pub fn encrypt_b64(&self, plain: &[u8]) -> String {
        B64.encode(self.encrypt(plain))
    }

    /// Decrypts a base64 payload from the wire.
    pub fn decrypt_b64(&self, text: &str) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let bytes = B64.decode(text.trim()).map_err(|_| CryptoError::Base64)?;
        self.decrypt(&bytes)
    }

    /// Seals a session key under this AppKey, as the auth response's `Sek`.
    pub fn seal_key(&self, key: &AesKey) -> String {
        self.encrypt_b64(key.bytes())
    }

    /// Opens a `Sek` with this AppKey.
    pub fn open_key(&self, sek: &str) -> Result<AesKey, CryptoError> {
        let plain = self.decrypt_b64(sek)?;
        AesKey::from_slice(&plain)
    }
}

/// The IRP's RSA public encryption key (what a client encrypts the auth payload with).
#[derive(Clone)]
pub struct RsaPublicKey(PublicEncryptingKey);

impl std::fmt::Debug for RsaPublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RsaPublicKey")
    }
}

impl RsaPublicKey {
    /// From SubjectPublicKeyInfo DER.
    pub fn from_der(der: &[u8]) -> Result<Self, CryptoError> {
        PublicEncryptingKey::from_der(der)
            .map(RsaPublicKey)
            .map_err(|_| CryptoError::Key("not an RSA SubjectPublicKeyInfo"))
    }

    /// From a `-----BEGIN PUBLIC KEY-----` PEM.
    pub fn from_pem(pem: &str) -> Result<Self, CryptoError> {
        Self::from_der(&pem_body(pem, "PUBLIC KEY")?)
    }

    /// The SubjectPublicKeyInfo DER.
    pub fn to_der(&self) -> Result<Vec<u8>, CryptoError> {
        let der: PublicKeyX509Der = self
            .0
            .as_der()
            .map_err(|_| CryptoError::Key("encoding failed"))?;
        Ok(der.as_ref().to_vec())
    }

    /// The PEM form.
    pub fn to_pem(&self) -> Result<String, CryptoError> {
        Ok(to_pem(&self.to_der()?, "PUBLIC KEY"))
    }

    /// RSA PKCS#1 v1.5 encryption; returns base64 of the 256-byte ciphertext.
    pub fn encrypt_b64(&self, plain: &[u8]) -> Result<String, CryptoError> {
        let key = Pkcs1PublicEncryptingKey::new(self.0.clone()).map_err(|_| CryptoError::Rsa)?;
        if plain.len() > key.max_plaintext_size() {
            return Err(CryptoError::TooLong(plain.len()));
        }
        let mut out = vec![0u8; key.ciphertext_size()];
        let ciphertext = key.encrypt(plain, &mut out).map_err(|_| CryptoError::Rsa)?;
        Ok(B64.encode(ciphertext))
    }
}

/// The IRP's RSA private decryption key (held by the sandbox).
pub struct RsaPrivateKey(PrivateDecryptingKey);

impl std::fmt::Debug for RsaPrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RsaPrivateKey([redacted])")
    }
}

impl RsaPrivateKey {
    /// A fresh RSA-2048 key.
    pub fn generate() -> Result<Self, CryptoError> {
        PrivateDecryptingKey::generate(KeySize::Rsa2048)
            .map(RsaPrivateKey)
            .map_err(|_| CryptoError::Key("RSA key generation failed"))
    }

    /// From PKCS#8 DER.
    pub fn from_pkcs8(der: &[u8]) -> Result<Self, CryptoError> {
        PrivateDecryptingKey::from_pkcs8(der)
            .map(RsaPrivateKey)
            .map_err(|_| CryptoError::Key("not an RSA PKCS#8 key"))
    }

    /// The PKCS#8 DER, for storing.
    pub fn to_pkcs8(&self) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let der: Pkcs8V1Der = self
            .0
            .as_der()
            .map_err(|_| CryptoError::Key("encoding failed"))?;
        Ok(Zeroizing::new(der.as_ref().to_vec()))
    }

    /// The matching public key.
    pub fn public_key(&self) -> RsaPublicKey {
        RsaPublicKey(self.0.public_key())
    }

    /// Decrypts base64 of an RSA PKCS#1 v1.5 ciphertext.
    pub fn decrypt_b64(&self, text: &str) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let ciphertext = B64.decode(text.trim()).map_err(|_| CryptoError::Base64)?;
        let key = Pkcs1PrivateDecryptingKey::new(self.0.clone()).map_err(|_| CryptoError::Rsa)?;
        let mut out = Zeroizing::new(vec![0u8; key.min_output_size()]);
        let len = key
            .decrypt(&ciphertext, &mut out)
            .map_err(|_| CryptoError::Rsa)?
            .len();
        out.truncate(len);
        Ok(out)
    }
}

/// Extracts the DER body of a PEM block with the given label.
pub fn pem_body(pem: &str, label: &str) -> Result<Vec<u8>, CryptoError> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = pem
        .find(&begin)
        .ok_or(CryptoError::Key("PEM label not found"))?
        + begin.len();
    let stop = pem[start..]
        .find(&end)
        .ok_or(CryptoError::Key("PEM end not found"))?
        + start;
    let body: String = pem[start..stop]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    B64.decode(body).map_err(|_| CryptoError::Base64)
}

/// Wraps DER in a PEM block.
pub fn to_pem(der: &[u8], label: &str) -> String {
    let body = B64.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in body.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// The inner JSON of a v1.04 auth request.
#[derive(Deserialize)]
pub struct AuthPayload {
    /// The API username.
    #[serde(rename = "UserName")]
    pub user_name: String,
    /// The API password (plain inside the RSA envelope).
    #[serde(rename = "Password")]
    pub password: SecretString,
    /// Base64 of 32 random bytes.
    #[serde(rename = "AppKey")]
    pub app_key: SecretString,
    /// Ask for a new token (honoured only in the last 10 minutes of the old one). Absent,
    /// `false` or `"false"` (as some clients send it) all mean no.
    #[serde(
        rename = "ForceRefreshAccessToken",
        default,
        deserialize_with = "lenient_flag"
    )]
    pub force_refresh: bool,
}

/// A flag sent as a boolean, a string (`"true"`, `"false"`, any case) or null.
fn lenient_flag<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    let value = <serde_json::Value as serde::Deserialize>::deserialize(d)?;
    Ok(flag_of(&value))
}

fn flag_of(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::Bool(b) => *b,
        serde_json::Value::String(s) => s.trim().eq_ignore_ascii_case("true"),
        _ => false,
    }
}

impl std::fmt::Debug for AuthPayload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthPayload")
            .field("user_name", &self.user_name)
            .field("force_refresh", &self.force_refresh)
            .finish_non_exhaustive()
    }
}

/// Builds the v1.04 auth body's `Data`: base64 of RSA(base64(JSON)).
pub fn seal_auth_v104(key: &RsaPublicKey, payload: &AuthPayload) -> Result<String, CryptoError> {
    let json = Zeroizing::new(
        serde_json::to_vec(&serde_json::json!({
            "UserName": payload.user_name,
            "Password": payload.password.expose_secret(),
            "AppKey": payload.app_key.expose_secret(),
            "ForceRefreshAccessToken": payload.force_refresh,
        }))
        .map_err(|_| CryptoError::Payload)?,
    );
    let inner = Zeroizing::new(B64.encode(json.as_slice()));
    key.encrypt_b64(inner.as_bytes())
}

/// Opens a v1.04 auth body's `Data` (the sandbox side).
pub fn open_auth_v104(key: &RsaPrivateKey, data: &str) -> Result<AuthPayload, CryptoError> {
    let inner = key.decrypt_b64(data)?;
    let json = Zeroizing::new(
        B64.decode(inner.as_slice())
            .map_err(|_| CryptoError::Payload)?,
    );
    let value: serde_json::Value =
        serde_json::from_slice(&json).map_err(|_| CryptoError::Payload)?;
    serde_json::from_value(crate::keys::canonicalize(value)).map_err(|_| CryptoError::Payload)
}

/// The v1.03 auth body's `data`: username plain; password and AppKey each RSA-encrypted.
pub fn seal_auth_v103(
    key: &RsaPublicKey,
    user_name: &str,
    password: &SecretString,
    app_key: &AesKey,
    force_refresh: bool,
) -> Result<serde_json::Value, CryptoError> {
    Ok(serde_json::json!({
        "UserName": user_name,
        "Password": key.encrypt_b64(password.expose_secret().as_bytes())?,
        "AppKey": key.encrypt_b64(app_key.bytes())?,
        "ForceRefreshAccessToken": force_refresh,
    }))
}

/// Opens a v1.03 auth body's `data`: returns (username, password, AppKey, force refresh).
pub fn open_auth_v103(
    key: &RsaPrivateKey,
    data: &serde_json::Value,
) -> Result<(String, SecretString, AesKey, bool), CryptoError> {
    let data = crate::keys::canonicalize(data.clone());
    let field = |name: &str| {
        data.get(name)
            .and_then(|v| v.as_str())
            .ok_or(CryptoError::Payload)
    };
    let user = field("UserName")?.to_string();
    let password = key.decrypt_b64(field("Password")?)?;
    let password =
        SecretString::from(String::from_utf8(password.to_vec()).map_err(|_| CryptoError::Payload)?);
    let app_key = AesKey::from_slice(&key.decrypt_b64(field("AppKey")?)?)?;
    let force = data.get("ForceRefreshAccessToken").is_some_and(flag_of);
    Ok((user, password, app_key, force))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aes_ecb_round_trips_and_sek_opens_with_the_app_key() {
        let app_key = AesKey::generate();
        let sek = AesKey::generate();
        let sealed = app_key.seal_key(&sek);
        assert_eq!(
            sealed.len(),
            64,
            "48 bytes of ciphertext, 64 base64 characters"
        );
        assert_eq!(app_key.open_key(&sealed).unwrap().bytes(), sek.bytes());
        let wrong = AesKey::generate().open_key(&sealed);
        assert!(
            wrong.map(|k| k.bytes() != sek.bytes()).unwrap_or(true),
            "another AppKey opened the Sek"
        );
        let payload = br#"{"Irn":"abc"}"#;
        assert_eq!(
            sek.decrypt_b64(&sek.encrypt_b64(payload))
                .unwrap()
                .as_slice(),
            payload
        );
        assert_eq!(format!("{sek:?}"), "AesKey([redacted])");
    }

    #[test]
    fn auth_payloads_round_trip_through_rsa() {
        let private = RsaPrivateKey::generate().unwrap();
        let public = RsaPublicKey::from_pem(&private.public_key().to_pem().unwrap()).unwrap();
        let app_key = AesKey::generate();
        let payload = AuthPayload {
            user_name: "apiuser01".into(),
            password: SecretString::from("Secret@123".to_string()),
            app_key: app_key.to_base64(),
            force_refresh: false,
        };
        let data = seal_auth_v104(&public, &payload).unwrap();
        assert_eq!(B64.decode(&data).unwrap().len(), 256);
        let opened = open_auth_v104(&private, &data).unwrap();
        assert_eq!(opened.user_name, "apiuser01");
        assert_eq!(opened.password.expose_secret(), "Secret@123");
        assert_eq!(
            AesKey::from_base64(opened.app_key.expose_secret())
                .unwrap()
                .bytes(),
            app_key.bytes()
        );
        assert!(!format!("{opened:?}").contains("Secret"));

        let too_long = AuthPayload {
            password: SecretString::from("x".repeat(80)),
            ..payload
        };
        assert!(matches!(
            seal_auth_v104(&public, &too_long),
            Err(CryptoError::TooLong(_))
        ));

        let v103 = seal_auth_v103(
            &public,
            "apiuser01",
            &SecretString::from("Secret@123".to_string()),
            &app_key,
            true,
        )
        .unwrap();
        let (user, password, key, force) = open_auth_v103(&private, &v103).unwrap();
        assert_eq!(
            (user.as_str(), password.expose_secret(), force),
            ("apiuser01", "Secret@123", true)
        );
        assert_eq!(key.bytes(), app_key.bytes());
    }
}
