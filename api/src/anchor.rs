//! Publishes the audit chain's head now and then (see `relais_core::audit::anchor`).

use actix_web::web;

use crate::state::AppState;

pub fn start(state: &web::Data<AppState>) {
    let shared = state.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(shared.settings.audit.anchor_seconds));
        loop {
            tick.tick().await;
            let inner = shared.clone();
            match shared
                .db(move |conn| {
                    relais_core::audit::anchor::publish_and_mail(
                        conn,
                        &inner.secrets,
                        &inner.settings.audit.anchor_file,
                        &inner.settings.audit.anchor_recipients,
                    )
                })
                .await
            {
                Ok(Some(_)) => tracing::info!("audit head anchored"),
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "audit anchor failed"),
            }
        }
    });
}
