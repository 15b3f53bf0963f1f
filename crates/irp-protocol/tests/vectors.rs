//! The protocol against real NIC artefacts in `shared/reference/vectors/`: IRNs, signed JWTs,
//! accepted and broken invoices; and a sign-then-verify round trip with a fresh certificate.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use irp_protocol::irn::compute_irn;
use irp_protocol::jwt::{self, JwtSigner};
use irp_protocol::validate::{validate_invoice, Rules};
use serde_json::Value;
use time::{Date, Month};

fn vector(name: &str) -> Value {
    let path = format!(
        "{}/../../../shared/reference/vectors/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}")))
        .unwrap()
}

fn today() -> Date {
    Date::from_calendar_date(2026, Month::November, 21).unwrap()
}

#[test]
fn every_real_irn_recomputes() {
    let cases = vector("irn.json");
    let cases = cases["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 23);
    // All were generated before June 2025, when doc numbers were hashed as sent.
    let generated = Date::from_calendar_date(2024, Month::January, 1).unwrap();
    for case in cases {
        let s = |k: &str| case[k].as_str().unwrap();
        let irn = compute_irn(
            s("seller_gstin"),
            s("doc_type"),
            s("doc_no"),
            s("doc_date"),
            generated,
        )
        .unwrap();
        assert_eq!(irn, s("irn"), "{}", s("hash_input"));
        let fy = irp_protocol::irn::financial_year(
            irp_protocol::irn::parse_doc_date(s("doc_date")).unwrap(),
        );
        assert_eq!(fy, s("financial_year"));
    }
}

#[test]
fn real_signed_jwts_decode_with_their_kid_and_x5t() {
    let jwts = vector("signed-jwts.json");
    for case in jwts["jwts"].as_array().unwrap() {
        let decoded = jwt::decode(case["jwt"].as_str().unwrap()).unwrap();
        assert_eq!(decoded.kid(), case["kid"].as_str());
        assert_eq!(decoded.header["x5t"], case["x5t"]);
        assert_eq!(decoded.header["alg"], "RS256");
        assert_eq!(
            decoded.signature_len(),
            case["signature_bytes"].as_u64().unwrap() as usize
        );
        assert!(matches!(
            decoded.issuer(),
            Some("NIC") | Some("NIC Sandbox")
        ));
        // Numbers compare as NIC wrote them (`6000.00` is not `6000.0`).
        let raw: Value = serde_json::from_str(case["payload_data_raw"].as_str().unwrap()).unwrap();
        assert_eq!(decoded.data, raw, "{}", case["name"]);
        if case["kind"] == "SignedQRCode" {
            assert!(decoded.data.get("SellerGstin").is_some());
        } else {
            assert_eq!(decoded.data["Irn"], case["irn"]);
        }
    }
}

#[test]
fn accepted_invoices_pass_and_broken_ones_get_their_code() {
    // With the masters, as the IRP sandbox validates.
    let masters = irp_protocol::masters::Masters::load();
    let index = vector("invoices/index.json");
    for entry in index["invoices"].as_array().unwrap() {
        let file = entry["file"].as_str().unwrap();
        let doc = vector(&format!("invoices/{file}"));
        let invoice = doc.get("invoice").cloned().unwrap_or(doc.clone());
        let strict = entry["environment"] == "production";
        let violations = validate_invoice(
            &invoice,
            Rules {
                today: today(),
                strict_gstin: strict,
                masters: Some(&masters),
            },
        );
        // Every invoice NIC signed passes, NIC's 2020 sample (an INV with preceding
        // documents) included.
        assert!(
            violations.is_empty(),
            "{file} ({}): {violations:?}",
            entry["expect"]
        );
    }
    let broken = vector("invoices/broken.json");
    for variant in broken["variants"].as_array().unwrap() {
        let expected = variant["expected_error_code"].as_str().unwrap();
        let violations = validate_invoice(
            &variant["invoice"],
            Rules {
                today: today(),
                strict_gstin: true,
                masters: Some(&masters),
            },
        );
        let mut codes: Vec<&str> = violations.iter().map(|v| v.code).collect();
        codes.dedup();
        assert_eq!(codes, [expected], "{}: {violations:?}", variant["name"]);
    }
}

#[test]
fn validator_reports_every_problem_with_paths() {
    let index = vector("invoices/odoo-production-2023-b2b-services-igst.json");
    let mut invoice = index.get("invoice").cloned().unwrap_or(index);
    invoice["ItemList"][0]["TotAmt"] = serde_json::json!(1.0);
    invoice["ItemList"][1]["SlNo"] = serde_json::json!("1");
    invoice["ItemList"][1]["GstRt"] = serde_json::json!(19.0);
    invoice["DocDtls"]["Dt"] = serde_json::json!("2023-05-09");
    invoice["sellerdtls"] = invoice["SellerDtls"].take();
    invoice.as_object_mut().unwrap().remove("SellerDtls");
    let violations = validate_invoice(
        &invoice,
        Rules {
            today: today(),
            strict_gstin: true,
            masters: None,
        },
    );
    let pairs: Vec<(&str, &str)> = violations
        .iter()
        .map(|v| (v.code, v.path.as_str()))
        .collect();
    for expected in [
        ("2192", "ItemList[0].TotAmt"),
        ("2233", "ItemList[1].SlNo"),
        ("2240", "ItemList[1].GstRt"),
        ("2144", "DocDtls.Dt"),
    ] {
        assert!(
            pairs.contains(&expected),
            "{expected:?} missing from {pairs:?}"
        );
    }
    assert!(
        !pairs.iter().any(|(_, p)| p.starts_with("SellerDtls")),
        "lower-case keys not matched: {pairs:?}"
    );
}

#[test]
fn signed_jwts_verify_with_the_certificate_and_fail_when_tampered() {
    let key = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
    let pkcs8 =
        aws_lc_rs::encoding::AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&key).unwrap();
    let pem = irp_protocol::crypto::to_pem(pkcs8.as_ref(), "PRIVATE KEY");
    let key_pair =
        rcgen::KeyPair::from_pkcs8_pem_and_sign_algo(&pem, &rcgen::PKCS_RSA_SHA256).unwrap();
    let cert = rcgen::CertificateParams::new(vec!["irp.test".into()])
        .unwrap()
        .self_signed(&key_pair)
        .unwrap();
    let signer = JwtSigner::new(pkcs8.as_ref(), cert.der()).unwrap();
    let (kid, x5t) = jwt::thumbprints(cert.der());
    assert_eq!(signer.kid(), kid);
    assert_eq!(kid.len(), 40);

    let data = serde_json::json!({"SellerGstin": "29AAFCD5862R000", "Irn": "ab"});
    let token = signer.sign(&data, "NIC Sandbox").unwrap();
    let spki = jwt::certificate_public_key(cert.der()).unwrap();
    let verified = jwt::verify(&token, &spki).unwrap();
    assert_eq!(verified.data, data);
    assert_eq!(verified.header["x5t"], x5t);
    assert_eq!(verified.issuer(), Some("NIC Sandbox"));

    let mut parts: Vec<String> = token.split('.').map(str::to_string).collect();
    let forged = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        serde_json::json!({"data": "{\"Irn\":\"cd\"}", "iss": "NIC"}).to_string(),
    );
    parts[1] = forged;
    assert_eq!(
        jwt::verify(&parts.join("."), &spki).unwrap_err(),
        jwt::JwtError::BadSignature
    );
}

#[test]
fn the_real_nic_sandbox_public_key_encrypts_an_auth_payload() {
    let path = format!(
        "{}/../../../shared/reference/vectors/nic-sandbox-encryption-public-key.pem",
        env!("CARGO_MANIFEST_DIR")
    );
    let key = irp_protocol::crypto::RsaPublicKey::from_pem(&std::fs::read_to_string(path).unwrap())
        .unwrap();
    let payload = irp_protocol::crypto::AuthPayload {
        user_name: "apiuser01".into(),
        password: secrecy::SecretString::from("Secret@123".to_string()),
        app_key: irp_protocol::crypto::AesKey::generate().to_base64(),
        force_refresh: false,
    };
    let sealed = irp_protocol::crypto::seal_auth_v104(&key, &payload).unwrap();
    assert_eq!(sealed.len(), 344);
}

/// The e-way bill answers NIC gave (relayed by a GSP): the Ewb* fields parse into
/// `EwbDetails` and serialise back unchanged; the validity agrees with NIC's; the EWBPPD and
/// EWBERR info entries parse as `InfoDetail`, and the EWBERR code is the one the checks give
/// for a part without a transporter.
#[test]
fn ewaybill_vectors_round_trip() {
    use irp_protocol::envelope::InfoDetail;
    use irp_protocol::ewb::{self, EwbDetails};

    let with_ewb = vector("nic-responses/generate-irn-success-with-ewb.json");
    let result = &with_ewb["response"]["result"];
    let fields = serde_json::json!({
        "EwbNo": result["EwbNo"], "EwbDt": result["EwbDt"],
        "EwbValidTill": result["EwbValidTill"], "Remarks": result.get("Remarks").cloned().unwrap_or(Value::Null),
    });
    let details: EwbDetails = serde_json::from_value(fields.clone()).unwrap();
    assert_eq!(serde_json::to_value(&details).unwrap(), fields);
    assert_eq!(details.ewb_no.to_string().len(), 12);
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    let generated = time::PrimitiveDateTime::parse(&details.ewb_dt, &format).unwrap();
    let info: Vec<InfoDetail> =
        serde_json::from_value(with_ewb["response"]["info"].clone()).unwrap();
    assert_eq!(info[0].inf_cd, "EWBPPD");
    let distance: u32 = info[0]
        .desc
        .as_str()
        .unwrap()
        .trim_start_matches("Pin-Pin calc distance: ")
        .trim_end_matches("KM")
        .parse()
        .unwrap();
    assert_eq!(
        ewb::computed_distance_info(distance),
        info[0].desc.as_str().unwrap()
    );
    assert_eq!(
        ewb::valid_till(generated, distance, false)
            .format(&format)
            .unwrap(),
        details.ewb_valid_till.unwrap()
    );

    let failed = vector("nic-responses/generate-irn-success-ewb-error-in-info.json");
    assert!(failed["response"]["result"]["EwbNo"].is_null());
    let info: Vec<InfoDetail> = serde_json::from_value(failed["response"]["info"].clone()).unwrap();
    assert_eq!(info[0].inf_cd, "EWBERR");
    let nic_errors: Vec<irp_protocol::envelope::ErrorDetail> =
        serde_json::from_value(info[0].desc.clone()).unwrap();
    let ours = ewb::check_part(&serde_json::json!({"Distance": 0})).unwrap_err();
    assert_eq!(ours[0].error_code, nic_errors[0].error_code);
    assert_eq!(ours[0].error_message, nic_errors[0].error_message);

    let cancel = vector("nic-responses/cancel-ewaybill-success.json");
    let reason = cancel["request"]["cancelRsnCode"].as_str().unwrap();
    assert_eq!(ewb::cancel_reason_code(reason), Some(3));
    assert_eq!(ewb::cancel_reason_code("DATA_ENTRY_MISTAKE"), Some(3));
    let answered: ewb::CancelledEwb =
        serde_json::from_value(cancel["response"]["result"].clone()).unwrap();
    assert_eq!(
        serde_json::to_value(&answered).unwrap(),
        cancel["response"]["result"]
    );
    assert_eq!(
        answered.eway_bill_no,
        cancel["request"]["ewbNo"].as_str().unwrap()
    );
    let api = vector("nic-responses/ewaybill-api-responses.json");
    let cancelled = &api["entries"]["cancel_e_waybill"]["response_data"]["result"];
    let answered: ewb::CancelledEwb = serde_json::from_value(cancelled.clone()).unwrap();
    assert_eq!(serde_json::to_value(&answered).unwrap(), *cancelled);
    let date_format = time::macros::format_description!(
        "[day]/[month]/[year] [hour repr:12]:[minute]:[second] [period]"
    );
    let at = time::PrimitiveDateTime::parse(&answered.cancel_date, &date_format).unwrap();
    assert_eq!(ewb::ewb_system_datetime(at), answered.cancel_date);
}
