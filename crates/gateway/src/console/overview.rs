//! The GSTIN overview: every GSTIN of the account with the state of its NIC credentials, the
//! ones that are missing, unverified or failing first, so that a business with hundreds of
//! GSTINs sees at a glance what needs work.

use std::collections::BTreeMap;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::html;
use serde::Deserialize;

use super::errors::error_parts;
use super::layout::{
    general_errors, human_time, needs_attention, page, respond, status_badge, Section,
};
use super::session::ConsoleSession;
use crate::ids::OwnerId;
use crate::service::owners;
use crate::state::AppState;
use crate::storage::{CredentialRecord, OwnerKind, VerificationStatus};

/// One GSTIN line of the overview.
struct Line {
    owner_id: OwnerId,
    gstin: String,
    name: String,
    business: String,
    credentials: Option<CredentialRecord>,
}

/// `?show=attention` keeps only the GSTINs that need work.
#[derive(Deserialize)]
pub struct OverviewQuery {
    /// `attention` or `all` (the default).
    pub show: Option<String>,
}

/// `GET /console/overview`.
pub async fn show(
    State(state): State<AppState>,
    session: ConsoleSession,
    Query(query): Query<OverviewQuery>,
) -> Response {
    let actor = session.actor();
    let loaded = async {
        let owners = owners::list_owners(&state, actor).await?;
        let records = state.store.list_credentials(actor.account_id).await?;
        Ok::<_, crate::service::ServiceError>((owners, records))
    }
    .await;
    let (owner_list, records) = match loaded {
        Ok(loaded) => loaded,
        Err(e) => {
            let (status, errors) = error_parts(e);
            return respond(
                status,
                page(
                    &session.page_user(),
                    Section::Overview,
                    "GSTIN overview",
                    general_errors(&errors, &[]),
                ),
            );
        }
    };
    let business_names: BTreeMap<OwnerId, String> = owner_list
        .iter()
        .filter(|o| o.kind() == OwnerKind::Pan)
        .map(|o| (o.id, o.name.clone()))
        .collect();
    let mut by_key: BTreeMap<(OwnerId, String), CredentialRecord> = records
        .into_iter()
        .map(|r| ((r.owner_id, r.gstin.to_string()), r))
        .collect();
    let mut lines: Vec<Line> = Vec::new();
    for owner in &owner_list {
        if let (OwnerKind::Gstin | OwnerKind::Branch, Some(gstin)) = (owner.kind(), owner.gstin()) {
            lines.push(Line {
                owner_id: owner.id,
                gstin: gstin.to_string(),
                name: owner.name.clone(),
                business: owner
                    .parent_id()
                    .and_then(|p| business_names.get(&p).cloned())
                    .unwrap_or_default(),
                credentials: by_key.remove(&(owner.id, gstin.to_string())),
            });
        }
    }
    // Credentials stored through the API under a PAN owner have no GSTIN owner of their own.
    for ((owner_id, gstin), record) in by_key {
        lines.push(Line {
            owner_id,
            name: gstin.clone(),
            business: business_names.get(&owner_id).cloned().unwrap_or_default(),
            gstin,
            credentials: Some(record),
        });
    }
    let status_of = |l: &Line| l.credentials.as_ref().map(|c| c.verify_status);
    lines.sort_by(|a, b| {
        needs_attention(status_of(b))
            .cmp(&needs_attention(status_of(a)))
            .then_with(|| a.gstin.cmp(&b.gstin))
    });
    let total = lines.len();
    let attention = lines
        .iter()
        .filter(|l| needs_attention(status_of(l)))
        .count();
    let only_attention = query.show.as_deref() == Some("attention");
    let body = html! {
        h1 { "GSTIN overview" }
        p #summary {
            (total) " GSTINs: "
            strong { (total - attention) " verified" } ", "
            strong.attention { (attention) " need attention" }
            " (credentials missing, unverified or failing)."
        }
        p.filters {
            @if only_attention {
                a href="/console/overview" { "Show all" }
            } @else {
                a href="/console/overview?show=attention" { "Show only those that need attention" }
            }
        }
        @if lines.is_empty() {
            p.muted { "No GSTIN yet. " a href="/console/settings/business" { "Add one in Business Settings." } }
        } @else {
            div.table-wrap {
                table #overview {
                    thead { tr {
                        th scope="col" { "GSTIN" } th scope="col" { "Name" } th scope="col" { "Business" }
                        th scope="col" { "NIC API user" } th scope="col" { "Status" } th scope="col" { "Last verified" } th scope="col" { "What to do" }
                    } }
                    tbody {
                        @for line in lines.iter().filter(|l| !only_attention || needs_attention(status_of(l))) {
                            @let status = status_of(line);
                            tr.attention[needs_attention(status)] data-gstin=(line.gstin) {
                                td.mono { a href={ "/console/settings/business/gstins/" (line.owner_id) } { (line.gstin) } }
                                td { (line.name) }
                                td { (line.business) }
                                td.mono { @if let Some(c) = &line.credentials { (c.username) } }
                                td { (status_badge(status)) }
                                td { @match line.credentials.as_ref().and_then(|c| c.last_verified_at) { Some(at) => (human_time(at)), None => "never" } }
                                td {
                                    @match &line.credentials {
                                        None => "Store the NIC API username and password.",
                                        Some(c) if c.verify_status == VerificationStatus::Unverified => "Verify the stored credentials.",
                                        Some(c) => { (c.last_error.as_deref().unwrap_or("")) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    respond(
        StatusCode::OK,
        page(
            &session.page_user(),
            Section::Overview,
            "GSTIN overview",
            body,
        ),
    )
}
