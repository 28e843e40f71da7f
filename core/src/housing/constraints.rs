//! What a case's court measures forbid, as matching rules: every protected person of the case
//! (her secret protective disc, never her location), and the communes, départements and areas of place and residence
//! bans still in force on the nights wanted. Built on the server; never sent to anyone.

use chrono::NaiveDate;

use super::geometry::Polygon;
use super::matching::Constraints;
use crate::cases::model::MeasureKind;
use crate::crypto::Secrets;
use crate::db::DbConn;
use crate::error::{Error, Result};

pub fn of_case(conn: &mut DbConn, secrets: &Secrets, case_id: &str, first_night: NaiveDate) -> Result<Constraints> {
    let mut c = Constraints {
        protected: crate::cases::protected::discs_of_case(conn, secrets, case_id)?,
        ..Constraints::default()
    };
    for measure in crate::cases::measures::list_unaudited(conn, secrets, case_id)? {
        if !matches!(measure.kind, MeasureKind::PlaceBan | MeasureKind::ResidenceBan)
            || measure.ends_on.is_some_and(|end| end < first_night)
        {
            continue;
        }
        let Some(zone) = measure.zone else { continue };
        c.commune_areas
            .extend(zone.communes.iter().filter_map(|code| crate::geo::contours::area(code)));
        c.communes.extend(zone.communes);
        c.departements.extend(zone.departements);
        if let Some(polygon) = &zone.polygon {
            c.polygons.push(
                Polygon::from_geojson(polygon)
                    .ok_or_else(|| Error::Internal("a measure's polygon could not be read".into()))?,
            );
        }
    }
    Ok(c)
}

/// Whether the case has a court-ordered eviction (its platform funding is capped).
pub fn has_eviction(
    conn: &mut DbConn,
    secrets: &Secrets,
    case_id: &str,
) -> Result<Option<crate::cases::measures::Measure>> {
    Ok(crate::cases::measures::list_unaudited(conn, secrets, case_id)?
        .into_iter()
        .find(|m| m.kind == MeasureKind::Eviction))
}
