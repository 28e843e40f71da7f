// French first, English second: every text a person reads is written as the pair
// `L("français", "English")` where it is used. The choice is kept for the tab only.
export type Lang = "fr" | "en";

const KEY = "relais.lang";
let current: Lang = sessionStorage.getItem(KEY) === "en" ? "en" : "fr";

export function lang(): Lang {
  return current;
}

export function setLang(next: Lang): void {
  current = next;
  sessionStorage.setItem(KEY, next);
  document.documentElement.lang = next;
}

document.documentElement.lang = current;

export function L(fr: string, en: string): string {
  return current === "en" ? en : fr;
}

const locale = () => (current === "en" ? "en-GB" : "fr-FR");

/** A date and time in the given IANA zone (the centre's), or the device's. */
export function when(iso: string | null | undefined, timeZone?: string): string {
  if (!iso) return "—";
  return new Intl.DateTimeFormat(locale(), {
    weekday: "short",
    day: "numeric",
    month: "short",
    hour: "2-digit",
    minute: "2-digit",
    timeZone,
  }).format(new Date(iso));
}

export function day(iso: string | null | undefined, timeZone?: string): string {
  if (!iso) return "—";
  const date = iso.length === 10 ? new Date(`${iso}T12:00:00Z`) : new Date(iso);
  return new Intl.DateTimeFormat(locale(), { day: "numeric", month: "long", year: "numeric", timeZone }).format(date);
}

export function time(iso: string, timeZone?: string): string {
  return new Intl.DateTimeFormat(locale(), { hour: "2-digit", minute: "2-digit", timeZone }).format(new Date(iso));
}

export function number(n: number, digits = 0): string {
  return new Intl.NumberFormat(locale(), { maximumFractionDigits: digits }).format(n);
}

/** One text in both languages, French first, English second, as `L()` takes them. */
export type Pair = readonly [fr: string, en: string];

/**
 * A count in words, in the form its number takes in the reader's language, chosen by
 * Intl.PluralRules: in French 0 and 1 take `one` ("0 offre compatible", "1 nuit"), in English 1
 * only; every other number takes `other`. `#` stands for the number, written by `number(n, digits)`:
 *
 *     count(n, { one: ["# offre compatible", "# compatible offer"], other: ["# offres compatibles", "# compatible offers"] })
 */
export function count(n: number, forms: { one: Pair; other: Pair }, digits = 0): string {
  const category = new Intl.PluralRules(locale(), { maximumFractionDigits: digits }).select(n);
  const [fr, en] = category === "one" ? forms.one : forms.other;
  return L(fr, en).replaceAll("#", number(n, digits));
}

/** A quantity with its unit's short symbol, in the reader's language: "10 min", "3,5 km". */
export function quantity(n: number, unit: "minute" | "kilometer", digits = 0): string {
  return new Intl.NumberFormat(locale(), { style: "unit", unit, unitDisplay: "short", maximumFractionDigits: digits }).format(n);
}

/** A length of time in words, in the reader's language: "30 secondes", "2 minutes", "1 hour". */
export function span(n: number, unit: "second" | "minute" | "hour"): string {
  // The number and its unit stay on one line.
  return new Intl.NumberFormat(locale(), { style: "unit", unit, unitDisplay: "long", maximumFractionDigits: 0 }).format(n).replace(" ", "\u00a0");
}

/** Labels of the contract's enumerations, French and English. */
const LABELS: Record<string, [string, string]> = {
  // conversation outcomes and states
  information_given: ["Information donnée", "Information given"],
  oriented_to_centre: ["Orienté vers un centre", "Oriented to a centre"],
  appointment_booked: ["Rendez-vous pris", "Appointment booked"],
  emergency_redirected: ["Redirigé vers les urgences", "Redirected to emergency services"],
  abandoned: ["Abandon", "Abandoned"],
  out_of_scope: ["Hors champ", "Out of scope"],
  bot: ["Avec le robot", "With the bot"],
  waiting: ["En attente", "Waiting"],
  active: ["En cours", "Active"],
  // a conversation, and a case's follow-up (its "prise en charge"), once closed
  closed: ["Clôturée", "Closed"],
  // contact kinds
  author: ["Auteur", "Author"],
  potential_author: ["Auteur potentiel", "Potential author"],
  relative: ["Proche", "Relative"],
  professional: ["Professionnel", "Professional"],
  victim: ["Victime", "Victim"],
  unknown: ["Inconnu", "Unknown"],
  // channels
  telegram: ["Telegram", "Telegram"],
  sms: ["SMS", "SMS"],
  webchat: ["Chat web", "Web chat"],
  // appointment statuses
  booked: ["Réservé", "Booked"],
  arrived: ["Arrivé", "Arrived"],
  fulfilled: ["Honoré", "Fulfilled"],
  cancelled: ["Annulé", "Cancelled"],
  noshow: ["Absent", "No-show"],
  // referral statuses
  pending: ["En attente", "Pending"],
  accepted: ["Acceptée", "Accepted"],
  rejected: ["Refusée", "Rejected"],
  done: ["Terminée", "Done"],
  revoked: ["Retirée", "Revoked"],
  voluntary: ["Démarche volontaire", "Voluntary"],
  court_ordered: ["Décision de justice", "Court-ordered"],
  // presence
  available: ["Disponible", "Available"],
  busy: ["Occupé·e", "Busy"],
  away: ["Absent·e", "Away"],
  offline: ["Hors ligne", "Offline"],
  // case statuses: the follow-up, « la prise en charge », is open, suspended or closed
  open: ["Ouverte", "Open"],
  suspended: ["Suspendue", "Suspended"],
  // sessions
  planned: ["Prévue", "Planned"],
  attended: ["Présent", "Attended"],
  excused: ["Absence excusée", "Excused"],
  unexcused: ["Absence non excusée", "Unexcused"],
  // call topics
  violence_in_couple: ["Violences dans le couple", "Violence in the couple"],
  fear_of_acting_out: ["Peur de passer à l'acte", "Fear of acting out"],
  court_measure: ["Mesure de justice", "Court measure"],
  housing: ["Hébergement", "Housing"],
  addiction: ["Addiction", "Addiction"],
  children: ["Enfants", "Children"],
  mental_health: ["Santé mentale", "Mental health"],
  information: ["Information", "Information"],
  other: ["Autre", "Other"],
  // measures
  eviction: ["Éviction du domicile", "Eviction"],
  care_obligation: ["Obligation de soins", "Care obligation"],
  contact_ban: ["Interdiction de contact", "Contact ban"],
  place_ban: ["Interdiction de paraître", "Place ban"],
  residence_ban: ["Interdiction de séjour", "Residence ban"],
};

export function label(value: string | null | undefined): string {
  if (!value) return "—";
  const pair = LABELS[value];
  return pair ? L(pair[0], pair[1]) : value.replaceAll("_", " ");
}
