//! The certificate as the court reads it: an A4 PDF in Helvetica (a standard font, nothing
//! embedded), French first, English second.

use printpdf::{BuiltinFont, Mm, Op, PdfDocument, PdfFontHandle, PdfPage, PdfSaveOptions, Point, Pt, TextItem};

use super::Content;
use crate::cases::model::{MeasureKind, SessionKind};
use crate::centres::wording::long_date;
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

/// A line of text, its size, and whether it is bold.
struct Line(String, f32, bool);

fn lines(content: &Content, check_url: &str) -> Vec<Line> {
    let mut out = vec![
        Line("ATTESTATION DE SUIVI".into(), 18.0, true),
        Line("Certificate of attendance".into(), 12.0, false),
        Line(String::new(), 8.0, false),
        Line(format!("Centre : {}", content.centre), 11.0, true),
        Line(
            format!(
                "Personne suivie / Person followed : {}",
                content.person_name.as_deref().unwrap_or("non renseigné / not given")
            ),
            11.0,
            false,
        ),
    ];
    if let Some(born) = content.person_born_on {
        out.push(Line(
            format!("Date de naissance / Born on : {}", both(born)),
            11.0,
            false,
        ));
    }
    if let Some(m) = &content.measure {
        out.push(Line(String::new(), 6.0, false));
        out.push(Line(
            format!("Mesure / Measure : {}", measure_label(m.kind)),
            11.0,
            true,
        ));
        out.push(Line(
            format!("Autorité / Authority : {}", authority_label(&m.authority)),
            11.0,
            false,
        ));
        out.push(Line(
            format!("Décision / Decision : {}", m.decision_reference),
            11.0,
            false,
        ));
        let until = m.ends_on.map(|e| format!(" - {}", both(e))).unwrap_or_default();
        out.push(Line(
            format!("Depuis / From : {}{until}", both(m.starts_on)),
            11.0,
            false,
        ));
    }
    out.push(Line(String::new(), 6.0, false));
    out.push(Line(
        "Le centre atteste que la personne a assisté aux séances suivantes :".into(),
        11.0,
        true,
    ));
    out.push(Line(
        "The centre certifies that the person attended the following sessions:".into(),
        11.0,
        false,
    ));
    let period = match content.period_from {
        Some(from) => format!("Période / Period : {} - {}", both(from), both(content.period_to)),
        None => format!("Jusqu'au / Until : {}", both(content.period_to)),
    };
    out.push(Line(period, 10.0, false));
    for s in &content.sessions {
        out.push(Line(
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
    out.push(Line(
        format!(
            "Séances suivies / Sessions attended : {}{required}",
            content.sessions.len()
        ),
        11.0,
        true,
    ));
    out.push(Line(String::new(), 6.0, false));
    out.push(Line(
        format!(
            "Délivrée le / Issued on {} par / by {}",
            both(content.issued_on),
            content.issued_by
        ),
        11.0,
        false,
    ));
    out.push(Line(
        format!(
            "Code de vérification / Verification code : {}",
            content.verification_code
        ),
        12.0,
        true,
    ));
    out.push(Line(format!("Vérifier / Check : {check_url}"), 9.0, false));
    out.push(Line(String::new(), 6.0, false));
    out.push(Line(
        "Établie à partir des seules séances enregistrées par le centre. Le nom n'est pas donné par la vérification."
            .into(),
        8.0,
        false,
    ));
    out.push(Line(
        "Made from the sessions recorded by the centre only. The check does not give the name.".into(),
        8.0,
        false,
    ));
    out
}

/// Splits a line at spaces so it fits the page: Helvetica averages about half its size per
/// character, and the text column is 170 mm wide.
fn wrap(text: &str, size: f32) -> Vec<String> {
    let width = (170.0 / (size * 0.3528 * 0.52)) as usize;
    let mut lines = Vec::new();
    let mut current = String::new();
    for word in text.split(' ') {
        if !current.is_empty() && current.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut current));
            current.push_str("    ");
        } else if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(word);
    }
    lines.push(current);
    lines
}

/// The PDF bytes. `check_url` is where the code can be checked.
pub fn render(content: &Content, check_url: &str) -> Vec<u8> {
    let mut doc = PdfDocument::new("Attestation de suivi / Certificate of attendance");
    let (width, height) = (Mm(210.0), Mm(297.0));
    let mut pages = Vec::new();
    let mut ops = Vec::new();
    let mut y = 272.0_f32;
    let wrapped = lines(content, check_url)
        .into_iter()
        .flat_map(|Line(text, size, bold)| wrap(&text, size).into_iter().map(move |t| Line(t, size, bold)));
    for Line(text, size, bold) in wrapped {
        let step = size * 0.3528 * 1.5;
        if y - step < 20.0 {
            pages.push(PdfPage::new(width, height, std::mem::take(&mut ops)));
            y = 272.0;
        }
        y -= step;
        if text.is_empty() {
            continue;
        }
        let font = if bold {
            BuiltinFont::HelveticaBold
        } else {
            BuiltinFont::Helvetica
        };
        ops.extend([
            Op::StartTextSection,
            Op::SetTextCursor {
                pos: Point::new(Mm(20.0), Mm(y)),
            },
            Op::SetFont {
                font: PdfFontHandle::Builtin(font),
                size: Pt(size),
            },
            Op::ShowText {
                items: vec![TextItem::Text(text)],
            },
            Op::EndTextSection,
        ]);
    }
    pages.push(PdfPage::new(width, height, ops));
    doc.with_pages(pages);
    let mut warnings = Vec::new();
    doc.save(&PdfSaveOptions::default(), &mut warnings)
}
