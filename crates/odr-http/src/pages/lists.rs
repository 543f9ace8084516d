//! The lists of complaints: a customer's own (`/complaints`), a shop's
//! inbox (`/inbox`) and the mediation queue (`/queue`). They read the same
//! store list as `GET /api/v1/complaints`, under the same visibility rule,
//! and show for each open complaint who must act and the time left in
//! words.

use std::collections::HashMap;

use actix_web::{web, HttpResponse};
use minijinja::context;
use odr_domain::complaint::ComplaintState;
use odr_domain::taxonomy::{taxonomy_document, Category, Code, Iconic};
use odr_domain::Role;
use odr_store::{
    clamp_limit, ComplaintQuery, ComplaintSort, Cursor, DueCursor, Page, StoredComplaint,
};
use serde::{Deserialize, Serialize};

use super::failure::PageError;
use super::render::render;
use super::session::Visitor;
use super::words::{complaint_time_left, TimeLeft};
use crate::caller::Caller;
use crate::problem::ApiError;
use crate::routes::complaints::visibility;
use crate::routes::paging::checked_cursor;
use crate::state::AppState;

/// Rows per page of a list.
const PAGE_ROWS: i64 = 25;

/// The query of a list page: filters of the GET form and the `more` cursor.
/// An empty value (the "all" choice) is no filter.
#[derive(Debug, Deserialize, Default)]
pub struct ListParams {
    state: Option<String>,
    category: Option<String>,
    /// `/queue`: `mine` for a mediator's own cases only.
    show: Option<String>,
    cursor: Option<String>,
}

fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// A complaint as a row of a list.
#[derive(Debug, Serialize)]
pub(crate) struct Row {
    pub id: String,
    pub reference: String,
    pub shop: String,
    pub order_reference: String,
    pub category: Label,
    pub state: &'static str,
    pub outcome: Option<&'static str>,
    pub left: Option<TimeLeft>,
    /// Filing date (UTC), and the instant for `<time datetime>`.
    pub filed_on: String,
    pub filed_at: String,
    pub mediator: Option<String>,
    /// The viewer is the assigned mediator.
    pub mine: bool,
}

/// A taxonomy entry in the reader's words, with its icon.
#[derive(Debug, Serialize, Clone)]
pub(crate) struct Label {
    pub code: &'static str,
    pub label: &'static str,
    pub icon: String,
}

fn category_label(category: Category, v: &Visitor) -> Label {
    Label {
        code: category.code(),
        label: category.label(v.locale),
        icon: category.icon_path(),
    }
}

/// One page of complaints as rows for `caller`, each shop's name read once.
pub(crate) fn rows(
    s: &AppState,
    v: &Visitor,
    caller: &Caller,
    page: &Page<StoredComplaint>,
) -> Result<Vec<Row>, ApiError> {
    let now = s.clock.now();
    let mut shops: HashMap<String, String> = HashMap::new();
    let mut rows = Vec::with_capacity(page.items.len());
    for stored in &page.items {
        let c = &stored.complaint;
        let f = c.facts();
        if !shops.contains_key(&f.retailer_id) {
            let name = s
                .store
                .retailer(&f.retailer_id)?
                .map(|r| r.name)
                .unwrap_or_default();
            shops.insert(f.retailer_id.clone(), name);
        }
        rows.push(Row {
            id: f.id.clone(),
            reference: f.reference.clone(),
            shop: shops.get(&f.retailer_id).cloned().unwrap_or_default(),
            order_reference: f.order_reference.clone(),
            category: category_label(f.category, v),
            state: c.state().code(),
            outcome: c.outcome().map(|o| o.code()),
            left: complaint_time_left(v.locale, now, c, Some(caller.role())),
            filed_on: f.created_at.format("%Y-%m-%d").to_string(),
            filed_at: f
                .created_at
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            mediator: f.mediator.as_ref().map(|m| m.display_name.clone()),
            mine: f.mediator.as_ref().is_some_and(|m| m.id == caller.id()),
        });
    }
    Ok(rows)
}

/// The link to the next page: this page's filters and the cursor.
fn more_href(path: &str, filters: &[(&str, Option<&str>)], cursor: Option<&str>) -> Option<String> {
    let cursor = cursor?;
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (name, value) in filters {
        if let Some(value) = value {
            query.append_pair(name, value);
        }
    }
    query.append_pair("cursor", cursor);
    Some(format!("{path}?{}", query.finish()))
}

/// Reads one page of `query` for the visitor, as rows.
async fn list_page(
    state: &web::Data<AppState>,
    v: &Visitor,
    caller: Caller,
    query: ComplaintQuery,
) -> Result<(Vec<Row>, Option<String>), PageError> {
    let visitor = v.clone();
    v.blocking(state, move |s| {
        match query.sort {
            ComplaintSort::Newest => {
                checked_cursor(query.after.as_deref(), Cursor::decode).map(drop)
            }
            ComplaintSort::NextDeadline => {
                checked_cursor(query.after.as_deref(), DueCursor::decode).map(drop)
            }
        }?;
        let page = s.store.list_complaints(&query)?;
        Ok((rows(s, &visitor, &caller, &page)?, page.next_cursor))
    })
    .await
}

fn query(
    caller: &Caller,
    sort: ComplaintSort,
    after: Option<&str>,
) -> Result<ComplaintQuery, ApiError> {
    Ok(ComplaintQuery {
        visibility: visibility(caller)?,
        state: None,
        category: None,
        retailer_id: None,
        assigned_to: None,
        sort,
        after: after.map(str::to_owned),
        limit: clamp_limit(Some(PAGE_ROWS)),
    })
}

/// `GET /complaints`: the customer's own complaints, newest first.
pub async fn my_complaints(
    state: web::Data<AppState>,
    v: Visitor,
    q: web::Query<ListParams>,
) -> Result<HttpResponse, PageError> {
    let caller = v.require(&[Role::Customer])?.clone();
    let q = q.into_inner();
    let cursor = given(&q.cursor);
    let query = query(&caller, ComplaintSort::Newest, cursor).map_err(|e| v.fail(e))?;
    let (rows, next) = list_page(&state, &v, caller, query).await?;
    render(
        &v,
        "my_complaints.html",
        context! {
            rows => rows,
            more => more_href("/complaints", &[], next.as_deref()),
            paged => cursor.is_some(),
        },
    )
}

/// The choices of the state and category filters.
fn filter_choices(v: &Visitor) -> (Vec<&'static str>, Vec<Label>) {
    let states = ComplaintState::ALL.iter().map(|s| s.code()).collect();
    let categories = taxonomy_document(v.locale)
        .categories
        .into_iter()
        .filter_map(|entry| Category::parse(entry.code).ok())
        .map(|c| category_label(c, v))
        .collect();
    (states, categories)
}

/// `GET /inbox`: the shop's complaints, soonest deadline first (closed
/// ones, with none, last), filtered by state and category.
pub async fn inbox(
    state: web::Data<AppState>,
    v: Visitor,
    q: web::Query<ListParams>,
) -> Result<HttpResponse, PageError> {
    let caller = v.require(&[Role::RetailerStaff])?.clone();
    let q = q.into_inner();
    let state_filter = given(&q.state).and_then(|s| ComplaintState::parse(s).ok());
    let category = given(&q.category).and_then(|c| Category::parse(c).ok());
    let cursor = given(&q.cursor);
    let mut list = query(&caller, ComplaintSort::NextDeadline, cursor).map_err(|e| v.fail(e))?;
    list.state = state_filter;
    list.category = category;
    let (rows, next) = list_page(&state, &v, caller, list).await?;
    let (states, categories) = filter_choices(&v);
    let filters = [
        ("state", state_filter.map(|s| s.code())),
        ("category", category.map(|c| c.code())),
    ];
    render(
        &v,
        "inbox.html",
        context! {
            rows => rows,
            states => states,
            categories => categories,
            chosen_state => state_filter.map(|s| s.code()),
            chosen_category => category.map(|c| c.code()),
            filtered => state_filter.is_some() || category.is_some(),
            more => more_href("/inbox", &filters, next.as_deref()),
            paged => cursor.is_some(),
        },
    )
}

/// `GET /queue`: escalated cases by deadline. A mediator sees those
/// assigned to them and those nobody has taken yet (`?show=mine`: only
/// their own); an admin sees every escalated case and its mediator.
pub async fn queue(
    state: web::Data<AppState>,
    v: Visitor,
    q: web::Query<ListParams>,
) -> Result<HttpResponse, PageError> {
    let caller = v.require(&[Role::Mediator, Role::Admin])?.clone();
    let q = q.into_inner();
    let cursor = given(&q.cursor);
    let mine = caller.role() == Role::Mediator && given(&q.show) == Some("mine");
    let mut list = query(&caller, ComplaintSort::NextDeadline, cursor).map_err(|e| v.fail(e))?;
    list.state = Some(ComplaintState::Escalated);
    list.assigned_to = mine.then(|| caller.id().to_owned());
    let is_admin = caller.is_admin();
    let (rows, next) = list_page(&state, &v, caller, list).await?;
    let filters = [("show", mine.then_some("mine"))];
    render(
        &v,
        "queue.html",
        context! {
            rows => rows,
            mine => mine,
            is_admin => is_admin,
            more => more_href("/queue", &filters, next.as_deref()),
            paged => cursor.is_some(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_more_link_keeps_the_filters_and_encodes_them() {
        assert_eq!(
            more_href(
                "/inbox",
                &[("state", Some("filed")), ("category", None)],
                Some("ab+c")
            )
            .as_deref(),
            Some("/inbox?state=filed&cursor=ab%2Bc")
        );
        assert_eq!(more_href("/inbox", &[], None), None);
    }

    #[test]
    fn an_empty_choice_is_no_filter() {
        assert_eq!(given(&Some("  ".into())), None);
        assert_eq!(given(&Some("filed".into())), Some("filed"));
        assert_eq!(given(&None), None);
    }
}
