//! The admin pages: retailers and their staff, mediators, escalated cases
//! waiting for a mediator, and dead mail. Every form calls the same
//! function as its API route (`routes::retailers`, `routes::mediators`,
//! `routes::transitions::send`, `routes::admin`), so the
//! checks and effects are the API's; a refused form comes back with its
//! errors and what was typed.

use std::future::Future;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use minijinja::{context, Value};
use odr_domain::complaint::ComplaintState;
use odr_domain::locale::Locale;
use odr_domain::Role;
use odr_store::{clamp_limit, ComplaintQuery, ComplaintSort, Cursor, Visibility};
use serde::{Deserialize, Serialize};

use super::account::see_other;
use super::failure::PageError;
use super::lists::rows;
use super::render::{render, Strings};
use super::session::{PageForm, Visitor};
use crate::caller::Caller;
use crate::preconditions::IfMatch;
use crate::problem::ApiError;
use crate::routes::admin::requeue_dead;
use crate::routes::mediators::{create_mediator, CreateMediator};
use crate::routes::paging::checked_cursor;
use crate::routes::retailers::{
    add_staff, create_retailer, remove_staff_member, CreateRetailer, CreateStaff,
};
use crate::routes::transitions::{send, AssignMediator};
use crate::state::AppState;

/// How many rows of each admin list one page shows.
const LIST_ROWS: i64 = 100;
/// Dead mail shown on the overview; `/admin/mail` shows more.
const DEAD_ON_OVERVIEW: i64 = 10;
const DEAD_ON_MAIL_PAGE: i64 = 200;

/// The `?done=` codes these pages announce after a form, and their words.
const DONE: &[(&str, &str)] = &[
    ("retailer_created", "done_retailer_created"),
    ("staff_added", "done_staff_added"),
    ("staff_invited", "done_staff_invited"),
    ("staff_removed", "done_staff_removed"),
    ("mediator_added", "done_mediator_added"),
    ("mediator_assigned", "done_mediator_assigned"),
    ("mail_requeued", "done_mail_requeued"),
];

/// The notice for a known `?done=` code (anything else shows nothing).
pub(crate) fn notice(words: &Strings, done: Option<&str>) -> Option<String> {
    let done = done?;
    DONE.iter()
        .find(|(code, _)| *code == done)
        .map(|(_, key)| words.get(key).to_owned())
}

#[derive(Debug, Deserialize, Default)]
pub struct AdminParams {
    done: Option<String>,
    /// The retailers' list: the `next_cursor` of the previous page.
    cursor: Option<String>,
}

#[derive(Debug, Deserialize, Default, Serialize)]
pub struct RetailerForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    support_email: String,
    #[serde(default)]
    locale: String,
    #[serde(default)]
    currency: String,
    #[serde(default)]
    time_zone: String,
}

#[derive(Debug, Deserialize, Default, Serialize)]
pub struct PersonForm {
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    email: String,
    /// Mediators: required; staff: empty means an invitation by mail.
    #[serde(default, skip_serializing)]
    password: String,
}

#[derive(Debug, Deserialize, Default)]
pub struct AssignForm {
    #[serde(default)]
    mediator_id: String,
}

#[derive(Debug, Deserialize, Default)]
pub struct EmptyForm {}

/// A refused form shown on its page: the reason, the fields it names (with
/// their labels) and the status. Errors no form can fix stay error pages.
struct FormTrouble {
    status: StatusCode,
    error: String,
    fields: Vec<Value>,
    invalid: Vec<String>,
}

fn form_trouble(v: &Visitor, e: ApiError) -> Result<FormTrouble, PageError> {
    let words = v.words();
    let error = match &e {
        ApiError::Validation { .. } => words.get("admin_check_fields").to_owned(),
        ApiError::EmailTaken => words.get("admin_email_taken").to_owned(),
        ApiError::Conflict(_) | ApiError::Malformed { .. } => e.explained().0,
        _ => return Err(v.fail(e)),
    };
    let (_, fields) = e.explained();
    Ok(FormTrouble {
        status: actix_web::ResponseError::status_code(&e),
        error,
        invalid: fields.iter().map(|f| f.field.clone()).collect(),
        fields: fields
            .iter()
            .map(|f| {
                // The admin forms' own labels: "Name" for a person.
                let key = match f.field.as_str() {
                    "display_name" => "field_person_name".to_owned(),
                    other => format!("field_{other}"),
                };
                let label = words.get(&key);
                context! {
                    field => if label == key { f.field.clone() } else { label.to_owned() },
                    message => f.message.clone(),
                }
            })
            .collect(),
    })
}

/// A form's answer: 303 to where `outcome` leads, or, refused, the page
/// `again` draws with the refusal at the form `name` (`<name>_error`,
/// `<name>_fields`, `<name>_invalid` and what was typed as `<name>_form`)
/// under the refusal's status.
async fn settle<P>(
    v: &Visitor,
    name: &str,
    typed: &impl Serialize,
    outcome: Result<String, ApiError>,
    again: impl FnOnce(Value) -> P,
) -> Result<HttpResponse, PageError>
where
    P: Future<Output = Result<HttpResponse, PageError>>,
{
    let e = match outcome {
        Ok(to) => return Ok(see_other(&to)),
        Err(e) => e,
    };
    let t = form_trouble(v, e)?;
    let extra = Value::from_iter([
        (format!("{name}_error"), Value::from(t.error)),
        (format!("{name}_fields"), Value::from(t.fields)),
        (format!("{name}_invalid"), Value::from(t.invalid)),
        (format!("{name}_form"), Value::from_serialize(typed)),
    ]);
    let mut page = again(extra).await?;
    *page.status_mut() = t.status;
    Ok(page)
}

fn languages() -> Vec<Value> {
    Locale::ALL
        .iter()
        .map(|l| context! { code => l.code(), name => Strings::of(*l).get("language_name") })
        .collect()
}

/// `GET /admin`
pub async fn overview(
    state: web::Data<AppState>,
    v: Visitor,
    q: web::Query<AdminParams>,
) -> Result<HttpResponse, PageError> {
    let q = q.into_inner();
    overview_page(&state, &v, q, context! {}).await
}

/// The overview, with `extra` (a refused form) merged in.
async fn overview_page(
    state: &web::Data<AppState>,
    v: &Visitor,
    q: AdminParams,
    extra: Value,
) -> Result<HttpResponse, PageError> {
    let caller = v.require(&[Role::Admin])?.clone();
    let visitor = v.clone();
    let cursor = q.cursor.clone().filter(|c| !c.is_empty());
    let paged = cursor.is_some();
    let (retailers, more, mediators, waiting, dead) = v
        .blocking(state, move |s| {
            let after = checked_cursor(cursor.as_deref(), Cursor::decode)?;
            let retailers = s
                .store
                .list_retailers(after.as_ref(), clamp_limit(Some(LIST_ROWS)))?;
            let mediators = s
                .store
                .role_page(Role::Mediator, None, clamp_limit(Some(200)))?;
            let escalated = s.store.list_complaints(&ComplaintQuery {
                visibility: Visibility::Everything,
                state: Some(ComplaintState::Escalated),
                category: None,
                retailer_id: None,
                assigned_to: None,
                sort: ComplaintSort::NextDeadline,
                after: None,
                limit: clamp_limit(Some(200)),
            })?;
            let waiting: Vec<_> = rows(s, &visitor, &caller, &escalated)?
                .into_iter()
                .filter(|r| r.mediator.is_none())
                .collect();
            let dead = s.store.list_outbox(Some("dead"), DEAD_ON_OVERVIEW + 1)?;
            Ok((
                retailers.items,
                retailers.next_cursor,
                mediators.items,
                waiting,
                dead,
            ))
        })
        .await?;
    let dead_more = dead.len() as i64 > DEAD_ON_OVERVIEW;
    let dead: Vec<Value> = dead
        .iter()
        .take(DEAD_ON_OVERVIEW as usize)
        .map(dead_row)
        .collect();
    let more = more.map(|c| {
        format!(
            "/admin?cursor={}",
            form_urlencoded::byte_serialize(c.as_bytes()).collect::<String>()
        )
    });
    render(
        v,
        "admin.html",
        context! {
            ..extra,
            ..context! {
                notice => notice(v.words(), q.done.as_deref()),
                retailers => retailers.iter().map(|r| context! {
                    id => r.id.clone(),
                    name => r.name.clone(),
                    support_email => r.support_email.clone(),
                    locale => Strings::of(r.locale).get("language_name"),
                    currency => r.currency.code(),
                    time_zone => r.time_zone.clone(),
                }).collect::<Vec<_>>(),
                more => more,
                paged => paged,
                mediators => mediators.iter().map(|m| context! {
                    id => m.id.clone(),
                    display_name => m.display_name.clone(),
                    email => m.email.clone(),
                    since => m.created_at.format("%Y-%m-%d").to_string(),
                }).collect::<Vec<_>>(),
                waiting => waiting,
                dead => dead,
                dead_more => dead_more,
                languages => languages(),
            }
        },
    )
}

fn dead_row(o: &odr_store::OutboxEntry) -> Value {
    context! {
        id => o.id.clone(),
        complaint_id => o.complaint_id.clone(),
        template => o.template.clone(),
        to_address => o.to_address.clone(),
        attempts => o.attempts,
        last_error => o.last_error.clone(),
        created_on => o.created_at.format("%Y-%m-%d %H:%M").to_string(),
        created_at => o.created_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    }
}

/// `POST /admin/retailers`: on to the new retailer's page.
pub async fn create_retailer_form(
    state: web::Data<AppState>,
    v: Visitor,
    form: PageForm<RetailerForm>,
) -> Result<HttpResponse, PageError> {
    let f = form.verified(&v)?;
    v.require(&[Role::Admin])?;
    let optional = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    let body = CreateRetailer {
        name: f.name.clone(),
        support_email: f.support_email.clone(),
        locale: optional(&f.locale),
        currency: optional(&f.currency),
        time_zone: optional(&f.time_zone),
    };
    let outcome = state.blocking(move |s| create_retailer(s, body)).await;
    let outcome = outcome.map(|r| format!("/admin/retailers/{}?done=retailer_created", r.id));
    settle(&v, "retailer", &f, outcome, |extra| {
        overview_page(&state, &v, AdminParams::default(), extra)
    })
    .await
}

/// `POST /admin/mediators`
pub async fn create_mediator_form(
    state: web::Data<AppState>,
    v: Visitor,
    form: PageForm<PersonForm>,
) -> Result<HttpResponse, PageError> {
    let f = form.verified(&v)?;
    v.require(&[Role::Admin])?;
    let body = CreateMediator {
        email: f.email.clone(),
        password: f.password.clone(),
        display_name: f.display_name.clone(),
    };
    let outcome = state.blocking(move |s| create_mediator(s, body)).await;
    let outcome = outcome.map(|_| "/admin?done=mediator_added#mediators".to_owned());
    settle(&v, "mediator", &f, outcome, |extra| {
        overview_page(&state, &v, AdminParams::default(), extra)
    })
    .await
}

/// `POST /admin/complaints/{id}/mediator`: the API's `assign_mediator`.
pub async fn assign_mediator_form(
    state: web::Data<AppState>,
    v: Visitor,
    path: web::Path<String>,
    form: PageForm<AssignForm>,
) -> Result<HttpResponse, PageError> {
    let f = form.verified(&v)?;
    let caller = v.require(&[Role::Admin])?.clone();
    let id = path.into_inner();
    v.blocking(&state, move |s| {
        let command = AssignMediator {
            mediator_id: f.mediator_id,
        }
        .into_command(s)?;
        send(s, &caller, &IfMatch(None), &id, &command).map(drop)
    })
    .await?;
    state.mail_queued.notify_one();
    Ok(see_other("/admin?done=mediator_assigned#waiting"))
}

/// `POST /admin/mail/{id}/retry`: the API's outbox retry.
pub async fn retry_mail_form(
    state: web::Data<AppState>,
    v: Visitor,
    path: web::Path<String>,
    form: PageForm<EmptyForm>,
) -> Result<HttpResponse, PageError> {
    form.verified(&v)?;
    v.require(&[Role::Admin])?;
    let id = path.into_inner();
    v.blocking(&state, move |s| requeue_dead(s, &id)).await?;
    state.mail_queued.notify_one();
    Ok(see_other("/admin/mail?done=mail_requeued"))
}

/// `GET /admin/mail`: the dead mail, newest first.
pub async fn mail(
    state: web::Data<AppState>,
    v: Visitor,
    q: web::Query<AdminParams>,
) -> Result<HttpResponse, PageError> {
    v.require(&[Role::Admin])?;
    let dead = v
        .blocking(&state, |s| {
            Ok(s.store.list_outbox(Some("dead"), DEAD_ON_MAIL_PAGE)?)
        })
        .await?;
    render(
        &v,
        "admin_mail.html",
        context! {
            notice => notice(v.words(), q.done.as_deref()),
            dead => dead.iter().map(dead_row).collect::<Vec<_>>(),
        },
    )
}

/// `GET /admin/retailers/{id}`: the retailer and its staff.
pub async fn retailer(
    state: web::Data<AppState>,
    v: Visitor,
    path: web::Path<String>,
    q: web::Query<AdminParams>,
) -> Result<HttpResponse, PageError> {
    let q = q.into_inner();
    retailer_page(&state, &v, path.into_inner(), q, context! {}).await
}

async fn retailer_page(
    state: &web::Data<AppState>,
    v: &Visitor,
    id: String,
    q: AdminParams,
    extra: Value,
) -> Result<HttpResponse, PageError> {
    v.require(&[Role::Admin])?;
    let (retailer, staff) = v
        .blocking(state, move |s| {
            let retailer = s.store.retailer(&id)?.ok_or(ApiError::NotFound)?;
            let staff = s.store.staff_page(&id, None, clamp_limit(Some(200)))?.items;
            Ok((retailer, staff))
        })
        .await?;
    render(
        v,
        "admin_retailer.html",
        context! {
            ..extra,
            ..context! {
                notice => notice(v.words(), q.done.as_deref()),
                retailer => context! {
                    id => retailer.id.clone(),
                    name => retailer.name.clone(),
                    support_email => retailer.support_email.clone(),
                    locale => Strings::of(retailer.locale).get("language_name"),
                    currency => retailer.currency.code(),
                    time_zone => retailer.time_zone.clone(),
                    business_days => retailer.business_days,
                    since => retailer.created_at.format("%Y-%m-%d").to_string(),
                },
                staff => staff.iter().map(|u| context! {
                    id => u.id.clone(),
                    display_name => u.display_name.clone(),
                    email => u.email.clone(),
                    invited => u.password_hash.is_none(),
                    since => u.created_at.format("%Y-%m-%d").to_string(),
                }).collect::<Vec<_>>(),
            }
        },
    )
}

/// `POST /admin/retailers/{id}/staff`: without a password the new staff
/// member is invited by mail.
pub async fn add_staff_form(
    state: web::Data<AppState>,
    v: Visitor,
    path: web::Path<String>,
    form: PageForm<PersonForm>,
) -> Result<HttpResponse, PageError> {
    let f = form.verified(&v)?;
    let caller: Caller = v.require(&[Role::Admin])?.clone();
    let retailer_id = path.into_inner();
    let password = Some(f.password.clone()).filter(|p| !p.is_empty());
    let invited = password.is_none();
    let body = CreateStaff {
        email: f.email.clone(),
        display_name: f.display_name.clone(),
        password,
    };
    let rid = retailer_id.clone();
    let outcome = state
        .blocking(move |s| add_staff(s, &caller, &rid, body))
        .await
        .map(|_| {
            state.mail_queued.notify_one();
            let done = if invited {
                "staff_invited"
            } else {
                "staff_added"
            };
            format!("/admin/retailers/{retailer_id}?done={done}")
        });
    settle(&v, "staff", &f, outcome, |extra| {
        retailer_page(
            &state,
            &v,
            retailer_id.clone(),
            AdminParams::default(),
            extra,
        )
    })
    .await
}

/// `POST /admin/retailers/{id}/staff/{user_id}/remove`: disabled at once.
pub async fn remove_staff_form(
    state: web::Data<AppState>,
    v: Visitor,
    path: web::Path<(String, String)>,
    form: PageForm<EmptyForm>,
) -> Result<HttpResponse, PageError> {
    form.verified(&v)?;
    let caller = v.require(&[Role::Admin])?.clone();
    let (retailer_id, user_id) = path.into_inner();
    let rid = retailer_id.clone();
    v.blocking(&state, move |s| {
        remove_staff_member(s, &caller, &rid, &user_id)
    })
    .await?;
    Ok(see_other(&format!(
        "/admin/retailers/{retailer_id}?done=staff_removed"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_known_done_codes_become_notices() {
        let en = Strings::of(Locale::En);
        assert!(notice(en, Some("mail_requeued")).is_some());
        assert_eq!(notice(en, Some("error_not_for_your_role")), None);
        assert_eq!(notice(en, None), None);
    }
}
