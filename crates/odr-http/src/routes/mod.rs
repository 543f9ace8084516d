//! Every route of api.md's main table, registered in one place.

pub(crate) mod admin;
pub(crate) mod attachments;
pub(crate) mod auth;
pub(crate) mod complaints;
pub(crate) mod credentials;
pub(crate) mod export;
pub(crate) mod guest;
pub(crate) mod health;
pub(crate) mod input;
pub(crate) mod me;
pub(crate) mod mediators;
pub(crate) mod metrics;
pub(crate) mod openapi;
pub(crate) mod order_links;
pub(crate) mod paging;
pub(crate) mod retailers;
pub(crate) mod stats;
pub(crate) mod taxonomy;
pub(crate) mod transitions;
pub(crate) mod webhooks;

use actix_web::web::{self, ServiceConfig};

use crate::framework_errors::method_not_allowed;

pub use complaints::may_see;
pub use openapi::{document as openapi_document, ApiDoc, DOCS_CSP};
pub use taxonomy::requested_locale;

/// Registers the routes; each resource answers 405 for other methods.
///
/// actix tries resources in the order given and matches each pattern with
/// a parameter by a regex, one after another (twice per request: the
/// metrics middleware asks for the matched pattern too), so the busiest
/// routes come first: a complaint's event costs a few such matches instead
/// of some twenty-five. No two patterns here overlap except where the order
/// is noted. (`tests/it/openapi.rs` reads this function's source: one
/// level of scope, `/api/v1`, opened after the routes outside it.)
pub fn configure(cfg: &mut ServiceConfig) {
    let resource = |path: &str| web::resource(path).default_service(method_not_allowed());
    cfg.service(resource("/openapi.json").get(openapi::openapi_json))
        .service(resource("/docs").get(openapi::docs_page))
        .service(resource("/docs/docs.js").get(openapi::docs_js))
        .service(resource("/docs/docs.css").get(openapi::docs_css))
        .service(resource("/healthz").get(health::healthz))
        .service(resource("/readyz").get(health::readyz))
        .service(resource("/metrics").get(metrics::metrics))
        .service(resource("/icons/{family}/{file}").get(taxonomy::icon))
        .service(
            web::scope("/api/v1")
                .service(
                    resource("/complaints")
                        .get(complaints::list)
                        .post(complaints::file),
                )
                // Before `/complaints/{id}`, which would take the path.
                .service(resource("/complaints/guest").post(guest::file_as_guest))
                // A complaint's routes, the busiest first.
                .service(resource("/complaints/{id}").get(complaints::get))
                .service(resource("/complaints/{id}/acknowledge").post(transitions::acknowledge))
                .service(resource("/complaints/{id}/offers").post(transitions::offer))
                .service(resource("/complaints/{id}/accept").post(transitions::accept))
                .service(resource("/complaints/{id}/fulfil").post(transitions::fulfil))
                .service(resource("/complaints/{id}/events").get(complaints::events))
                .service(
                    resource("/complaints/{id}/messages")
                        .get(complaints::messages)
                        .post(transitions::post_message),
                )
                .service(resource("/complaints/{id}/reject").post(transitions::reject))
                .service(resource("/complaints/{id}/escalate").post(transitions::escalate))
                .service(resource("/complaints/{id}/mediator").post(transitions::assign_mediator))
                .service(resource("/complaints/{id}/decision").post(transitions::decide))
                .service(resource("/complaints/{id}/withdraw").post(transitions::withdraw))
                .service(resource("/complaints/{id}/feedback").post(transitions::feedback))
                .service(
                    resource("/complaints/{id}/attachments")
                        .get(attachments::list)
                        .post(attachments::upload),
                )
                .service(
                    resource("/complaints/{id}/attachments/{attachment_id}")
                        .get(attachments::download),
                )
                .service(resource("/complaints/{id}/export").get(export::complaint_export))
                .service(resource("/auth/register").post(auth::register))
                .service(resource("/auth/login").post(auth::login))
                .service(resource("/auth/logout").post(auth::logout))
                .service(resource("/auth/magic-link").post(auth::magic_link))
                .service(resource("/auth/magic-link/redeem").post(auth::redeem_magic_link))
                .service(resource("/auth/order-link/redeem").post(order_links::redeem))
                .service(resource("/me/password").put(me::change_password))
                .service(resource("/me").get(me::me).patch(me::update_me))
                .service(resource("/taxonomy").get(taxonomy::taxonomy))
                .service(
                    resource("/mediators")
                        .get(mediators::list)
                        .post(mediators::create),
                )
                .service(resource("/admin/outbox").get(admin::outbox))
                .service(resource("/admin/outbox/{id}/retry").post(admin::retry))
                .service(
                    resource("/retailers")
                        .get(retailers::list)
                        .post(retailers::create),
                )
                .service(
                    resource("/retailers/{id}")
                        .get(retailers::get)
                        .patch(retailers::update),
                )
                .service(
                    resource("/retailers/{id}/staff")
                        .get(retailers::list_staff)
                        .post(retailers::create_staff),
                )
                .service(
                    resource("/retailers/{id}/staff/{user_id}").delete(retailers::remove_staff),
                )
                .service(
                    resource("/retailers/{id}/api-keys")
                        .get(credentials::list_api_keys)
                        .post(credentials::create_api_key),
                )
                .service(
                    resource("/retailers/{id}/api-keys/{key_id}")
                        .delete(credentials::revoke_api_key),
                )
                .service(
                    resource("/retailers/{id}/link-secrets")
                        .get(credentials::list_link_secrets)
                        .post(credentials::create_link_secret),
                )
                .service(
                    resource("/retailers/{id}/link-secrets/{secret_id}")
                        .delete(credentials::revoke_link_secret),
                )
                .service(
                    resource("/retailers/{id}/webhooks")
                        .get(webhooks::list)
                        .post(webhooks::create),
                )
                .service(
                    resource("/retailers/{id}/webhooks/{webhook_id}")
                        .patch(webhooks::update)
                        .delete(webhooks::remove),
                )
                .service(
                    resource("/retailers/{id}/webhooks/{webhook_id}/deliveries")
                        .get(webhooks::deliveries),
                )
                .service(
                    resource(
                        "/retailers/{id}/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver",
                    )
                    .post(webhooks::redeliver),
                )
                .service(resource("/retailers/{id}/stats").get(stats::retailer_stats))
                .service(resource("/retailers/{id}/complaints.csv").get(export::retailer_csv)),
        );
}
