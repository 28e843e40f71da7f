//! Communes and départements found by name, as people type them: "creteil", "St Denis",
//! "val de marne", or by code ("94028", "94000", "2A"). For the ban zones of a measure and
//! wherever a place is chosen: nobody should have to know an INSEE code.

use serde::Serialize;

use super::{Geography, names};
use crate::text::fold;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PlaceKind {
    Commune,
    Departement,
}

/// A commune or a département, with what a person needs to tell it from its namesakes.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Place {
    pub kind: PlaceKind,
    /// The INSEE code of a commune, or the département's code.
    pub code: String,
    pub name: String,
    /// The département (for a département, itself).
    pub departement: String,
    pub departement_name: String,
    /// A commune's postal codes (none for a département).
    pub postal_codes: Vec<String>,
    /// A commune's reference point, its town hall (WGS84; none for a département, or a
    /// commune without one): where a place entered by commune alone is put.
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

/// How well a folded name answers a folded query: 0 the same, 1 it starts so, 2 one of its
/// words starts so; none otherwise.
fn rank(name: &str, query: &str) -> Option<u8> {
    if name == query {
        Some(0)
    } else if name.starts_with(query) {
        Some(1)
    } else if name.match_indices(query).any(|(at, _)| name[..at].ends_with(' ')) {
        Some(2)
    } else {
        None
    }
}

impl Geography {
    /// Up to `limit` places for what a person typed, best first: by how well the name
    /// answers (the same, starts so, a word starts so), a département before a commune, then
    /// the most populous commune. A number finds a commune by INSEE or postal code and a
    /// département by code.
    pub fn search(&self, query: &str, limit: usize) -> Vec<Place> {
        let query = fold(query);
        if query.is_empty() || limit == 0 {
            return Vec::new();
        }
        let code = query.to_uppercase();
        // (rank, 0 for a département or the commune's inverse population, place)
        let mut found: Vec<(u8, u64, Place)> = self
            .departements
            .values()
            .filter_map(|d| {
                let r = if d.code == code {
                    Some(0)
                } else {
                    rank(&fold(&d.name), &query)
                }?;
                Some((r, 0, self.departement_place(&d.code)?))
            })
            .collect();
        let mut communes: Vec<(u8, usize)> = Vec::new();
        if let Some(&i) = self.by_insee_code.get(&code) {
            communes.push((0, i));
        }
        if let Some(within) = self.by_postal_code.get(&code) {
            communes.extend(within.iter().map(|&i| (0, i)));
        }
        if communes.is_empty() && query.len() >= 2 {
            communes.extend(
                self.folded
                    .iter()
                    .enumerate()
                    .filter_map(|(i, name)| Some((rank(name, &query)?, i))),
            );
        }
        communes.sort_unstable_by_key(|c| c.1);
        communes.dedup_by_key(|c| c.1);
        found.extend(communes.into_iter().filter_map(|(r, i)| {
            let c = &self.communes[i];
            let point = super::contours::point(&c.insee_code);
            Some((
                r,
                u64::MAX - c.population.unwrap_or(0),
                Place {
                    kind: PlaceKind::Commune,
                    code: c.insee_code.clone(),
                    name: c.name.clone(),
                    departement: c.departement_code.clone(),
                    departement_name: names::departement(&c.departement_code)?.to_owned(),
                    postal_codes: c.postal_codes.clone(),
                    latitude: point.map(|p| p.0),
                    longitude: point.map(|p| p.1),
                },
            ))
        }));
        found.sort_by(|a, b| (a.0, a.1, &a.2.code).cmp(&(b.0, b.1, &b.2.code)));
        found.into_iter().take(limit).map(|(_, _, p)| p).collect()
    }

    fn departement_place(&self, code: &str) -> Option<Place> {
        let d = self.departements.get(code)?;
        Some(Place {
            kind: PlaceKind::Departement,
            code: d.code.clone(),
            name: d.name.clone(),
            departement: d.code.clone(),
            departement_name: d.name.clone(),
            postal_codes: Vec::new(),
            latitude: None,
            longitude: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(found: &[Place]) -> Vec<String> {
        found.iter().map(|p| format!("{} {}", p.code, p.name)).collect()
    }

    #[test]
    fn a_place_is_found_by_its_name_or_its_code() {
        let geo = Geography::load().expect("geography");
        let found = geo.search("creteil", 5);
        assert_eq!(found[0].code, "94028", "{:?}", names(&found));
        assert_eq!(found[0].departement_name, "Val-de-Marne");
        let (lat, lon) = (
            found[0].latitude.expect("a point"),
            found[0].longitude.expect("a point"),
        );
        assert!((48.7..48.9).contains(&lat) && (2.4..2.5).contains(&lon), "{lat} {lon}");
        // Namesakes, told apart by their département, the most populous first; a département
        // whose name only holds the words comes after the names that start so.
        let found = geo.search("st denis", 20);
        assert_eq!(names(&found[..2]), vec!["97411 Saint-Denis", "93066 Saint-Denis"]);
        assert!(
            found.iter().all(|p| p.kind == PlaceKind::Commune),
            "Seine-Saint-Denis only holds the words: after every name that starts so"
        );
        let found = geo.search("val de marne", 5);
        assert_eq!((found[0].kind, found[0].code.as_str()), (PlaceKind::Departement, "94"));
        let found = geo.search("2a", 5);
        assert_eq!((found[0].kind, found[0].code.as_str()), (PlaceKind::Departement, "2A"));
        let found = geo.search("94000", 5);
        assert_eq!(names(&found), vec!["94028 Créteil"]);
        assert_eq!(geo.search("94028", 5)[0].name, "Créteil");
        // A word inside a name, not a piece of a word.
        assert!(geo.search("roses", 20).iter().any(|p| p.name == "L'Haÿ-les-Roses"));
        assert!(geo.search("oses", 20).is_empty());
        assert!(geo.search("—", 5).is_empty());
    }
}
