//! Settings → Business Settings: businesses (PAN) with their GSTINs and branches, and adding a
//! business or a GSTIN (with the GSTIN checked as it is typed). Each GSTIN's own page is in
//! [`super::gstin`].

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use maud::{html, Markup};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::layout::{
    csrf_field, field_errors, general_errors, has_error, page, respond, status_badge, Section,
};
use super::session::{ConsoleSession, CsrfForm};
use crate::ids::OwnerId;
use crate::service::owners::{self, NewOwner};
use crate::service::FieldError;
use crate::state::AppState;
use crate::storage::{CredentialRecord, OwnerKind, OwnerRecord};

use super::errors::{error_parts, failure};

/// What the add-a-business and add-a-GSTIN forms hold after a failed attempt.
#[derive(Default, Deserialize)]
pub struct AddForm {
    /// PAN (add a business).
    #[serde(default)]
    pub pan: String,
    /// GSTIN (add a GSTIN).
    #[serde(default)]
    pub gstin: String,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// The business a GSTIN belongs to (a PAN owner id), or empty.
    #[serde(default)]
    pub business: String,
}

struct Tree<'a> {
    businesses: Vec<(&'a OwnerRecord, Vec<&'a OwnerRecord>)>,
    loose_gstins: Vec<&'a OwnerRecord>,
    branches: HashMap<OwnerId, Vec<&'a OwnerRecord>>,
}

fn tree(owners: &[OwnerRecord]) -> Tree<'_> {
    let mut branches: HashMap<OwnerId, Vec<&OwnerRecord>> = HashMap::new();
    for o in owners.iter().filter(|o| o.kind() == OwnerKind::Branch) {
        if let Some(parent) = o.parent_id() {
            branches.entry(parent).or_default().push(o);
        }
    }
    let businesses: Vec<(&OwnerRecord, Vec<&OwnerRecord>)> = owners
        .iter()
        .filter(|o| o.kind() == OwnerKind::Pan)
        .map(|b| {
            let gstins = owners
                .iter()
                .filter(|o| o.kind() == OwnerKind::Gstin && o.parent_id() == Some(b.id))
                .collect();
            (b, gstins)
        })
        .collect();
    let loose_gstins = owners
        .iter()
        .filter(|o| {
            o.kind() == OwnerKind::Gstin
                && !o
                    .parent_id()
                    .is_some_and(|p| businesses.iter().any(|(b, _)| b.id == p))
        })
        .collect();
    Tree {
        businesses,
        loose_gstins,
        branches,
    }
}

fn gstin_row(
    owner: &OwnerRecord,
    credentials: &HashMap<(OwnerId, &str), &CredentialRecord>,
    branches: &HashMap<OwnerId, Vec<&OwnerRecord>>,
) -> Markup {
    let gstin = owner.gstin().map(|g| g.as_str()).unwrap_or_default();
    let record = credentials.get(&(owner.id, gstin));
    html! {
        li.gstin {
            a href={ "/console/settings/business/gstins/" (owner.id) } {
                span.mono { (gstin) }
                @if owner.name != gstin { " " span.muted { (owner.name) } }
            }
            " " (status_badge(record.map(|r| r.verify_status)))
            @if let Some(list) = branches.get(&owner.id) {
                ul.branches {
                    @for b in list {
                        li { "Branch: " a href={ "/console/settings/business/gstins/" (b.id) } { (b.name) } }
                    }
                }
            }
        }
    }
}

async fn business_page(
    state: &AppState,
    session: &ConsoleSession,
    status: StatusCode,
    form: &AddForm,
    errors: &[FieldError],
    which_form: &str,
) -> Response {
    let actor = session.actor();
    let owners = match owners::list_owners(state, actor).await {
        Ok(o) => o,
        Err(e) => return failure(e),
    };
    let records = match state.store.list_credentials(actor.account_id).await {
        Ok(r) => r,
        Err(e) => return failure(e.into()),
    };
    let credentials: HashMap<(OwnerId, &str), &CredentialRecord> = records
        .iter()
        .map(|r| ((r.owner_id, r.gstin.as_str()), r))
        .collect();
    let tree = tree(&owners);
    let business_errors: &[FieldError] = if which_form == "business" {
        errors
    } else {
        &[]
    };
    let gstin_errors: &[FieldError] = if which_form == "gstin" { errors } else { &[] };
    let body = html! {
        section aria-labelledby="businesses-heading" {
            h2 #businesses-heading { "Businesses and GSTINs" }
            @if tree.businesses.is_empty() && tree.loose_gstins.is_empty() {
                p.muted { "No business or GSTIN yet. Add one below." }
            }
            @for (business, gstins) in &tree.businesses {
                div.card.business {
                    h3 { (business.name) " " span.mono.muted { "PAN " (business.pan().unwrap_or("")) } }
                    @if gstins.is_empty() { p.muted { "No GSTIN yet." } }
                    ul.gstins { @for g in gstins { (gstin_row(g, &credentials, &tree.branches)) } }
                }
            }
            @if !tree.loose_gstins.is_empty() {
                div.card.business {
                    h3 { "GSTINs without a business" }
                    ul.gstins { @for g in &tree.loose_gstins { (gstin_row(g, &credentials, &tree.branches)) } }
                }
            }
        }
        div.forms {
            form.card method="post" action="/console/settings/business/gstins" novalidate {
                h2 { "Add a GSTIN" }
                p.field-hint { "New to this? " a #start-wizard href="/console/settings/business/gstins/new" { "Add a GSTIN step by step" } ": which GSP to choose on the e-invoice portal, how to create the API user, then Save & Verify." }
                (csrf_field(&session.csrf))
                (general_errors(gstin_errors, &["gstin", "name", "parent_id"]))
                label for="new-gstin" { "GSTIN" }
                input #new-gstin.mono type="text" name="gstin" value=(form.gstin) maxlength="15" autocomplete="off"
                    data-check-gstin="new-gstin-check" aria-describedby="new-gstin-check new-gstin-error"
                    aria-invalid=[has_error(gstin_errors, "gstin").then_some("true")] required;
                p.field-hint #new-gstin-check aria-live="polite" {}
                (field_errors(gstin_errors, "gstin", "new-gstin-error"))
                label for="new-gstin-name" { "Name (optional)" }
                input #new-gstin-name type="text" name="name" value=(if which_form == "gstin" { form.name.as_str() } else { "" });
                (field_errors(gstin_errors, "name", "new-gstin-name-error"))
                label for="new-gstin-business" { "Business" }
                select #new-gstin-business name="business" {
                    option value="" { "(none)" }
                    @for (b, _) in &tree.businesses {
                        option value=(b.id) selected[form.business == b.id.to_string()] { (b.name) " (" (b.pan().unwrap_or("")) ")" }
                    }
                }
                (field_errors(gstin_errors, "parent_id", "new-gstin-business-error"))
                button type="submit" { "Add GSTIN" }
            }
            form.card method="post" action="/console/settings/business/businesses" novalidate {
                h2 { "Add a business" }
                (csrf_field(&session.csrf))
                (general_errors(business_errors, &["pan", "name"]))
                label for="new-pan" { "PAN" }
                input #new-pan.mono type="text" name="pan" value=(form.pan) maxlength="10" autocomplete="off"
                    aria-describedby="new-pan-error" aria-invalid=[has_error(business_errors, "pan").then_some("true")] required;
                (field_errors(business_errors, "pan", "new-pan-error"))
                label for="new-business-name" { "Name" }
                input #new-business-name type="text" name="name" value=(if which_form == "business" { form.name.as_str() } else { "" });
                (field_errors(business_errors, "name", "new-business-name-error"))
                button type="submit" { "Add business" }
            }
        }
    };
    respond(
        status,
        page(
            &session.page_user(),
            Section::Business,
            "Business Settings",
            body,
        ),
    )
}

/// `GET /console/settings/business`.
pub async fn show(State(state): State<AppState>, session: ConsoleSession) -> Response {
    business_page(
        &state,
        &session,
        StatusCode::OK,
        &AddForm::default(),
        &[],
        "",
    )
    .await
}

/// `POST /console/settings/business/businesses`.
pub async fn add_business(
    State(state): State<AppState>,
    CsrfForm { session, form }: CsrfForm<AddForm>,
) -> Response {
    let new = NewOwner {
        kind: "PAN".into(),
        name: Some(form.name.clone()).filter(|n| !n.trim().is_empty()),
        pan: Some(form.pan.trim().to_ascii_uppercase()),
        ..NewOwner::default()
    };
    match owners::create_owner(&state, session.actor(), new).await {
        Ok(_) => Redirect::to("/console/settings/business").into_response(),
        Err(e) => {
            let (status, errors) = error_parts(e);
            business_page(&state, &session, status, &form, &errors, "business").await
        }
    }
}

/// `POST /console/settings/business/gstins`.
pub async fn add_gstin(
    State(state): State<AppState>,
    CsrfForm { session, form }: CsrfForm<AddForm>,
) -> Response {
    let parent_id = match form.business.trim() {
        "" => None,
        id => match Uuid::parse_str(id) {
            Ok(id) => Some(OwnerId(id)),
            Err(_) => {
                let errors = [FieldError::new(
                    "invalid_parent",
                    "choose a business from the list",
                    "parent_id",
                )];
                return business_page(
                    &state,
                    &session,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    &form,
                    &errors,
                    "gstin",
                )
                .await;
            }
        },
    };
    let new = NewOwner {
        kind: "GSTIN".into(),
        name: Some(form.name.clone()).filter(|n| !n.trim().is_empty()),
        gstin: Some(form.gstin.trim().to_ascii_uppercase()),
        parent_id,
        ..NewOwner::default()
    };
    match owners::create_owner(&state, session.actor(), new).await {
        Ok(owner) => {
            Redirect::to(&format!("/console/settings/business/gstins/{}", owner.id)).into_response()
        }
        Err(e) => {
            let (status, errors) = error_parts(e);
            business_page(&state, &session, status, &form, &errors, "gstin").await
        }
    }
}

/// The answer of the inline GSTIN check.
#[derive(Serialize)]
pub struct GstinCheck {
    /// Whether the GSTIN is valid in this mode.
    pub valid: bool,
    /// Why not, in plain words.
    pub reason: Option<String>,
    /// The state its first two digits name, when valid.
    pub state: Option<String>,
    /// Its PAN, when valid.
    pub pan: Option<String>,
}

/// `?value=` of the inline GSTIN check.
#[derive(Deserialize)]
pub struct CheckQuery {
    /// The GSTIN typed so far.
    #[serde(default)]
    pub value: String,
}

/// `GET /console/check/gstin?value=`: the same GSTIN rules as the API, for inline hints.
pub async fn check_gstin(
    State(state): State<AppState>,
    _session: ConsoleSession,
    Query(query): Query<CheckQuery>,
) -> Json<GstinCheck> {
    let value = query.value.trim().to_ascii_uppercase();
    match gst_core::Gstin::parse(&value, state.gstin_strictness()) {
        Ok(gstin) => Json(GstinCheck {
            valid: true,
            reason: None,
            state: value
                .get(..2)
                .and_then(|code| code.parse::<u8>().ok())
                .and_then(gst_core::state_name)
                .map(|name| format!("{name} ({})", &value[..2])),
            pan: Some(gstin.pan_part().to_string()),
        }),
        Err(e) => Json(GstinCheck {
            valid: false,
            reason: Some(e.to_string()),
            state: None,
            pan: None,
        }),
    }
}
