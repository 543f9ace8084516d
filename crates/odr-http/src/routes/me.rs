//! The caller's own profile.

use actix_web::{web, HttpResponse};
use odr_domain::validation::limits;
use odr_store::ProfileChange;
use serde::Deserialize;

use super::input::Checks;
use crate::body::JsonBody;
use crate::caller::Caller;
use crate::problem::ApiError;
use crate::state::AppState;
use crate::views::MeView;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfilePatch {
    display_name: Option<String>,
    locale: Option<String>,
    time_zone: Option<String>,
}

pub async fn me(caller: Caller) -> HttpResponse {
    HttpResponse::Ok().json(MeView::from(&caller.user))
}

pub async fn update_me(
    state: web::Data<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<ProfilePatch>,
) -> Result<HttpResponse, ApiError> {
    let user = state
        .blocking(move |s| {
            let mut checks = Checks::default();
            if let Some(name) = &body.display_name {
                checks.text("display_name", name, limits::NAME);
            }
            let change = ProfileChange {
                display_name: body.display_name.map(|n| n.trim().to_owned()),
                locale: checks.locale("locale", body.locale.as_deref()),
                time_zone: checks.time_zone("time_zone", body.time_zone.as_deref()),
            };
            checks.finish()?;
            Ok(s.store.update_profile(caller.id(), change, s.clock.now())?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(MeView::from(&user)))
}
