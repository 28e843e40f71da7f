//! Lines of the certificate as glyphs: names in the scripts the people followed write (Latin
//! with its extensions for Vietnamese, Polish, Turkish or Romanian, Greek, Cyrillic, Arabic),
//! shaped by the fonts' own rules (Arabic letters joined, marks placed), laid out right to left
//! where the text is (the Unicode bidirectional algorithm), in Noto fonts embedded in the binary
//! (`core/assets/fonts`, SIL Open Font License). Each certificate embeds only the glyphs it uses.

use std::collections::BTreeMap;

use allsorts::binary::read::ReadScope;
use allsorts::font::{Font, MatchingPresentation};
use allsorts::font_data::{DynamicFontTableProvider, FontData};
use allsorts::glyph_position::{GlyphLayout, TextDirection};
use allsorts::gsub::{FeatureMask, FeatureMaskExt as _};
use allsorts::subset::{CmapTarget, SubsetProfile};
use allsorts::tag;
use unicode_bidi::BidiInfo;

static SANS: &[u8] = include_bytes!("../../../assets/fonts/NotoSans-Regular.ttf");
static SANS_BOLD: &[u8] = include_bytes!("../../../assets/fonts/NotoSans-Bold.ttf");
static ARABIC: &[u8] = include_bytes!("../../../assets/fonts/NotoSansArabic-Regular.ttf");

/// Which embedded font draws a glyph.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Face {
    Sans,
    SansBold,
    Arabic,
}

impl Face {
    pub const ALL: [Face; 3] = [Face::Sans, Face::SansBold, Face::Arabic];

    fn bytes(self) -> &'static [u8] {
        match self {
            Face::Sans => SANS,
            Face::SansBold => SANS_BOLD,
            Face::Arabic => ARABIC,
        }
    }
}

/// A glyph placed on a line: `x` and `y` in ems from the line's origin (left, baseline), and
/// the text it stands for (several characters for a ligature), for copying and extraction.
#[derive(Clone, Debug)]
pub struct Glyph {
    pub face: Face,
    pub gid: u16,
    pub x: f32,
    pub y: f32,
    pub text: String,
}

type Engine = Font<DynamicFontTableProvider<'static>>;

fn provider(bytes: &'static [u8]) -> Result<DynamicFontTableProvider<'static>, String> {
    let data = ReadScope::new(bytes)
        .read::<FontData<'_>>()
        .map_err(|e| e.to_string())?;
    data.table_provider(0).map_err(|e| e.to_string())
}

pub struct Fonts {
    engines: Vec<(Face, Engine, f32)>,
}

/// Arabic letters and their presentation forms: drawn with the Arabic font.
fn is_arabic(c: char) -> bool {
    matches!(c as u32, 0x0600..=0x06FF | 0x0750..=0x077F | 0x08A0..=0x08FF | 0xFB50..=0xFDFF | 0xFE70..=0xFEFF)
}

fn script_of(text: &str) -> u32 {
    for c in text.chars() {
        match c as u32 {
            0x0370..=0x03FF | 0x1F00..=0x1FFF => return tag::GREK,
            0x0400..=0x052F => return tag::CYRL,
            _ if is_arabic(c) => return tag::ARAB,
            _ if c.is_alphabetic() => return tag::LATN,
            _ => {}
        }
    }
    tag::LATN
}

impl Fonts {
    pub fn load() -> Result<Self, String> {
        let mut engines = Vec::new();
        for face in Face::ALL {
            let engine = Font::new(provider(face.bytes())?).map_err(|e| e.to_string())?;
            let units = f32::from(engine.head_table.units_per_em);
            engines.push((face, engine, units));
        }
        Ok(Self { engines })
    }

    fn engine(&mut self, face: Face) -> Result<(&mut Engine, f32), String> {
        self.engines
            .iter_mut()
            .find(|(f, _, _)| *f == face)
            .map(|(_, engine, units)| (engine, *units))
            .ok_or_else(|| "a font is missing".to_owned())
    }

    /// Shapes one run of a single face and direction: glyphs with their pen advance and
    /// offsets, in ems, in logical order.
    fn shape(&mut self, face: Face, text: &str, rtl: bool) -> Result<Vec<(Glyph, f32)>, String> {
        let (engine, units) = self.engine(face)?;
        let script = script_of(text);
        let raw = engine.map_glyphs(text, script, MatchingPresentation::NotRequired);
        let infos = engine
            .shape(raw, script, None, FeatureMask::default_mask(), &[], None, true)
            .unwrap_or_else(|(_, partial)| partial);
        let direction = if rtl {
            TextDirection::RightToLeft
        } else {
            TextDirection::LeftToRight
        };
        let positions = GlyphLayout::new(engine, &infos, direction, false)
            .glyph_positions()
            .map_err(|e| e.to_string())?;
        Ok(infos
            .iter()
            .zip(positions)
            .map(|(info, at)| {
                (
                    Glyph {
                        face,
                        gid: info.glyph.glyph_index,
                        x: at.x_offset as f32 / units,
                        y: at.y_offset as f32 / units,
                        text: info.glyph.unicodes.iter().collect(),
                    },
                    at.hori_advance as f32 / units,
                )
            })
            .collect())
    }

    /// Lays out a line: its glyphs, left to right on the page, and its width, in ems.
    pub fn line(&mut self, text: &str, bold: bool) -> Result<(Vec<Glyph>, f32), String> {
        let latin = if bold { Face::SansBold } else { Face::Sans };
        let bidi = BidiInfo::new(text, None);
        let mut out = Vec::new();
        let mut pen = 0.0_f32;
        for paragraph in &bidi.paragraphs {
            let (levels, runs) = bidi.visual_runs(paragraph, paragraph.range.clone());
            for run in runs {
                let rtl = levels[run.start].is_rtl();
                // Pieces of one face, in logical order; neutral characters stay with the piece
                // before them.
                let mut pieces: Vec<(Face, String)> = Vec::new();
                for c in text[run.clone()].chars() {
                    let face = if is_arabic(c) {
                        Face::Arabic
                    } else if c.is_alphanumeric() {
                        latin
                    } else {
                        pieces.last().map_or(latin, |(face, _)| *face)
                    };
                    match pieces.last_mut() {
                        Some((last, piece)) if *last == face => piece.push(c),
                        _ => pieces.push((face, c.to_string())),
                    }
                }
                if rtl {
                    pieces.reverse();
                }
                for (face, piece) in pieces {
                    let shaped = self.shape(face, &piece, rtl)?;
                    let width: f32 = shaped.iter().map(|(_, advance)| advance).sum();
                    // Right to left: the first glyph is at the right end of the piece.
                    let mut cursor = if rtl { pen + width } else { pen };
                    let mut placed = Vec::with_capacity(shaped.len());
                    for (mut glyph, advance) in shaped {
                        if rtl {
                            cursor -= advance;
                            glyph.x += cursor;
                        } else {
                            glyph.x += cursor;
                            cursor += advance;
                        }
                        placed.push(glyph);
                    }
                    if rtl {
                        placed.reverse();
                    }
                    out.extend(placed);
                    pen += width;
                }
            }
        }
        Ok((out, pen))
    }
}

/// A face cut down to the glyphs a document uses, and where each old glyph id went.
pub struct Subset {
    pub bytes: Vec<u8>,
    pub gids: BTreeMap<u16, u16>,
}

/// Subsets `face` to `used` glyph ids (glyph 0, the missing glyph, always first).
pub fn subset(face: Face, used: &std::collections::BTreeSet<u16>) -> Result<Subset, String> {
    let ids: Vec<u16> = std::iter::once(0)
        .chain(used.iter().copied().filter(|g| *g != 0))
        .collect();
    let bytes = allsorts::subset::subset(&provider(face.bytes())?, &ids, &SubsetProfile::Pdf, CmapTarget::Unicode)
        .map_err(|e| e.to_string())?;
    let gids = ids
        .iter()
        .enumerate()
        .filter_map(|(new, old)| u16::try_from(new).ok().map(|new| (*old, new)))
        .collect();
    Ok(Subset { bytes, gids })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_character_of_the_names_has_a_glyph_and_arabic_reads_right_to_left() {
        let mut fonts = Fonts::load().unwrap();
        let names = "Nguyễn Văn Đức — Łukasz Żółć — Şükrü Ţărână — Αλέξανδρος — Дмитрий — محمد";
        let (glyphs, width) = fonts.line(names, false).unwrap();
        assert!(width > 10.0);
        assert!(glyphs.iter().all(|g| g.gid != 0), "a missing glyph: {glyphs:?}");
        let arabic: Vec<&Glyph> = glyphs
            .iter()
            .filter(|g| g.face == Face::Arabic && g.text.trim() != "")
            .collect();
        assert_eq!(arabic.len(), 4, "{arabic:?}");
        // Drawn left to right on the page, the last letter (د) comes first.
        assert_eq!(arabic[0].text, "د");
        assert_eq!(arabic[3].text, "م");
        assert!(arabic.windows(2).all(|w| w[0].x < w[1].x));
        // Joined: the initial and medial forms are not the letters' isolated glyphs.
        let (alone, _) = fonts.line("م", false).unwrap();
        assert_ne!(alone[0].gid, arabic[3].gid, "the first letter takes its initial form");
    }
}
