//! Names for codes, wherever a commune, département or région code is shown to a person:
//! read from the same embedded tables as [`super::Geography`], indexed once, borrowed from
//! the binary (no copy).

use std::collections::HashMap;
use std::sync::LazyLock;

/// code → (name, parent code): a commune's département, a département's région.
fn index(text: &'static str, parent_column: Option<usize>) -> HashMap<&'static str, (&'static str, &'static str)> {
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&'static str> = line.split(',').collect();
            let parent = parent_column.and_then(|c| fields.get(c).copied()).unwrap_or("");
            Some((*fields.first()?, (*fields.get(1)?, parent)))
        })
        .collect()
}

static COMMUNES: LazyLock<HashMap<&'static str, (&'static str, &'static str)>> =
    LazyLock::new(|| index(super::COMMUNES_CSV, Some(2)));
static DEPARTEMENTS: LazyLock<HashMap<&'static str, (&'static str, &'static str)>> =
    LazyLock::new(|| index(super::DEPARTEMENTS_CSV, Some(2)));
static REGIONS: LazyLock<HashMap<&'static str, (&'static str, &'static str)>> =
    LazyLock::new(|| index(super::REGIONS_CSV, None));

/// The commune's name, from its INSEE code ("94028" → "Créteil").
pub fn commune(insee_code: &str) -> Option<&'static str> {
    COMMUNES.get(insee_code).map(|(name, _)| *name)
}

/// The département's name, from its code ("94" → "Val-de-Marne").
pub fn departement(code: &str) -> Option<&'static str> {
    DEPARTEMENTS.get(code).map(|(name, _)| *name)
}

/// The région's name, from its code ("11" → "Île-de-France").
pub fn region(code: &str) -> Option<&'static str> {
    REGIONS.get(code).map(|(name, _)| *name)
}

/// The code of the région a département is in.
pub fn region_of_departement(code: &str) -> Option<&'static str> {
    DEPARTEMENTS.get(code).map(|(_, region)| *region)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_have_their_names() {
        assert_eq!(commune("94028"), Some("Créteil"));
        assert_eq!(commune("2A004"), Some("Ajaccio"));
        assert_eq!(departement("94"), Some("Val-de-Marne"));
        assert_eq!(departement("974"), Some("La Réunion"));
        assert_eq!(region("11"), Some("Île-de-France"));
        assert_eq!(region_of_departement("94"), Some("11"));
        assert_eq!(region_of_departement("974"), Some("04"));
        assert_eq!(commune("00000"), None);
        assert_eq!(departement(""), None);
    }

    #[test]
    fn every_commune_of_the_geography_has_a_name_here() {
        let geo = crate::geo::Geography::load().unwrap();
        for c in geo.communes() {
            assert_eq!(commune(&c.insee_code), Some(c.name.as_str()));
            assert!(region_of_departement(&c.departement_code).is_some());
        }
    }
}
