//! Demo data: the helpline, two centres in two regions, the housing platform, the ministry
//! and one partner, with one account per role. Idempotent: what exists is kept. Passwords
//! are derived from the instance's pepper, so they are stable for one installation and
//! unguessable from another. Never loaded in production mode (the caller refuses).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::access::Actor;
use crate::accounts::model::{OrganisationKind, Role};
use crate::accounts::organisations::{self, NewOrganisation};
use crate::accounts::users::{self, NewUser};
use crate::crypto::Secrets;
use crate::db::{DbConn, write_tx};
use crate::error::Result;
use crate::geo::Geography;
use crate::values::Email;

pub const DEMO_DOMAIN: &str = "demo.relais.example";

struct DemoOrg {
    key: &'static str,
    kind: OrganisationKind,
    name: &'static str,
    timezone: &'static str,
    coverage: &'static [&'static str],
}

const ORGS: &[DemoOrg] = &[
    DemoOrg {
        key: "helpline",
        kind: OrganisationKind::Helpline,
        name: "Ne frappez pas (ligne d'écoute)",
        timezone: "Europe/Paris",
        coverage: &[],
    },
    DemoOrg {
        key: "centre-idf",
        kind: OrganisationKind::Centre,
        name: "CPCA Île-de-France Est",
        timezone: "Europe/Paris",
        coverage: &["75", "77", "93", "94"],
    },
    DemoOrg {
        key: "centre-reunion",
        kind: OrganisationKind::Centre,
        name: "CPCA La Réunion",
        timezone: "Indian/Reunion",
        coverage: &["974"],
    },
    DemoOrg {
        key: "housing",
        kind: OrganisationKind::HousingPlatform,
        name: "Plateforme nationale d'hébergement",
        timezone: "Europe/Paris",
        coverage: &[],
    },
    DemoOrg {
        key: "ministry",
        kind: OrganisationKind::National,
        name: "Ministère, coordination nationale",
        timezone: "Europe/Paris",
        coverage: &[],
    },
    DemoOrg {
        key: "partner",
        kind: OrganisationKind::Partner,
        name: "SPIP de Paris",
        timezone: "Europe/Paris",
        coverage: &[],
    },
];

const ACCOUNTS: &[(&str, Role, &str, &str)] = &[
    ("listener", Role::Listener, "helpline", "Léa Écoutante"),
    ("supervisor", Role::HelplineSupervisor, "helpline", "Samir Superviseur"),
    ("practitioner", Role::Practitioner, "centre-idf", "Paul Praticien"),
    ("manager", Role::CentreManager, "centre-idf", "Claire Responsable"),
    (
        "practitioner.reunion",
        Role::Practitioner,
        "centre-reunion",
        "Nadia Praticienne",
    ),
    ("housing", Role::HousingOperator, "housing", "Hugo Hébergement"),
    (
        "coordinator",
        Role::NationalCoordinator,
        "ministry",
        "Camille Coordinatrice",
    ),
    ("admin", Role::Admin, "ministry", "Alex Administrateur"),
];

/// One demo account, as printed by `relais demo`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DemoAccount {
    pub role: Role,
    pub organisation: String,
    pub email: String,
    pub password: String,
    /// The code to enrol a second factor with, while the account has none.
    pub enrolment_code: Option<String>,
}

fn password_for(secrets: &Secrets, email: &str) -> String {
    let mac = crate::crypto::hmac_hex(&secrets.hmac_pepper, "demo-password", email.as_bytes());
    let bytes = hex::decode(&mac[..32]).unwrap_or_default();
    format!("demo-{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// Loads what is missing and returns every demo account with its password.
pub fn load(conn: &mut DbConn, geo: &Geography, secrets: &Secrets) -> Result<Vec<DemoAccount>> {
    write_tx(conn, |conn| load_in(conn, geo, secrets))
}

fn load_in(conn: &mut DbConn, geo: &Geography, secrets: &Secrets) -> Result<Vec<DemoAccount>> {
    let mut orgs = Vec::new();
    for spec in ORGS {
        let org = match organisations::find_by_name(conn, spec.name)? {
            Some(org) => org,
            None => {
                let coverage = spec.coverage.iter().map(|c| (*c).to_owned()).collect();
                let new = NewOrganisation::parse(geo, spec.kind, spec.name, Some(spec.timezone), coverage)?;
                organisations::create(conn, &Actor::SYSTEM, new)?
            }
        };
        orgs.push((spec.key, org));
    }
    for (key, org) in &orgs {
        let (phone, mail, (place, address, postal_code)) = match *key {
            "centre-idf" => (
                "01 23 45 67 89",
                "accueil.cpca-idf-est@demo.relais.example",
                ("CPCA Île-de-France Est, Paris 11e", "12 rue de la Paix", "75011"),
            ),
            "centre-reunion" => (
                "0262 00 00 00",
                "accueil.cpca-reunion@demo.relais.example",
                ("CPCA La Réunion, Saint-Denis", "5 rue de Paris", "97400"),
            ),
            _ => continue,
        };
        // A postal code and no coordinates, as centres often are: distances to housing
        // offers are measured from the commune's town hall.
        crate::centres::directory::seed_location(
            conn,
            geo,
            org.id,
            crate::centres::directory::NewLocation {
                name: place.to_owned(),
                address: address.to_owned(),
                postal_code: postal_code.to_owned(),
                latitude: None,
                longitude: None,
                opening_hours: Vec::new(),
            },
        )?;
        use crate::centres::directory::ServiceKind;
        let services: &[(ServiceKind, &str)] = if *key == "centre-idf" {
            &[
                (
                    ServiceKind::IndividualFollowUp,
                    "Entretiens individuels avec un·e psychologue ou un·e travailleur·se social·e, sur orientation ou de votre propre initiative. / Individual sessions with a psychologist or a social worker, referred or on your own initiative.",
                ),
                (
                    ServiceKind::TalkingGroup,
                    "Groupe de parole hebdomadaire, huit participants au plus. / A weekly talking group, eight people at most.",
                ),
                (
                    ServiceKind::ResponsibilityCourse,
                    "Stage de responsabilisation de deux jours, sur décision de justice. / A two-day responsibility course, on a court's decision.",
                ),
            ]
        } else {
            &[
                (
                    ServiceKind::IndividualFollowUp,
                    "Entretiens individuels, sur place ou par téléphone. / Individual sessions, on site or by phone.",
                ),
                (
                    ServiceKind::TalkingGroup,
                    "Groupe de parole tous les quinze jours. / A talking group every fortnight.",
                ),
            ]
        };
        crate::centres::directory::seed_services(conn, org.id, services)?;
        crate::centres::profiles::seed(
            conn,
            org.id,
            phone,
            mail,
            "une pièce d'identité si vous le souhaitez, et la convocation du tribunal si vous en avez une",
            "an identity document if you wish, and the court's summons if you have one",
        )?;
    }
    let mut accounts = Vec::new();
    for (local, role, org_key, name) in ACCOUNTS {
        let Some((_, org)) = orgs.iter().find(|(k, _)| k == org_key) else {
            continue;
        };
        let email = format!("{local}@{DEMO_DOMAIN}");
        let password = password_for(secrets, &email);
        let user = match users::find_by_email(conn, &Email::parse(&email)?)? {
            Some(user) => user,
            None => users::create_as_system(conn, org, NewUser::parse(&email, name, &password, vec![*role])?)?,
        };
        // A fresh code each time the accounts are listed, so the demo can enrol.
        let enrolment_code = if user.totp_enabled {
            None
        } else {
            Some(crate::auth::enrolment::issue_as_system(conn, secrets, user.id)?.enrolment_code)
        };
        accounts.push(DemoAccount {
            role: *role,
            organisation: org.name.clone(),
            email,
            password,
            enrolment_code,
        });
    }
    Ok(accounts)
}

/// The name of the demo partner's sandbox key, printed by `relais demo`.
pub const SANDBOX_KEY_NAME: &str = "Bac à sable (relais demo)";

/// A fresh API key for the demo partner (the SPIP), made by the demo admin, so a partner's
/// developer can call the API at once. The key is shown only here (it is stored hashed), so
/// each call revokes the previous sandbox key and makes a new one. Call after `load`.
pub fn partner_key(conn: &mut DbConn) -> Result<(String, String)> {
    use crate::access::{Caller, Principal};
    use crate::accounts::api_keys;
    use crate::accounts::model::Roles;

    let partner = ORGS
        .iter()
        .find(|o| o.kind == OrganisationKind::Partner)
        .and_then(|spec| organisations::find_by_name(conn, spec.name).transpose())
        .ok_or(crate::Error::NotFound)??;
    let admin =
        users::find_by_email(conn, &Email::parse(&format!("admin@{DEMO_DOMAIN}"))?)?.ok_or(crate::Error::NotFound)?;
    let caller = Caller {
        principal: Principal::Staff {
            user_id: admin.id,
            roles: Roles::for_organisation(vec![Role::Admin], OrganisationKind::National)?,
            second_factor: true,
        },
        organisation_id: admin.organisation_id,
        organisation_kind: OrganisationKind::National,
    };
    for key in api_keys::list(conn, &caller, partner.id)? {
        if key.name == SANDBOX_KEY_NAME && key.revoked_at.is_none() {
            api_keys::revoke(conn, &caller, key.id)?;
        }
    }
    let created = api_keys::create(conn, &caller, partner.id, SANDBOX_KEY_NAME)?;
    Ok((partner.name, created.secret))
}

/// Demo availability for the next eight weeks, so an orientation has slots to offer: the
/// Paris centre's practitioner on Tuesdays and Thursdays at 10:00, the Réunion centre's on
/// Wednesdays at 14:00 (local times). Only for `relais demo` and the embedded first start;
/// the tests publish their own.
pub fn load_schedule(conn: &mut DbConn) -> Result<usize> {
    write_tx(conn, load_schedule_in)
}

fn load_schedule_in(conn: &mut DbConn) -> Result<usize> {
    use chrono::{Datelike as _, Duration, TimeZone as _};

    use crate::accounts::model::Role;
    use crate::centres::model::Modality;
    use crate::centres::slots::{self, NewAvailability};

    let plans: [(&str, &str, chrono::Weekday, u32, &str); 3] = [
        (
            "practitioner",
            "CPCA Île-de-France Est",
            chrono::Weekday::Tue,
            10,
            "12 rue de la Paix, 75011 Paris",
        ),
        (
            "practitioner",
            "CPCA Île-de-France Est",
            chrono::Weekday::Thu,
            10,
            "12 rue de la Paix, 75011 Paris",
        ),
        (
            "practitioner.reunion",
            "CPCA La Réunion",
            chrono::Weekday::Wed,
            14,
            "5 rue de Paris, 97400 Saint-Denis",
        ),
    ];
    let now = crate::time::now();
    let mut published = 0;
    for (local, centre, weekday, hour, place) in plans {
        let Some(org) = organisations::find_by_name(conn, centre)? else {
            continue;
        };
        let Some(user) = users::find_by_email(conn, &Email::parse(&format!("{local}@{DEMO_DOMAIN}"))?)? else {
            continue;
        };
        let tz = org.tz();
        let mut day = now.with_timezone(&tz).date_naive() + Duration::days(1);
        while day.weekday() != weekday {
            day += Duration::days(1);
        }
        let Some(first) = tz
            .from_local_datetime(&day.and_hms_opt(hour, 0, 0).unwrap_or_default())
            .earliest()
        else {
            continue;
        };
        let caller = staff_caller(user.id, Role::Practitioner, &org)?;
        let new = NewAvailability {
            practitioner_id: Some(user.id),
            modality: Modality::OnSite,
            location: place.to_owned(),
            first_start: first.with_timezone(&chrono::Utc),
            duration_minutes: 60,
            seats: 1,
            repeat_weekly_until: Some(day + Duration::weeks(8)),
            buffer_minutes: 15,
            booking_notice_minutes: 120,
            cancellation_notice_minutes: 1440,
        };
        // Already published (a second `relais demo`): the overlap check refuses it.
        if let Ok(a) = slots::publish(conn, &caller, tz, new, now) {
            published += a.slots.len();
        }
    }
    Ok(published)
}

/// Demo housing offers of the platform, around the demo centres. Only for `relais demo` and
/// the embedded first start; idempotent (an offer of the same name is kept).
pub fn load_housing(conn: &mut DbConn, geo: &crate::geo::Geography, secrets: &Secrets) -> Result<usize> {
    write_tx(conn, |conn| load_housing_in(conn, geo, secrets))
}

fn load_housing_in(conn: &mut DbConn, geo: &crate::geo::Geography, secrets: &Secrets) -> Result<usize> {
    use crate::accounts::model::{OrganisationKind, Role};
    use crate::housing::model::OfferKind;
    use crate::housing::offers::{self, NewOffer};

    let Some(platform) = organisations::all_of_kind(conn, OrganisationKind::HousingPlatform)?
        .into_iter()
        .next()
    else {
        return Ok(0);
    };
    let Some(user) = users::find_by_email(conn, &Email::parse(&format!("housing@{DEMO_DOMAIN}"))?)? else {
        return Ok(0);
    };
    let caller = staff_caller(user.id, Role::HousingOperator, &platform)?;
    let mut existing: Vec<String> = Vec::new();
    let mut page = crate::page::PageRequest::first(crate::page::MAX_LIMIT);
    loop {
        let offers = offers::list(conn, &caller, &page)?;
        existing.extend(offers.items.into_iter().map(|o| o.name));
        match offers.next_cursor {
            Some(next) => page.after = Some(crate::page::Cursor::parse(&next)?),
            None => break,
        }
    }
    // Name, kind, address, commune, latitude, longitude, capacity, price (cents), shelters victims.
    type DemoOffer<'a> = (&'a str, OfferKind, &'a str, &'a str, f64, f64, i32, i64, bool);
    let demo: [DemoOffer<'_>; 6] = [
        (
            "Hôtel de la Gare (démo)",
            OfferKind::Hotel,
            "3 place de la Gare",
            "78646",
            48.7995,
            2.1290,
            4,
            5500,
            false,
        ),
        (
            "Résidence Sociale Les Tilleuls (démo)",
            OfferKind::Shelter,
            "18 avenue Jean Jaurès",
            "95018",
            48.9472,
            2.2470,
            10,
            3000,
            false,
        ),
        (
            "Appartement relais Créteil (démo)",
            OfferKind::Apartment,
            "4 rue des Écoles",
            "94028",
            48.7904,
            2.4556,
            2,
            4000,
            false,
        ),
        (
            "Famille d'accueil Meaux (démo)",
            OfferKind::HostFamily,
            "Meaux",
            "77284",
            48.9601,
            2.8788,
            1,
            2500,
            false,
        ),
        (
            "Foyer Les Roses — accueil des victimes (démo)",
            OfferKind::Shelter,
            "Adresse confidentielle",
            "75056",
            48.8400,
            2.3000,
            8,
            0,
            true,
        ),
        (
            "Hôtel du Barachois (démo)",
            OfferKind::Hotel,
            "2 boulevard Lancastel",
            "97411",
            -20.8789,
            55.4481,
            3,
            6500,
            false,
        ),
    ];
    let mut added = 0;
    for (name, kind, address, commune, lat, lon, capacity, price, victims) in demo {
        if existing.iter().any(|n| n == name) || !geo.has_commune(commune) {
            continue;
        }
        offers::create(
            conn,
            geo,
            secrets,
            None,
            &caller,
            NewOffer {
                kind,
                name: name.into(),
                provider: "Démo".into(),
                address: address.into(),
                commune: commune.into(),
                latitude: lat,
                longitude: lon,
                capacity,
                price_cents: price,
                accessible: capacity > 3,
                pets: false,
                couples: kind == OfferKind::Apartment,
                hosts_victims: victims,
                available_from: crate::time::now().date_naive(),
                available_until: None,
            },
        )?;
        added += 1;
    }
    Ok(added)
}

/// A demo staff member acting for their organisation (second factor passed).
fn staff_caller(
    user_id: crate::ids::UserId,
    role: crate::accounts::model::Role,
    organisation: &crate::accounts::model::Organisation,
) -> Result<crate::access::Caller> {
    use crate::access::{Caller, Principal};
    use crate::accounts::model::Roles;
    Ok(Caller {
        principal: Principal::Staff {
            user_id,
            roles: Roles::for_organisation(vec![role], organisation.kind)?,
            second_factor: true,
        },
        organisation_id: organisation.id,
        organisation_kind: organisation.kind,
    })
}
