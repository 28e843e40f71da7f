// What the centre asks: the nights, the urgency, the person's needs, a court eviction, and where
// the request stands.
import type { Schemas } from "../../../api";
import { L, day, when } from "../../../i18n";
import { Badge } from "../../../ui";
import { ageText, needsText, nightsText, statusLabel, unmetLabel, urgencyLabel } from "../requests";
import { EVICTION_CAP } from "./shared";

type Request = Schemas["HousingRequest"];

export function RequestFacts({ request: r }: { request: Request }) {
  return (
    <>
      <h2>{L("La demande", "The request")}</h2>
      <dl class="facts">
        <dt>{L("Centre", "Centre")}</dt>
        <dd>{r.centre_name}</dd>
        <dt>{L("Nuits demandées", "Nights wanted")}</dt>
        <dd>
          {nightsText(r.nights)}, {L("du", "from")} {day(r.first_night)} {L("au", "to")} {day(r.last_night)}
        </dd>
        <dt>{L("Urgence", "Urgency")}</dt>
        <dd>{r.urgency === "tonight" ? <Badge tone="warn">{urgencyLabel(r.urgency)}</Badge> : urgencyLabel(r.urgency)}</dd>
        <dt>{L("Besoins", "Needs")}</dt>
        <dd>{needsText(r.needs)}</dd>
        <dt>{L("Éviction judiciaire", "Court eviction")}</dt>
        <dd>
          {r.court_eviction
            ? L(`Oui (${EVICTION_CAP} nuits au plus financées par la plateforme)`, `Yes (the platform funds ${EVICTION_CAP} nights at most)`)
            : L("Non", "No")}
        </dd>
        <dt>{L("Statut", "Status")}</dt>
        <dd>
          {statusLabel(r.status)}
          {r.unmet_reason ? ` (${unmetLabel(r.unmet_reason)})` : ""}
        </dd>
        <dt>{L("Demandée", "Asked")}</dt>
        <dd>
          {when(r.created_at)} ({ageText(r.age_hours)})
        </dd>
      </dl>
    </>
  );
}
