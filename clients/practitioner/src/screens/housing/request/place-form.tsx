// Placing the person in a proposed offer.
import { useState } from "preact/hooks";
import { type Schemas, api, ok } from "../../../api";
import { L, day } from "../../../i18n";
import { Field, Form, announce, useAction } from "../../../ui";
import { euros, fundingLabel, nightsBetween, nightsText } from "../requests";
import { Conflict, FundingSelect, evictionHint, useFocusInside } from "./shared";

type Request = Schemas["HousingRequest"];
type Proposal = Schemas["HousingProposals"]["proposals"][number];
type Placement = Schemas["Placement"];
type Funding = Schemas["Funding"];

/** Placing in an offer: the nights and funding, then a confirmation before anything is booked. */
export function PlaceForm({
  request,
  proposal,
  onCancel,
  onPlaced,
}: {
  request: Request;
  proposal: Proposal;
  onCancel: () => void;
  onPlaced: (p: Placement) => void;
}) {
  const [funding, setFunding] = useState<Funding>("platform");
  const [first, setFirst] = useState(request.first_night);
  const [last, setLast] = useState(request.last_night);
  const [confirming, setConfirming] = useState(false);
  const form = useFocusInside<HTMLFormElement>();
  const nights = nightsBetween(first, last);
  const place = useAction(async () => {
    const placement = await ok(
      api.POST("/v1/housing/placements", {
        body: { request_id: request.id, offer_id: proposal.offer_id, first_night: first, last_night: last, funding },
      }),
    );
    announce(L("Placement enregistré.", "Placement made."));
    onPlaced(placement);
  });

  const submit = () => {
    if (!confirming) {
      place.clear();
      setConfirming(true);
      return;
    }
    void place.run();
  };

  return (
    <Form formRef={form} onSubmit={submit} aria-label={L("Placer dans cette offre", "Place in this offer")}>
      {confirming ? (
        <p class="notice" role="status">
          {L(
            `Placer la personne à « ${proposal.name} » du ${day(first)} au ${day(last)} (${nightsText(nights)}), financement : ${fundingLabel(funding).toLowerCase()}, pour environ ${euros(proposal.price_cents * nights)} ? Le centre qui la suit sera prévenu.`,
            `Place the person at "${proposal.name}" from ${day(first)} to ${day(last)} (${nightsText(nights)}), funding: ${fundingLabel(funding).toLowerCase()}, for about ${euros(proposal.price_cents * nights)}? The centre following them will be told.`,
          )}
        </p>
      ) : (
        <>
          <FundingSelect value={funding} onChange={setFunding} hint={evictionHint(request, funding)} />
          <Field label={L("Première nuit", "First night")}>
            {(id) => <input id={id} type="date" required value={first} onInput={(e) => setFirst(e.currentTarget.value)} />}
          </Field>
          <Field
            label={L("Dernière nuit (incluse)", "Last night (included)")}
            hint={nights ? `${nightsText(nights)} · ${euros(proposal.price_cents * nights)}` : L("La dernière nuit ne peut précéder la première.", "The last night cannot come before the first.")}
          >
            {(id, hint) => (
              <input id={id} type="date" required min={first} value={last} aria-describedby={hint} onInput={(e) => setLast(e.currentTarget.value)} />
            )}
          </Field>
        </>
      )}
      <Conflict error={place.error}>
        {L(
          "L'offre est complète ou n'est pas compatible avec cette demande, ou la demande n'est plus ouverte : relancez la recherche.",
          "The offer is full or not compatible with this request, or the request is no longer open: search again.",
        )}
      </Conflict>
      <div class="row">
        <button type="submit" class="primary" disabled={place.busy || nights === 0}>
          {confirming ? (place.busy ? L("Placement…", "Placing…") : L("Confirmer le placement", "Confirm the placement")) : L("Vérifier et placer", "Review and place")}
        </button>
        {confirming ? (
          <button type="button" onClick={() => setConfirming(false)} disabled={place.busy}>
            {L("Modifier", "Change")}
          </button>
        ) : null}
        <button type="button" class="link" onClick={onCancel} disabled={place.busy}>
          {L("Annuler", "Cancel")}
        </button>
      </div>
    </Form>
  );
}
