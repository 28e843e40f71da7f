//! The orientation dialogue's memory: a listener proposed a centre; the person is asked
//! consent, then chooses a slot, then may cancel or move it by replying. Held per contact, so
//! a reply to a reminder days later, in a new conversation, still finds it.

use diesel::prelude::*;

use crate::crypto::{self, Secrets};
use crate::db::schema::orientations;
use crate::db::{DbConn, write_tx};
use crate::error::{Error, Result};
use crate::time;

string_enum!(OrientationState {
    AskingConsent => "asking_consent",
    ChoosingSlot => "choosing_slot",
    Booked => "booked",
    Refused => "refused",
    Withdrawn => "withdrawn",
});

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = orientations)]
struct Row {
    id: String,
    conversation_id: String,
    contact_id: String,
    centre_id: String,
    listener_id: String,
    summary_sealed: Vec<u8>,
    state: String,
    page: i32,
    offered: String,
    referral_id: Option<String>,
    appointment_id: Option<String>,
    created_at: chrono::NaiveDateTime,
    updated_at: chrono::NaiveDateTime,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct Orientation {
    pub id: String,
    pub conversation_id: String,
    #[serde(skip)]
    pub contact_id: String,
    pub centre_id: String,
    pub listener_id: String,
    pub state: OrientationState,
    /// Which page of three slots the person last saw.
    pub page: i32,
    /// The slot ids offered on that page, in order.
    #[serde(skip)]
    pub offered: Vec<String>,
    pub referral_id: Option<String>,
    pub appointment_id: Option<String>,
}

fn context(id: &str) -> String {
    format!("orientations.summary:{id}")
}

fn view(r: Row) -> Result<Orientation> {
    Ok(Orientation {
        state: r.state.parse()?,
        offered: serde_json::from_str(&r.offered).unwrap_or_default(),
        id: r.id,
        conversation_id: r.conversation_id,
        contact_id: r.contact_id,
        centre_id: r.centre_id,
        listener_id: r.listener_id,
        page: r.page,
        referral_id: r.referral_id,
        appointment_id: r.appointment_id,
    })
}

/// Starts an orientation; an open one of the same contact is withdrawn. Call in a transaction.
pub fn create(
    conn: &mut DbConn,
    secrets: &Secrets,
    conversation_id: &str,
    contact_id: &str,
    centre_id: &str,
    listener_id: &str,
    summary: &str,
) -> Result<Orientation> {
    write_tx(conn, |conn| {
        diesel::update(
            orientations::table
                .filter(orientations::contact_id.eq(contact_id))
                .filter(orientations::state.eq_any([
                    OrientationState::AskingConsent.as_str(),
                    OrientationState::ChoosingSlot.as_str(),
                ])),
        )
        .set(orientations::state.eq(OrientationState::Withdrawn.as_str()))
        .execute(conn)?;
        let id = uuid::Uuid::new_v4().to_string();
        let now = time::to_db(time::now());
        let row = Row {
            summary_sealed: crypto::seal(&secrets.field_key, &context(&id), summary.as_bytes()),
            id,
            conversation_id: conversation_id.to_owned(),
            contact_id: contact_id.to_owned(),
            centre_id: centre_id.to_owned(),
            listener_id: listener_id.to_owned(),
            state: OrientationState::AskingConsent.as_str().into(),
            page: 0,
            offered: "[]".into(),
            referral_id: None,
            appointment_id: None,
            created_at: now,
            updated_at: now,
        };
        diesel::insert_into(orientations::table).values(&row).execute(conn)?;
        view(row)
    })
}

/// The contact's orientation still in play (asking, choosing, or booked), newest first.
pub fn open_for_contact(conn: &mut DbConn, contact_id: &str) -> Result<Option<Orientation>> {
    let row: Option<Row> = orientations::table
        .filter(orientations::contact_id.eq(contact_id))
        .filter(orientations::state.eq_any([
            OrientationState::AskingConsent.as_str(),
            OrientationState::ChoosingSlot.as_str(),
            OrientationState::Booked.as_str(),
        ]))
        .order(orientations::created_at.desc())
        .select(Row::as_select())
        .first(conn)
        .optional()?;
    row.map(view).transpose()
}

pub fn for_conversation(conn: &mut DbConn, conversation_id: &str) -> Result<Vec<Orientation>> {
    let rows: Vec<Row> = orientations::table
        .filter(orientations::conversation_id.eq(conversation_id))
        .order(orientations::created_at.asc())
        .select(Row::as_select())
        .load(conn)?;
    rows.into_iter().map(view).collect()
}

pub fn by_appointment(conn: &mut DbConn, appointment_id: &str) -> Result<Option<Orientation>> {
    let row: Option<Row> = orientations::table
        .filter(orientations::appointment_id.eq(appointment_id))
        .select(Row::as_select())
        .first(conn)
        .optional()?;
    row.map(view).transpose()
}

pub fn summary(conn: &mut DbConn, secrets: &Secrets, id: &str) -> Result<String> {
    let sealed: Vec<u8> = orientations::table
        .find(id)
        .select(orientations::summary_sealed)
        .first(conn)?;
    let bytes = crypto::open(&secrets.field_key, &context(id), &sealed)
        .map_err(|_| Error::Internal("an orientation summary could not be opened".into()))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

pub fn save(conn: &mut DbConn, o: &Orientation) -> Result<()> {
    write_tx(conn, |conn| {
        diesel::update(orientations::table.find(&o.id))
            .set((
                orientations::state.eq(o.state.as_str()),
                orientations::page.eq(o.page),
                orientations::offered.eq(serde_json::to_string(&o.offered).unwrap_or_else(|_| "[]".into())),
                orientations::referral_id.eq(&o.referral_id),
                orientations::appointment_id.eq(&o.appointment_id),
                orientations::updated_at.eq(time::to_db(time::now())),
            ))
            .execute(conn)?;
        Ok(())
    })
}
