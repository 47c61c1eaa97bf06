//! The mapping of a body-worn system's users to officers, for the people who hand out
//! cameras at its crossing point.

use kordon_api::axis::{AxisUser, AxisUsers, MapUser};
use kordon_api::devices::Page;
use kordon_store::now_ms;

use crate::auth::{Op, Principal};
use crate::error::ApiError;
use crate::state::App;

/// The role that hands cameras out, with the system's crossing point in scope.
fn allowed(app: &App, who: &Principal) -> Result<(), ApiError> {
    who.require(Op::AssignDevices)?;
    let cp = app
        .config
        .axis
        .as_ref()
        .map(|a| a.crossing_point.as_str())
        .ok_or_else(|| ApiError::NotFound("no body-worn system is configured ([axis])".into()))?;
    if !who.sees_crossing_point(cp) {
        return Err(ApiError::Forbidden(format!(
            "the body-worn system's cameras are worn at {cp}, outside your crossing points"
        )));
    }
    Ok(())
}

fn user(u: kordon_store::meta::AxisUser) -> AxisUser {
    AxisUser {
        uuid: u.uuid,
        name: u.name,
        user_id: u.user_id,
        active: u.active != 0,
        officer: u.officer,
    }
}

/// The users, a page at a time.
pub(crate) async fn list(app: &App, who: &Principal, page: &Page) -> Result<AxisUsers, ApiError> {
    allowed(app, who)?;
    let limit = page.limit();
    let rows = app
        .meta
        .axis_users(page.after.as_deref().unwrap_or(""), i64::from(limit) + 1)
        .await?;
    let more = rows.len() > limit as usize;
    let users: Vec<AxisUser> = rows.into_iter().take(limit as usize).map(user).collect();
    Ok(AxisUsers {
        next: more.then(|| users.last().map(|u| u.uuid.clone())).flatten(),
        users,
    })
}

/// Maps a user to an officer (who must exist), or unmaps; a custody event says so.
pub(crate) async fn map(
    app: &App,
    who: &Principal,
    uuid: &str,
    req: MapUser,
) -> Result<AxisUser, ApiError> {
    allowed(app, who)?;
    if let Some(o) = &req.officer
        && !app.meta.officer_exists(o).await?
    {
        return Err(ApiError::BadRequest(
            "unknown_officer",
            format!("no officer with service number {o}"),
        ));
    }
    if !app
        .meta
        .axis_map_user(uuid, req.officer.as_deref(), now_ms())
        .await?
    {
        return Err(ApiError::NotFound(format!(
            "no body-worn system user {uuid}"
        )));
    }
    app.custody(
        &who.name,
        "axis-map-user",
        &format!("user axis:{uuid}"),
        &format!("officer {}", req.officer.as_deref().unwrap_or("none")),
    )
    .await?;
    let u = app
        .meta
        .axis_user(uuid)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no body-worn system user {uuid}")))?;
    Ok(user(u))
}
