//! The secret protective disc of a protected person: the only geometry matching and placements
//! ever test. It is drawn once, when her location is recorded, and stored sealed: its centre is
//! offset from her by a random distance of at least half of R = max(1 km, alert distance), and
//! each factor step's radius carries an independent random margin, so that the disc strictly
//! contains her alert disc at that factor. Probing can at best recover the disc; its centre is
//! never where she is, and it is never redrawn (repeated draws would average out).

use super::geometry::{EARTH_RADIUS_KM, LatLon};

/// The exclusion factor steps a following centre may set on a request (the alert distance
/// times this is kept clear); 2, the bracelet's pre-alert distance, is the default.
pub const FACTOR_STEPS: [f64; 3] = [1.0, 1.5, 2.0];
pub const DEFAULT_FACTOR: f64 = 2.0;

/// The step a stored or given factor names, if it is one.
pub fn step_index(factor: f64) -> Option<usize> {
    FACTOR_STEPS.iter().position(|s| (s - factor).abs() < 1e-9)
}

/// The centre's offset from the person, as a share of R: at least a half (the lower bound is
/// kept a little above it so that an estimate of the centre a few metres off still is).
const OFFSET_SHARE: (f64, f64) = (0.55, 1.0);
/// Each radius's margin beyond the true disc, as a share of R.
const MARGIN_SHARE: (f64, f64) = (0.25, 0.75);

/// A disc drawn for one protected person. Never in a response or a log.
#[derive(Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Disc {
    lat: f64,
    lon: f64,
    /// The radius tested at each of [`FACTOR_STEPS`], in km.
    radii_km: [f64; 3],
}

impl std::fmt::Debug for Disc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Disc([sealed])")
    }
}

/// The point `km` away from `from` towards `bearing` (radians from north), on the sphere.
fn destination(from: LatLon, bearing: f64, km: f64) -> Option<LatLon> {
    let (lat1, lon1) = (from.lat.to_radians(), from.lon.to_radians());
    let delta = km / EARTH_RADIUS_KM;
    let lat2 = (lat1.sin() * delta.cos() + lat1.cos() * delta.sin() * bearing.cos()).asin();
    let lon2 = lon1 + (bearing.sin() * delta.sin() * lat1.cos()).atan2(delta.cos() - lat1.sin() * lat2.sin());
    let lon = (lon2.to_degrees() + 540.0).rem_euclid(360.0) - 180.0;
    LatLon::new(lat2.to_degrees(), lon)
}

impl Disc {
    /// Draws the disc for a person at `at` with an alert distance of `alert_km`; `uniform`
    /// gives independent numbers in [0, 1).
    pub fn draw(at: LatLon, alert_km: i32, mut uniform: impl FnMut() -> f64) -> Option<Self> {
        let alert = f64::from(alert_km.max(1));
        let r = alert.max(1.0);
        let between = |u: f64, (lo, hi): (f64, f64)| r * (lo + (hi - lo) * u);
        for _ in 0..16 {
            let bearing = uniform() * std::f64::consts::TAU;
            let centre = destination(at, bearing, between(uniform(), OFFSET_SHARE))?;
            // The offset as it really came out (not as asked), so containment holds exactly.
            let offset = at.distance_km(centre);
            if offset < r * OFFSET_SHARE.0 - 1e-6 {
                continue;
            }
            let mut radii_km = [0.0; 3];
            for (radius, step) in radii_km.iter_mut().zip(FACTOR_STEPS) {
                *radius = step * alert + offset + between(uniform(), MARGIN_SHARE);
            }
            return Some(Self {
                lat: centre.lat,
                lon: centre.lon,
                radii_km,
            });
        }
        None
    }

    /// Draws with the operating system's generator.
    pub fn draw_secret(at: LatLon, alert_km: i32) -> Option<Self> {
        Self::draw(at, alert_km, || {
            let bits = u64::from_le_bytes(crate::crypto::random_bytes::<8>()) >> 11;
            bits as f64 / (1u64 << 53) as f64
        })
    }

    pub fn centre(&self) -> LatLon {
        LatLon {
            lat: self.lat,
            lon: self.lon,
        }
    }

    /// Whether a point is kept clear at this factor step (an unknown step counts as the largest).
    pub fn excludes(&self, point: LatLon, factor: f64) -> bool {
        let radius = self.radii_km[step_index(factor).unwrap_or(FACTOR_STEPS.len() - 1)];
        self.centre().distance_km(point) <= radius
    }

    /// Whether the stored shape can be used (a sealed disc read back).
    pub fn is_sound(&self) -> bool {
        LatLon::new(self.lat, self.lon).is_some() && self.radii_km.iter().all(|r| r.is_finite() && *r > 0.0)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A small deterministic generator for the property tests (xorshift).
    pub(crate) struct Rng(pub(crate) u64);
    impl Rng {
        pub(crate) fn next(&mut self) -> f64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    #[test]
    fn the_disc_strictly_contains_the_true_disc_and_is_never_centred_on_her() {
        let mut rng = Rng(0x2545_F491_4F6C_DD1D);
        for case in 0..5000 {
            // Anywhere in metropolitan France and overseas latitudes.
            let at = LatLon {
                lat: -22.0 + 73.0 * rng.next(),
                lon: -62.0 + 118.0 * rng.next(),
            };
            let alert = 1 + (rng.next() * 10.0) as i32;
            let r = f64::from(alert);
            let disc = Disc::draw(at, alert, || rng.next()).expect("a disc");
            let offset = at.distance_km(disc.centre());
            assert!(offset >= r / 2.0, "case {case}: centre {offset} km from her");
            assert!(offset <= r + 1e-6, "case {case}: centre too far ({offset} km)");
            // Points on and just inside the true disc at every step, in every direction.
            for (i, step) in FACTOR_STEPS.iter().enumerate() {
                for k in 0..24 {
                    let bearing = f64::from(k) / 24.0 * std::f64::consts::TAU + rng.next() * 0.2;
                    let reach = step * r * (0.5 + 0.5 * rng.next());
                    let p = destination(at, bearing, reach).expect("a point");
                    assert!(
                        disc.excludes(p, *step),
                        "case {case}: step {step} misses a point {reach} km away"
                    );
                    let edge = destination(at, bearing, step * r).expect("a point");
                    assert!(disc.excludes(edge, *step), "case {case}: step {step} misses its edge");
                }
                if i > 0 {
                    assert!(disc.radii_km[i] >= disc.radii_km[i - 1], "larger steps never shrink");
                }
            }
            assert!(disc.is_sound());
        }
    }

    #[test]
    fn an_unknown_factor_counts_as_the_largest_and_debug_hides_it() {
        let at = LatLon { lat: 48.85, lon: 2.35 };
        let mut n = 0.3;
        let disc = Disc::draw(at, 3, || {
            n = (n + 0.37) % 1.0;
            n
        })
        .expect("a disc");
        let far = destination(at, 0.0, 5.9).expect("a point");
        assert_eq!(disc.excludes(far, 7.0), disc.excludes(far, 2.0));
        assert_eq!(format!("{disc:?}"), "Disc([sealed])");
        assert!(step_index(1.2).is_none() && step_index(1.5) == Some(1));
    }
}
