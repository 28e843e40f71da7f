//! relais-bots: the channel adapters of the text line (Telegram, SMS, web chat), the triage
//! dialogue and outbound delivery. Built by the text-line issue; empty until then.
