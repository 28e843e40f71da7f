// Judicial measures: the case's measures, and adding one (with its forbidden zone or the
// protected persons it covers).
import { useState } from "preact/hooks";
import { type Schemas, api, ok } from "../../../api";
import { type Place, PlaceNames, PlacePicker, remember } from "../../../geo";
import { L, day, label } from "../../../i18n";
import { Badge, Choice, Empty, ErrorBox, Field, Form, Loading, announce, useAction, useLoad } from "../../../ui";
import { Invalid } from "../shared";
import { authorityLabel, today } from "./shared";

type MeasureKind = Schemas["MeasureKind"];
type Authority = Schemas["Authority"];

const AUTHORITIES: Authority[] = ["procureur", "juge_instruction", "jaf", "jap", "spip"];

const MEASURE_KINDS: MeasureKind[] = ["care_obligation", "contact_ban", "place_ban", "residence_ban", "eviction"];

export function Measures({ caseId }: { caseId: string }) {
  const data = useLoad(async () => {
    const path = { id: caseId };
    const [measures, persons] = await Promise.all([
      ok(api.GET("/v1/cases/{id}/measures", { params: { path } })),
      ok(api.GET("/v1/cases/{id}/protected-persons", { params: { path } })),
    ]);
    return { measures: measures.items, persons: persons.items };
  }, [caseId]);
  return (
    <Loading loaded={data}>
      {({ measures, persons }) => (
        <>
          {measures.length === 0 ? <Empty>{L("Aucune mesure enregistrée.", "No measure recorded.")}</Empty> : null}
          <ul class="list">
            {measures.map((m) => (
              <li key={m.id}>
                <div class="item-title">{label(m.kind)}</div>
                <div class="meta">
                  {authorityLabel(m.authority)} · {L("réf.", "ref.")} {m.decision_reference}
                </div>
                <div class="meta">
                  {m.ends_on ? `${L("Du", "From")} ${day(m.starts_on)} ${L("au", "to")} ${day(m.ends_on)}` : `${L("Depuis le", "Since")} ${day(m.starts_on)}`}
                </div>
                {m.sessions_required !== null ? (
                  <div class="meta">
                    {L("Séances suivies", "Sessions attended")} : {m.sessions_attended ?? 0} / {m.sessions_required}{" "}
                    {(m.sessions_attended ?? 0) >= m.sessions_required ? <Badge tone="ok">{L("Atteint", "Reached")}</Badge> : null}
                  </div>
                ) : null}
                {m.zone ? (
                  <>
                    {m.zone.communes.length ? (
                      <div class="meta">
                        {m.zone.communes.length === 1 ? L("Commune interdite", "Forbidden commune") : L("Communes interdites", "Forbidden communes")} :{" "}
                        <PlaceNames kind="commune" codes={m.zone.communes} known={m.place_names} />
                      </div>
                    ) : null}
                    {m.zone.departements.length ? (
                      <div class="meta">
                        {m.zone.departements.length === 1 ? L("Département interdit", "Forbidden département") : L("Départements interdits", "Forbidden départements")} :{" "}
                        <PlaceNames kind="departement" codes={m.zone.departements} known={m.place_names} />
                      </div>
                    ) : null}
                    {m.zone.polygon ? <div class="meta">{L("Et une zone tracée sur une carte", "And an area drawn on a map")}</div> : null}
                  </>
                ) : null}
                {m.kind === "contact_ban" ? (
                  <div class="meta">
                    {L("Personnes protégées", "Protected persons")} :{" "}
                    {m.protected_person_ids.length
                      ? m.protected_person_ids.map((p) => persons.find((x) => x.id === p)?.label ?? "?").join(", ")
                      : L("aucune désignée", "none named")}
                  </div>
                ) : null}
              </li>
            ))}
          </ul>
          <h3>{L("Ajouter une mesure", "Add a measure")}</h3>
          <MeasureForm caseId={caseId} persons={persons} onDone={data.reload} />
        </>
      )}
    </Loading>
  );
}

function MeasureForm({ caseId, persons, onDone }: { caseId: string; persons: Schemas["ProtectedPerson"][]; onDone: () => void }) {
  const [kind, setKind] = useState<MeasureKind>("care_obligation");
  const [authority, setAuthority] = useState<Authority>("procureur");
  const [reference, setReference] = useState("");
  const [starts, setStarts] = useState(today());
  const [ends, setEnds] = useState("");
  const [required, setRequired] = useState("");
  const [zone, setZone] = useState<Place[]>([]);
  // Moves at each measure added: the place picker starts afresh.
  const [round, setRound] = useState(0);
  const [covered, setCovered] = useState<string[]>([]);
  const zoned = kind === "place_ban" || kind === "residence_ban";

  const add = useAction(async () => {
    if (!reference.trim()) throw new Invalid(L("Indiquez la référence de la décision.", "Give the decision's reference."));
    if (!starts) throw new Invalid(L("Indiquez la date de la décision.", "Give the decision's date."));
    if (ends && ends < starts) throw new Invalid(L("La fin précède le début.", "The end comes before the start."));
    const body: Schemas["NewMeasure"] = { kind, authority, decision_reference: reference.trim(), starts_on: starts, ends_on: ends || null };
    if (kind === "care_obligation") {
      const n = Number(required);
      if (!Number.isInteger(n) || n < 1 || n > 200) throw new Invalid(L("Séances à suivre : un nombre entier de 1 à 200.", "Sessions to attend: a whole number from 1 to 200."));
      body.sessions_required = n;
    }
    if (zoned) {
      if (!zone.length) throw new Invalid(L("Choisissez au moins une commune ou un département.", "Choose at least one commune or département."));
      body.zone = {
        communes: zone.filter((p) => p.kind === "commune").map((p) => p.code),
        departements: zone.filter((p) => p.kind === "departement").map((p) => p.code),
      };
    }
    if (kind === "contact_ban") body.protected_person_ids = covered;
    await ok(api.POST("/v1/cases/{id}/measures", { params: { path: { id: caseId } }, body }));
    announce(L("Mesure ajoutée", "Measure added"));
    setReference("");
    setEnds("");
    setRequired("");
    remember(zone);
    setZone([]);
    setRound((n) => n + 1);
    setCovered([]);
    onDone();
  });

  return (
    <Form onSubmit={() => add.run()}>
      <Choice label={L("Nature", "Kind")} value={kind} options={MEASURE_KINDS} text={label} onChange={setKind} />
      <Choice label={L("Autorité", "Authority")} value={authority} options={AUTHORITIES} text={authorityLabel} onChange={setAuthority} />
      <Field label={L("Référence de la décision", "Decision reference")}>
        {(id) => <input id={id} required maxLength={100} value={reference} onInput={(e) => setReference(e.currentTarget.value)} />}
      </Field>
      <Field label={L("Date de la décision (début)", "Decision date (start)")}>
        {(id) => <input id={id} type="date" required min="2000-01-01" max="2199-12-31" value={starts} onInput={(e) => setStarts(e.currentTarget.value)} />}
      </Field>
      <Field label={L("Fin (facultatif)", "End (optional)")}>
        {(id) => <input id={id} type="date" min={starts || "2000-01-01"} max="2199-12-31" value={ends} onInput={(e) => setEnds(e.currentTarget.value)} />}
      </Field>
      {kind === "care_obligation" ? (
        <Field label={L("Séances à suivre", "Sessions to attend")}>
          {(id) => <input id={id} type="number" inputMode="numeric" required min={1} max={200} value={required} onInput={(e) => setRequired(e.currentTarget.value)} />}
        </Field>
      ) : null}
      {zoned ? (
        <fieldset>
          <legend>{L("Zone interdite", "Forbidden zone")}</legend>
          <PlacePicker
            key={round}
            label={L("Commune ou département", "Commune or département")}
            hint={L(
              "Tapez son nom (ou son code), puis choisissez-le parmi les propositions ; ajoutez-en autant qu'il faut.",
              "Type its name (or its code), then choose it among the suggestions; add as many as needed.",
            )}
            chosen={zone}
            onChange={setZone}
          />
        </fieldset>
      ) : null}
      {kind === "contact_ban" ? (
        <fieldset>
          <legend>{L("Personnes protégées couvertes", "Protected persons covered")}</legend>
          {persons.length === 0 ? (
            <p class="muted">{L("Aucune personne protégée dans ce dossier : ajoutez-en dans la section dédiée.", "No protected person in this case: add them in their section.")}</p>
          ) : (
            persons.map((p) => (
              <label key={p.id} class="check">
                <input
                  type="checkbox"
                  checked={covered.includes(p.id)}
                  onChange={(e) => setCovered(e.currentTarget.checked ? [...covered, p.id] : covered.filter((x) => x !== p.id))}
                />
                {p.label}
              </label>
            ))
          )}
        </fieldset>
      ) : null}
      <ErrorBox error={add.error} />
      <div class="row">
        <button type="submit" class="primary" disabled={add.busy}>
          {L("Ajouter la mesure", "Add the measure")}
        </button>
      </div>
    </Form>
  );
}
