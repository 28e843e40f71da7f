// One appointment as a card, with the centre's moves (FHIR statuses): a booked appointment
// becomes arrived, noshow or cancelled; an arrived one fulfilled or cancelled; and, once the
// person came, the case file opened from it. The server refuses attendance ahead of time (its
// message is shown); a recorded attendance is corrected with a reason.
import { useRef, useState } from "preact/hooks";
import { type Schemas, api, ok } from "../../api";
import { L, label, when } from "../../i18n";
import { Badge, Choice, ErrorBox, Field, Form, announce, go, useAction } from "../../ui";

type Appointment = Schemas["Appointment"];
type Status = Schemas["AppointmentStatus"];

type CardProps = { appointment: Appointment; timezone?: string; caseId?: string; onChange: () => void };

export function AppointmentCard({ appointment, timezone, caseId, onChange }: CardProps) {
  const [reason, setReason] = useState("");
  const [cancelling, setCancelling] = useState(false);
  const move = useAction(async (status: Status) => {
    await ok(
      api.POST("/v1/appointments/{id}/status", {
        params: { path: { id: appointment.id } },
        body: status === "cancelled" ? { status, cancellation_reason: reason.trim() } : { status },
      }),
    );
    announce(`${L("Rendez-vous", "Appointment")} : ${label(status)}`);
    setCancelling(false);
    onChange();
  });
  const a = appointment;
  const tone = a.status === "fulfilled" ? "ok" : a.status === "noshow" || a.status === "cancelled" ? "warn" : "info";
  return (
    <li data-testid="appointment">
      <span class="item-title">{a.subject_alias}</span> <Badge tone={tone}>{label(a.status)}</Badge>
      <p class="meta">
        {when(a.slot.starts_at, timezone)} · {a.slot.location}
      </p>
      <div class="row">
        {a.status === "booked" ? (
          <>
            <button type="button" onClick={() => move.run("arrived")} disabled={move.busy}>
              {L("Arrivé", "Arrived")}
            </button>
            <button type="button" onClick={() => move.run("noshow")} disabled={move.busy}>
              {L("Absent", "No-show")}
            </button>
          </>
        ) : null}
        {a.status === "arrived" ? (
          <button class="primary" type="button" onClick={() => move.run("fulfilled")} disabled={move.busy}>
            {L("Rendez-vous honoré", "Mark fulfilled")}
          </button>
        ) : null}
        {(a.status === "booked" || a.status === "arrived") && !cancelling ? (
          <button class="danger" type="button" onClick={() => setCancelling(true)}>
            {L("Annuler", "Cancel")}
          </button>
        ) : null}
      </div>
      {cancelling ? (
        <Form onSubmit={() => move.run("cancelled")}>
          <Field label={L("Motif d'annulation", "Reason for cancelling")}>
            {(id) => <input id={id} required maxLength={500} value={reason} onInput={(e) => setReason(e.currentTarget.value)} />}
          </Field>
          <div class="row">
            <button class="danger" type="submit" disabled={move.busy}>
              {L("Confirmer l'annulation", "Confirm cancellation")}
            </button>
            <button type="button" onClick={() => setCancelling(false)}>
              {L("Retour", "Back")}
            </button>
          </div>
        </Form>
      ) : null}
      <ErrorBox error={move.error} />
      <CorrectAttendance appointment={a} onDone={onChange} />
      {caseId ? (
        <p>
          <a href={`#/case/${caseId}`}>{L("Voir le dossier", "See the case file")}</a>
        </p>
      ) : a.status === "arrived" || a.status === "fulfilled" ? (
        <OpenCase appointment={a} />
      ) : null}
    </li>
  );
}

/** Opens the case file from an appointment: the person gives their identity at the centre. */
function OpenCase({ appointment }: { appointment: Appointment }) {
  const [name, setName] = useState("");
  const [birth, setBirth] = useState("");
  const key = useRef(crypto.randomUUID()).current;
  const open = useAction(async () => {
    const created = await ok(
      api.POST("/v1/cases", {
        params: { header: { "Idempotency-Key": key } },
        body: { appointment_id: appointment.id, identity: { name: name.trim() || null, date_of_birth: birth || null } },
      }),
    );
    announce(L("Dossier ouvert.", "Case file opened."));
    go(`/case/${created.id}`);
  });
  return (
    <details>
      <summary>{L("Ouvrir le dossier", "Open the case file")}</summary>
      <Form onSubmit={() => open.run()}>
        <Field label={L("Nom et prénom", "Full name")} hint={L("Tel que la personne le donne au centre.", "As the person gives it at the centre.")}>
          {(id, hint) => <input id={id} aria-describedby={hint} autocomplete="off" maxLength={200} value={name} onInput={(e) => setName(e.currentTarget.value)} />}
        </Field>
        <Field label={L("Date de naissance", "Date of birth")}>{(id) => <input id={id} type="date" value={birth} onInput={(e) => setBirth(e.currentTarget.value)} />}</Field>
        <ErrorBox error={open.error} />
        <button class="primary" type="submit" disabled={open.busy}>
          {L("Ouvrir le dossier", "Open the case file")}
        </button>
      </Form>
    </details>
  );
}

const RECORDED: readonly Status[] = ["arrived", "fulfilled", "noshow"];
const CORRECTED_TO: readonly Status[] = ["booked", "arrived", "fulfilled", "noshow"];

/** A recorded attendance (arrived, fulfilled, no-show) corrected with a reason: the server keeps
 * the step, audits it and tells the partner that sent the referral. */
export function CorrectAttendance({ appointment, onDone }: { appointment: Appointment; onDone: () => void }) {
  const options = CORRECTED_TO.filter((s) => s !== appointment.status);
  const [to, setTo] = useState<Status | "">("");
  const [reason, setReason] = useState("");
  const key = useRef(crypto.randomUUID());
  const correct = useAction(async () => {
    if (!to) throw new Error(L("Choisissez le bon statut.", "Choose the right status."));
    await ok(
      api.POST("/v1/appointments/{id}/corrections", {
        params: { path: { id: appointment.id }, header: { "Idempotency-Key": key.current } },
        body: { status: to as Schemas["AppointmentCorrectionRequest"]["status"], reason: reason.trim() },
      }),
    );
    key.current = crypto.randomUUID();
    announce(`${L("Présence corrigée", "Attendance corrected")} : ${label(to)}`);
    setTo("");
    setReason("");
    onDone();
  });
  if (!RECORDED.includes(appointment.status)) return null;
  return (
    <details class="correction">
      <summary>{L("Corriger la présence…", "Correct the attendance…")}</summary>
      <Form onSubmit={() => correct.run()}>
        <Choice label={L("Bon statut", "Right status")} value={to} options={options} text={label} onChange={setTo} required placeholder={L("Choisir…", "Choose…")} />
        <Field label={L("Motif de la correction", "Reason for the correction")} hint={L("Conservé et visible du centre.", "Kept and visible to the centre.")}>
          {(id, hint) => <input id={id} aria-describedby={hint} required maxLength={300} value={reason} onInput={(e) => setReason(e.currentTarget.value)} />}
        </Field>
        <ErrorBox error={correct.error} />
        <button type="submit" class="primary" disabled={correct.busy || !to || !reason.trim()}>
          {L("Enregistrer la correction", "Save the correction")}
        </button>
      </Form>
    </details>
  );
}
