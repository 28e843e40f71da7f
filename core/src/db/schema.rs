//! One schema for both backends: only types that map the same way on SQLite and PostgreSQL.

diesel::table! {
    organisations (id) {
        id -> Text,
        kind -> Text,
        name -> Text,
        timezone -> Text,
        coverage -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        active -> Bool,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        organisation_id -> Text,
        email -> Text,
        display_name -> Text,
        password_hash -> Text,
        roles -> Text,
        totp_secret -> Nullable<Binary>,
        totp_enabled -> Bool,
        totp_last_step -> Nullable<BigInt>,
        active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        user_id -> Text,
        second_factor -> Bool,
        created_at -> Timestamp,
        last_used_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        revoked_reason -> Nullable<Text>,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> Text,
        session_id -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    login_throttle (subject) {
        subject -> Text,
        failures -> Integer,
        last_failure_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
        lockouts -> Integer,
    }
}

diesel::table! {
    api_keys (id) {
        id -> Text,
        organisation_id -> Text,
        name -> Text,
        prefix -> Text,
        key_hash -> Text,
        created_by -> Nullable<Text>,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    audit_log (seq) {
        seq -> BigInt,
        id -> Text,
        at -> Timestamp,
        actor_type -> Text,
        actor_id -> Nullable<Text>,
        organisation_id -> Nullable<Text>,
        action -> Text,
        object_type -> Nullable<Text>,
        object_id -> Nullable<Text>,
        details -> Text,
        prev_hash -> Text,
        hash -> Text,
    }
}

diesel::table! {
    enrolment_codes (user_id) {
        user_id -> Text,
        code_hash -> Text,
        issued_by -> Nullable<Text>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(users -> organisations (organisation_id));
diesel::joinable!(enrolment_codes -> users (user_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(refresh_tokens -> sessions (session_id));
diesel::joinable!(api_keys -> organisations (organisation_id));

diesel::allow_tables_to_appear_in_same_query!(
    organisations,
    users,
    sessions,
    refresh_tokens,
    login_throttle,
    enrolment_codes,
    api_keys,
    audit_log,
);

diesel::table! {
    contacts (id) {
        id -> Text,
        channel -> Text,
        address_hmac -> Text,
        address_sealed -> Binary,
        alias -> Text,
        kind -> Text,
        language -> Text,
        status -> Text,
        flag -> Nullable<Text>,
        flag_until -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    conversations (id) {
        id -> Text,
        contact_id -> Text,
        channel -> Text,
        state -> Text,
        step -> Text,
        priority -> Integer,
        waiting_since -> Nullable<Timestamp>,
        acknowledged -> Bool,
        led_to_something -> Bool,
        close_reason -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        last_message_at -> Timestamp,
        closed_at -> Nullable<Timestamp>,
        listener_id -> Nullable<Text>,
        assigned_at -> Nullable<Timestamp>,
        outcome -> Nullable<Text>,
        summary_sealed -> Nullable<Binary>,
        told_position -> Nullable<Integer>,
        flag -> Nullable<Text>,
        not_understood -> Integer,
    }
}

diesel::table! {
    messages (id) {
        id -> Text,
        conversation_id -> Text,
        direction -> Text,
        author -> Text,
        body_sealed -> Binary,
        delivery -> Nullable<Text>,
        created_at -> Timestamp,
        position -> Integer,
    }
}

diesel::table! {
    inbound_receipts (channel, provider_id) {
        channel -> Text,
        provider_id -> Text,
        received_at -> Timestamp,
    }
}

diesel::table! {
    outbox (id) {
        id -> Text,
        channel -> Text,
        chat_key -> Text,
        conversation_id -> Nullable<Text>,
        message_id -> Nullable<Text>,
        destination_sealed -> Binary,
        payload_sealed -> Binary,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        locked_by -> Nullable<Text>,
        locked_until -> Nullable<Timestamp>,
        provider_message_id -> Nullable<Text>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        position -> Integer,
        sent_at -> Nullable<Timestamp>,
        claim_token -> Nullable<Text>,
        urgency -> Integer,
    }
}

diesel::joinable!(conversations -> contacts (contact_id));
diesel::joinable!(messages -> conversations (conversation_id));
diesel::allow_tables_to_appear_in_same_query!(contacts, conversations, messages, inbound_receipts, outbox);

diesel::table! {
    conversation_notes (id) {
        id -> Text,
        conversation_id -> Text,
        author_id -> Text,
        body_sealed -> Binary,
        created_at -> Timestamp,
    }
}

diesel::table! {
    canned_replies (id) {
        id -> Text,
        language -> Text,
        title -> Text,
        body -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    phone_calls (id) {
        id -> Text,
        listener_id -> Text,
        started_at -> Timestamp,
        duration_seconds -> Integer,
        caller_kind -> Text,
        topics -> Text,
        outcome -> Text,
        centre_id -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::allow_tables_to_appear_in_same_query!(conversations, conversation_notes, users);

diesel::table! {
    live_events (seq) {
        seq -> BigInt,
        at -> Timestamp,
        kind -> Text,
        conversation_id -> Nullable<Text>,
        message_id -> Nullable<Text>,
        listener_id -> Nullable<Text>,
        detail -> Nullable<Text>,
        organisation_id -> Nullable<Text>,
        object_id -> Nullable<Text>,
    }
}

diesel::table! {
    centre_profiles (organisation_id) {
        organisation_id -> Text,
        phone -> Nullable<Text>,
        notify_email -> Nullable<Text>,
        what_to_bring_fr -> Text,
        what_to_bring_en -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    referrals (id) {
        id -> Text,
        source_org_id -> Text,
        target_org_id -> Text,
        source_snapshot -> Text,
        target_snapshot -> Text,
        subject_alias -> Text,
        conversation_id -> Nullable<Text>,
        summary_sealed -> Binary,
        status -> Text,
        legal_basis -> Text,
        consent_at -> Nullable<Timestamp>,
        authority -> Nullable<Text>,
        decision_reference -> Nullable<Text>,
        order_ends_on -> Nullable<Date>,
        rejection_reason -> Nullable<Text>,
        created_by -> Text,
        created_at -> Timestamp,
        decided_by -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
        done_by -> Nullable<Text>,
        done_at -> Nullable<Timestamp>,
        revoked_by -> Nullable<Text>,
        revoked_at -> Nullable<Timestamp>,
        updated_at -> Timestamp,
        partner_reference -> Nullable<Text>,
    }
}

diesel::table! {
    availabilities (id) {
        id -> Text,
        organisation_id -> Text,
        practitioner_id -> Nullable<Text>,
        modality -> Text,
        location -> Text,
        first_start -> Timestamp,
        duration_minutes -> Integer,
        seats -> Integer,
        weekly -> Bool,
        repeat_until -> Nullable<Date>,
        buffer_minutes -> Integer,
        booking_notice_minutes -> Integer,
        cancellation_notice_minutes -> Integer,
        created_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    slots (id) {
        id -> Text,
        availability_id -> Text,
        organisation_id -> Text,
        practitioner_id -> Nullable<Text>,
        starts_at -> Timestamp,
        ends_at -> Timestamp,
        seats -> Integer,
        booked -> Integer,
        modality -> Text,
        location -> Text,
        buffer_minutes -> Integer,
        booking_notice_minutes -> Integer,
        cancellation_notice_minutes -> Integer,
        withdrawn -> Bool,
    }
}

diesel::table! {
    appointments (id) {
        id -> Text,
        slot_id -> Text,
        organisation_id -> Text,
        referral_id -> Nullable<Text>,
        conversation_id -> Nullable<Text>,
        subject_alias -> Text,
        status -> Text,
        cancellation_reason -> Nullable<Text>,
        reminded_day_before -> Bool,
        reminded_two_hours -> Bool,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    orientations (id) {
        id -> Text,
        conversation_id -> Text,
        contact_id -> Text,
        centre_id -> Text,
        listener_id -> Text,
        summary_sealed -> Binary,
        state -> Text,
        page -> Integer,
        offered -> Text,
        referral_id -> Nullable<Text>,
        appointment_id -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    idempotency_keys (scope, key) {
        scope -> Text,
        key -> Text,
        route -> Text,
        status -> Integer,
        body -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    calendar_feeds (user_id) {
        user_id -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    email_outbox (id) {
        id -> Text,
        to_address -> Text,
        subject -> Text,
        body -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
        claim_token -> Nullable<Text>,
    }
}

diesel::table! {
    appointment_corrections (id) {
        id -> Text,
        appointment_id -> Text,
        from_status -> Text,
        to_status -> Text,
        reason -> Text,
        corrected_by -> Text,
        corrected_at -> Timestamp,
    }
}

diesel::joinable!(appointments -> slots (slot_id));
diesel::allow_tables_to_appear_in_same_query!(appointments, slots, referrals, organisations);

diesel::table! {
    centre_services (id) {
        id -> Text,
        organisation_id -> Text,
        kind -> Text,
        description -> Text,
        position -> Integer,
    }
}

diesel::table! {
    centre_locations (id) {
        id -> Text,
        organisation_id -> Text,
        name -> Text,
        address -> Text,
        postal_code -> Text,
        city -> Text,
        departement -> Text,
        latitude -> Nullable<Double>,
        longitude -> Nullable<Double>,
        opening_hours -> Text,
        position -> Integer,
    }
}

diesel::table! {
    cases (id) {
        id -> Text,
        organisation_id -> Text,
        referral_id -> Nullable<Text>,
        appointment_id -> Nullable<Text>,
        origin -> Text,
        legal_basis -> Text,
        identity_sealed -> Nullable<Binary>,
        status -> Text,
        close_reason -> Nullable<Text>,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        closed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    case_practitioners (case_id, user_id) {
        case_id -> Text,
        user_id -> Text,
    }
}

diesel::table! {
    measures (id) {
        id -> Text,
        case_id -> Text,
        kind -> Text,
        authority -> Text,
        decision_reference -> Text,
        starts_on -> Date,
        ends_on -> Nullable<Date>,
        sessions_required -> Nullable<Integer>,
        zone_sealed -> Nullable<Binary>,
        created_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    protected_persons (id) {
        id -> Text,
        case_id -> Text,
        label -> Text,
        location_sealed -> Binary,
        radius_km -> Integer,
        created_by -> Text,
        created_at -> Timestamp,
        disc_sealed -> Nullable<Binary>,
    }
}

diesel::table! {
    measure_protected_persons (measure_id, protected_person_id) {
        measure_id -> Text,
        protected_person_id -> Text,
    }
}

diesel::table! {
    case_sessions (id) {
        id -> Text,
        case_id -> Text,
        kind -> Text,
        planned_at -> Timestamp,
        status -> Text,
        appointment_id -> Nullable<Text>,
        measure_id -> Nullable<Text>,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    case_note_corrections (id) {
        id -> Text,
        note_id -> Text,
        case_id -> Text,
        author_id -> Text,
        body_sealed -> Binary,
        reason_sealed -> Binary,
        created_at -> Timestamp,
    }
}

diesel::table! {
    case_notes (id) {
        id -> Text,
        case_id -> Text,
        author_id -> Text,
        body_sealed -> Binary,
        created_at -> Timestamp,
    }
}

diesel::table! {
    case_tasks (id) {
        id -> Text,
        case_id -> Text,
        title -> Text,
        due_on -> Date,
        done_at -> Nullable<Timestamp>,
        created_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    certificates (id) {
        id -> Text,
        case_id -> Text,
        organisation_id -> Text,
        measure_id -> Nullable<Text>,
        code_hmac -> Text,
        content_sealed -> Binary,
        issued_by -> Text,
        issued_at -> Timestamp,
    }
}

diesel::table! {
    webhook_endpoints (organisation_id) {
        organisation_id -> Text,
        url -> Text,
        secret_sealed -> Binary,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Text,
        organisation_id -> Text,
        case_id -> Nullable<Text>,
        event_type -> Text,
        payload -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
        last_status -> Nullable<Integer>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        delivered_at -> Nullable<Timestamp>,
        claim_token -> Nullable<Text>,
    }
}

diesel::table! {
    webhook_attempts (id) {
        id -> Text,
        delivery_id -> Text,
        attempted_at -> Timestamp,
        status_code -> Nullable<Integer>,
        error -> Nullable<Text>,
        duration_ms -> BigInt,
    }
}

diesel::allow_tables_to_appear_in_same_query!(webhook_deliveries, webhook_endpoints);

diesel::table! {
    housing_offers (id) {
        id -> Text,
        organisation_id -> Text,
        kind -> Text,
        name -> Text,
        provider -> Text,
        address -> Text,
        commune -> Text,
        departement -> Text,
        region -> Text,
        latitude -> Double,
        longitude -> Double,
        capacity -> Integer,
        price_cents -> BigInt,
        accessible -> Bool,
        pets -> Bool,
        couples -> Bool,
        hosts_victims -> Bool,
        available_from -> Date,
        available_until -> Nullable<Date>,
        active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    housing_offer_nights (offer_id, night) {
        offer_id -> Text,
        night -> Date,
        booked -> Integer,
    }
}

diesel::table! {
    housing_requests (id) {
        id -> Text,
        case_id -> Nullable<Text>,
        organisation_id -> Text,
        referral_id -> Text,
        first_night -> Date,
        last_night -> Date,
        urgency -> Text,
        needs_accessible -> Bool,
        needs_pets -> Bool,
        needs_couple -> Bool,
        court_eviction -> Bool,
        status -> Text,
        unmet_reason -> Nullable<Text>,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        radius_factor -> Double,
    }
}

diesel::table! {
    housing_placements (id) {
        id -> Text,
        offer_id -> Text,
        request_id -> Nullable<Text>,
        case_id -> Nullable<Text>,
        organisation_id -> Text,
        source -> Text,
        status -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        radius_factor -> Double,
    }
}

diesel::table! {
    housing_placement_nights (placement_id, night) {
        placement_id -> Text,
        night -> Date,
        funding -> Text,
        price_cents -> BigInt,
    }
}

diesel::table! {
    housing_index_version (id) {
        id -> Integer,
        version -> BigInt,
    }
}

diesel::joinable!(housing_placement_nights -> housing_placements (placement_id));
diesel::joinable!(housing_placements -> housing_offers (offer_id));
diesel::allow_tables_to_appear_in_same_query!(
    housing_placement_nights,
    housing_placements,
    housing_offers,
    housing_requests
);

diesel::table! {
    inventory_reports (week) {
        week -> Text,
        sent_at -> Timestamp,
    }
}

diesel::table! {
    webchat_sessions (token_hmac) {
        token_hmac -> Text,
        created_at -> Timestamp,
        last_used_at -> Timestamp,
    }
}

diesel::table! {
    security_activity (id) {
        id -> Text,
        account_id -> Text,
        kind -> Text,
        subject_id -> Nullable<Text>,
        latitude -> Nullable<Double>,
        longitude -> Nullable<Double>,
        version -> Nullable<BigInt>,
        at -> Timestamp,
    }
}

diesel::table! {
    security_alerts (id) {
        id -> Text,
        kind -> Text,
        account_id -> Text,
        organisation_id -> Nullable<Text>,
        subject_id -> Nullable<Text>,
        count -> BigInt,
        threshold -> BigInt,
        suspended -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    push_subscriptions (id) {
        id -> Text,
        user_id -> Text,
        organisation_id -> Text,
        session_id -> Text,
        subscription_sealed -> Binary,
        device -> Text,
        created_at -> Timestamp,
        last_sent_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    push_outbox (id) {
        id -> Text,
        subscription_id -> Text,
        topic -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
        claim_token -> Nullable<Text>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
    }
}

diesel::allow_tables_to_appear_in_same_query!(push_subscriptions, users);
diesel::allow_tables_to_appear_in_same_query!(push_subscriptions, organisations);
diesel::allow_tables_to_appear_in_same_query!(push_subscriptions, push_outbox);
diesel::allow_tables_to_appear_in_same_query!(push_subscriptions, sessions);
diesel::allow_tables_to_appear_in_same_query!(push_subscriptions, refresh_tokens);
