//! The tables as diesel sees them; kept by hand in step with `migrations/`
//! (the parity test checks that both backends agree with each other).
//! Only portable SQL types: `Text` (ids, JSON), `BigInt`, `Bool`, naive-UTC
//! `Timestamp`.

diesel::table! {
    settings (key) {
        key -> Text,
        value -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    retailers (id) {
        id -> Text,
        name -> Text,
        support_email -> Text,
        locale -> Text,
        currency -> Text,
        time_zone -> Text,
        business_days -> Bool,
        /// JSON array.
        holidays -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        email -> Text,
        password_hash -> Nullable<Text>,
        display_name -> Text,
        /// customer | retailer_staff | mediator | admin
        role -> Text,
        retailer_id -> Nullable<Text>,
        locale -> Text,
        time_zone -> Text,
        /// Bumped to invalidate every session token issued before.
        session_epoch -> BigInt,
        disabled_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    complaints (id) {
        id -> Text,
        reference -> Text,
        retailer_id -> Text,
        customer_id -> Text,
        mediator_id -> Nullable<Text>,
        state -> Text,
        outcome -> Nullable<Text>,
        category -> Text,
        order_reference -> Text,
        next_deadline_at -> Nullable<Timestamp>,
        /// The serialized domain aggregate (JSON).
        machine -> Text,
        /// Optimistic-concurrency counter, bumped by every transition.
        version -> BigInt,
        last_seq -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        /// The soonest running deadline (`sort=next_deadline`); NULL when
        /// none runs.
        due_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    complaint_events (complaint_id, seq) {
        complaint_id -> Text,
        seq -> BigInt,
        #[sql_name = "type"]
        event_type -> Text,
        actor_id -> Nullable<Text>,
        actor_role -> Text,
        from_state -> Nullable<Text>,
        to_state -> Text,
        payload -> Text,
        at -> Timestamp,
    }
}

diesel::table! {
    /// Evidence files; the bytes live under the attachment directory.
    attachments (id) {
        id -> Text,
        complaint_id -> Text,
        seq -> BigInt,
        uploaded_by -> Text,
        uploader_role -> Text,
        file_name -> Text,
        content_type -> Text,
        size -> BigInt,
        /// Lowercase hex SHA-256 of the bytes.
        sha256 -> Text,
        caption -> Nullable<Text>,
        storage_key -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    messages (id) {
        id -> Text,
        complaint_id -> Text,
        seq -> BigInt,
        author_id -> Text,
        author_role -> Text,
        body -> Nullable<Text>,
        /// JSON array of phrase codes.
        phrase_codes -> Text,
        created_at -> Timestamp,
        /// JSON array of the ids of attachments the message points at.
        attachment_ids -> Text,
    }
}

diesel::table! {
    outbox (id) {
        id -> Text,
        complaint_id -> Nullable<Text>,
        event_seq -> Nullable<BigInt>,
        template -> Text,
        recipient_role -> Text,
        recipient_user_id -> Nullable<Text>,
        to_address -> Text,
        locale -> Text,
        payload -> Text,
        status -> Text,
        attempts -> BigInt,
        last_error -> Nullable<Text>,
        available_at -> Timestamp,
        /// Lease of the worker that claimed the row, with its `claim_token`.
        locked_until -> Nullable<Timestamp>,
        claim_token -> Nullable<Text>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// The first answer to each (caller, `Idempotency-Key`).
    idempotency_keys (owner, key) {
        owner -> Text,
        key -> Text,
        request_hash -> Text,
        /// `running` until the first answer is stored, then `done`.
        state -> Text,
        response_status -> Nullable<BigInt>,
        /// JSON object of the kept headers (Location, Content-Type, ETag).
        response_headers -> Nullable<Text>,
        response_body -> Nullable<Text>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    /// Single-use sign-in links; only a SHA-256 of the mailed token is kept.
    magic_links (token_hash) {
        token_hash -> Text,
        user_id -> Nullable<Text>,
        email -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        /// A complaint waiting for this link (JSON); NULL for a sign-in link.
        filing -> Nullable<Text>,
    }
}

diesel::table! {
    /// The customer's rating of a closed complaint, at most one each.
    feedback (complaint_id) {
        complaint_id -> Text,
        seq -> BigInt,
        customer_id -> Text,
        /// 1 (not at all satisfied) to 5 (very satisfied).
        score -> BigInt,
        comment -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    /// A shop's API keys; only a SHA-256 (hex) of the key is kept. Each has
    /// a backing `users` row (`user_id`) that its actions are attributed to.
    api_keys (id) {
        id -> Text,
        retailer_id -> Text,
        user_id -> Text,
        name -> Text,
        key_hash -> Text,
        created_by -> Nullable<Text>,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// Secrets a shop signs order links with; `secret` is sealed
    /// (`SecretKeeper`).
    link_secrets (id) {
        id -> Text,
        retailer_id -> Text,
        name -> Text,
        secret -> Text,
        created_by -> Nullable<Text>,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// A shop's webhook endpoints; `secret` is sealed, `events` a JSON array.
    webhook_endpoints (id) {
        id -> Text,
        retailer_id -> Text,
        url -> Text,
        events -> Text,
        secret -> Text,
        enabled -> Bool,
        failing_since -> Nullable<Timestamp>,
        disabled_at -> Nullable<Timestamp>,
        created_by -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    /// A complaint event some endpoint subscribed to; `body` is sent as is.
    webhook_events (id) {
        id -> Text,
        event_type -> Text,
        complaint_id -> Text,
        seq -> BigInt,
        body -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    /// One event to one endpoint: the delivery log and the worker's queue.
    webhook_deliveries (id) {
        id -> Text,
        endpoint_id -> Text,
        event_id -> Text,
        status -> Text,
        attempts -> BigInt,
        last_status_code -> Nullable<BigInt>,
        last_error -> Nullable<Text>,
        available_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
        claim_token -> Nullable<Text>,
        created_at -> Timestamp,
        delivered_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(users -> retailers (retailer_id));
diesel::joinable!(complaints -> retailers (retailer_id));
// complaints has two keys into users (customer_id, mediator_id); joinable!
// allows one per pair, so neither is declared: join with an explicit `on`.
diesel::joinable!(complaint_events -> complaints (complaint_id));
diesel::joinable!(messages -> complaints (complaint_id));
diesel::joinable!(attachments -> complaints (complaint_id));
diesel::joinable!(attachments -> users (uploaded_by));
diesel::joinable!(messages -> users (author_id));
diesel::joinable!(outbox -> complaints (complaint_id));
diesel::joinable!(feedback -> complaints (complaint_id));
diesel::joinable!(api_keys -> retailers (retailer_id));
diesel::joinable!(api_keys -> users (user_id));
diesel::joinable!(link_secrets -> retailers (retailer_id));
diesel::joinable!(webhook_endpoints -> retailers (retailer_id));
diesel::joinable!(webhook_events -> complaints (complaint_id));
diesel::joinable!(webhook_deliveries -> webhook_endpoints (endpoint_id));
diesel::joinable!(webhook_deliveries -> webhook_events (event_id));

diesel::allow_tables_to_appear_in_same_query!(
    settings,
    retailers,
    users,
    complaints,
    complaint_events,
    messages,
    attachments,
    outbox,
    idempotency_keys,
    magic_links,
    feedback,
    api_keys,
    link_secrets,
    webhook_endpoints,
    webhook_events,
    webhook_deliveries,
);
