//! Contacts: one per channel address, found by a keyed HMAC of `channel:address`. The
//! address is sealed (AEAD) and opened only by the delivery worker; staff see an alias.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::model::{Channel, ContactFlag, ContactKind, ContactStatus, Language};
use crate::crypto::{self, Secrets};
use crate::db::schema::{contacts, conversations, messages, outbox};
use crate::db::{DbConn, write_tx};
use crate::error::{Error, Result};
use crate::time;

#[derive(Queryable, Selectable, Insertable, Clone, Debug)]
#[diesel(table_name = contacts)]
struct Row {
    id: String,
    channel: String,
    address_hmac: String,
    address_sealed: Vec<u8>,
    alias: String,
    kind: String,
    language: String,
    status: String,
    flag: Option<String>,
    flag_until: Option<chrono::NaiveDateTime>,
    created_at: chrono::NaiveDateTime,
    updated_at: chrono::NaiveDateTime,
}

/// A contact as the rest of the system sees it: never its address.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Contact {
    pub id: String,
    pub channel: Channel,
    pub alias: String,
    pub kind: ContactKind,
    pub language: Language,
    pub status: ContactStatus,
    pub flag: Option<ContactFlag>,
    pub flag_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    #[serde(skip)]
    pub address_hmac: String,
}

impl Row {
    fn to_model(&self) -> Contact {
        Contact {
            id: self.id.clone(),
            channel: self.channel.parse().unwrap_or(Channel::WebChat),
            alias: self.alias.clone(),
            kind: self.kind.parse().unwrap_or(ContactKind::Unknown),
            language: self.language.parse().unwrap_or(Language::French),
            status: self.status.parse().unwrap_or(ContactStatus::Active),
            flag: self.flag.as_deref().and_then(|f| f.parse().ok()),
            flag_until: self.flag_until.map(time::from_db),
            created_at: time::from_db(self.created_at),
            address_hmac: self.address_hmac.clone(),
        }
    }
}

impl Contact {
    /// Whether messages from this contact are dropped at the door now.
    pub fn is_blocked(&self, now: DateTime<Utc>) -> bool {
        self.flag == Some(ContactFlag::Blocked) && self.flag_until.is_none_or(|until| until > now)
    }
}

/// The keyed lookup value of an address. Also the lock and ordering key of its chat.
pub fn address_key(secrets: &Secrets, channel: Channel, address: &str) -> String {
    crypto::hmac_hex(
        &secrets.hmac_pepper,
        "contact-address",
        format!("{channel}:{address}").as_bytes(),
    )
}

fn seal_context(key: &str) -> String {
    format!("contacts.address:{key}")
}

/// Seals an address for the outbox or the contact row.
pub fn seal_address(secrets: &Secrets, key: &str, address: &str) -> Vec<u8> {
    crypto::seal(&secrets.field_key, &seal_context(key), address.as_bytes())
}

/// A contact's address key and sealed address, to queue a message to them.
pub fn sealed_address(conn: &mut DbConn, id: &str) -> Result<(String, Vec<u8>)> {
    Ok(contacts::table
        .find(id)
        .select((contacts::address_hmac, contacts::address_sealed))
        .first(conn)?)
}

/// Opens a sealed address: the delivery worker only.
pub fn open_address(secrets: &Secrets, key: &str, sealed: &[u8]) -> Result<String> {
    let bytes = crypto::open(&secrets.field_key, &seal_context(key), sealed)
        .map_err(|_| Error::Internal("a sealed address could not be opened".into()))?;
    String::from_utf8(bytes).map_err(|_| Error::Internal("a sealed address is not text".into()))
}

fn new_alias() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let bytes = crypto::random_bytes::<4>();
    let code: String = bytes
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect();
    format!("Contact {code}")
}

/// Finds the contact of an address, or creates it. Call inside the ingestion transaction.
pub fn find_or_create(
    conn: &mut DbConn,
    secrets: &Secrets,
    channel: Channel,
    address: &str,
) -> Result<(Contact, bool)> {
    write_tx(conn, |conn| {
        let key = address_key(secrets, channel, address);
        if let Some(row) = contacts::table
            .filter(contacts::address_hmac.eq(&key))
            .select(Row::as_select())
            .first(conn)
            .optional()?
        {
            return Ok((row.to_model(), false));
        }
        let now = time::to_db(time::now());
        let row = Row {
            id: uuid::Uuid::new_v4().to_string(),
            channel: channel.as_str().to_owned(),
            address_sealed: seal_address(secrets, &key, address),
            address_hmac: key,
            alias: new_alias(),
            kind: ContactKind::Unknown.as_str().to_owned(),
            language: Language::French.as_str().to_owned(),
            status: ContactStatus::Active.as_str().to_owned(),
            flag: None,
            flag_until: None,
            created_at: now,
            updated_at: now,
        };
        diesel::insert_into(contacts::table).values(&row).execute(conn)?;
        Ok((row.to_model(), true))
    })
}

pub fn find_by_key(conn: &mut DbConn, key: &str) -> Result<Option<Contact>> {
    Ok(contacts::table
        .filter(contacts::address_hmac.eq(key))
        .select(Row::as_select())
        .first(conn)
        .optional()?
        .map(|r| r.to_model()))
}

pub fn get(conn: &mut DbConn, id: &str) -> Result<Contact> {
    Ok(contacts::table
        .find(id)
        .select(Row::as_select())
        .first(conn)?
        .to_model())
}

pub fn set_kind(conn: &mut DbConn, id: &str, kind: ContactKind) -> Result<()> {
    write_tx(conn, |conn| {
        diesel::update(contacts::table.find(id))
            .set((
                contacts::kind.eq(kind.as_str()),
                contacts::updated_at.eq(time::to_db(time::now())),
            ))
            .execute(conn)?;
        Ok(())
    })
}

pub fn set_language(conn: &mut DbConn, id: &str, language: Language) -> Result<()> {
    write_tx(conn, |conn| {
        diesel::update(contacts::table.find(id))
            .set((
                contacts::language.eq(language.as_str()),
                contacts::updated_at.eq(time::to_db(time::now())),
            ))
            .execute(conn)?;
        Ok(())
    })
}

pub fn set_status(conn: &mut DbConn, id: &str, status: ContactStatus) -> Result<()> {
    write_tx(conn, |conn| {
        diesel::update(contacts::table.find(id))
            .set((
                contacts::status.eq(status.as_str()),
                contacts::updated_at.eq(time::to_db(time::now())),
            ))
            .execute(conn)?;
        Ok(())
    })
}

/// Marks the contact of a chat stopped (the provider says the person blocked the bot).
pub fn mark_stopped_by_key(conn: &mut DbConn, key: &str) -> Result<()> {
    write_tx(conn, |conn| {
        diesel::update(contacts::table.filter(contacts::address_hmac.eq(key)))
            .set((
                contacts::status.eq(ContactStatus::Stopped.as_str()),
                contacts::updated_at.eq(time::to_db(time::now())),
            ))
            .execute(conn)?;
        Ok(())
    })
}

pub fn set_flag(
    conn: &mut DbConn,
    id: &str,
    flag: Option<ContactFlag>,
    until: Option<DateTime<Utc>>,
) -> Result<Contact> {
    write_tx(conn, |conn| {
        let updated = diesel::update(contacts::table.find(id))
            .set((
                contacts::flag.eq(flag.map(|f| f.as_str())),
                contacts::flag_until.eq(until.map(time::to_db)),
                contacts::updated_at.eq(time::to_db(time::now())),
            ))
            .execute(conn)?;
        if updated == 0 {
            return Err(Error::NotFound);
        }
        get(conn, id)
    })
}

/// Erases a contact at once: its messages, conversations, queued or sent outbound rows,
/// and the contact itself. Call inside a write transaction.
pub fn erase(conn: &mut DbConn, id: &str) -> Result<()> {
    write_tx(conn, |conn| {
        let key: String = contacts::table.find(id).select(contacts::address_hmac).first(conn)?;
        let conversation_ids: Vec<String> = conversations::table
            .filter(conversations::contact_id.eq(id))
            .select(conversations::id)
            .load(conn)?;
        // The outbox first, then the messages: the delivery worker settles a send in that order
        // (the outbox row, then its message's delivery state), and the opposite order deadlocks
        // with it on PostgreSQL.
        diesel::delete(outbox::table.filter(outbox::chat_key.eq(&key))).execute(conn)?;
        diesel::delete(messages::table.filter(messages::conversation_id.eq_any(&conversation_ids))).execute(conn)?;
        // The orientation dialogue goes too; a referral and an appointment already at a centre
        // stay there under the alias, which no longer leads back to anyone.
        diesel::delete(
            crate::db::schema::orientations::table.filter(crate::db::schema::orientations::contact_id.eq(id)),
        )
        .execute(conn)?;
        diesel::delete(conversations::table.filter(conversations::contact_id.eq(id))).execute(conn)?;
        diesel::delete(contacts::table.find(id)).execute(conn)?;
        super::webchat_sessions::end(conn, &key)?;
        Ok(())
    })
}
