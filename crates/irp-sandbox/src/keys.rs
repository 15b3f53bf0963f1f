//! The sandbox's keys: an RSA-2048 encryption key pair (clients encrypt the auth payload with
//! its public half) and a separate RSA signing key with a self-signed certificate (for
//! SignedInvoice and SignedQRCode). Generated on first start and kept in the state database.

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der};
use irp_protocol::crypto::{to_pem, RsaPrivateKey};
use irp_protocol::jwt::JwtSigner;
use sqlx::SqlitePool;

use crate::error::SandboxError;

/// The loaded keys.
pub struct IrpKeys {
    /// Decrypts auth payloads.
    pub encryption: RsaPrivateKey,
    /// PEM of the encryption public key (what clients are given).
    pub encryption_public_pem: String,
    /// Signs invoices and QR codes.
    pub signer: JwtSigner,
    /// DER of the signing certificate.
    pub certificate_der: Vec<u8>,
    /// PEM of the signing certificate.
    pub certificate_pem: String,
}

async fn load(pool: &SqlitePool, name: &str) -> Result<Option<Vec<u8>>, SandboxError> {
    Ok(
        sqlx::query_scalar("SELECT der FROM irp_keys WHERE name = $1")
            .bind(name)
            .fetch_optional(pool)
            .await?,
    )
}

async fn save(pool: &SqlitePool, name: &str, der: &[u8]) -> Result<(), SandboxError> {
    sqlx::query("INSERT INTO irp_keys (name, der) VALUES ($1, $2)")
        .bind(name)
        .bind(der)
        .execute(pool)
        .await?;
    Ok(())
}

fn key_error<E: std::fmt::Display>(e: E) -> SandboxError {
    SandboxError::Keys(e.to_string())
}

impl IrpKeys {
    /// Loads the keys from the database, generating (and storing) any that are missing.
    pub async fn load_or_generate(pool: &SqlitePool) -> Result<Self, SandboxError> {
        let encryption = match load(pool, "encryption").await? {
            Some(der) => RsaPrivateKey::from_pkcs8(&der).map_err(key_error)?,
            None => {
                let key = RsaPrivateKey::generate().map_err(key_error)?;
                save(pool, "encryption", &key.to_pkcs8().map_err(key_error)?).await?;
                key
            }
        };
        let signing_pkcs8 = match load(pool, "signing").await? {
            Some(der) => der,
            None => {
                let key = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
                    .map_err(key_error)?;
                let der: Pkcs8V1Der = key.as_der().map_err(key_error)?;
                let der = der.as_ref().to_vec();
                save(pool, "signing", &der).await?;
                der
            }
        };
        let certificate_der = match load(pool, "certificate").await? {
            Some(der) => der,
            None => {
                let pem = to_pem(&signing_pkcs8, "PRIVATE KEY");
                let key_pair =
                    rcgen::KeyPair::from_pkcs8_pem_and_sign_algo(&pem, &rcgen::PKCS_RSA_SHA256)
                        .map_err(key_error)?;
                let mut params =
                    rcgen::CertificateParams::new(vec!["irp-sandbox.local".to_string()])
                        .map_err(key_error)?;
                params
                    .distinguished_name
                    .push(rcgen::DnType::CommonName, "IRP sandbox signing");
                params
                    .distinguished_name
                    .push(rcgen::DnType::OrganizationName, "einvoice IRP sandbox");
                let cert = params.self_signed(&key_pair).map_err(key_error)?;
                let der = cert.der().to_vec();
                save(pool, "certificate", &der).await?;
                der
            }
        };
        let signer = JwtSigner::new(&signing_pkcs8, &certificate_der).map_err(key_error)?;
        let encryption_public_pem = encryption.public_key().to_pem().map_err(key_error)?;
        Ok(IrpKeys {
            encryption,
            encryption_public_pem,
            signer,
            certificate_pem: to_pem(&certificate_der, "CERTIFICATE"),
            certificate_der,
        })
    }
}
