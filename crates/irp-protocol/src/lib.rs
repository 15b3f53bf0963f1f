//! The NIC IRP (GST e-invoice) wire protocol, shared by our IRP client and the IRP sandbox:
//! response envelopes, the error-code catalogue, auth and payload crypto, IRN computation,
//! signed JWTs, the INV-01 v1.1 schema and validator, and the masters it checks against. Pure code: no I/O.

pub mod crypto;
pub mod envelope;
pub mod errors;
pub mod ewb;
pub mod irn;
pub mod jwt;
pub mod keys;
pub mod masters;
pub mod schema;
pub mod signed;
pub mod validate;
