// Closing the request as not met, with its reason.
import { useState } from "preact/hooks";
import { type Schemas, api, ok } from "../../../api";
import { L } from "../../../i18n";
import { Choice, ErrorBox, announce, useAction } from "../../../ui";
import { unmetLabel } from "../requests";

type Request = Schemas["HousingRequest"];

const UNMET: Schemas["UnmetReason"][] = ["no_compliant_offer", "no_capacity", "declined", "other"];

export function UnmetPanel({ request, onDone }: { request: Request; onDone: () => void }) {
  const [reason, setReason] = useState<Schemas["UnmetReason"]>("no_compliant_offer");
  const [confirming, setConfirming] = useState(false);
  const close = useAction(async () => {
    await ok(api.POST("/v1/housing/requests/{id}/unmet", { params: { path: { id: request.id } }, body: { reason } }));
    announce(L("Demande clôturée sans solution.", "Request closed as unmet."));
    setConfirming(false);
    onDone();
  });
  return (
    <>
      <h2>{L("Aucune solution ?", "No solution?")}</h2>
      <Choice
        label={L("Raison", "Reason")}
        hint={L("Comptée dans l'inventaire national. Le centre voit la demande clôturée.", "Counted in the national inventory. The centre sees the request closed.")}
        value={reason}
        options={UNMET}
        text={unmetLabel}
        onChange={(r) => {
          setReason(r);
          setConfirming(false);
        }}
      />
      <ErrorBox error={close.error} />
      {confirming ? (
        <>
          <p class="notice" role="status">
            {L(`Clôturer la demande sans solution (${unmetLabel(reason)}) ? Ce n'est pas réversible.`, `Close the request as unmet (${unmetLabel(reason)})? This cannot be undone.`)}
          </p>
          <div class="row">
            <button type="button" class="danger" onClick={() => void close.run()} disabled={close.busy}>
              {close.busy ? L("Clôture…", "Closing…") : L("Confirmer la clôture", "Confirm closing")}
            </button>
            <button type="button" onClick={() => setConfirming(false)} disabled={close.busy}>
              {L("Annuler", "Cancel")}
            </button>
          </div>
        </>
      ) : (
        <div class="row">
          <button type="button" class="danger" onClick={() => setConfirming(true)}>
            {L("Clôturer sans solution", "Close as unmet")}
          </button>
        </div>
      )}
    </>
  );
}
