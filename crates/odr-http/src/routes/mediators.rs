//! Mediators: created by admins; listed for admins choosing whom to assign.

use actix_web::{http::header, web, HttpResponse};
use odr_domain::Role;
use odr_store::NewUser;
use serde::Deserialize;

use super::auth::{email_taken, new_person};
use super::input::Checks;
use crate::body::JsonBody;
use crate::caller::Caller;
use crate::problem::ApiError;
use crate::state::AppState;
use crate::views::{Items, StaffView};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateMediator {
    email: String,
    password: String,
    display_name: String,
}

pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<CreateMediator>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin], "create mediators")?;
    let user = state
        .blocking(move |s| {
            let mut checks = Checks::default();
            let (email, hash) = new_person(
                s,
                &mut checks,
                &body.email,
                Some(&body.password),
                &body.display_name,
            )?;
            checks.finish()?;
            let new = NewUser {
                email,
                password_hash: hash,
                display_name: body.display_name.trim().to_owned(),
                role: Role::Mediator,
                retailer_id: None,
                locale: Default::default(),
                time_zone: "UTC".into(),
            };
            s.store
                .create_user(new, uuid::Uuid::new_v4().to_string(), s.clock.now())
                .map_err(email_taken)
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, "/api/v1/mediators"))
        .json(StaffView::from(&user)))
}

/// Extension: the active mediators, for admins assigning cases.
pub async fn list(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin], "list mediators")?;
    let mediators = state
        .blocking(|s| Ok(s.store.users_with_role(Role::Mediator)?))
        .await?;
    Ok(HttpResponse::Ok().json(Items {
        items: mediators.iter().map(StaffView::from).collect(),
        next_cursor: None,
    }))
}
