// The housing platform's queue: the centres' requests to house an author, tonight's first,
// then the oldest (the server's order), a page at a time. The platform never sees the case,
// only the request. Live events (a new request, a placement that no longer complies) refresh it.
import { useState } from "preact/hooks";
import { type Schemas, api, ok } from "../../api";
import { L, count, day, lang, number } from "../../i18n";
import { PAGE_SIZE, ShowMore, usePages } from "../../pages";
import { ListScreen } from "../../pull";
import { Badge, Choice, Empty, Loading } from "../../ui";
import { useLiveReload } from "../helpline/queue";

type Request = Schemas["HousingRequest"];
type Status = Schemas["HousingRequestStatus"];

// Labels of the housing enumerations, shared by the housing screens (all in this folder) and the
// centre's case file: one word for one thing, whoever reads it.

export function statusLabel(status: Status): string {
  const labels: Record<Status, () => string> = {
    open: () => L("Ouverte", "Open"),
    placed: () => L("Placée", "Placed"),
    unmet: () => L("Sans solution", "Unmet"),
    withdrawn: () => L("Retirée par le centre", "Withdrawn by the centre"),
  };
  return labels[status]();
}

export function urgencyLabel(urgency: Schemas["Urgency"]): string {
  return urgency === "tonight" ? L("Ce soir", "Tonight") : L("Dans les prochains jours", "Within days");
}

export function unmetLabel(reason: Schemas["UnmetReason"]): string {
  const labels: Record<Schemas["UnmetReason"], () => string> = {
    no_compliant_offer: () => L("Aucune offre compatible avec les règles du juge", "No offer compatible with the court's rules"),
    no_capacity: () => L("Plus aucune place libre", "No free place left"),
    declined: () => L("Proposition refusée par la personne", "Declined by the person"),
    other: () => L("Autre raison", "Other reason"),
  };
  return labels[reason]();
}

export function kindLabel(kind: Schemas["OfferKind"]): string {
  const labels: Record<Schemas["OfferKind"], () => string> = {
    hotel: () => L("Hôtel", "Hotel"),
    shelter: () => L("Centre d'hébergement", "Shelter"),
    apartment: () => L("Appartement", "Apartment"),
    host_family: () => L("Famille d'accueil", "Host family"),
    centre_place: () => L("Place d'un centre", "Centre place"),
  };
  return labels[kind]();
}

export function fundingLabel(funding: Schemas["Funding"]): string {
  const labels: Record<Schemas["Funding"], () => string> = {
    platform: () => L("Plateforme", "Platform"),
    centre: () => L("Centre", "Centre"),
    partner: () => L("Partenaire", "Partner"),
  };
  return labels[funding]();
}

export function sourceLabel(source: Schemas["PlacementSource"]): string {
  return source === "platform" ? L("Plateforme", "Platform") : L("Centre", "Centre");
}

export function placementStatusLabel(status: Schemas["PlacementStatus"]): string {
  const labels: Record<Schemas["PlacementStatus"], () => string> = {
    active: () => L("En cours", "Active"),
    ended: () => L("Terminé", "Ended"),
    no_show: () => L("Personne jamais arrivée", "No-show"),
  };
  return labels[status]();
}

/** What the person needs from a place, as words. */
export function needsText(needs: Schemas["HousingNeeds"]): string {
  const list: string[] = [];
  if (needs.accessible) list.push(L("accessible (mobilité réduite)", "accessible (reduced mobility)"));
  if (needs.pets) list.push(L("avec un animal", "with a pet"));
  if (needs.couple) list.push(L("en couple", "as a couple"));
  return list.length ? list.join(", ") : L("aucun besoin particulier", "no particular need");
}

/** An amount in euro cents, as euros in the current language. */
export function euros(cents: number | null | undefined): string {
  if (cents === null || cents === undefined) return "—";
  return new Intl.NumberFormat(lang() === "en" ? "en-GB" : "fr-FR", { style: "currency", currency: "EUR" }).format(cents / 100);
}

/** A number of nights, "1 nuit", "3 nuits"; `digits` for a mean, "1,5 nuit". */
export function nightsText(n: number, digits = 0): string {
  return count(n, { one: ["# nuit", "# night"], other: ["# nuits", "# nights"] }, digits);
}

/** Today as a `yyyy-mm-dd` date, in the device's zone. */
export function today(): string {
  const d = new Date();
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** A `yyyy-mm-dd` date moved by `days`. */
export function addDays(date: string, days: number): string {
  const d = new Date(`${date}T12:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/** Nights from `first` to `last`, both included (0 when the dates are missing or reversed). */
export function nightsBetween(first: string, last: string): number {
  if (!first || !last) return 0;
  const n = Math.round((Date.parse(`${last}T12:00:00Z`) - Date.parse(`${first}T12:00:00Z`)) / 86_400_000) + 1;
  return Number.isFinite(n) && n > 0 ? n : 0;
}

export function ageText(hours: number): string {
  if (hours < 1) return L("il y a moins d'une heure", "less than an hour ago");
  if (hours < 48) return L(`il y a ${number(hours)} h`, `${number(hours)} h ago`);
  return count(Math.floor(hours / 24), { one: ["il y a # jour", "# day ago"], other: ["il y a # jours", "# days ago"] });
}

const STATUSES: Status[] = ["open", "placed", "unmet", "withdrawn"];

export function HousingRequests({ me: _me }: { me: Schemas["Me"] }) {
  const [status, setStatus] = useState<Status>("open");
  const requests = usePages((cursor) => ok(api.GET("/v1/housing/requests", { params: { query: { status, limit: PAGE_SIZE, cursor } } })), [status]);
  // The platform hears its own events: a centre's new request ("referral.new") above all.
  useLiveReload(requests.reload, ["referral.new", "referral.updated", "housing.placed", "housing.placement_noncompliant"]);

  return (
    <ListScreen title={L("Demandes d'hébergement", "Housing requests")} refresh={requests.reload} busy={requests.loading}>
      <Choice label={L("Statut des demandes", "Requests' status")} value={status} options={STATUSES} text={statusLabel} onChange={setStatus} />
      <Loading loaded={requests}>
        {(items) =>
          items.length === 0 ? (
            <Empty>
              {status === "open"
                ? L("Aucune demande ouverte : la file est vide.", "No open request: the queue is empty.")
                : L("Aucune demande dans ce statut.", "No request in this status.")}
            </Empty>
          ) : (
            <>
              <p class="muted">
                {status === "open"
                  ? L("Les demandes pour ce soir d'abord, puis les plus anciennes.", "Tonight's requests first, then the oldest.")
                  : countText(items.length, !!requests.more)}
              </p>
              <ul class="list">
                {items.map((r) => (
                  <RequestItem key={r.id} request={r} />
                ))}
              </ul>
              <ShowMore pages={requests} />
            </>
          )
        }
      </Loading>
    </ListScreen>
  );
}

/** How many requests: those shown, "at least" while more pages remain. */
function countText(n: number, more: boolean): string {
  const requests = count(n, { one: ["# demande", "# request"], other: ["# demandes", "# requests"] });
  return more ? L(`Au moins ${requests}.`, `At least ${requests}.`) : `${requests}.`;
}

function RequestItem({ request: r }: { request: Request }) {
  return (
    <li>
      <a class="item" href={`#/housing/request/${r.id}`}>
        <span class="item-title">{r.centre_name}</span>{" "}
        {r.urgency === "tonight" ? <Badge tone="warn">{urgencyLabel(r.urgency)}</Badge> : <Badge>{urgencyLabel(r.urgency)}</Badge>}{" "}
        {r.court_eviction ? <Badge tone="info">{L("Éviction ordonnée par le juge", "Court-ordered eviction")}</Badge> : null}
        <span class="meta">
          <br />
          {nightsText(r.nights)} · {L("du", "from")} {day(r.first_night)} {L("au", "to")} {day(r.last_night)}
          <br />
          {L("Besoins : ", "Needs: ")}
          {needsText(r.needs)}
          <br />
          {statusLabel(r.status)}
          {r.unmet_reason ? ` (${unmetLabel(r.unmet_reason)})` : ""} · {L("demandée", "asked")} {ageText(r.age_hours)}
        </span>
      </a>
    </li>
  );
}
