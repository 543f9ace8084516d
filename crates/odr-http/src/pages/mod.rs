//! The web pages: server-rendered HTML for customers, retailer staff,
//! mediators and admins, served by the same binary as the API.
//!
//! Why server-rendered (docs/web.md): every page is built from the same
//! store calls and the same domain answers as the API (`allowed_actions`
//! decides which buttons appear), forms work without JavaScript, the
//! templates and assets are embedded with `include_str!`, and there is no
//! second toolchain to build or keep secure. A little progressive
//! enhancement (`assets/app.js`) adds comfort, never function.
//!
//! - `render`: the templates, their words in five languages, the page frame;
//! - `session`: who is visiting (session cookie), their language, the
//!   CSRF token and the form extractor that checks it;
//! - `failure`: what a page shows when something is refused or breaks;
//! - `words`: times and durations in words ("2 days 4 hours left for the
//!   shop to answer");
//! - `account`: home, sign-in (password and magic link), register,
//!   sign-out, the language switch; `assets`: CSS, script, favicon.
//! - `lists`: a customer's complaints, the shop's inbox, the mediation
//!   queue; `admin`: retailers, staff, mediators, assigning, dead mail;
//!   `dashboard` and `charts`: a shop's statistics as server-drawn SVG.
//! - `complaint`: filing by icons, and one complaint's page (timeline,
//!   offer card, case file, messages, evidence, feedback) with its forms;
//!   `case_file`: the printable case file and the JSON export for the session.
//! - `report`: where a shop's order link lands, and filing without an
//!   account (both on the filing form of `complaint`).
//! - `integration`: a shop's API keys, order-link secrets and webhooks.

mod account;
mod admin;
mod assets;
mod case_file;
mod charts;
mod complaint;
mod dashboard;
mod failure;
mod integration;
mod lists;
mod render;
mod report;
mod session;
mod words;

use actix_web::web::{self, ServiceConfig};

use crate::framework_errors::method_not_allowed;
use complaint::{
    transition, AcceptForm, Acknowledge, DecisionForm, EscalateForm, FeedbackForm, Fulfil,
    MediatorForm, NoteForm, OfferForm, RejectForm, WithdrawForm,
};

pub use failure::{fallback, PageError};
pub use render::{render, Strings};
pub use session::{PageForm, Visitor};
pub use words::{complaint_time_left, duration_in_words, time_left, TimeLeft};

/// Registers the pages; each resource answers 405 for other methods.
pub fn configure(cfg: &mut ServiceConfig) {
    let resource = |path: &str| web::resource(path).default_service(method_not_allowed());
    cfg.service(resource("/").get(account::home))
        .service(
            resource("/sign-in")
                .get(account::sign_in_page)
                .post(account::sign_in),
        )
        .service(resource("/sign-in/link").post(account::send_link))
        .service(resource("/sign-in/redeem").post(account::redeem_link))
        .service(
            resource("/register")
                .get(account::register_page)
                .post(account::register),
        )
        .service(resource("/sign-out").post(account::sign_out))
        // A shop's order link and filing without an account (`report`).
        .service(resource("/report").get(report::report).post(report::send))
        .service(resource("/report/order").get(report::order))
        .service(resource("/locale").post(account::switch_locale))
        // The complaint pages (`complaint`): `/complaints/new` before
        // `/complaints/{id}`.
        .service(
            resource("/complaints/new")
                .get(complaint::new_page)
                .post(complaint::file),
        )
        .service(resource("/complaints/{id}").get(complaint::page))
        .service(resource("/complaints/{id}/evidence/{attachment_id}").get(complaint::download))
        .service(resource("/complaints/{id}/case-file").get(case_file::print))
        .service(resource("/complaints/{id}/export.json").get(case_file::export_json))
        .service(resource("/complaints/{id}/acknowledge").post(transition::<NoteForm<Acknowledge>>))
        .service(resource("/complaints/{id}/offers").post(transition::<OfferForm>))
        .service(resource("/complaints/{id}/accept").post(transition::<AcceptForm>))
        .service(resource("/complaints/{id}/reject").post(transition::<RejectForm>))
        .service(resource("/complaints/{id}/escalate").post(transition::<EscalateForm>))
        .service(resource("/complaints/{id}/fulfil").post(transition::<NoteForm<Fulfil>>))
        .service(resource("/complaints/{id}/mediator").post(transition::<MediatorForm>))
        .service(resource("/complaints/{id}/decision").post(transition::<DecisionForm>))
        .service(resource("/complaints/{id}/withdraw").post(transition::<WithdrawForm>))
        .service(resource("/complaints/{id}/messages").post(complaint::message))
        .service(resource("/complaints/{id}/evidence").post(complaint::evidence))
        .service(resource("/complaints/{id}/feedback").post(transition::<FeedbackForm>))
        .service(resource("/assets/{file}").get(assets::asset));
    // The staff pages. `/complaints` is one resource: a POST to it (filing)
    // belongs on this line, not on a second resource of the same path.
    cfg.service(resource("/complaints").get(lists::my_complaints))
        .service(resource("/inbox").get(lists::inbox))
        .service(resource("/queue").get(lists::queue))
        .service(resource("/dashboard").get(dashboard::dashboard))
        .service(resource("/admin").get(admin::overview))
        .service(resource("/admin/retailers").post(admin::create_retailer_form))
        .service(resource("/admin/retailers/{id}").get(admin::retailer))
        .service(resource("/admin/retailers/{id}/staff").post(admin::add_staff_form))
        .service(
            resource("/admin/retailers/{id}/staff/{user_id}/remove").post(admin::remove_staff_form),
        )
        .service(resource("/admin/mediators").post(admin::create_mediator_form))
        .service(resource("/admin/complaints/{id}/mediator").post(admin::assign_mediator_form))
        .service(resource("/admin/mail").get(admin::mail))
        .service(resource("/admin/mail/{id}/retry").post(admin::retry_mail_form));
    // A shop's API keys, link secrets and webhooks (`integration`).
    cfg.service(resource("/integration").get(integration::page))
        .service(resource("/integration/api-keys").post(integration::create_api_key_form))
        .service(
            resource("/integration/api-keys/{id}/revoke").post(integration::revoke_api_key_form),
        )
        .service(resource("/integration/link-secrets").post(integration::create_link_secret_form))
        .service(
            resource("/integration/link-secrets/{id}/revoke")
                .post(integration::revoke_link_secret_form),
        )
        .service(resource("/integration/webhooks").post(integration::create_webhook_form))
        .service(
            resource("/integration/webhooks/{id}/delete").post(integration::delete_webhook_form),
        )
        .service(
            resource("/integration/webhooks/{id}/enable").post(integration::enable_webhook_form),
        )
        .service(
            resource("/integration/webhooks/{id}/deliveries/{delivery_id}/redeliver")
                .post(integration::redeliver_form),
        );
}
