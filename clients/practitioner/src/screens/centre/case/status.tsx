// The case's status, that of the follow-up (« la prise en charge »): suspending it, reopening it,
// or closing it with a reason. The statuses read Ouverte, Suspendue, Clôturée.
import { useState } from "preact/hooks";
import { type Schemas, api, ok } from "../../../api";
import { L } from "../../../i18n";
import { ErrorBox, Field, Form, announce, useAction } from "../../../ui";
import { Invalid } from "../shared";

type Case = Schemas["Case"];

export function CaseStatus({ file: c, onChanged }: { file: Case; onChanged: () => void }) {
  const [closing, setClosing] = useState(false);
  const [reason, setReason] = useState("");
  const change = useAction(async (status: Schemas["CaseStatus"]) => {
    const body: Schemas["CaseChanges"] = { status };
    if (status === "closed") {
      if (!reason.trim()) throw new Invalid(L("Indiquez le motif de clôture.", "Give the reason for closing."));
      body.close_reason = reason.trim();
    }
    await ok(api.PATCH("/v1/cases/{id}", { params: { path: { id: c.id } }, body }));
    announce(
      status === "closed"
        ? L("Prise en charge clôturée", "Case closed")
        : status === "suspended"
          ? L("Prise en charge suspendue", "Case suspended")
          : L("Prise en charge rouverte", "Case reopened"),
    );
    setClosing(false);
    setReason("");
    onChanged();
  });
  if (closing) {
    return (
      <Form onSubmit={() => change.run("closed")}>
        <Field label={L("Motif de clôture", "Reason for closing")} hint={L("300 caractères au plus.", "300 characters at most.")}>
          {(id, hint) => <input id={id} aria-describedby={hint} required maxLength={300} value={reason} onInput={(e) => setReason(e.currentTarget.value)} />}
        </Field>
        <ErrorBox error={change.error} />
        <div class="row">
          <button type="submit" class="danger" disabled={change.busy}>
            {L("Clôturer la prise en charge", "Close the case")}
          </button>
          <button type="button" onClick={() => (setClosing(false), change.clear())}>
            {L("Retour", "Back")}
          </button>
        </div>
      </Form>
    );
  }
  return (
    <>
      <div class="row">
        {c.status === "open" ? (
          <button type="button" disabled={change.busy} onClick={() => void change.run("suspended")}>
            {L("Suspendre la prise en charge", "Suspend the follow-up")}
          </button>
        ) : (
          <button type="button" disabled={change.busy} onClick={() => void change.run("open")}>
            {L("Rouvrir la prise en charge", "Reopen the case")}
          </button>
        )}
        {c.status !== "closed" ? (
          <button type="button" class="danger" onClick={() => setClosing(true)}>
            {L("Clôturer la prise en charge…", "Close the case…")}
          </button>
        ) : null}
      </div>
      <ErrorBox error={change.error} />
    </>
  );
}
