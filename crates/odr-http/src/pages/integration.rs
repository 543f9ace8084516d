//! `/integration`: a shop's integration credentials on a page, for its
//! staff (their own shop) and admins (any shop, `?retailer=`): API keys,
//! order-link secrets and webhooks with their delivery log.
//!
//! Every form calls the function its API route calls
//! (`routes::credentials::{issue_api_key, live_api_keys, ...}`,
//! `routes::webhooks`), so the checks and effects are the API's: staff of
//! another shop get 404, customers and mediators 403, and only a person's
//! own session (`Caller::may_manage_credentials`) may use the page. A new
//! key, secret or webhook secret is shown once, in the answer to the form
//! that made it (never behind a redirect, `Cache-Control: no-store`); a
//! refused form comes back with its errors and what was typed.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, SecondsFormat, Utc};
use minijinja::{context, Value};
use odr_domain::complaint::WebhookType;
use odr_domain::Role;
use odr_store::{clamp_limit, Cursor, WebhookDelivery, WebhookEndpoint};
use serde::{Deserialize, Serialize};

use super::account::see_other;
use super::complaint::{when, zone_of};
use super::failure::PageError;
use super::render::render;
use super::session::{PageForm, Visitor};
use crate::caller::Caller;
use crate::problem::{ApiError, FieldError};
use crate::routes::credentials::{
    issue_api_key, issue_link_secret, live_api_keys, live_link_secrets, revoke_api_key_of,
    revoke_link_secret_of, NameCredential,
};
use crate::routes::paging::checked_cursor;
use crate::routes::webhooks::{
    delivery_log, redeliver_delivery, register_webhook, remove_webhook, switch_webhook,
    webhooks_listed, NewWebhook,
};
use crate::state::AppState;

/// The `?done=` codes this page announces after a form, and their words.
const DONE: &[(&str, &str)] = &[
    ("api_key_revoked", "integration_done_key_revoked"),
    ("link_secret_revoked", "integration_done_secret_revoked"),
    ("webhook_deleted", "integration_done_hook_deleted"),
    ("webhook_enabled", "integration_done_hook_enabled"),
    ("redelivered", "integration_done_redelivered"),
];

/// How many deliveries of each endpoint the page shows at a time.
const LOG_ROWS: i64 = 20;

#[derive(Debug, Deserialize, Default)]
pub struct IntegrationParams {
    /// Admins: whose credentials. Staff: their own shop (another is 404).
    retailer: Option<String>,
    done: Option<String>,
    /// The endpoint whose delivery log is paged on (`cursor`).
    webhook: Option<String>,
    /// The `next_cursor` of that endpoint's delivery log.
    cursor: Option<String>,
}

/// The form that names a new API key or link secret.
#[derive(Debug, Deserialize, Default, Serialize)]
pub struct NameForm {
    #[serde(default, skip_serializing)]
    retailer: String,
    #[serde(default)]
    name: String,
}

/// The form that registers a webhook endpoint; `events` repeats.
#[derive(Debug, Deserialize, Default, Serialize)]
pub struct WebhookForm {
    #[serde(default, skip_serializing)]
    retailer: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    events: Vec<String>,
}

/// A form with nothing but its shop (revoke, delete, redeliver).
#[derive(Debug, Deserialize, Default)]
pub struct ShopForm {
    #[serde(default)]
    retailer: String,
}

/// One who may use the page: staff or an admin, signed in as a person.
fn manager(v: &Visitor) -> Result<Caller, PageError> {
    let caller = v.require(&[Role::RetailerStaff, Role::Admin])?;
    if !caller.may_manage_credentials() {
        return Err(v.fail(ApiError::Forbidden(
            v.words().get("integration_people_only").to_owned(),
        )));
    }
    Ok(caller.clone())
}

/// The shop the page is about: the one asked for, else a staff member's
/// own. `None`: an admin who has not picked one yet.
fn shop_of(caller: &Caller, asked: &str) -> Option<String> {
    let asked = asked.trim();
    if asked.is_empty() {
        match caller.role() {
            Role::RetailerStaff => caller.user.retailer_id.clone(),
            _ => None,
        }
    } else {
        Some(asked.to_owned())
    }
}

/// Who sent a form of the page ([`manager`]) and the shop it is for; a
/// form without a shop (an admin's) is 404.
fn form_manager(v: &Visitor, asked: &str) -> Result<(Caller, String), PageError> {
    let caller = manager(v)?;
    let shop = shop_of(&caller, asked).ok_or_else(|| v.fail(ApiError::NotFound))?;
    Ok((caller, shop))
}

fn encoded(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// Where a form leads back to: the page of its shop, announcing `done`.
fn back_to(retailer_id: &str, done: &str) -> String {
    format!("/integration?retailer={}&done={done}", encoded(retailer_id))
}

/// An instant in the reader's words and zone.
fn when_text(v: &Visitor, at: DateTime<Utc>) -> String {
    let tz = zone_of(v.caller.as_ref().map(|c| c.user.time_zone.as_str()));
    when(v.words(), at, tz)
}

/// An instant in the reader's words and zone, and machine-readable.
fn moment(v: &Visitor, at: DateTime<Utc>) -> Value {
    context! {
        text => when_text(v, at),
        at => at.to_rfc3339_opts(SecondsFormat::Secs, true),
    }
}

/// A live API key or link secret as the lists show it (never the key).
fn credential_row(
    v: &Visitor,
    confirm_key: &str,
    id: &str,
    name: &str,
    created_at: DateTime<Utc>,
    last_used_at: Option<DateTime<Utc>>,
) -> Value {
    let words = v.words();
    context! {
        id => id,
        name => name,
        created => moment(v, created_at),
        last_used => last_used_at.map(|at| moment(v, at)),
        revoke_confirm => words.fill(confirm_key, &[("name", name)]),
    }
}

/// One bad field: its label and what to change, in the visitor's words
/// where we have them (the API's English otherwise).
fn field_value(v: &Visitor, e: &FieldError) -> Value {
    let words = v.words();
    let base = e.field.split(['.', '[']).next().unwrap_or_default();
    let label_key = format!("integration_field_{base}");
    let label = match words.get(&label_key) {
        l if l == label_key => e.field.clone(),
        l => l.to_owned(),
    };
    let message = [
        format!("integration_why_{}", e.code),
        format!("why_{}", e.code),
    ]
    .iter()
    .find(|key| words.get(key) != key.as_str())
    .map_or_else(|| e.message.clone(), |key| words.get(key).to_owned());
    context! { field => label, message => message }
}

/// A refused form shown at the form `name` (`<name>_error`,
/// `<name>_fields`, `<name>_invalid`, what was typed as `<name>_form`) and
/// its status; what no form can fix is the error page.
fn refused_form(
    v: &Visitor,
    name: &str,
    typed: Value,
    e: ApiError,
) -> Result<(StatusCode, Value), PageError> {
    let words = v.words();
    let error = match &e {
        ApiError::Validation { .. } | ApiError::Malformed { .. } => {
            words.get("integration_check_fields").to_owned()
        }
        _ => return Err(v.fail(e)),
    };
    let (_, fields) = e.explained();
    let status = actix_web::ResponseError::status_code(&e);
    Ok((
        status,
        Value::from_iter([
            (format!("{name}_error"), Value::from(error)),
            (
                format!("{name}_fields"),
                Value::from(fields.iter().map(|f| field_value(v, f)).collect::<Vec<_>>()),
            ),
            (
                format!("{name}_invalid"),
                Value::from(fields.iter().map(|f| f.field.clone()).collect::<Vec<_>>()),
            ),
            (format!("{name}_form"), typed),
        ]),
    ))
}

/// `GET /integration`
pub async fn page(
    state: web::Data<AppState>,
    v: Visitor,
    q: web::Query<IntegrationParams>,
) -> Result<HttpResponse, PageError> {
    let caller = manager(&v)?;
    let q = q.into_inner();
    match shop_of(&caller, q.retailer.as_deref().unwrap_or_default()) {
        Some(retailer_id) => shop_page(&state, &v, caller, retailer_id, &q, context! {}).await,
        None if caller.is_admin() => shop_choice(&state, &v).await,
        None => Err(v.fail(ApiError::NotFound)),
    }
}

/// An admin's choice of shop.
async fn shop_choice(state: &web::Data<AppState>, v: &Visitor) -> Result<HttpResponse, PageError> {
    let shops = v
        .blocking(state, |s| {
            Ok(s.store.list_retailers(None, clamp_limit(Some(200)))?.items)
        })
        .await?;
    render(
        v,
        "integration.html",
        context! {
            shops => shops.iter().map(|r| context! {
                id => r.id.clone(),
                name => r.name.clone(),
            }).collect::<Vec<_>>(),
        },
    )
}

/// The page of one shop, with `extra` (a new secret, a refused form)
/// merged in.
async fn shop_page(
    state: &web::Data<AppState>,
    v: &Visitor,
    caller: Caller,
    retailer_id: String,
    q: &IntegrationParams,
    extra: Value,
) -> Result<HttpResponse, PageError> {
    // The one endpoint whose log is paged on, and where.
    let paged = q
        .webhook
        .clone()
        .zip(q.cursor.clone().filter(|c| !c.is_empty()));
    let (retailer, keys, secrets, hooks) = v
        .blocking(state, move |s| {
            let keys = live_api_keys(s, &caller, &retailer_id)?;
            let secrets = live_link_secrets(s, &caller, &retailer_id)?;
            let mut hooks = Vec::new();
            for endpoint in webhooks_listed(s, &caller, &retailer_id)? {
                let cursor = paged
                    .as_ref()
                    .filter(|(id, _)| *id == endpoint.id)
                    .map(|(_, c)| c.as_str());
                checked_cursor(cursor, Cursor::decode)?;
                let log = delivery_log(s, &caller, &retailer_id, &endpoint.id, cursor, LOG_ROWS)?;
                hooks.push((endpoint, cursor.is_some(), log));
            }
            let retailer = s.store.retailer(&retailer_id)?.ok_or(ApiError::NotFound)?;
            Ok((retailer, keys, secrets, hooks))
        })
        .await?;
    let words = v.words();
    let notice = q.done.as_deref().and_then(|d| {
        DONE.iter()
            .find(|(code, _)| *code == d)
            .map(|(_, key)| words.get(key).to_owned())
    });
    render(
        v,
        "integration.html",
        context! {
            ..extra,
            ..context! {
                notice => notice,
                retailer => context! { id => retailer.id.clone(), name => retailer.name.clone() },
                api_keys => keys.iter()
                    .map(|k| credential_row(v, "integration_key_revoke_confirm", &k.id, &k.name, k.created_at, k.last_used_at))
                    .collect::<Vec<_>>(),
                link_secrets => secrets.iter()
                    .map(|l| credential_row(v, "integration_secret_revoke_confirm", &l.id, &l.name, l.created_at, l.last_used_at))
                    .collect::<Vec<_>>(),
                webhooks => hooks.iter()
                    .map(|(e, paged, log)| webhook_card(v, &retailer.id, e, *paged, log))
                    .collect::<Vec<_>>(),
                event_types => WebhookType::ALL.iter().map(|t| context! {
                    code => t.code(),
                    text => words.get(&event_words(t.code())),
                }).collect::<Vec<_>>(),
            }
        },
    )
}

/// The key of the words that say what a webhook type is sent for.
fn event_words(code: &str) -> String {
    format!("integration_event_{}", code.replace('.', "_"))
}

/// An endpoint with a page of its delivery log, as the page shows it.
fn webhook_card(
    v: &Visitor,
    retailer_id: &str,
    e: &WebhookEndpoint,
    paged: bool,
    log: &odr_store::Page<WebhookDelivery>,
) -> Value {
    let words = v.words();
    let at = |t: DateTime<Utc>| moment(v, t);
    let state = if !e.enabled {
        match e.disabled_at {
            Some(t) => words.fill("integration_hook_disabled", &[("when", &when_text(v, t))]),
            None => words.get("integration_hook_paused").to_owned(),
        }
    } else {
        match e.failing_since {
            Some(t) => words.fill("integration_hook_failing", &[("when", &when_text(v, t))]),
            None => words.get("integration_hook_enabled").to_owned(),
        }
    };
    let page_of = |cursor: Option<&str>| {
        let mut link = format!(
            "/integration?retailer={}&webhook={}",
            encoded(retailer_id),
            encoded(&e.id)
        );
        if let Some(c) = cursor {
            link.push_str(&format!("&cursor={}", encoded(c)));
        }
        format!("{link}#hook-{}", e.id)
    };
    context! {
        id => e.id.clone(),
        url => e.url.clone(),
        enabled => e.enabled,
        troubled => !e.enabled || e.failing_since.is_some(),
        state => state,
        events => e.events.iter().map(|t| t.code()).collect::<Vec<_>>(),
        created => at(e.created_at),
        delete_confirm => words.fill("integration_hook_delete_confirm", &[("name", &e.url)]),
        log_caption => words.fill("integration_log_caption", &[("name", &e.url)]),
        deliveries => log.items.iter().map(|d| context! {
            id => d.id.clone(),
            event_id => d.event_id.clone(),
            event_type => d.event_type.clone(),
            status => d.status.clone(),
            status_text => words.get(&format!("integration_status_{}", d.status)),
            attempts => d.attempts,
            last_status_code => d.last_status_code.map(|c| {
                words.fill("integration_log_status_code", &[("code", &c.to_string())])
            }),
            last_error => d.last_error.clone(),
            created => at(d.created_at),
            delivered => d.delivered_at.map(at),
            next => d.next_attempt_at.map(at),
        }).collect::<Vec<_>>(),
        older => log.next_cursor.as_deref().map(|c| page_of(Some(c))),
        newest => paged.then(|| page_of(None)),
    }
}

/// What a create form answers: the page with the new secret shown once,
/// or with the refusal at the form `name`.
async fn created_or_refused<T: Serialize>(
    state: &web::Data<AppState>,
    v: &Visitor,
    caller: Caller,
    retailer_id: String,
    name: &str,
    typed: &T,
    outcome: Result<Value, ApiError>,
) -> Result<HttpResponse, PageError> {
    match outcome {
        Ok(created) => {
            shop_page(
                state,
                v,
                caller,
                retailer_id,
                &IntegrationParams::default(),
                context! { created => created },
            )
            .await
        }
        Err(e) => {
            let (status, extra) = refused_form(v, name, Value::from_serialize(typed), e)?;
            let params = IntegrationParams::default();
            let mut page = shop_page(state, v, caller, retailer_id, &params, extra).await?;
            *page.status_mut() = status;
            Ok(page)
        }
    }
}

/// `POST /integration/api-keys`: the API's `issue_api_key`; the answer
/// shows the key once.
pub async fn create_api_key_form(
    state: web::Data<AppState>,
    v: Visitor,
    form: PageForm<NameForm>,
) -> Result<HttpResponse, PageError> {
    named_credential_form(state, v, form, ("api_key", "key"), |s, who, rid, body| {
        issue_api_key(s, who, rid, body).map(|(key, secret)| (key.id, key.name, secret))
    })
    .await
}

/// `POST /integration/link-secrets`: the API's `issue_link_secret`; the
/// answer shows the secret once.
pub async fn create_link_secret_form(
    state: web::Data<AppState>,
    v: Visitor,
    form: PageForm<NameForm>,
) -> Result<HttpResponse, PageError> {
    named_credential_form(
        state,
        v,
        form,
        ("link_secret", "secret"),
        |s, who, rid, body| {
            issue_link_secret(s, who, rid, body)
                .map(|(link_secret, secret)| (link_secret.id, link_secret.name, secret))
        },
    )
    .await
}

/// A credential made from a name (`issue` is the API's function, giving
/// its id, name and the secret to show once); `kind` and `form` name it on
/// the page.
async fn named_credential_form<F>(
    state: web::Data<AppState>,
    v: Visitor,
    form: PageForm<NameForm>,
    (kind, form_name): (&'static str, &'static str),
    issue: F,
) -> Result<HttpResponse, PageError>
where
    F: FnOnce(
            &AppState,
            &Caller,
            &str,
            NameCredential,
        ) -> Result<(String, String, String), ApiError>
        + Send
        + 'static,
{
    let f = form.verified(&v)?;
    let (caller, retailer_id) = form_manager(&v, &f.retailer)?;
    let (who, rid) = (caller.clone(), retailer_id.clone());
    let body = NameCredential {
        name: f.name.clone(),
    };
    let outcome = state
        .blocking(move |s| issue(s, &who, &rid, body))
        .await
        .map(|(id, name, secret)| {
            context! {
                kind => kind,
                id => id,
                name => name,
                secret => secret,
            }
        });
    created_or_refused(&state, &v, caller, retailer_id, form_name, &f, outcome).await
}

/// `POST /integration/webhooks`: the API's `register_webhook` (the
/// address checked and resolved the same way); the answer shows the
/// signing secret once.
pub async fn create_webhook_form(
    state: web::Data<AppState>,
    v: Visitor,
    form: PageForm<WebhookForm>,
) -> Result<HttpResponse, PageError> {
    let f = form.verified(&v)?;
    let (caller, retailer_id) = form_manager(&v, &f.retailer)?;
    let body = NewWebhook {
        url: f.url.clone(),
        events: f.events.clone(),
    };
    let outcome = register_webhook(&state, caller.clone(), retailer_id.clone(), body)
        .await
        .map(|(endpoint, secret)| {
            context! {
                kind => "webhook",
                id => endpoint.id,
                name => endpoint.url,
                secret => secret,
            }
        });
    created_or_refused(&state, &v, caller, retailer_id, "hook", &f, outcome).await
}

/// `POST /integration/webhooks/{id}/delete`: the API's removal, with the
/// endpoint's delivery log.
pub async fn delete_webhook_form(
    state: web::Data<AppState>,
    v: Visitor,
    path: web::Path<String>,
    form: PageForm<ShopForm>,
) -> Result<HttpResponse, PageError> {
    let f = form.verified(&v)?;
    let (caller, retailer_id) = form_manager(&v, &f.retailer)?;
    let (rid, id) = (retailer_id.clone(), path.into_inner());
    v.blocking(&state, move |s| remove_webhook(s, &caller, &rid, &id))
        .await?;
    Ok(see_other(&format!(
        "{}#hooks-h",
        back_to(&retailer_id, "webhook_deleted")
    )))
}

/// `POST /integration/webhooks/{id}/enable`: the API's `PATCH {"enabled":
/// true}` for an endpoint the engine disabled.
pub async fn enable_webhook_form(
    state: web::Data<AppState>,
    v: Visitor,
    path: web::Path<String>,
    form: PageForm<ShopForm>,
) -> Result<HttpResponse, PageError> {
    let f = form.verified(&v)?;
    let (caller, retailer_id) = form_manager(&v, &f.retailer)?;
    let (rid, id) = (retailer_id.clone(), path.into_inner());
    let anchor = format!("#hook-{id}");
    v.blocking(&state, move |s| {
        switch_webhook(s, &caller, &rid, &id, true).map(drop)
    })
    .await?;
    Ok(see_other(&format!(
        "{}{anchor}",
        back_to(&retailer_id, "webhook_enabled")
    )))
}

/// `POST /integration/webhooks/{id}/deliveries/{delivery_id}/redeliver`:
/// the API's redeliver. On a disabled endpoint (409) the error page says
/// to enable it first.
pub async fn redeliver_form(
    state: web::Data<AppState>,
    v: Visitor,
    path: web::Path<(String, String)>,
    form: PageForm<ShopForm>,
) -> Result<HttpResponse, PageError> {
    let f = form.verified(&v)?;
    let (caller, retailer_id) = form_manager(&v, &f.retailer)?;
    let (rid, (id, delivery_id)) = (retailer_id.clone(), path.into_inner());
    let anchor = format!("#hook-{id}");
    state
        .blocking(move |s| redeliver_delivery(s, &caller, &rid, &id, &delivery_id))
        .await
        .map_err(|e| match e {
            ApiError::Conflict(_) => v.fail(ApiError::Conflict(
                v.words().get("integration_redeliver_disabled").to_owned(),
            )),
            other => v.fail(other),
        })?;
    Ok(see_other(&format!(
        "{}{anchor}",
        back_to(&retailer_id, "redelivered")
    )))
}

/// `POST /integration/api-keys/{id}/revoke`: the API's revoke.
pub async fn revoke_api_key_form(
    state: web::Data<AppState>,
    v: Visitor,
    path: web::Path<String>,
    form: PageForm<ShopForm>,
) -> Result<HttpResponse, PageError> {
    revoke_form(state, v, path, form, "api_key_revoked", revoke_api_key_of).await
}

/// `POST /integration/link-secrets/{id}/revoke`: the API's revoke.
pub async fn revoke_link_secret_form(
    state: web::Data<AppState>,
    v: Visitor,
    path: web::Path<String>,
    form: PageForm<ShopForm>,
) -> Result<HttpResponse, PageError> {
    revoke_form(
        state,
        v,
        path,
        form,
        "link_secret_revoked",
        revoke_link_secret_of,
    )
    .await
}

/// Revokes the credential named in the path with the API's `revoke`, and
/// leads back to the page announcing `done`.
async fn revoke_form(
    state: web::Data<AppState>,
    v: Visitor,
    path: web::Path<String>,
    form: PageForm<ShopForm>,
    done: &str,
    revoke: fn(&AppState, &Caller, &str, &str) -> Result<(), ApiError>,
) -> Result<HttpResponse, PageError> {
    let f = form.verified(&v)?;
    let (caller, retailer_id) = form_manager(&v, &f.retailer)?;
    let (rid, id) = (retailer_id.clone(), path.into_inner());
    v.blocking(&state, move |s| revoke(s, &caller, &rid, &id))
        .await?;
    Ok(see_other(&back_to(&retailer_id, done)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_done_code_has_words() {
        use odr_domain::locale::Locale;
        let en = super::super::render::Strings::of(Locale::En);
        for (_, key) in DONE {
            assert_ne!(en.get(key), *key, "{key} has no words");
        }
    }

    #[test]
    fn a_form_leads_back_to_its_shop() {
        assert_eq!(
            back_to("shop 1&x", "api_key_revoked"),
            "/integration?retailer=shop+1%26x&done=api_key_revoked"
        );
    }
}
