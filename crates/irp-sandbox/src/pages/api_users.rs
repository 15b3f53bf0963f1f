//! API Registration → Create API User (OTP, "Through GSP" or direct, username and password,
//! acknowledgment), and User Management (change an API user's password with an OTP, freeze,
//! unfreeze), for a logged-in taxpayer.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::{Form, Json};
use maud::{html, Markup};
use serde::Deserialize;
use serde_json::Value;

use super::layout::{error_box, error_status, respond};
use crate::json::PortalJson;
use crate::portal::api_users::{self, ChangePassword, CreateApiUser};
use crate::portal::clients;
use crate::portal::PortalUser;
use crate::state::Sandbox;

use super::account::{logged_in, menu};

/// `GET /portal/ui/api-registration`.
pub async fn api_registration(State(sandbox): State<Sandbox>, headers: HeaderMap) -> Response {
    let (user, _) = match logged_in(&sandbox, &headers).await {
        Ok(found) => found,
        Err(redirect) => return redirect,
    };
    respond(
        StatusCode::OK,
        "API Registration",
        html! {
            (menu(&user))
            h1 { "API Registration" }
            div.card {
                h2 { "Create API User" }
                p { "An API user lets a GSP or your own ERP call the e-invoice API for GSTIN " (user.gstin) ". An OTP is sent to the registered mobile first." }
                form method="post" action="/portal/ui/api-users/send-otp" {
                    button #api-send-otp type="submit" { "Send OTP" }
                }
            }
        },
    )
}

async fn gsps(sandbox: &Sandbox) -> Vec<(String, String)> {
    match clients::list_gsps(State(sandbox.clone())).await {
        Ok(Json(value)) => value["gsps"]
            .as_array()
            .map(|list| {
                list.iter()
                    .map(|g| {
                        (
                            g["client_id"].as_str().unwrap_or("").to_string(),
                            g["name"].as_str().unwrap_or("").to_string(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default(),
        Err(_) => Vec::new(),
    }
}

/// The create-API-user form.
#[derive(Deserialize, Default)]
pub struct ApiUserForm {
    #[serde(default)]
    request_id: String,
    #[serde(default)]
    otp: String,
    #[serde(default)]
    mode: String,
    #[serde(default)]
    gsp_client_id: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

fn api_user_form(
    user: &PortalUser,
    gsps: &[(String, String)],
    form: &ApiUserForm,
    error: Option<Markup>,
) -> Markup {
    let through_gsp = form.mode != "DIRECT";
    html! {
        (menu(user))
        h1 { "Create API User" }
        p { "An OTP was sent to the mobile registered for " (user.gstin) ". In the sandbox, read it in the " a href="/portal/ui/outbox" target="_blank" { "outbox" } "." }
        @if let Some(e) = error { (e) }
        form.card method="post" action="/portal/ui/api-users" {
            input type="hidden" name="request_id" value=(form.request_id);
            label for="api-otp" { "OTP" }
            input #api-otp type="text" name="otp" inputmode="numeric" maxlength="6" required autocomplete="one-time-code";
            fieldset {
                legend { "How will you use the API?" }
                label.radio { input #mode-gsp type="radio" name="mode" value="GSP" checked[through_gsp]; " Through GSP" }
                label.radio { input #mode-direct type="radio" name="mode" value="DIRECT" checked[!through_gsp]; " Direct (your own client credentials)" }
            }
            label for="api-gsp" { "GSP" }
            select #api-gsp name="gsp_client_id" {
                @for (id, name) in gsps {
                    option value=(id) selected[form.gsp_client_id == *id] { (name) " (" (id) ")" }
                }
            }
            label for="api-username" { "API username" }
            input #api-username type="text" name="username" value=(form.username) maxlength="15" required autocomplete="off";
            label for="api-password" { "API password" }
            input #api-password type="password" name="password" maxlength="15" required autocomplete="new-password";
            button #create-api-user type="submit" { "Create API user" }
        }
    }
}

/// `POST /portal/ui/api-users/send-otp`.
pub async fn api_user_otp(State(sandbox): State<Sandbox>, headers: HeaderMap) -> Response {
    let (user, auth) = match logged_in(&sandbox, &headers).await {
        Ok(found) => found,
        Err(redirect) => return redirect,
    };
    match api_users::send_otp(State(sandbox.clone()), auth).await {
        Ok(Json(value)) => {
            let form = ApiUserForm {
                request_id: value["request_id"].as_str().unwrap_or("").to_string(),
                mode: "GSP".into(),
                ..ApiUserForm::default()
            };
            respond(
                StatusCode::OK,
                "Create API User",
                api_user_form(&user, &gsps(&sandbox).await, &form, None),
            )
        }
        Err(e) => respond(
            error_status(&e),
            "API Registration",
            html! { (menu(&user)) (error_box(&e)) },
        ),
    }
}

/// `POST /portal/ui/api-users`: creates the API user and shows the acknowledgment.
pub async fn create_api_user(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    Form(form): Form<ApiUserForm>,
) -> Response {
    let (user, auth) = match logged_in(&sandbox, &headers).await {
        Ok(found) => found,
        Err(redirect) => return redirect,
    };
    let answer = api_users::create(
        State(sandbox.clone()),
        auth,
        PortalJson(CreateApiUser {
            request_id: form.request_id.clone(),
            otp: form.otp.trim().to_string(),
            mode: form.mode.clone(),
            gsp_client_id: Some(form.gsp_client_id.clone()).filter(|g| !g.is_empty()),
            username: form.username.trim().to_string(),
            password: form.password.clone(),
        }),
    )
    .await;
    match answer {
        Ok(Json(value)) => respond(
            StatusCode::OK,
            "Acknowledgment",
            acknowledgment(&user, &value),
        ),
        Err(e) => respond(
            error_status(&e),
            "Create API User",
            api_user_form(&user, &gsps(&sandbox).await, &form, Some(error_box(&e))),
        ),
    }
}

fn acknowledgment(user: &PortalUser, value: &Value) -> Markup {
    html! {
        (menu(user))
        h1 { "Acknowledgment" }
        div.card.success role="status" #acknowledgment {
            p { "The API user is created." }
            dl.facts {
                dt { "Acknowledgment number" } dd.mono #ack-no { (value["ack_no"].as_str().unwrap_or("")) }
                dt { "GSTIN" } dd.mono { (value["gstin"].as_str().unwrap_or("")) }
                dt { "API username" } dd.mono #ack-username { (value["username"].as_str().unwrap_or("")) }
                dt { "Client" } dd.mono { (value["client_id"].as_str().unwrap_or("")) }
            }
            p { "Give the API username and password to your GSP or enter them in your ERP." }
        }
    }
}

async fn users_page(
    sandbox: &Sandbox,
    user: &PortalUser,
    auth: HeaderMap,
    status: StatusCode,
    notice: Option<Markup>,
) -> Response {
    let list = match api_users::list(State(sandbox.clone()), auth).await {
        Ok(Json(value)) => value["api_users"].as_array().cloned().unwrap_or_default(),
        Err(e) => return respond(error_status(&e), "User Management", error_box(&e)),
    };
    respond(
        status,
        "User Management",
        html! {
            (menu(user))
            h1 { "User Management" }
            @if let Some(n) = notice { (n) }
            @if list.is_empty() { p { "No API users yet." } }
            @else {
                table #api-users {
                    thead { tr { th scope="col" { "API username" } th scope="col" { "Client" } th scope="col" { "Status" } th scope="col" { "Actions" } } }
                    tbody {
                        @for u in &list {
                            @let name = u["username"].as_str().unwrap_or("");
                            @let state = u["status"].as_str().unwrap_or("");
                            tr data-username=(name) {
                                td.mono { (name) }
                                td { (u["client_name"].as_str().unwrap_or("")) " (" (u["client_id"].as_str().unwrap_or("")) ")" }
                                td.status { (state) }
                                td.actions {
                                    @if state == "ACTIVE" {
                                        form.inline method="post" action={ "/portal/ui/users/" (name) "/freeze" } { button.secondary type="submit" aria-label={ "Freeze " (name) } { "Freeze" } }
                                    } @else if state == "FROZEN" {
                                        form.inline method="post" action={ "/portal/ui/users/" (name) "/unfreeze" } { button.secondary type="submit" aria-label={ "Unfreeze " (name) } { "Unfreeze" } }
                                    }
                                    @if state != "BLOCKED" {
                                        form.inline method="post" action={ "/portal/ui/users/" (name) "/password/send-otp" } { button.secondary type="submit" aria-label={ "Change the password of " (name) } { "Change password" } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        },
    )
}

/// `GET /portal/ui/users`.
pub async fn users(State(sandbox): State<Sandbox>, headers: HeaderMap) -> Response {
    match logged_in(&sandbox, &headers).await {
        Ok((user, auth)) => users_page(&sandbox, &user, auth, StatusCode::OK, None).await,
        Err(redirect) => redirect,
    }
}

/// Freezes or unfreezes an API user through the JSON handler, then shows the list again.
async fn change_state(
    sandbox: Sandbox,
    headers: HeaderMap,
    username: String,
    freeze: bool,
) -> Response {
    let (user, auth) = match logged_in(&sandbox, &headers).await {
        Ok(found) => found,
        Err(redirect) => return redirect,
    };
    let (result, done) = if freeze {
        let r =
            api_users::freeze(State(sandbox.clone()), auth.clone(), Path(username.clone())).await;
        (r, format!("{username} is frozen."))
    } else {
        let r =
            api_users::unfreeze(State(sandbox.clone()), auth.clone(), Path(username.clone())).await;
        (r, format!("{username} is active again."))
    };
    match result {
        Ok(_) => {
            let notice = html! { p.success role="status" { (done) } };
            users_page(&sandbox, &user, auth, StatusCode::OK, Some(notice)).await
        }
        Err(e) => users_page(&sandbox, &user, auth, error_status(&e), Some(error_box(&e))).await,
    }
}

/// `POST /portal/ui/users/{username}/freeze`.
pub async fn freeze(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    Path(username): Path<String>,
) -> Response {
    change_state(sandbox, headers, username, true).await
}

/// `POST /portal/ui/users/{username}/unfreeze`.
pub async fn unfreeze(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    Path(username): Path<String>,
) -> Response {
    change_state(sandbox, headers, username, false).await
}

fn password_form(
    user: &PortalUser,
    username: &str,
    request_id: &str,
    error: Option<Markup>,
) -> Markup {
    html! {
        (menu(user))
        h1 { "Change the password of " (username) }
        p { "An OTP was sent to the registered mobile. In the sandbox, read it in the " a href="/portal/ui/outbox" target="_blank" { "outbox" } "." }
        @if let Some(e) = error { (e) }
        form.card method="post" action={ "/portal/ui/users/" (username) "/password" } {
            input type="hidden" name="request_id" value=(request_id);
            label for="pw-otp" { "OTP" }
            input #pw-otp type="text" name="otp" inputmode="numeric" maxlength="6" required autocomplete="one-time-code";
            label for="pw-new" { "New password" }
            input #pw-new type="password" name="new_password" maxlength="15" required autocomplete="new-password";
            button #change-password type="submit" { "Change password" }
        }
    }
}

/// `POST /portal/ui/users/{username}/password/send-otp`.
pub async fn password_otp(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    Path(username): Path<String>,
) -> Response {
    let (user, auth) = match logged_in(&sandbox, &headers).await {
        Ok(found) => found,
        Err(redirect) => return redirect,
    };
    match api_users::password_otp(State(sandbox.clone()), auth.clone(), Path(username.clone()))
        .await
    {
        Ok(Json(value)) => respond(
            StatusCode::OK,
            "Change password",
            password_form(
                &user,
                &username,
                value["request_id"].as_str().unwrap_or(""),
                None,
            ),
        ),
        Err(e) => users_page(&sandbox, &user, auth, error_status(&e), Some(error_box(&e))).await,
    }
}

/// The password change form.
#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    request_id: String,
    #[serde(default)]
    otp: String,
    #[serde(default)]
    new_password: String,
}

/// `POST /portal/ui/users/{username}/password`.
pub async fn change_password(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    Path(username): Path<String>,
    Form(form): Form<PasswordForm>,
) -> Response {
    let (user, auth) = match logged_in(&sandbox, &headers).await {
        Ok(found) => found,
        Err(redirect) => return redirect,
    };
    let result = api_users::change_password(
        State(sandbox.clone()),
        auth.clone(),
        Path(username.clone()),
        PortalJson(ChangePassword {
            request_id: form.request_id.clone(),
            otp: form.otp.trim().to_string(),
            new_password: form.new_password,
        }),
    )
    .await;
    match result {
        Ok(_) => {
            let notice =
                html! { p.success role="status" { "The password of " (username) " is changed." } };
            users_page(&sandbox, &user, auth, StatusCode::OK, Some(notice)).await
        }
        Err(e) => respond(
            error_status(&e),
            "Change password",
            password_form(&user, &username, &form.request_id, Some(error_box(&e))),
        ),
    }
}
