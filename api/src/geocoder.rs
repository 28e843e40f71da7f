//! Addresses to points, through the search API of the Base Adresse Nationale
//! (<https://adresse.data.gouv.fr/outils/api-doc/adresse>), or any server that speaks it: addok,
//! the engine behind it, run by the operator with the BAN's open data, so that no address typed
//! here leaves the operator's network (docs/operations.md, docs/threat-model.md).
//!
//! Staff use it to enter a protected person's home, a housing offer or a centre by its
//! address. What is asked is never logged: the middleware logs no query string, and a failed
//! call is reported without its URL.
//!
//! The answer is read defensively: at most [`MAX_ANSWER_BYTES`], within [`TIMEOUT`]; a
//! candidate whose commune is not in the embedded geography, whose point is not a finite
//! WGS84 position, or whose kind is unknown is dropped.

use std::time::Duration;

use relais_core::geo::{Geography, names};
use serde::{Deserialize, Serialize};

/// How long a search may take, connection included.
pub const TIMEOUT: Duration = Duration::from_secs(4);
/// The largest answer read (ten candidates take about 5 KiB).
pub const MAX_ANSWER_BYTES: usize = 256 * 1024;
/// What a search may hold: the BAN refuses fewer than 3 characters and more than 200.
pub const MIN_QUERY: usize = 3;
pub const MAX_QUERY: usize = 200;

/// How precise a candidate is: a protected person's home needs a `housenumber` or a `street`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// A numbered address.
    Housenumber,
    /// A street, without a number.
    Street,
    /// A hamlet or a named place (lieu-dit).
    Locality,
    /// A whole commune.
    Municipality,
}

/// One address the geocoder proposes.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Address {
    /// As the BAN writes it: "8 Boulevard du Port 80000 Amiens".
    pub label: String,
    pub precision: Precision,
    pub postcode: Option<String>,
    /// The commune's INSEE code.
    pub commune: String,
    pub commune_name: String,
    pub departement: String,
    pub departement_name: String,
    pub latitude: f64,
    pub longitude: f64,
    /// The BAN's confidence, from 0 to 1.
    pub score: f64,
}

#[derive(Debug, thiserror::Error)]
pub enum GeocodeError {
    #[error("no geocoder is configured (RELAIS_GEOCODER_URL)")]
    NotConfigured,
    /// The geocoder could not be reached or answered something unreadable. The cause never
    /// holds the URL, which holds the address.
    #[error("the geocoder failed: {0}")]
    Failed(String),
}

pub struct Geocoder {
    /// `…/search/`, from the configured base URL; none when no geocoder is configured.
    search_url: Option<reqwest::Url>,
    client: reqwest::Client,
}

#[derive(Deserialize)]
struct Answer {
    #[serde(default)]
    features: Vec<Feature>,
}

#[derive(Deserialize)]
struct Feature {
    geometry: Geometry,
    properties: Properties,
}

#[derive(Deserialize)]
struct Geometry {
    coordinates: Vec<f64>,
}

#[derive(Deserialize)]
struct Properties {
    label: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    score: f64,
    #[serde(default)]
    postcode: Option<String>,
    citycode: String,
}

impl Geocoder {
    /// `base` is the API's root (`https://api-adresse.data.gouv.fr`); none turns address
    /// search off (each search answers [`GeocodeError::NotConfigured`]).
    pub fn new(base: Option<&str>) -> Result<Self, String> {
        let search_url = match base {
            None => None,
            Some(base) => {
                let mut url = reqwest::Url::parse(base).map_err(|e| format!("RELAIS_GEOCODER_URL: {e}"))?;
                if !matches!(url.scheme(), "http" | "https") {
                    return Err("RELAIS_GEOCODER_URL must be http or https".into());
                }
                if !url.path().ends_with('/') {
                    let path = format!("{}/", url.path());
                    url.set_path(&path);
                }
                Some(url.join("search/").map_err(|e| format!("RELAIS_GEOCODER_URL: {e}"))?)
            }
        };
        let client = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .connect_timeout(TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self { search_url, client })
    }

    pub fn configured(&self) -> bool {
        self.search_url.is_some()
    }

    /// Up to `limit` candidates for `query` (already checked: [`MIN_QUERY`] to [`MAX_QUERY`]
    /// characters), best first, each in a commune of `geo`.
    pub async fn search(&self, geo: &Geography, query: &str, limit: u8) -> Result<Vec<Address>, GeocodeError> {
        let Some(url) = &self.search_url else {
            return Err(GeocodeError::NotConfigured);
        };
        let limit = limit.to_string();
        let failed = |e: reqwest::Error| GeocodeError::Failed(e.without_url().to_string());
        let mut response = self
            .client
            .get(url.clone())
            .query(&[("q", query), ("limit", limit.as_str()), ("autocomplete", "1")])
            .send()
            .await
            .map_err(failed)?;
        if !response.status().is_success() {
            return Err(GeocodeError::Failed(format!(
                "the geocoder answered {}",
                response.status().as_u16()
            )));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(failed)? {
            if body.len() + chunk.len() > MAX_ANSWER_BYTES {
                return Err(GeocodeError::Failed(format!(
                    "the answer exceeds {MAX_ANSWER_BYTES} bytes"
                )));
            }
            body.extend_from_slice(&chunk);
        }
        let answer: Answer =
            serde_json::from_slice(&body).map_err(|e| GeocodeError::Failed(format!("unreadable answer: {e}")))?;
        Ok(read(geo, answer))
    }
}

fn read(geo: &Geography, answer: Answer) -> Vec<Address> {
    answer
        .features
        .into_iter()
        .filter_map(|f| {
            let precision = match f.properties.kind.as_str() {
                "housenumber" => Precision::Housenumber,
                "street" => Precision::Street,
                "locality" => Precision::Locality,
                "municipality" => Precision::Municipality,
                _ => return None,
            };
            let [longitude, latitude] = f.geometry.coordinates[..] else {
                return None;
            };
            let sane = latitude.is_finite()
                && longitude.is_finite()
                && (-90.0..=90.0).contains(&latitude)
                && (-180.0..=180.0).contains(&longitude);
            let commune = geo.commune(&f.properties.citycode)?;
            let label: String = f.properties.label.chars().take(400).collect();
            (sane && !label.trim().is_empty()).then(|| Address {
                label,
                precision,
                postcode: f
                    .properties
                    .postcode
                    .filter(|p| p.len() == 5 && p.bytes().all(|b| b.is_ascii_digit())),
                commune: commune.insee_code.clone(),
                commune_name: commune.name.clone(),
                departement: commune.departement_code.clone(),
                departement_name: names::departement(&commune.departement_code)
                    .unwrap_or_default()
                    .to_owned(),
                latitude,
                longitude,
                score: if f.properties.score.is_finite() {
                    f.properties.score.clamp(0.0, 1.0)
                } else {
                    0.0
                },
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_answer_is_read_defensively() {
        let geo = Geography::load().expect("geography");
        let answer: Answer = serde_json::from_value(serde_json::json!({
            "type": "FeatureCollection",
            "features": [
                { "geometry": { "type": "Point", "coordinates": [2.4555, 48.7904] },
                  "properties": { "label": "1 Place Salvador Allende 94000 Créteil", "type": "housenumber",
                                  "score": 0.97, "postcode": "94000", "citycode": "94028" } },
                // A commune that does not exist: dropped.
                { "geometry": { "type": "Point", "coordinates": [2.0, 48.0] },
                  "properties": { "label": "Nulle part", "type": "street", "score": 0.5, "citycode": "00000" } },
                // A point off the globe: dropped.
                { "geometry": { "type": "Point", "coordinates": [200.0, 48.0] },
                  "properties": { "label": "Ailleurs", "type": "street", "score": 0.5, "citycode": "94028" } },
                // An unknown kind: dropped.
                { "geometry": { "type": "Point", "coordinates": [2.4, 48.7] },
                  "properties": { "label": "?", "type": "poi", "score": 0.5, "citycode": "94028" } },
                { "geometry": { "type": "Point", "coordinates": [2.4555, 48.7904] },
                  "properties": { "label": "Créteil", "type": "municipality", "score": 7.0, "citycode": "94028" } }
            ]
        }))
        .expect("answer");
        let read = read(&geo, answer);
        assert_eq!(read.len(), 2, "{read:?}");
        assert_eq!(read[0].commune_name, "Créteil");
        assert_eq!(read[0].departement_name, "Val-de-Marne");
        assert_eq!(read[0].precision, Precision::Housenumber);
        assert_eq!(read[1].precision, Precision::Municipality);
        assert!((read[1].score - 1.0).abs() < f64::EPSILON, "a score is clamped");
    }

    #[test]
    fn the_search_url_is_the_apis_search_path() {
        let g = Geocoder::new(Some("http://127.0.0.1:9/ban")).expect("geocoder");
        assert_eq!(
            g.search_url.as_ref().map(reqwest::Url::as_str),
            Some("http://127.0.0.1:9/ban/search/")
        );
        let g = Geocoder::new(Some("https://api-adresse.data.gouv.fr")).expect("geocoder");
        assert_eq!(
            g.search_url.as_ref().map(reqwest::Url::as_str),
            Some("https://api-adresse.data.gouv.fr/search/")
        );
        assert!(Geocoder::new(Some("ftp://x")).is_err());
        assert!(!Geocoder::new(None).expect("off").configured());
    }
}
