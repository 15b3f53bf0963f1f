//! `SignedInvoice` and `SignedQRCode`: compact RS256 JWS with `kid` (upper-case hex SHA-1
//! thumbprint of the signing certificate) and `x5t` (base64url of the same bytes), payload
//! `{"data": "<JSON string>", "iss": "NIC"}` (`nic-irp-api.md` §7, §15).

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, RsaKeyPair, UnparsedPublicKey};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine;
use serde_json::Value;
use sha1::{Digest, Sha1};
use x509_cert::der::{Decode, Encode};

/// What can go wrong decoding or verifying.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    /// Not three base64url parts of JSON.
    #[error("malformed JWT: {0}")]
    Malformed(&'static str),
    /// The signature does not verify.
    #[error("signature does not verify")]
    BadSignature,
    /// The header's algorithm is not RS256.
    #[error("unsupported algorithm {0}")]
    Algorithm(String),
    /// A key or certificate could not be used.
    #[error("key: {0}")]
    Key(&'static str),
}

/// The thumbprint pair for a certificate: (`kid`, `x5t`).
pub fn thumbprints(certificate_der: &[u8]) -> (String, String) {
    let digest = Sha1::digest(certificate_der);
    let kid = digest.iter().map(|b| format!("{b:02X}")).collect();
    (kid, B64URL.encode(digest))
}

/// The SubjectPublicKeyInfo DER inside an X.509 certificate.
pub fn certificate_public_key(certificate_der: &[u8]) -> Result<Vec<u8>, JwtError> {
    let certificate = x509_cert::Certificate::from_der(certificate_der)
        .map_err(|_| JwtError::Key("not an X.509 certificate"))?;
    certificate
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .map_err(|_| JwtError::Key("bad public key info"))
}

/// Signs JWTs with the IRP's key and certificate.
pub struct JwtSigner {
    key: RsaKeyPair,
    kid: String,
    x5t: String,
    rng: SystemRandom,
}

impl std::fmt::Debug for JwtSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtSigner")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl JwtSigner {
    /// From the PKCS#8 DER of an RSA key and the DER of its certificate.
    pub fn new(pkcs8: &[u8], certificate_der: &[u8]) -> Result<Self, JwtError> {
        let key =
            RsaKeyPair::from_pkcs8(pkcs8).map_err(|_| JwtError::Key("not an RSA PKCS#8 key"))?;
        let (kid, x5t) = thumbprints(certificate_der);
        Ok(JwtSigner {
            key,
            kid,
            x5t,
            rng: SystemRandom::new(),
        })
    }

    /// The `kid` it stamps.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// Signs `{"data": <data as a JSON string>, "iss": iss}`.
    pub fn sign(&self, data: &Value, iss: &str) -> Result<String, JwtError> {
        let header = format!(
            r#"{{"alg":"RS256","kid":"{}","typ":"JWT","x5t":"{}"}}"#,
            self.kid, self.x5t
        );
        let payload = serde_json::json!({"data": data.to_string(), "iss": iss});
        let signing_input = format!(
            "{}.{}",
            B64URL.encode(header),
            B64URL.encode(payload.to_string())
        );
        let mut signature = vec![0u8; self.key.public_modulus_len()];
        self.key
            .sign(
                &signature::RSA_PKCS1_SHA256,
                &self.rng,
                signing_input.as_bytes(),
                &mut signature,
            )
            .map_err(|_| JwtError::Key("signing failed"))?;
        Ok(format!("{signing_input}.{}", B64URL.encode(signature)))
    }
}

/// A decoded JWT (signature not yet checked unless it came from [`verify`]).
#[derive(Debug, Clone)]
pub struct Decoded {
    /// The header.
    pub header: Value,
    /// The payload, with `data` still a string.
    pub payload: Value,
    /// `payload.data` parsed as JSON.
    pub data: Value,
    signing_input: String,
    signature: Vec<u8>,
}

impl Decoded {
    /// The `iss` claim.
    pub fn issuer(&self) -> Option<&str> {
        self.payload.get("iss").and_then(Value::as_str)
    }

    /// The `kid` header.
    pub fn kid(&self) -> Option<&str> {
        self.header.get("kid").and_then(Value::as_str)
    }

    /// The signature's length in bytes.
    pub fn signature_len(&self) -> usize {
        self.signature.len()
    }
}

/// Decodes without verifying.
pub fn decode(jwt: &str) -> Result<Decoded, JwtError> {
    let mut parts = jwt.trim().split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwtError::Malformed("a JWT has three parts"));
    };
    let json = |part: &str| -> Result<Value, JwtError> {
        let bytes = B64URL
            .decode(part.trim_end_matches('='))
            .map_err(|_| JwtError::Malformed("bad base64url"))?;
        serde_json::from_slice(&bytes).map_err(|_| JwtError::Malformed("not JSON"))
    };
    let header = json(h)?;
    let payload = json(p)?;
    let data = match payload.get("data") {
        Some(Value::String(text)) => {
            serde_json::from_str(text).map_err(|_| JwtError::Malformed("data is not JSON"))?
        }
        Some(other) => other.clone(),
        None => return Err(JwtError::Malformed("no data claim")),
    };
    let signature = B64URL
        .decode(s.trim_end_matches('='))
        .map_err(|_| JwtError::Malformed("bad signature encoding"))?;
    Ok(Decoded {
        header,
        payload,
        data,
        signing_input: format!("{h}.{p}"),
        signature,
    })
}

/// Decodes and verifies against the public key of the signing certificate (SPKI DER).
pub fn verify(jwt: &str, public_key_der: &[u8]) -> Result<Decoded, JwtError> {
    let decoded = decode(jwt)?;
    let alg = decoded
        .header
        .get("alg")
        .and_then(Value::as_str)
        .unwrap_or("");
    if alg != "RS256" {
        return Err(JwtError::Algorithm(alg.to_string()));
    }
    UnparsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, public_key_der)
        .verify(decoded.signing_input.as_bytes(), &decoded.signature)
        .map_err(|_| JwtError::BadSignature)?;
    Ok(decoded)
}
