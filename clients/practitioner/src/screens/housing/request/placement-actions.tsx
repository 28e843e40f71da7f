// Changing an active placement: extending it, ending it, or recording that the person never came.
import { useState } from "preact/hooks";
import { type Schemas, api, ok } from "../../../api";
import { L, day } from "../../../i18n";
import { ErrorBox, Field, Form, announce, useAction } from "../../../ui";
import { addDays, nightsBetween, nightsText, today } from "../requests";
import { Conflict, FundingSelect, evictionHint, useFocusInside } from "./shared";

type Request = Schemas["HousingRequest"];
type Placement = Schemas["Placement"];
type Funding = Schemas["Funding"];

type Mode = "none" | "extend" | "end" | "noshow";

export function PlacementActions({ placement, request, onChanged }: { placement: Placement; request: Request; onChanged: () => void }) {
  const [mode, setMode] = useState<Mode>("none");
  const done = () => {
    setMode("none");
    onChanged();
  };
  if (mode === "extend") return <ExtendForm placement={placement} request={request} onCancel={() => setMode("none")} onDone={done} />;
  if (mode === "end") return <EndForm placement={placement} onCancel={() => setMode("none")} onDone={done} />;
  if (mode === "noshow") return <NoShow placement={placement} onCancel={() => setMode("none")} onDone={done} />;
  return (
    <div class="row">
      <button type="button" onClick={() => setMode("extend")}>
        {L("Prolonger", "Extend")}
      </button>
      <button type="button" onClick={() => setMode("end")}>
        {L("Terminer", "End")}
      </button>
      <button type="button" class="danger" onClick={() => setMode("noshow")}>
        {L("Jamais arrivée", "Never came")}
      </button>
    </div>
  );
}

function ExtendForm({ placement, request, onCancel, onDone }: { placement: Placement; request: Request; onCancel: () => void; onDone: () => void }) {
  const current = placement.last_night ?? today();
  const lastFunding = placement.nights[placement.nights.length - 1]?.funding ?? "platform";
  const [last, setLast] = useState(addDays(current, 7));
  const [funding, setFunding] = useState<Funding>(lastFunding);
  const form = useFocusInside<HTMLFormElement>();
  const added = nightsBetween(addDays(current, 1), last);
  const extend = useAction(async () => {
    await ok(api.POST("/v1/housing/placements/{id}/extend", { params: { path: { id: placement.id } }, body: { last_night: last, funding } }));
    announce(L("Placement prolongé.", "Placement extended."));
    onDone();
  });
  return (
    <Form formRef={form} onSubmit={() => extend.run()}>
      <Field
        label={L("Nouvelle dernière nuit (incluse)", "New last night (included)")}
        hint={
          added
            ? L(`${nightsText(added)} de plus après le ${day(current)}.`, `${nightsText(added)} more after ${day(current)}.`)
            : L(`Choisissez une nuit après le ${day(current)}.`, `Choose a night after ${day(current)}.`)
        }
      >
        {(id, hint) => (
          <input id={id} type="date" required min={addDays(current, 1)} value={last} aria-describedby={hint} onInput={(e) => setLast(e.currentTarget.value)} />
        )}
      </Field>
      <FundingSelect value={funding} onChange={setFunding} hint={evictionHint(request, funding)} />
      <Conflict error={extend.error}>
        {L(
          "L'offre est peut-être complète sur une des nuits, contraire à une règle du juge, ou le plafond de financement est atteint.",
          "The offer may be full on one of the nights, break a court rule, or the funding cap is reached.",
        )}
      </Conflict>
      <div class="row">
        <button type="submit" class="primary" disabled={extend.busy || added === 0}>
          {extend.busy ? L("Prolongation…", "Extending…") : L("Prolonger", "Extend")}
        </button>
        <button type="button" class="link" onClick={onCancel} disabled={extend.busy}>
          {L("Annuler", "Cancel")}
        </button>
      </div>
    </Form>
  );
}

function EndForm({ placement, onCancel, onDone }: { placement: Placement; onCancel: () => void; onDone: () => void }) {
  const first = placement.first_night ?? today();
  const current = placement.last_night ?? today();
  // By default, the person left this morning: last night was the last one spent there.
  const yesterday = addDays(today(), -1);
  const initial = yesterday < first ? first : yesterday > current ? current : yesterday;
  const [last, setLast] = useState(initial);
  const [confirming, setConfirming] = useState(false);
  const form = useFocusInside<HTMLFormElement>();
  const freed = nightsBetween(addDays(last, 1), current);
  const end = useAction(async () => {
    await ok(api.POST("/v1/housing/placements/{id}/end", { params: { path: { id: placement.id } }, body: { last_night: last } }));
    announce(L("Placement terminé.", "Placement ended."));
    onDone();
  });
  return (
    <Form formRef={form} onSubmit={() => (confirming ? end.run() : setConfirming(true))}>
      <Field
        label={L("Dernière nuit passée sur place", "Last night spent there")}
        hint={L(
          `Les nuits suivantes sont rendues (libérées et non dues) : ${nightsText(freed)}.`,
          `The later nights are given back (freed and not owed): ${nightsText(freed)}.`,
        )}
      >
        {(id, hint) => (
          <input
            id={id}
            type="date"
            required
            min={first}
            max={current}
            value={last}
            aria-describedby={hint}
            disabled={confirming}
            onInput={(e) => setLast(e.currentTarget.value)}
          />
        )}
      </Field>
      {confirming ? (
        <p class="notice" role="status">
          {L(`Terminer le placement après la nuit du ${day(last)} ?`, `End the placement after the night of ${day(last)}?`)}
        </p>
      ) : null}
      <ErrorBox error={end.error} />
      <div class="row">
        <button type="submit" class="primary" disabled={end.busy || !last}>
          {confirming ? (end.busy ? L("Fin…", "Ending…") : L("Confirmer la fin", "Confirm the end")) : L("Terminer le placement", "End the placement")}
        </button>
        <button type="button" class="link" onClick={confirming ? () => setConfirming(false) : onCancel} disabled={end.busy}>
          {confirming ? L("Modifier", "Change") : L("Annuler", "Cancel")}
        </button>
      </div>
    </Form>
  );
}

function NoShow({ placement, onCancel, onDone }: { placement: Placement; onCancel: () => void; onDone: () => void }) {
  const noShow = useAction(async () => {
    await ok(api.POST("/v1/housing/placements/{id}/no-show", { params: { path: { id: placement.id } } }));
    announce(L("Absence enregistrée.", "No-show recorded."));
    onDone();
  });
  const box = useFocusInside<HTMLDivElement>();
  return (
    <div ref={box}>
      <p class="notice" tabIndex={-1} data-focus>
        {L(
          `La personne n'est jamais arrivée ? La première nuit (${day(placement.first_night)}) reste réservée et due, les suivantes sont rendues.`,
          `The person never came? The first night (${day(placement.first_night)}) stays booked and owed, the later ones are given back.`,
        )}
      </p>
      <ErrorBox error={noShow.error} />
      <div class="row">
        <button type="button" class="danger" onClick={() => void noShow.run()} disabled={noShow.busy}>
          {noShow.busy ? L("Enregistrement…", "Saving…") : L("Confirmer : jamais arrivée", "Confirm: never came")}
        </button>
        <button type="button" class="link" onClick={onCancel} disabled={noShow.busy}>
          {L("Annuler", "Cancel")}
        </button>
      </div>
    </div>
  );
}
