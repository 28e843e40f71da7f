//! Points on the Earth and the shapes of court bans. Points are kept as 3D positions on a
//! sphere of the Earth's radius (in km), so a straight-line (chord) distance orders places
//! exactly as the great-circle distance does, and a spatial index works on them directly.

/// Mean Earth radius, in kilometres.
pub const EARTH_RADIUS_KM: f64 = 6371.0088;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LatLon {
    pub lat: f64,
    pub lon: f64,
}

impl LatLon {
    pub fn new(lat: f64, lon: f64) -> Option<Self> {
        ((-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon) && lat.is_finite() && lon.is_finite())
            .then_some(Self { lat, lon })
    }

    /// The 3D position, in km from the Earth's centre.
    pub fn xyz(self) -> [f64; 3] {
        let (lat, lon) = (self.lat.to_radians(), self.lon.to_radians());
        [
            EARTH_RADIUS_KM * lat.cos() * lon.cos(),
            EARTH_RADIUS_KM * lat.cos() * lon.sin(),
            EARTH_RADIUS_KM * lat.sin(),
        ]
    }

    /// Great-circle distance, in km.
    pub fn distance_km(self, other: Self) -> f64 {
        great_circle_km(chord_km(self.xyz(), other.xyz()))
    }
}

pub fn chord_km(a: [f64; 3], b: [f64; 3]) -> f64 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt()
}

/// The great-circle distance that a chord spans.
pub fn great_circle_km(chord: f64) -> f64 {
    2.0 * EARTH_RADIUS_KM * (chord / (2.0 * EARTH_RADIUS_KM)).clamp(0.0, 1.0).asin()
}

/// The chord that spans a great-circle distance (for a search radius in the index).
pub fn chord_for_km(km: f64) -> f64 {
    2.0 * EARTH_RADIUS_KM * (km / (2.0 * EARTH_RADIUS_KM)).min(std::f64::consts::FRAC_PI_2).sin()
}

/// A polygon from GeoJSON: an outer ring and holes, in (lon, lat).
#[derive(Clone, Debug, PartialEq)]
pub struct Polygon {
    rings: Vec<Vec<(f64, f64)>>,
    /// Bounding box of the outer ring: min lon, min lat, max lon, max lat.
    bbox: (f64, f64, f64, f64),
}

impl Polygon {
    /// From a GeoJSON `Polygon` object; `None` if it is not one.
    pub fn from_geojson(value: &serde_json::Value) -> Option<Self> {
        if value.get("type")?.as_str()? != "Polygon" {
            return None;
        }
        let rings: Vec<Vec<(f64, f64)>> = value
            .get("coordinates")?
            .as_array()?
            .iter()
            .map(|ring| {
                ring.as_array()?
                    .iter()
                    .map(|p| Some((p.get(0)?.as_f64()?, p.get(1)?.as_f64()?)))
                    .collect::<Option<Vec<_>>>()
            })
            .collect::<Option<Vec<_>>>()?;
        // Every ring closed with at least four points, none spanning half the globe (no
        // antimeridian crossings in French territories' bans).
        let sound = |r: &Vec<(f64, f64)>| {
            let (lo, hi) = r
                .iter()
                .fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p.0), b.max(p.0)));
            r.len() >= 4 && r.first() == r.last() && hi - lo < 180.0
        };
        if !rings.iter().all(sound) {
            return None;
        }
        let outer = rings.first()?;
        let bbox = outer
            .iter()
            .fold((f64::MAX, f64::MAX, f64::MIN, f64::MIN), |(a, b, c, d), (x, y)| {
                (a.min(*x), b.min(*y), c.max(*x), d.max(*y))
            });
        Some(Self { rings, bbox })
    }

    /// Whether the point is inside (outer ring, not in a hole). Even-odd rule; the areas are
    /// small enough for plane geometry on longitude and latitude.
    pub fn contains(&self, p: LatLon) -> bool {
        let (x, y) = (p.lon, p.lat);
        let (x0, y0, x1, y1) = self.bbox;
        if x < x0 || x > x1 || y < y0 || y > y1 {
            return false;
        }
        let inside = |ring: &[(f64, f64)]| {
            if ring.len() < 3 {
                return false;
            }
            let mut inside = false;
            let mut j = ring.len() - 1;
            for i in 0..ring.len() {
                let (xi, yi) = ring[i];
                let (xj, yj) = ring[j];
                if (yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi {
                    inside = !inside;
                }
                j = i;
            }
            inside
        };
        inside(&self.rings[0]) && !self.rings[1..].iter().any(|hole| inside(hole))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_are_great_circle() {
        let paris = LatLon::new(48.8566, 2.3522).unwrap_or(LatLon { lat: 0.0, lon: 0.0 });
        let lyon = LatLon::new(45.7640, 4.8357).unwrap_or(LatLon { lat: 0.0, lon: 0.0 });
        let d = paris.distance_km(lyon);
        assert!((d - 391.5).abs() < 2.0, "{d}");
        assert!((great_circle_km(chord_for_km(5.0)) - 5.0).abs() < 1e-9);
        assert!(LatLon::new(91.0, 0.0).is_none());
    }

    #[test]
    fn polygons_hold_points_inside_not_in_holes() {
        let square = serde_json::json!({ "type": "Polygon", "coordinates": [
            [[2.0, 48.0], [3.0, 48.0], [3.0, 49.0], [2.0, 49.0], [2.0, 48.0]],
            [[2.4, 48.4], [2.6, 48.4], [2.6, 48.6], [2.4, 48.6], [2.4, 48.4]]
        ] });
        let p = Polygon::from_geojson(&square).expect("a polygon");
        assert!(p.contains(LatLon { lat: 48.2, lon: 2.2 }));
        assert!(!p.contains(LatLon { lat: 48.5, lon: 2.5 }), "in the hole");
        assert!(!p.contains(LatLon { lat: 47.9, lon: 2.5 }));
        assert!(Polygon::from_geojson(&serde_json::json!({ "type": "Point", "coordinates": [1, 2] })).is_none());
    }
}
