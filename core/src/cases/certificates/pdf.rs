//! The certificate as the court reads it: an A4 PDF, French first, English second, with
//! names in whatever script they are written (embedded Noto fonts, shaped, right to left where
//! the text is: see `typeset`), and a QR code of the page where its code is checked.

use std::collections::{BTreeMap, BTreeSet};

use printpdf::{
    Codepoint, FontId, Mm, Op, PaintMode, ParsedFont, PdfDocument, PdfFontHandle, PdfPage, PdfSaveOptions, Pt, Rect,
    TextItem, TextMatrix,
};

use super::typeset::{self, Face, Fonts, Glyph};

use super::Content;
use crate::cases::model::{MeasureKind, SessionKind};
use crate::centres::wording::long_date;
use crate::error::{Error, Result};
use crate::helpline::model::Language;

fn measure_label(kind: MeasureKind) -> &'static str {
    match kind {
        MeasureKind::Eviction => "Éviction du domicile / Eviction from the home",
        MeasureKind::CareObligation => "Obligation de soins / Care obligation",
        MeasureKind::ContactBan => "Interdiction de contact / Contact ban",
        MeasureKind::PlaceBan => "Interdiction de paraître / Place ban",
        MeasureKind::ResidenceBan => "Interdiction de résider / Residence ban",
    }
}

fn authority_label(authority: &str) -> &str {
    match authority {
        "procureur" => "Procureur de la République / Public prosecutor",
        "juge_instruction" => "Juge d'instruction / Investigating judge",
        "jaf" => "Juge aux affaires familiales / Family judge",
        "jap" => "Juge de l'application des peines / Sentence enforcement judge",
        "spip" => "SPIP / Probation service",
        other => other,
    }
}

fn session_label(kind: SessionKind) -> &'static str {
    match kind {
        SessionKind::Individual => "entretien individuel / individual session",
        SessionKind::Group => "groupe de parole / talking group",
        SessionKind::ResponsibilityCourse => "stage de responsabilisation / responsibility course",
    }
}

fn both(date: chrono::NaiveDate) -> String {
    let (fr, en) = (long_date(date, Language::French), long_date(date, Language::English));
    if fr == en { fr } else { format!("{fr} / {en}") }
}

/// A line of text, its size, and whether it is bold; or the QR code of the check URL.
enum Line {
    Text(String, f32, bool),
    Qr,
}

fn lines(content: &Content, check_url: &str) -> Vec<Line> {
    let mut out = vec![
        Line::Text("ATTESTATION DE SUIVI".into(), 18.0, true),
        Line::Text("Certificate of attendance".into(), 12.0, false),
        Line::Text(String::new(), 8.0, false),
        Line::Text(format!("Centre : {}", content.centre), 11.0, true),
        Line::Text(
            format!(
                "Personne suivie / Person followed : {}",
                content.person_name.as_deref().unwrap_or("non renseigné / not given")
            ),
            11.0,
            false,
        ),
    ];
    if let Some(born) = content.person_born_on {
        out.push(Line::Text(
            format!("Date de naissance / Born on : {}", both(born)),
            11.0,
            false,
        ));
    }
    if let Some(m) = &content.measure {
        out.push(Line::Text(String::new(), 6.0, false));
        out.push(Line::Text(
            format!("Mesure / Measure : {}", measure_label(m.kind)),
            11.0,
            true,
        ));
        out.push(Line::Text(
            format!("Autorité / Authority : {}", authority_label(&m.authority)),
            11.0,
            false,
        ));
        out.push(Line::Text(
            format!("Décision / Decision : {}", m.decision_reference),
            11.0,
            false,
        ));
        let until = m.ends_on.map(|e| format!(" - {}", both(e))).unwrap_or_default();
        out.push(Line::Text(
            format!("Depuis / From : {}{until}", both(m.starts_on)),
            11.0,
            false,
        ));
    }
    out.push(Line::Text(String::new(), 6.0, false));
    out.push(Line::Text(
        "Le centre atteste que la personne a assisté aux séances suivantes :".into(),
        11.0,
        true,
    ));
    out.push(Line::Text(
        "The centre certifies that the person attended the following sessions:".into(),
        11.0,
        false,
    ));
    let period = match content.period_from {
        Some(from) => format!("Période / Period : {} - {}", both(from), both(content.period_to)),
        None => format!("Jusqu'au / Until : {}", both(content.period_to)),
    };
    out.push(Line::Text(period, 10.0, false));
    for s in &content.sessions {
        out.push(Line::Text(
            format!("- {} : {}", both(s.date), session_label(s.kind)),
            11.0,
            false,
        ));
    }
    let required = content
        .measure
        .as_ref()
        .and_then(|m| m.sessions_required)
        .map(|r| format!(" sur {r} requises / of {r} required"))
        .unwrap_or_default();
    out.push(Line::Text(
        format!(
            "Séances suivies / Sessions attended : {}{required}",
            content.sessions.len()
        ),
        11.0,
        true,
    ));
    out.push(Line::Text(String::new(), 6.0, false));
    out.push(Line::Text(
        format!(
            "Délivrée le / Issued on {} par / by {}",
            both(content.issued_on),
            content.issued_by
        ),
        11.0,
        false,
    ));
    out.push(Line::Text(
        format!(
            "Code de vérification / Verification code : {}",
            content.verification_code
        ),
        12.0,
        true,
    ));
    out.push(Line::Text(format!("Vérifier / Check : {check_url}"), 9.0, false));
    out.push(Line::Qr);
    out.push(Line::Text(String::new(), 6.0, false));
    out.push(Line::Text(
        "Établie à partir des seules séances enregistrées par le centre. Le nom n'est pas donné par la vérification."
            .into(),
        8.0,
        false,
    ));
    out.push(Line::Text(
        "Made from the sessions recorded by the centre only. The check does not give the name.".into(),
        8.0,
        false,
    ));
    out
}

/// Millimetres per point.
const PT_MM: f32 = 0.3528;
/// The text column: 20 mm from the left, 170 mm wide; lines from 272 mm down to 20 mm.
const LEFT: f32 = 20.0;
const WIDTH: f32 = 170.0;
const TOP: f32 = 272.0;
const BOTTOM: f32 = 20.0;
/// The QR code's side, in millimetres.
const QR_SIDE: f32 = 30.0;

/// Splits a line at spaces so it fits the column, measured with the font that draws it.
fn wrap(fonts: &mut Fonts, text: &str, size: f32, bold: bool) -> Result<Vec<String>> {
    let mut lines = Vec::new();
    let mut current = String::new();
    for word in text.split(' ') {
        if current.is_empty() || current.trim().is_empty() {
            current.push_str(word);
            continue;
        }
        let candidate = format!("{current} {word}");
        let (_, width) = fonts.line(&candidate, bold).map_err(Error::Internal)?;
        if width * size * PT_MM > WIDTH {
            lines.push(std::mem::replace(&mut current, format!("    {word}")));
        } else {
            current = candidate;
        }
    }
    lines.push(current);
    Ok(lines)
}

/// What goes on a page, before fonts are cut down to the glyphs used.
enum Mark {
    Text { y: f32, size: f32, glyphs: Vec<Glyph> },
    Qr { y: f32 },
}

/// Moves `y` down by `step` mm, to a new page when the column is full; the page to draw on.
fn next_line<'a>(pages: &'a mut Vec<Vec<Mark>>, y: &mut f32, step: f32) -> &'a mut Vec<Mark> {
    if *y - step < BOTTOM || pages.is_empty() {
        pages.push(Vec::new());
        *y = TOP;
    }
    *y -= step;
    let last = pages.len() - 1;
    &mut pages[last]
}

/// The dark modules of the QR code of `url`, as rectangles (lower left corner at `x`, `y` mm).
fn qr_ops(url: &str, x: f32, y: f32) -> Result<Vec<Op>> {
    let code = qrcode::QrCode::with_error_correction_level(url.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| Error::Internal(format!("QR code: {e}")))?;
    let width = code.width();
    let module = QR_SIDE / width as f32;
    let colors = code.to_colors();
    let mut ops = vec![Op::SetFillColor {
        col: printpdf::Color::Greyscale(printpdf::Greyscale::new(0.0, None)),
    }];
    for (i, color) in colors.iter().enumerate() {
        if *color != qrcode::Color::Dark {
            continue;
        }
        let (column, row) = ((i % width) as f32, (i / width) as f32);
        ops.push(Op::DrawRectangle {
            rectangle: Rect {
                x: Mm(x + column * module).into_pt(),
                y: Mm(y + QR_SIDE - (row + 1.0) * module).into_pt(),
                width: Mm(module).into_pt(),
                height: Mm(module).into_pt(),
                mode: Some(PaintMode::Fill),
                winding_order: None,
            },
        });
    }
    Ok(ops)
}

/// The PDF bytes. `check_url` is where the code can be checked.
pub fn render(content: &Content, check_url: &str) -> Result<Vec<u8>> {
    let mut fonts = Fonts::load().map_err(Error::Internal)?;
    // Lay out every line on its page.
    let mut pages: Vec<Vec<Mark>> = vec![Vec::new()];
    let mut y = TOP;
    for line in lines(content, check_url) {
        match line {
            Line::Qr => {
                // With white around it (the code's quiet zone: four modules, under 5 mm).
                let page = next_line(&mut pages, &mut y, QR_SIDE + 10.0);
                page.push(Mark::Qr { y: y + 5.0 });
            }
            Line::Text(text, size, bold) => {
                let step = size * PT_MM * 1.5;
                if text.is_empty() {
                    next_line(&mut pages, &mut y, step);
                    continue;
                }
                for part in wrap(&mut fonts, &text, size, bold)? {
                    let (glyphs, _) = fonts.line(&part, bold).map_err(Error::Internal)?;
                    let page = next_line(&mut pages, &mut y, step);
                    page.push(Mark::Text { y, size, glyphs });
                }
            }
        }
    }

    // Each face used, cut down to its glyphs.
    let mut used: BTreeMap<Face, BTreeSet<u16>> = BTreeMap::new();
    for mark in pages.iter().flatten() {
        if let Mark::Text { glyphs, .. } = mark {
            for g in glyphs {
                used.entry(g.face).or_default().insert(g.gid);
            }
        }
    }
    let mut doc = PdfDocument::new("Attestation de suivi / Certificate of attendance");
    let mut faces: BTreeMap<Face, (FontId, BTreeMap<u16, u16>)> = BTreeMap::new();
    for (face, gids) in &used {
        let subset = typeset::subset(*face, gids).map_err(Error::Internal)?;
        let mut warnings = Vec::new();
        let parsed = ParsedFont::from_bytes(&subset.bytes, 0, &mut warnings)
            .ok_or_else(|| Error::Internal("an embedded font did not parse".into()))?;
        faces.insert(*face, (doc.add_font(&parsed), subset.gids));
    }

    let (width, height) = (Mm(210.0), Mm(297.0));
    let mut out = Vec::new();
    for page in pages {
        let mut ops = Vec::new();
        for mark in page {
            match mark {
                Mark::Qr { y } => ops.extend(qr_ops(check_url, LEFT, y)?),
                Mark::Text { y, size, glyphs } => {
                    ops.push(Op::StartTextSection);
                    let mut current: Option<Face> = None;
                    for g in glyphs {
                        let Some((font, gids)) = faces.get(&g.face) else {
                            continue;
                        };
                        if current != Some(g.face) {
                            ops.push(Op::SetFont {
                                font: PdfFontHandle::External(font.clone()),
                                size: Pt(size),
                            });
                            current = Some(g.face);
                        }
                        let em = size * PT_MM;
                        ops.push(Op::SetTextMatrix {
                            matrix: TextMatrix::Translate(Mm(LEFT + g.x * em).into_pt(), Mm(y + g.y * em).into_pt()),
                        });
                        ops.push(Op::ShowText {
                            items: vec![TextItem::GlyphIds(vec![Codepoint {
                                gid: gids.get(&g.gid).copied().unwrap_or(0),
                                offset: 0.0,
                                cid: (!g.text.is_empty()).then_some(g.text),
                            }])],
                        });
                    }
                    ops.push(Op::EndTextSection);
                }
            }
        }
        out.push(PdfPage::new(width, height, ops));
    }
    doc.with_pages(out);
    let mut warnings = Vec::new();
    Ok(doc.save(&PdfSaveOptions::default(), &mut warnings))
}
