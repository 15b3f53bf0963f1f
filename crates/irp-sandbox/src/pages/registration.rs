//! Registration pages: a taxpayer's portal user (GSTIN, registered mobile and email, a
//! captcha stand-in, Send OTP, Verify OTP, then user id and password), and client credentials
//! for a GSP, ERP, e-commerce operator or taxpayer.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Form, Json};
use maud::{html, Markup};
use rand::Rng;
use serde::Deserialize;

use super::layout::{error_box, error_status, respond};
use crate::error::PortalError;
use crate::json::PortalJson;
use crate::portal::clients::{self, RegisterClient};
use crate::portal::taxpayers::{self, CreateUser, StartRegistration};
use crate::portal::VerifyOtp;
use crate::state::Sandbox;

/// A captcha stand-in: five characters shown in the page, typed back. It exercises the step,
/// not a bot defence.
fn captcha() -> String {
    const LETTERS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::thread_rng();
    (0..5)
        .map(|_| char::from(LETTERS[rng.gen_range(0..LETTERS.len())]))
        .collect()
}

/// The first registration form.
#[derive(Deserialize, Default)]
pub struct RegisterForm {
    #[serde(default)]
    gstin: String,
    #[serde(default)]
    mobile: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    captcha: String,
    #[serde(default)]
    captcha_expected: String,
}

fn register_form(form: &RegisterForm, error: Option<Markup>) -> Markup {
    let code = captcha();
    html! {
        h1 { "Registration: e-invoice portal user" }
        p { "Enter the GSTIN with the mobile and email registered on the GST common portal." }
        @if let Some(e) = error { (e) }
        form.card method="post" action="/portal/ui/register" {
            label for="reg-gstin" { "GSTIN" }
            input #reg-gstin type="text" name="gstin" value=(form.gstin) maxlength="15" required autocomplete="off";
            label for="reg-mobile" { "Registered mobile" }
            input #reg-mobile type="text" name="mobile" value=(form.mobile) inputmode="numeric" maxlength="10" required;
            label for="reg-email" { "Registered email" }
            input #reg-email type="email" name="email" value=(form.email) required;
            label for="reg-captcha" { "Type the characters " span.captcha aria-label={ "Characters: " (code.chars().map(String::from).collect::<Vec<_>>().join(" ")) } { (code) } }
            input #reg-captcha type="text" name="captcha" required autocomplete="off";
            input type="hidden" name="captcha_expected" value=(code);
            button #send-otp type="submit" { "Send OTP" }
        }
    }
}

/// `GET /portal/ui/register`.
pub async fn start() -> Response {
    respond(
        StatusCode::OK,
        "Registration",
        register_form(&RegisterForm::default(), None),
    )
}

fn otp_form(action: &str, request_id: &str, note: &str, error: Option<Markup>) -> Markup {
    html! {
        h1 { "Verify OTP" }
        p { (note) " In the sandbox, read it in the " a href="/portal/ui/outbox" target="_blank" { "outbox" } "." }
        @if let Some(e) = error { (e) }
        form.card method="post" action=(action) {
            input type="hidden" name="request_id" value=(request_id);
            label for="otp" { "OTP" }
            input #otp type="text" name="otp" inputmode="numeric" maxlength="6" required autocomplete="one-time-code";
            button #verify-otp type="submit" { "Verify OTP" }
        }
    }
}

/// `POST /portal/ui/register`: checks the captcha, then sends the OTP.
pub async fn send_otp(State(sandbox): State<Sandbox>, Form(form): Form<RegisterForm>) -> Response {
    if form.captcha.trim().is_empty()
        || !form
            .captcha
            .trim()
            .eq_ignore_ascii_case(&form.captcha_expected)
    {
        let error = PortalError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "captcha",
            "the characters typed do not match; try the new ones",
        );
        return respond(
            error.status,
            "Registration",
            register_form(&form, Some(error_box(&error))),
        );
    }
    let answer = taxpayers::send_otp(
        State(sandbox),
        PortalJson(StartRegistration {
            gstin: form.gstin.trim().to_string(),
            mobile: form.mobile.trim().to_string(),
            email: Some(form.email.trim().to_string()),
        }),
    )
    .await;
    match answer {
        Ok(Json(value)) => respond(
            StatusCode::OK,
            "Verify OTP",
            otp_form(
                "/portal/ui/register/verify",
                value["request_id"].as_str().unwrap_or(""),
                &format!(
                    "An OTP was sent to the mobile registered for {} ({}).",
                    form.gstin.trim().to_ascii_uppercase(),
                    value["legal_name"].as_str().unwrap_or("")
                ),
                None,
            ),
        ),
        Err(e) => respond(
            error_status(&e),
            "Registration",
            register_form(&form, Some(error_box(&e))),
        ),
    }
}

/// An OTP step's form.
#[derive(Deserialize)]
pub struct OtpForm {
    #[serde(default)]
    request_id: String,
    #[serde(default)]
    otp: String,
}

fn user_form(request_id: &str, gstin: &str, user_id: &str, error: Option<Markup>) -> Markup {
    html! {
        h1 { "Create your user" }
        p { "GSTIN " strong { (gstin) } " is verified. Choose a user id of 6 to 15 letters and digits, and a password of 8 to 15 characters with an upper-case letter, a lower-case letter, a digit and one of % $ # @ _ ! *." }
        @if let Some(e) = error { (e) }
        form.card method="post" action="/portal/ui/register/create" {
            input type="hidden" name="request_id" value=(request_id);
            input type="hidden" name="gstin" value=(gstin);
            label for="user-id" { "User id" }
            input #user-id type="text" name="user_id" value=(user_id) maxlength="15" required autocomplete="username";
            label for="user-password" { "Password" }
            input #user-password type="password" name="password" maxlength="15" required autocomplete="new-password";
            button #create-user type="submit" { "Create user" }
        }
    }
}

/// `POST /portal/ui/register/verify`.
pub async fn verify_otp(State(sandbox): State<Sandbox>, Form(form): Form<OtpForm>) -> Response {
    let answer = taxpayers::verify_otp(
        State(sandbox),
        PortalJson(VerifyOtp {
            request_id: form.request_id.clone(),
            otp: form.otp.trim().to_string(),
        }),
    )
    .await;
    match answer {
        Ok(Json(value)) => respond(
            StatusCode::OK,
            "Create your user",
            user_form(
                &form.request_id,
                value["gstin"].as_str().unwrap_or(""),
                "",
                None,
            ),
        ),
        Err(e) => respond(
            error_status(&e),
            "Verify OTP",
            otp_form(
                "/portal/ui/register/verify",
                &form.request_id,
                "Enter the OTP sent to the registered mobile.",
                Some(error_box(&e)),
            ),
        ),
    }
}

/// The user id and password form.
#[derive(Deserialize)]
pub struct UserForm {
    #[serde(default)]
    request_id: String,
    #[serde(default)]
    gstin: String,
    #[serde(default)]
    user_id: String,
    #[serde(default)]
    password: String,
}

/// `POST /portal/ui/register/create`.
pub async fn create_user(State(sandbox): State<Sandbox>, Form(form): Form<UserForm>) -> Response {
    let answer = taxpayers::create_user(
        State(sandbox),
        PortalJson(CreateUser {
            request_id: form.request_id.clone(),
            user_id: form.user_id.trim().to_string(),
            password: form.password.clone(),
        }),
    )
    .await;
    match answer {
        Ok(Json(value)) => respond(
            StatusCode::OK,
            "User created",
            html! {
                h1 { "User created" }
                p.success role="status" #registered {
                    "Your e-invoice portal user " strong { (value["user_id"].as_str().unwrap_or("")) }
                    " is created for GSTIN " strong { (value["gstin"].as_str().unwrap_or("")) } "."
                }
                p { a href="/portal/ui/login" { "Log in" } " to create API users." }
            },
        ),
        Err(e) => respond(
            error_status(&e),
            "Create your user",
            user_form(
                &form.request_id,
                &form.gstin,
                &form.user_id,
                Some(error_box(&e)),
            ),
        ),
    }
}

/// The client registration form.
#[derive(Deserialize, Default)]
pub struct ClientForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    pan: String,
    #[serde(default)]
    gstin: String,
    #[serde(default)]
    mobile: String,
    #[serde(default)]
    email: String,
}

fn client_form(form: &ClientForm, error: Option<Markup>) -> Markup {
    html! {
        h1 { "Client credentials registration" }
        p { "A GSP, ERP, e-commerce operator or taxpayer gets a client id and secret. Give the PAN (or the taxpayer's GSTIN) with the mobile and email registered on the GST common portal." }
        @if let Some(e) = error { (e) }
        form.card method="post" action="/portal/ui/clients/register" {
            label for="client-kind" { "Registering as" }
            select #client-kind name="kind" {
                @for (value, label) in [("GSP", "GST Suvidha Provider (GSP)"), ("ERP", "ERP"), ("ECO", "E-commerce operator"), ("TAXPAYER", "Taxpayer")] {
                    option value=(value) selected[form.kind == value] { (label) }
                }
            }
            label for="client-pan" { "PAN" }
            input #client-pan type="text" name="pan" value=(form.pan) maxlength="10" autocomplete="off";
            label for="client-gstin" { "or GSTIN (taxpayer)" }
            input #client-gstin type="text" name="gstin" value=(form.gstin) maxlength="15" autocomplete="off";
            label for="client-mobile" { "Registered mobile" }
            input #client-mobile type="text" name="mobile" value=(form.mobile) inputmode="numeric" required;
            label for="client-email" { "Registered email" }
            input #client-email type="email" name="email" value=(form.email) required;
            button #client-send-otp type="submit" { "Send OTP" }
        }
    }
}

/// `GET /portal/ui/clients/register`.
pub async fn client_start() -> Response {
    respond(
        StatusCode::OK,
        "Client credentials",
        client_form(&ClientForm::default(), None),
    )
}

/// `POST /portal/ui/clients/register`.
pub async fn client_send_otp(
    State(sandbox): State<Sandbox>,
    Form(form): Form<ClientForm>,
) -> Response {
    let some = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
    let answer = clients::register(
        State(sandbox),
        PortalJson(RegisterClient {
            kind: form.kind.clone(),
            pan: some(&form.pan),
            gstin: some(&form.gstin),
            mobile: form.mobile.trim().to_string(),
            email: form.email.trim().to_string(),
        }),
    )
    .await;
    match answer {
        Ok(Json(value)) => respond(
            StatusCode::OK,
            "Verify OTP",
            otp_form(
                "/portal/ui/clients/verify",
                value["request_id"].as_str().unwrap_or(""),
                "An OTP was sent to the registered mobile.",
                None,
            ),
        ),
        Err(e) => respond(
            error_status(&e),
            "Client credentials",
            client_form(&form, Some(error_box(&e))),
        ),
    }
}

/// `POST /portal/ui/clients/verify`: shows the client id and secret once.
pub async fn client_verify(State(sandbox): State<Sandbox>, Form(form): Form<OtpForm>) -> Response {
    let answer = clients::verify(
        State(sandbox),
        PortalJson(VerifyOtp {
            request_id: form.request_id.clone(),
            otp: form.otp.trim().to_string(),
        }),
    )
    .await;
    match answer {
        Ok(Json(value)) => respond(
            StatusCode::OK,
            "Client credentials issued",
            html! {
                h1 { "Client credentials issued" }
                p role="status" { "Copy the secret now: it is shown only once." }
                dl.facts {
                    dt { "Client id" } dd.mono #client-id { (value["client_id"].as_str().unwrap_or("")) }
                    dt { "Client secret" } dd.mono #client-secret { (value["client_secret"].as_str().unwrap_or("")) }
                    dt { "Registered as" } dd { (value["kind"].as_str().unwrap_or("")) " · " (value["name"].as_str().unwrap_or("")) }
                }
            },
        ),
        Err(e) => respond(
            error_status(&e),
            "Verify OTP",
            otp_form(
                "/portal/ui/clients/verify",
                &form.request_id,
                "Enter the OTP sent to the registered mobile.",
                Some(error_box(&e)),
            ),
        ),
    }
}
