//! Reference geography (INSEE codes): régions, départements and communes, compiled into
//! the binary from `data/geo/` so the server needs no file at run time.

use std::collections::HashMap;

pub mod contours;
pub mod names;
mod search;

pub use crate::text::fold;
pub use search::{Place, PlaceKind};

const REGIONS_CSV: &str = include_str!("../../../data/geo/regions.csv");
const DEPARTEMENTS_CSV: &str = include_str!("../../../data/geo/departements.csv");
const COMMUNES_CSV: &str = include_str!("../../../data/geo/communes.csv");

#[derive(Clone, Debug, serde::Serialize)]
pub struct Region {
    pub code: String,
    pub name: String,
    pub zone: String,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct Departement {
    pub code: String,
    pub name: String,
    pub region_code: String,
    pub zone: String,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct Commune {
    pub insee_code: String,
    pub name: String,
    pub departement_code: String,
    pub region_code: String,
    pub postal_codes: Vec<String>,
    pub population: Option<u64>,
    pub kind: String,
}

/// A five-digit French postal code.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PostalCode(String);

impl PostalCode {
    pub fn parse(raw: &str) -> Result<Self, crate::Error> {
        let value = raw.trim();
        if value.len() == 5 && value.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(value.to_owned()))
        } else {
            Err(crate::Error::invalid("code", "a postal code has exactly five digits"))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, thiserror::Error)]
#[error("reference data {file}, line {line}: {message}")]
pub struct GeoLoadError {
    file: &'static str,
    line: usize,
    message: String,
}

pub struct Geography {
    regions: HashMap<String, Region>,
    departements: HashMap<String, Departement>,
    communes: Vec<Commune>,
    by_postal_code: HashMap<String, Vec<usize>>,
    by_insee_code: HashMap<String, usize>,
    /// Each commune's name folded for search ([`fold`]), in the order of `communes`.
    folded: Vec<String>,
}

/// What a postal code covers: its communes, and the départements and régions they are in
/// (a few postal codes straddle two départements).
#[derive(Clone, Debug, serde::Serialize)]
pub struct PostalCodeArea {
    pub postal_code: String,
    pub communes: Vec<Commune>,
    pub departements: Vec<Departement>,
    pub regions: Vec<Region>,
}

impl PostalCodeArea {
    /// The postal code's reference point, as (latitude, longitude): the town hall of its most
    /// populous commune that has one.
    pub fn point(&self) -> Option<(f64, f64)> {
        self.communes
            .iter()
            .filter_map(|c| Some((c.population.unwrap_or(0), contours::point(&c.insee_code)?)))
            .max_by_key(|(population, _)| *population)
            .map(|(_, point)| point)
    }
}

fn rows(
    file: &'static str,
    text: &'static str,
    columns: usize,
) -> impl Iterator<Item = Result<(usize, Vec<&'static str>), GeoLoadError>> {
    text.lines()
        .enumerate()
        .skip(1)
        .filter(|(_, l)| !l.trim().is_empty())
        .map(move |(i, line)| {
            let fields: Vec<&str> = line.split(',').collect();
            if fields.len() == columns {
                Ok((i + 1, fields))
            } else {
                Err(GeoLoadError {
                    file,
                    line: i + 1,
                    message: format!("expected {columns} columns, found {}", fields.len()),
                })
            }
        })
}

impl Geography {
    pub fn load() -> Result<Self, GeoLoadError> {
        let mut regions = HashMap::new();
        for row in rows("regions.csv", REGIONS_CSV, 4) {
            let (_, f) = row?;
            regions.insert(
                f[0].to_owned(),
                Region {
                    code: f[0].into(),
                    name: f[1].into(),
                    zone: f[3].into(),
                },
            );
        }
        let mut departements = HashMap::new();
        for row in rows("departements.csv", DEPARTEMENTS_CSV, 5) {
            let (line, f) = row?;
            if !regions.contains_key(f[2]) && f[4] != "com" {
                return Err(GeoLoadError {
                    file: "departements.csv",
                    line,
                    message: format!("unknown region {}", f[2]),
                });
            }
            departements.insert(
                f[0].to_owned(),
                Departement {
                    code: f[0].into(),
                    name: f[1].into(),
                    region_code: f[2].into(),
                    zone: f[4].into(),
                },
            );
        }
        let mut communes = Vec::with_capacity(36_000);
        let mut by_postal_code: HashMap<String, Vec<usize>> = HashMap::new();
        for row in rows("communes.csv", COMMUNES_CSV, 7) {
            let (line, f) = row?;
            if !departements.contains_key(f[2]) {
                return Err(GeoLoadError {
                    file: "communes.csv",
                    line,
                    message: format!("unknown département {}", f[2]),
                });
            }
            let postal_codes: Vec<String> = f[4].split_whitespace().map(str::to_owned).collect();
            for code in &postal_codes {
                by_postal_code.entry(code.clone()).or_default().push(communes.len());
            }
            communes.push(Commune {
                insee_code: f[0].into(),
                name: f[1].into(),
                departement_code: f[2].into(),
                region_code: f[3].into(),
                postal_codes,
                population: f[5].parse().ok(),
                kind: f[6].into(),
            });
        }
        let by_insee_code = communes
            .iter()
            .enumerate()
            .map(|(i, c)| (c.insee_code.clone(), i))
            .collect();
        let folded = communes.iter().map(|c| fold(&c.name)).collect();
        Ok(Self {
            regions,
            departements,
            communes,
            by_postal_code,
            by_insee_code,
            folded,
        })
    }

    /// Whether an INSEE commune code is known.
    pub fn has_commune(&self, insee_code: &str) -> bool {
        self.by_insee_code.contains_key(insee_code)
    }

    /// The commune with this INSEE code.
    pub fn commune(&self, insee_code: &str) -> Option<&Commune> {
        self.by_insee_code.get(insee_code).map(|i| &self.communes[*i])
    }

    /// Every commune, for generated data (benchmarks, demos).
    pub fn communes(&self) -> &[Commune] {
        &self.communes
    }

    pub fn departement(&self, code: &str) -> Option<&Departement> {
        self.departements.get(code)
    }

    pub fn region(&self, code: &str) -> Option<&Region> {
        self.regions.get(code)
    }

    pub fn regions(&self) -> impl Iterator<Item = &Region> {
        self.regions.values()
    }

    pub fn departements(&self) -> impl Iterator<Item = &Departement> {
        self.departements.values()
    }

    pub fn commune_count(&self) -> usize {
        self.communes.len()
    }

    pub fn postal_code(&self, code: &PostalCode) -> Option<PostalCodeArea> {
        let indices = self.by_postal_code.get(code.as_str())?;
        let mut communes: Vec<Commune> = indices.iter().filter_map(|i| self.communes.get(*i)).cloned().collect();
        communes.sort_by(|a, b| a.insee_code.cmp(&b.insee_code));
        let mut departements: Vec<Departement> = Vec::new();
        let mut regions: Vec<Region> = Vec::new();
        for commune in &communes {
            if let Some(d) = self.departements.get(&commune.departement_code)
                && !departements.iter().any(|x| x.code == d.code)
            {
                departements.push(d.clone());
            }
            if let Some(r) = self.regions.get(&commune.region_code)
                && !regions.iter().any(|x| x.code == r.code)
            {
                regions.push(r.clone());
            }
        }
        Some(PostalCodeArea {
            postal_code: code.as_str().to_owned(),
            communes,
            departements,
            regions,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_data_loads_completely() {
        let geo = Geography::load().expect("reference data loads");
        assert_eq!(geo.regions().count(), 26);
        assert_eq!(geo.departements().count(), 109);
        assert_eq!(geo.commune_count(), 35_014);
    }

    #[test]
    fn postal_codes_resolve_to_communes_departement_and_region() {
        let geo = Geography::load().expect("reference data loads");
        let code = PostalCode::parse("97400").expect("valid postal code");
        let area = geo.postal_code(&code).expect("97400 is Saint-Denis de La Réunion");
        assert!(area.communes.iter().any(|c| c.name == "Saint-Denis"));
        assert_eq!(area.departements.first().map(|d| d.code.as_str()), Some("974"));
        assert!(PostalCode::parse("7500").is_err());
        assert!(PostalCode::parse("ABCDE").is_err());
    }
}
