// The server's errors in the reader's language. Relais answers every error with an RFC 9457
// problem (`type`, `title`, `status`, `detail`, `errors` naming the fields at fault on a
// `validation` problem, `Retry-After` on a 429); its titles and most details are English. A
// screen never shows them as they are: each known type, and each status otherwise, has its
// text here; a detail the server writes in both languages ("en français / in English") is
// shown in the reader's; a known English detail is translated; the rest stays in "Technical
// details" for support.
import { ApiError } from "./api";
import { L, span } from "./i18n";

/** Field labels by the contract's member names, as the forms show them; a screen may give its own. */
export type FieldLabels = Record<string, string>;

const FIELDS: Record<string, () => string> = {
  email: () => L("Adresse e-mail", "Email address"),
  password: () => L("Mot de passe", "Password"),
  totp: () => L("Code à usage unique", "One-time code"),
  code: () => L("Code à usage unique", "One-time code"),
  enrolment_code: () => L("Code d'enrôlement", "Enrolment code"),
  text: () => L("Votre réponse", "Your reply"),
  body: () => L("Texte", "Text"),
  title: () => L("Titre", "Title"),
  summary: () => L("Résumé", "Summary"),
  note: () => L("Note de transmission", "Hand-over note"),
  reason: () => L("Motif", "Reason"),
  cancellation_reason: () => L("Motif d'annulation", "Reason for cancelling"),
  close_reason: () => L("Motif de clôture", "Reason for closing"),
  outcome: () => L("Issue", "Outcome"),
  postal_code: () => L("Code postal", "Postal code"),
  centre_id: () => L("Centre", "Centre"),
  language: () => L("Langue", "Language"),
  status: () => L("Statut", "Status"),
  name: () => L("Nom", "Name"),
  date_of_birth: () => L("Date de naissance", "Date of birth"),
  label: () => L("Libellé", "Label"),
  radius_km: () => L("Distance d'alerte (km)", "Alert distance (km)"),
  latitude: () => L("Latitude", "Latitude"),
  longitude: () => L("Longitude", "Longitude"),
  address: () => L("Adresse", "Address"),
  location: () => L("Lieu", "Place"),
  starts_at: () => L("Début", "Start"),
  started_at: () => L("Début de l'appel", "Call started"),
  duration_seconds: () => L("Durée", "Duration"),
  planned_at: () => L("Date et heure", "Date and time"),
  due_on: () => L("Échéance", "Due date"),
  from: () => L("Du", "From"),
  to: () => L("Au", "To"),
  kind: () => L("Type", "Kind"),
  provider: () => L("Gestionnaire", "Provider"),
  commune: () => L("Commune", "Commune"),
  q: () => L("Recherche", "Search"),
  capacity: () => L("Places chaque nuit", "Places each night"),
  price_cents: () => L("Prix d'une nuit", "Price of a night"),
  available_from: () => L("Première nuit", "First night"),
  available_until: () => L("Dernière nuit", "Last night"),
  first_night: () => L("Première nuit", "First night"),
  last_night: () => L("Dernière nuit", "Last night"),
  urgency: () => L("Urgence", "Urgency"),
  funding: () => L("Financement", "Funding"),
  sessions_required: () => L("Séances à suivre", "Sessions to attend"),
  measure_id: () => L("Mesure", "Measure"),
  legal_basis: () => L("Cadre", "Legal basis"),
  ends_on: () => L("Fin", "End"),
  authority: () => L("Autorité", "Authority"),
  reference: () => L("Référence de la décision", "Decision reference"),
  phone: () => L("Téléphone", "Phone"),
  topic: () => L("Thème", "Topic"),
  contact_kind: () => L("Qui appelait", "Who called"),
};

/** The label of the field a pointer names (`/summary`, `/location/latitude`, `limit`), if it is a form field. */
function fieldOf(pointer: string, own?: FieldLabels): string | undefined {
  const names = pointer
    .split("/")
    .filter((part) => part && !/^\d+$/.test(part))
    .map((part) => part.replaceAll("~1", "/").replaceAll("~0", "~"));
  for (const name of [...names].reverse()) {
    const label = own?.[name] ?? FIELDS[name]?.();
    if (label) return label;
  }
  return undefined;
}

/** A wait in words: "30 secondes", "2 minutes", "1 heure et 15 minutes". */
export function waitText(seconds: number): string {
  const s = Math.max(1, Math.ceil(seconds));
  if (s < 60) return span(s, "second");
  const minutes = Math.ceil(s / 60);
  if (minutes < 60) return span(minutes, "minute");
  const h = span(Math.floor(minutes / 60), "hour");
  return minutes % 60 ? L(`${h} et ${span(minutes % 60, "minute")}`, `${h} and ${span(minutes % 60, "minute")}`) : h;
}

/** A text the server wrote "en français / in English": the part in the reader's language. */
function bilingual(text: string | undefined): string | undefined {
  if (!text) return undefined;
  const parts = text.split(" / ");
  return parts.length === 2 && parts[0] && parts[1] ? L(parts[0].trim(), parts[1].trim()) : undefined;
}

/** English details the screens meet in daily use, in both languages. */
const KNOWN: [RegExp, (m: RegExpMatchArray) => string][] = [
  [/^you already hold (\d+) conversations$/, (m) => L(`Vous tenez déjà ${m[1]} conversations : clôturez-en ou transférez-en une d'abord.`, `You already hold ${m[1]} conversations: close or transfer one first.`)],
  [/^this conversation is not waiting$/, () => L("Cette conversation n'attend plus : un·e collègue l'a sans doute prise.", "This conversation is no longer waiting: a colleague has probably taken it.")],
  [/^take this conversation before acting on it$/, () => L("Prenez d'abord cette conversation.", "Take this conversation first.")],
  [/^this listener is at capacity$/, () => L("Cet·te écoutant·e tient déjà autant de conversations que possible.", "This listener already holds as many conversations as possible.")],
  [/^only a waiting or active conversation can be assigned$/, () => L("Seule une conversation en attente ou en cours peut être confiée.", "Only a waiting or active conversation can be assigned.")],
  [/^this slot was withdrawn$/, () => L("Ce créneau a été retiré.", "This slot was withdrawn.")],
  [/^no seat left on this slot$/, () => L("Plus de place sur ce créneau.", "No seat left on this slot.")],
  [/^too late to book/, () => L("Trop tard pour réserver ce créneau.", "Too late to book this slot.")],
  [/^too late to cancel/, () => L("Trop tard pour annuler : appelez le centre.", "Too late to cancel: call the centre.")],
  [/^the appointment changed meanwhile/, () => L("Le rendez-vous a changé entre-temps : actualisez puis réessayez.", "The appointment changed meanwhile: refresh, then try again.")],
  [/^a \w+ appointment cannot/, () => L("Ce rendez-vous ne peut pas passer à ce statut.", "This appointment cannot take this status.")],
  [/^overlaps the practitioner's slot/, () => L("Ce créneau chevauche un autre créneau du ou de la praticien·ne (battements compris).", "This slot overlaps another of the practitioner's slots (buffers included).")],
  [/^people are booked on this slot/, () => L("Des personnes ont réservé ce créneau : annulez d'abord leurs rendez-vous.", "People are booked on this slot: cancel their appointments first.")],
  [/^a \w+ referral cannot do that$/, () => L("Cette orientation a déjà été traitée.", "This referral was already handled.")],
  [/^the offer is full on the night of (.+)$/, (m) => L(`L'offre est complète la nuit du ${m[1]}.`, `The offer is full on the night of ${m[1]}.`)],
  [/^the placement is no longer active$/, () => L("Ce placement n'est plus en cours.", "This placement is no longer active.")],
  [/^a \w+ request (cannot be|is not)/, () => L("Cette demande n'est plus ouverte : actualisez-la.", "This request is no longer open: refresh it.")],
  [/^the request's referral was/, () => L("L'orientation liée à cette demande a été close.", "The referral behind this request was closed.")],
  [/^the case behind this (request|placement) was erased$/, () => L("Le dossier lié a été effacé.", "The case behind it was erased.")],
  [/^no housing platform is set up$/, () => L("Aucune plateforme d'hébergement n'est configurée.", "No housing platform is set up.")],
  [/^placements are booked in this offer/, () => L("Des nuits sont réservées dans cette offre : son lieu, son public, ses places et son calendrier doivent continuer de les accueillir.", "Nights are booked in this offer: its place, guests, capacity and calendar must keep holding them.")],
  [/^attendance is recorded once the session has taken place$/, () => L("La présence s'enregistre une fois la séance passée.", "Attendance is recorded once the session has taken place.")],
  [/^no attended session in that period/, () => L("Aucune séance suivie sur cette période : rien à attester.", "No attended session in that period: nothing to certify.")],
  [/^the case is kept until/, () => L("Le dossier est conservé jusqu'à la fin de sa durée légale.", "The case is kept until its legal retention ends.")],
  [/^a second factor is already active/, () => L("La double authentification est déjà active pour ce compte.", "Two-step verification is already active for this account.")],
  [/^start enrolment first$/, () => L("Commencez d'abord l'enrôlement.", "Start the enrolment first.")],
  [/^an object with the same unique value already exists$/, () => L("Cet élément existe déjà.", "This already exists.")],
  [/^this Idempotency-Key was used/, () => L("Cette demande a déjà été envoyée : actualisez.", "This request was already sent: refresh.")],
];

function known(detail: string | undefined): string | undefined {
  if (!detail) return undefined;
  for (const [pattern, text] of KNOWN) {
    const match = detail.match(pattern);
    if (match) return text(match);
  }
  return undefined;
}

/** What went wrong, in the reader's language. `fields` names a screen's own fields. */
export function problemText(error: ApiError, fields?: FieldLabels): string {
  const detail = error.problem?.detail;
  const said = bilingual(detail) ?? known(detail);
  switch (error.type) {
    case "validation": {
      const named = [...new Set((error.problem?.errors ?? []).map((e) => fieldOf(e.pointer, fields)).filter((f): f is string => !!f))];
      if (named.length === 1) return L(`Vérifiez le champ « ${named[0]} » : la valeur n'est pas acceptée.`, `Check the field "${named[0]}": its value is not accepted.`);
      if (named.length > 1) {
        const list = named.map((n) => L(`« ${n} »`, `"${n}"`)).join(", ");
        return L(`Vérifiez les champs ${list} : leurs valeurs ne sont pas acceptées.`, `Check the fields ${list}: their values are not accepted.`);
      }
      return said ?? L("La demande n'est pas valide : vérifiez ce qui a été saisi.", "The request is not valid: check what was entered.");
    }
    case "bad-request":
      return L("La demande n'a pas pu être lue. Rechargez la page puis réessayez.", "The request could not be read. Reload the page, then try again.");
    case "unauthenticated":
      return L("Session expirée : reconnectez-vous.", "Session expired: log in again.");
    case "invalid-credentials":
      return L("Adresse ou mot de passe incorrect.", "Wrong email or password.");
    case "totp-required":
      return L("Saisissez le code à usage unique.", "Enter the one-time code.");
    case "totp-invalid":
      return L("Code incorrect ou expiré.", "Wrong or expired code.");
    case "enrolment-refused":
      return (
        said ??
        L(
          "Mot de passe ou code d'enrôlement incorrect, ou code déjà utilisé ou expiré : demandez un nouveau code à votre responsable.",
          "Wrong password or enrolment code, or the code is used or expired: ask your manager for a new code.",
        )
      );
    case "second-factor-required":
      return L("Activez d'abord la double authentification de votre compte.", "Set up two-step verification for your account first.");
    case "forbidden":
      return said ?? L("Action non autorisée pour votre compte.", "Not allowed for your account.");
    case "not-found":
      return L("Introuvable : l'élément a pu être supprimé, ou il n'est pas visible pour votre organisation.", "Not found: it may have been deleted, or it is not visible to your organisation.");
    case "method-not-allowed":
      return L("Action non prise en charge par le serveur.", "The server does not support this action.");
    case "conflict":
      return said ?? L("Impossible maintenant : la situation a changé entre-temps. Actualisez puis réessayez.", "Not possible now: things changed meanwhile. Refresh, then try again.");
    case "payload-too-large":
      return L("Le texte envoyé est trop long.", "What was sent is too long.");
    case "unsupported-media-type":
      return L("Le serveur n'a pas compris la demande. Rechargez la page puis réessayez.", "The server did not understand the request. Reload the page, then try again.");
    case "too-many-requests":
      return tooMany(error.retryAfter);
    case "dependency-unavailable":
      return said ?? L("Un service dont Relais a besoin ne répond pas. Réessayez dans un instant.", "A service Relais needs does not answer. Try again in a moment.");
    case "unavailable":
      return L("Le service n'est pas prêt. Réessayez dans un instant.", "The service is not ready. Try again in a moment.");
    case "internal":
      return L("Erreur du serveur. Réessayez ; si elle revient, prévenez le support.", "Server error. Try again; if it comes back, tell support.");
  }
  // A type this app does not know (a newer server), or no problem at all (a proxy's page).
  switch (error.status) {
    case 400:
      return said ?? L("La demande n'est pas valide : vérifiez ce qui a été saisi.", "The request is not valid: check what was entered.");
    case 401:
      return L("Session expirée : reconnectez-vous.", "Session expired: log in again.");
    case 403:
      return said ?? L("Action non autorisée pour votre compte.", "Not allowed for your account.");
    case 404:
      return L("Introuvable.", "Not found.");
    case 409:
      return said ?? L("Impossible maintenant : la situation a changé entre-temps. Actualisez puis réessayez.", "Not possible now: things changed meanwhile. Refresh, then try again.");
    case 413:
      return L("Le texte envoyé est trop long.", "What was sent is too long.");
    case 429:
      return tooMany(error.retryAfter);
    case 502:
    case 503:
    case 504:
      return L("Le serveur ne répond pas. Réessayez dans un instant.", "The server is not answering. Try again in a moment.");
  }
  if (error.status >= 500) return L("Erreur du serveur. Réessayez ; si elle revient, prévenez le support.", "Server error. Try again; if it comes back, tell support.");
  return said ?? L(`Erreur inattendue (code ${error.status}).`, `Unexpected error (code ${error.status}).`);
}

function tooMany(seconds: number | undefined): string {
  if (seconds === undefined) return L("Trop de tentatives. Réessayez dans quelques minutes.", "Too many attempts. Try again in a few minutes.");
  const wait = waitText(seconds);
  return L(`Trop de tentatives. Réessayez dans ${wait}.`, `Too many attempts. Try again in ${wait}.`);
}

/** The server's own words, for support: status, type, title, detail and fields (English). */
export function technical(error: ApiError): string[] {
  const p = error.problem;
  const lines = [`HTTP ${error.status}${p?.type ? ` · ${p.type}` : ""}`];
  if (p?.title) lines.push(p.title);
  if (p?.detail) lines.push(p.detail);
  for (const e of p?.errors ?? []) lines.push(`${e.pointer || "(body)"}: ${e.detail}`);
  if (error.retryAfter !== undefined) lines.push(`Retry-After: ${error.retryAfter}`);
  return lines;
}
