// The centre's inbox: referrals to accept or refuse, today's appointments, the days ahead, and
// the no-shows to follow up. Live events (new referral, booking, status) refresh it.
import { useState } from "preact/hooks";
import { type Schemas, api, ok } from "../../api";
import { L, day, label, when } from "../../i18n";
import { WHOLE_PAGE_SIZE, everyPage } from "../../pages";
import { ListScreen } from "../../pull";
import { Badge, Empty, ErrorBox, Field, Form, Loading, useAction, useLoad } from "../../ui";
import { useLiveReload } from "../helpline/queue";
import { AppointmentCard } from "./appointment";

export function Inbox(_: { me: Schemas["Me"] }) {
  const inbox = useLoad(() => ok(api.GET("/v1/centre-inbox")));
  // Every page: the days ahead are the whole period, not its first appointments.
  const upcoming = useLoad(() => {
    const from = new Date().toISOString();
    const to = new Date(Date.now() + 14 * 86400000).toISOString();
    return everyPage((cursor) => ok(api.GET("/v1/appointments", { params: { query: { from, to, limit: WHOLE_PAGE_SIZE, cursor } } })));
  });
  // The case already opened from an appointment, so it is not opened twice: read only when an
  // appointment on screen is one the person came to, and every page of them (the case may be
  // an old one, past a first page of the newest).
  const came = (list: Schemas["Appointment"][] | undefined) => (list ?? []).some((a) => a.status === "arrived" || a.status === "fulfilled");
  const needCases = came(inbox.data?.appointments_today) || came(upcoming.data);
  const cases = useLoad(
    async () => (needCases ? everyPage((cursor) => ok(api.GET("/v1/cases", { params: { query: { status: "open", limit: WHOLE_PAGE_SIZE, cursor } } }))) : []),
    [needCases],
  );
  const caseOf = (appointment: Schemas["Appointment"]) => cases.data?.find((c) => c.appointment_id === appointment.id)?.id;
  const reload = () => {
    inbox.reload();
    upcoming.reload();
    cases.reload();
  };
  useLiveReload(reload, ["referral.new", "referral.updated", "appointment.booked", "appointment.cancelled", "appointment.status"]);
  return (
    <ListScreen title={L("Accueil du centre", "Centre inbox")} refresh={reload} busy={inbox.loading || upcoming.loading || cases.loading}>
      <Loading loaded={inbox}>
        {(data) => {
          const today = new Set(data.appointments_today.map((a) => a.id));
          const later = (upcoming.data ?? []).filter((a) => !today.has(a.id) && a.status !== "cancelled");
          return (
            <>
              <h2>
                {L("Orientations à traiter", "Referrals to handle")} <Badge tone={data.referrals_pending.length ? "warn" : undefined}>{data.referrals_pending.length}</Badge>
              </h2>
              {data.referrals_pending.length ? (
                <ul class="list">
                  {data.referrals_pending.map((r) => (
                    <ReferralCard key={r.id} referral={r} onChange={reload} />
                  ))}
                </ul>
              ) : (
                <Empty>{L("Aucune orientation en attente.", "No referral waiting.")}</Empty>
              )}
              <h2>
                {L("Rendez-vous du jour", "Today's appointments")} <span class="meta">({day(data.date)})</span>
              </h2>
              {data.appointments_today.length ? (
                <ul class="list">
                  {data.appointments_today.map((a) => (
                    <AppointmentCard key={a.id} appointment={a} timezone={data.timezone} caseId={caseOf(a)} onChange={reload} />
                  ))}
                </ul>
              ) : (
                <Empty>{L("Aucun rendez-vous aujourd'hui.", "No appointment today.")}</Empty>
              )}
              <h2>{L("Prochains rendez-vous", "Coming appointments")}</h2>
              {later.length ? (
                <ul class="list">
                  {later.map((a) => (
                    <AppointmentCard key={a.id} appointment={a} timezone={data.timezone} caseId={caseOf(a)} onChange={reload} />
                  ))}
                </ul>
              ) : (
                <Empty>{L("Aucun rendez-vous dans les 14 jours.", "No appointment in the next 14 days.")}</Empty>
              )}
              <h2>{L("Absences à suivre", "No-shows to follow up")}</h2>
              {data.noshows_to_follow.length ? (
                <ul class="list">
                  {data.noshows_to_follow.map((a) => (
                    <li key={a.id}>
                      <span class="item-title">{a.subject_alias}</span> <span class="meta">· {when(a.slot.starts_at, data.timezone)}</span>
                    </li>
                  ))}
                </ul>
              ) : (
                <Empty>{L("Aucune absence récente.", "No recent no-show.")}</Empty>
              )}
            </>
          );
        }}
      </Loading>
    </ListScreen>
  );
}

function ReferralCard({ referral, onChange }: { referral: Schemas["Referral"]; onChange: () => void }) {
  const [rejecting, setRejecting] = useState(false);
  const [reason, setReason] = useState("");
  const accept = useAction(async () => {
    await ok(api.POST("/v1/referrals/{id}/accept", { params: { path: { id: referral.id } } }));
    onChange();
  });
  const reject = useAction(async () => {
    await ok(api.POST("/v1/referrals/{id}/reject", { params: { path: { id: referral.id } }, body: { reason: reason.trim() } }));
    onChange();
  });
  const r = referral;
  return (
    <li>
      <span class="item-title">{r.subject_alias}</span> <Badge tone={r.legal_basis === "court_ordered" ? "warn" : "info"}>{label(r.legal_basis)}</Badge>
      {r.stalled ? <Badge tone="warn">{L("En retard", "Stalled")}</Badge> : null}
      <p class="meta">
        {L("De", "From")} {r.source.name} · {when(r.created.at)}
        {r.order_ends_on ? ` · ${L("mesure jusqu'au", "order until")} ${day(r.order_ends_on)}` : ""}
      </p>
      <p>{r.summary}</p>
      <div class="row">
        <button class="primary" type="button" onClick={() => accept.run()} disabled={accept.busy}>
          {L("Accepter", "Accept")}
        </button>
        <button type="button" onClick={() => setRejecting(!rejecting)} aria-expanded={rejecting}>
          {L("Refuser…", "Refuse…")}
        </button>
      </div>
      <ErrorBox error={accept.error} />
      {rejecting ? (
        <Form onSubmit={() => reject.run()}>
          <Field label={L("Motif du refus", "Reason for refusing")}>{(id) => <textarea id={id} required maxLength={1000} value={reason} onInput={(e) => setReason(e.currentTarget.value)} />}</Field>
          <ErrorBox error={reject.error} />
          <button class="danger" type="submit" disabled={reject.busy}>
            {L("Confirmer le refus", "Confirm refusing")}
          </button>
        </Form>
      ) : null}
    </li>
  );
}
