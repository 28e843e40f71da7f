// Housing: the case's placements, its requests to the housing platform (an open one can be
// withdrawn), and asking for housing.
import { useState } from "preact/hooks";
import { type Schemas, api, ok } from "../../../api";
import { L, day, when } from "../../../i18n";
import { WHOLE_PAGE_SIZE, everyPage } from "../../../pages";
import { Badge, Choice, Empty, ErrorBox, Field, Form, Loading, announce, useAction, useLoad } from "../../../ui";
import { euros, needsText, nightsBetween, nightsText, placementStatusLabel, statusLabel, unmetLabel, urgencyLabel } from "../../housing/requests";
import { Invalid } from "../shared";
import { today } from "./shared";

const REQUEST_STATUSES: Schemas["HousingRequestStatus"][] = ["open", "placed", "unmet", "withdrawn"];

export function Housing({ caseId }: { caseId: string }) {
  const data = useLoad(async () => {
    // The centre's requests come by status, every page of each (this case's may be anywhere in
    // them); those of this case are kept.
    const [housing, ...lists] = await Promise.all([
      ok(api.GET("/v1/cases/{id}/housing", { params: { path: { id: caseId } } })),
      ...REQUEST_STATUSES.map((status) => everyPage((cursor) => ok(api.GET("/v1/housing/requests", { params: { query: { status, limit: WHOLE_PAGE_SIZE, cursor } } })))),
    ]);
    const mine = new Map<string, Schemas["HousingRequest"]>();
    for (const list of lists) for (const r of list as Schemas["HousingRequest"][]) if (r.case_id === caseId) mine.set(r.id, r);
    const requests = [...mine.values()].sort((a, b) => b.created_at.localeCompare(a.created_at));
    return { placements: (housing as Schemas["CaseHousing"]).placements, requests };
  }, [caseId]);
  return (
    <Loading loaded={data}>
      {({ placements, requests }) => (
        <>
          <h3>{L("Hébergements", "Placements")}</h3>
          {placements.length === 0 ? (
            <Empty>{L("Aucun hébergement pour ce dossier.", "No placement for this case.")}</Empty>
          ) : (
            <ul class="list">
              {placements.map((p) => (
                <li key={p.id}>
                  <div class="item-title">
                    {p.offer_name} <Badge tone={p.status === "active" ? "ok" : p.status === "no_show" ? "warn" : undefined}>{placementStatusLabel(p.status)}</Badge>
                  </div>
                  <div class="meta">{p.address}</div>
                  <div class="meta">
                    {p.first_night && p.last_night
                      ? `${nightsText(p.nights.length)}, ${L("du", "from")} ${day(p.first_night)} ${L("au", "to")} ${day(p.last_night)}`
                      : L("Aucune nuit retenue", "No night held")}
                  </div>
                  <div class="meta">
                    {L("Coût", "Cost")} : {euros(p.cost_cents)} ·{" "}
                    {p.source === "platform" ? L("par la plateforme", "by the platform") : L("déclaré par le centre", "declared by the centre")}
                  </div>
                </li>
              ))}
            </ul>
          )}
          <h3>{L("Demandes à la plateforme", "Requests to the platform")}</h3>
          {requests.length === 0 ? (
            <Empty>{L("Aucune demande.", "No request.")}</Empty>
          ) : (
            <ul class="list">
              {requests.map((r) => (
                <HousingRequestItem key={r.id} request={r} onChanged={data.reload} />
              ))}
            </ul>
          )}
          <h3>{L("Demander un hébergement", "Ask for housing")}</h3>
          <HousingRequestForm caseId={caseId} onDone={data.reload} />
        </>
      )}
    </Loading>
  );
}

function HousingRequestItem({ request: r, onChanged }: { request: Schemas["HousingRequest"]; onChanged: () => void }) {
  const [confirming, setConfirming] = useState(false);
  const withdraw = useAction(async () => {
    await ok(api.POST("/v1/housing/requests/{id}/withdraw", { params: { path: { id: r.id } } }));
    announce(L("Demande retirée", "Request withdrawn"));
    setConfirming(false);
    onChanged();
  });
  return (
    <li>
      <div class="item-title">
        {L("Du", "From")} {day(r.first_night)} {L("au", "to")} {day(r.last_night)} ({nightsText(r.nights)}){" "}
        <Badge tone={r.status === "open" ? "info" : r.status === "placed" ? "ok" : r.status === "unmet" ? "warn" : undefined}>{statusLabel(r.status)}</Badge>
      </div>
      <div class="meta">
        {urgencyLabel(r.urgency)} · {needsText(r.needs)}
        {r.court_eviction ? ` · ${L("éviction ordonnée par le juge", "court-ordered eviction")}` : ""}
      </div>
      {r.unmet_reason ? (
        <div class="meta">
          {L("Motif", "Reason")} : {unmetLabel(r.unmet_reason)}
        </div>
      ) : null}
      <div class="meta">
        {L("Demandée le", "Asked")} {when(r.created_at)}
      </div>
      {r.status === "open" ? (
        confirming ? (
          <div>
            <p>{L("Retirer cette demande ? L'orientation vers la plateforme sera annulée.", "Withdraw this request? The referral to the platform will be revoked.")}</p>
            <div class="row">
              <button type="button" class="danger" disabled={withdraw.busy} onClick={() => void withdraw.run()}>
                {L("Confirmer le retrait", "Confirm withdrawal")}
              </button>
              <button type="button" onClick={() => (setConfirming(false), withdraw.clear())}>
                {L("Garder la demande", "Keep the request")}
              </button>
            </div>
          </div>
        ) : (
          <div class="row">
            <button type="button" class="danger" onClick={() => setConfirming(true)}>
              {L("Retirer la demande", "Withdraw the request")}
            </button>
          </div>
        )
      ) : null}
      <ErrorBox error={withdraw.error} />
    </li>
  );
}

/** The exclusion factor steps the contract accepts. */
const FACTORS = { "1": 1, "1.5": 1.5, "2": 2 } as const;
type Factor = keyof typeof FACTORS;

function HousingRequestForm({ caseId, onDone }: { caseId: string; onDone: () => void }) {
  const [first, setFirst] = useState(today());
  const [last, setLast] = useState("");
  const [urgency, setUrgency] = useState<Schemas["Urgency"]>("within_days");
  const [needs, setNeeds] = useState<Schemas["HousingNeeds"]>({ accessible: false, pets: false, couple: false });
  const [factor, setFactor] = useState<Factor>("2");
  const ask = useAction(async () => {
    if (!first || !last) throw new Invalid(L("Indiquez la première et la dernière nuit.", "Give the first and last nights."));
    if (last < first) throw new Invalid(L("La dernière nuit précède la première.", "The last night comes before the first."));
    if (nightsBetween(first, last) > 366) throw new Invalid(L("366 nuits au plus.", "366 nights at most."));
    await ok(api.POST("/v1/cases/{id}/housing-requests", { params: { path: { id: caseId } }, body: { first_night: first, last_night: last, urgency, needs, radius_factor: FACTORS[factor] } }));
    announce(L("Demande d'hébergement envoyée", "Housing request sent"));
    setLast("");
    setNeeds({ accessible: false, pets: false, couple: false });
    setFactor("2");
    onDone();
  });
  const need = (key: keyof Schemas["HousingNeeds"], text: string) => (
    <label class="check">
      <input type="checkbox" checked={needs[key]} onChange={(e) => setNeeds({ ...needs, [key]: e.currentTarget.checked })} />
      {text}
    </label>
  );
  return (
    <Form onSubmit={() => ask.run()}>
      <p class="muted">
        {L(
          "La plateforme voit la demande, le centre et les besoins, jamais le dossier ; les règles des mesures s'appliquent sans être montrées.",
          "The platform sees the request, the centre and the needs, never the case; the measures' rules apply without being shown.",
        )}
      </p>
      <Field label={L("Première nuit", "First night")}>
        {(id) => <input id={id} type="date" required min="2000-01-01" max="2199-12-31" value={first} onInput={(e) => setFirst(e.currentTarget.value)} />}
      </Field>
      <Field label={L("Dernière nuit (incluse)", "Last night (included)")}>
        {(id) => <input id={id} type="date" required min={first || "2000-01-01"} max="2199-12-31" value={last} onInput={(e) => setLast(e.currentTarget.value)} />}
      </Field>
      <Field label={L("Urgence", "Urgency")}>
        {(id) => (
          <select id={id} value={urgency} onChange={(e) => setUrgency(e.currentTarget.value as Schemas["Urgency"])}>
            <option value="tonight">{urgencyLabel("tonight")}</option>
            <option value="within_days">{urgencyLabel("within_days")}</option>
          </select>
        )}
      </Field>
      <Choice
        label={L("Distance à garder des personnes protégées", "Distance kept from protected persons")}
        value={factor}
        options={["2", "1.5", "1"] as const}
        text={(f) =>
          f === "2"
            ? L("2 × la distance d'alerte (pré-alerte, par défaut)", "2 × the alert distance (pre-alert, the default)")
            : L(`${f.replace(".", ",")} × la distance d'alerte`, `${f} × the alert distance`)
        }
        onChange={setFactor}
        hint={L(
          "Fixé par le centre pour cette demande ; la plateforme ne peut pas le changer. Une marge secrète s'ajoute toujours.",
          "Set by the centre for this request; the platform cannot change it. A secret margin is always added.",
        )}
      />
      <fieldset>
        <legend>{L("Besoins", "Needs")}</legend>
        {need("accessible", L("Accessible à une personne à mobilité réduite", "Accessible to a person with reduced mobility"))}
        {need("pets", L("Avec un animal", "With a pet"))}
        {need("couple", L("En couple", "As a couple"))}
      </fieldset>
      <ErrorBox error={ask.error} />
      <div class="row">
        <button type="submit" class="primary" disabled={ask.busy}>
          {L("Envoyer la demande", "Send the request")}
        </button>
      </div>
    </Form>
  );
}
