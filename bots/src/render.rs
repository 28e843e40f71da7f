//! Turning a reply into what each channel can show: buttons on Telegram and the web chat,
//! numbered choices on SMS, and SMS replies split so that each part fits a few segments.

use relais_core::helpline::model::Channel;
use relais_core::helpline::outbox::Payload;

/// Characters of the GSM 03.38 basic set (one septet each); anything else forces UCS-2.
const GSM_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
/// Characters of the GSM extension table (two septets each).
const GSM_EXTENDED: &str = "^{}\\[~]|€";

fn septets(c: char) -> Option<usize> {
    if GSM_BASIC.contains(c) {
        Some(1)
    } else if GSM_EXTENDED.contains(c) {
        Some(2)
    } else {
        None
    }
}

/// (is GSM-7, length in encoding units: septets, or UTF-16 code units for UCS-2).
fn measure(text: &str) -> (bool, usize) {
    let gsm: Option<usize> = text.chars().map(septets).sum();
    match gsm {
        Some(n) => (true, n),
        None => (false, text.encode_utf16().count()),
    }
}

/// How many SMS segments a text takes.
pub fn segments(text: &str) -> usize {
    let (gsm, units) = measure(text);
    let (single, multi) = if gsm { (160, 153) } else { (70, 67) };
    if units <= single { 1 } else { units.div_ceil(multi) }
}

/// Splits a text at word boundaries into parts of at most `max_segments` segments each.
pub fn split_sms(text: &str, max_segments: usize) -> Vec<String> {
    let max_segments = max_segments.max(1);
    let mut parts = Vec::new();
    let mut current = String::new();
    for word in text.split_inclusive([' ', '\n']) {
        let candidate = format!("{current}{word}");
        if segments(candidate.trim_end()) <= max_segments || current.is_empty() {
            if current.is_empty() && segments(word.trim_end()) > max_segments {
                // A single word longer than a part: cut it by characters.
                let mut chunk = String::new();
                for c in word.chars() {
                    let next = format!("{chunk}{c}");
                    if segments(&next) > max_segments {
                        parts.push(std::mem::take(&mut chunk));
                    }
                    chunk.push(c);
                }
                current = chunk;
                continue;
            }
            current = candidate;
        } else {
            parts.push(current.trim_end().to_owned());
            current = word.to_owned();
        }
    }
    if !current.trim().is_empty() {
        parts.push(current.trim_end().to_owned());
    }
    parts
}

fn numbered(payload: &Payload) -> String {
    let mut text = payload.text.clone();
    for (i, choice) in payload.choices.iter().enumerate() {
        text.push_str(&format!("\n{}. {}", i + 1, choice.label));
    }
    text
}

/// The outbound parts of one reply on a channel: (text to store, payload to send).
pub fn for_channel(channel: Channel, payload: &Payload, sms_max_segments: usize) -> Vec<Payload> {
    match channel {
        // Buttons, and no numbered list repeating them (the web chat's history gives the last
        // message's buttons back: `GET /chat/api/messages`).
        Channel::Telegram | Channel::WebChat => vec![payload.clone()],
        Channel::Sms => split_sms(&numbered(payload), sms_max_segments)
            .into_iter()
            .map(|text| Payload {
                text,
                choices: Vec::new(),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segment_counts_follow_the_encoding() {
        assert_eq!(segments(&"a".repeat(160)), 1);
        assert_eq!(segments(&"a".repeat(161)), 2);
        assert_eq!(segments(&"é".repeat(160)), 1, "é is in the GSM basic set");
        assert_eq!(segments(&"·".repeat(70)), 1, "UCS-2");
        assert_eq!(segments(&"·".repeat(71)), 2);
    }

    #[test]
    fn long_replies_split_at_words_within_the_limit() {
        let text = "mot ".repeat(200);
        let parts = split_sms(&text, 2);
        assert!(parts.len() > 1);
        for p in &parts {
            assert!(segments(p) <= 2, "{p}");
        }
        assert_eq!(parts.join(" ").split_whitespace().count(), 200);
    }
}
