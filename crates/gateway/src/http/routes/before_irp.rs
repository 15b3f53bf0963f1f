//! What every route that reaches the IRP does before its work and around it: the checks
//! (breaker, login budget, owner, the GSTIN's limits), the account's turn for requests that
//! send documents (taken before the body is read), and the task the work runs on.

use serde::de::DeserializeOwned;

use crate::http::error::ApiResult;
use crate::http::extract::JsonBody;
use crate::ids::OwnerId;
use crate::irp::fair_share::Place;
use crate::service::owners::OwnerChoice;
use crate::service::{einvoice, irp_call, owners, Actor};
use crate::state::AppState;

/// What every call that may reach the IRP checks first: the breaker, the caller's budget of
/// failed IRP logins for the GSTIN, the owner the call is for, then the GSTIN's limits for
/// `calls` IRP calls (after the owner, so only the caller's own GSTINs take a place).
pub(super) async fn before_irp_calls(
    state: &AppState,
    actor: Actor,
    owner: &OwnerChoice,
    (gstin, calls): (&str, usize),
) -> ApiResult<OwnerId> {
    let owner_id = checks_without_body(state, actor, owner, gstin).await?;
    irp_call::admit_irp_calls(state, actor, gstin, calls)?;
    Ok(owner_id)
}

/// The checks of [`before_irp_calls`] that need no body: the breaker, the login budget, the
/// owner.
async fn checks_without_body(
    state: &AppState,
    actor: Actor,
    owner: &OwnerChoice,
    gstin: &str,
) -> ApiResult<OwnerId> {
    einvoice::check_breaker(state)?;
    einvoice::check_auth_budget(state, actor, gstin)?;
    Ok(owners::resolve(state, actor, owner, gstin).await?)
}

/// A request at its turn to send documents to the IRPs: the owner it is for, its body, and the
/// turn (held until dropped).
pub(super) struct AtTurn<T> {
    /// The owner the request is for.
    pub owner_id: OwnerId,
    /// The body, read and parsed.
    pub body: T,
    /// The turn (`None` without an IRP): keep it until the work is done.
    pub turn: Option<Place>,
}

/// [`before_irp_calls`] for a request that sends documents: the checks that need no body, then
/// the caller's turn (the request waits here with its body unread), then the body, read and
/// parsed, and the GSTIN's limits for the `documents` it holds.
pub(super) async fn wait_for_turn<T: DeserializeOwned>(
    state: &AppState,
    actor: Actor,
    (owner, gstin): (&OwnerChoice, &str),
    body: JsonBody,
    documents: fn(&T) -> ApiResult<usize>,
) -> ApiResult<AtTurn<T>> {
    let owner_id = checks_without_body(state, actor, owner, gstin).await?;
    let turn = irp_call::turn(state, actor).await;
    let body: T = body.read().await?;
    irp_call::admit_irp_calls(state, actor, gstin, documents(&body)?)?;
    Ok(AtTurn {
        owner_id,
        body,
        turn,
    })
}

/// [`before_irp_calls`] for one call.
pub(super) async fn before_irp_call(
    state: &AppState,
    actor: Actor,
    owner: &OwnerChoice,
    gstin: &str,
) -> ApiResult<OwnerId> {
    before_irp_calls(state, actor, owner, (gstin, 1)).await
}

/// Runs IRP work on its own task: once a document is sent to the IRP, neither a client that
/// hangs up nor the request timeout may cancel the work between the IRP's answer and the
/// record of it. The task starts here, not when the answer is first awaited, so the request's
/// own future holds only the task's handle, not a second copy of the work's space.
pub(super) fn run_to_completion<T: Send + 'static>(
    work: impl std::future::Future<Output = T> + Send + 'static,
) -> impl std::future::Future<Output = ApiResult<T>> {
    let task = tokio::spawn(work);
    async move {
        task.await.map_err(|e| {
            crate::http::error::ApiError::from(crate::service::ServiceError::internal(e))
        })
    }
}
