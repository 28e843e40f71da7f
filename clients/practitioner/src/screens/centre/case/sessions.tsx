// Sessions and attendance: the case's sessions, recording attendance, and planning a session.
import { useState } from "preact/hooks";
import { type Schemas, api, ok } from "../../../api";
import { L, label, when } from "../../../i18n";
import { Badge, Choice, Empty, ErrorBox, Field, Form, Loading, announce, isoFromInput, useAction, useLoad } from "../../../ui";
import { Invalid } from "../shared";
import { type Context, type Tone, measureEnded, measureName, todayIn } from "./shared";

type Measure = Schemas["Measure"];
type SessionKind = Schemas["SessionKind"];
type SessionStatus = Schemas["SessionStatus"];

const SESSION_KINDS: SessionKind[] = ["individual", "group", "responsibility_course"];
function sessionKindLabel(kind: SessionKind): string {
  switch (kind) {
    case "individual":
      return L("Entretien individuel", "Individual session");
    case "group":
      return L("Séance de groupe", "Group session");
    case "responsibility_course":
      return L("Stage de responsabilisation", "Responsibility course");
  }
}

const SESSION_TONE: Record<SessionStatus, Tone> = { planned: "info", attended: "ok", excused: undefined, unexcused: "warn" };

export function Sessions({ caseId, ctx }: { caseId: string; ctx: Context }) {
  const data = useLoad(async () => {
    const path = { id: caseId };
    const [sessions, measures] = await Promise.all([
      ok(api.GET("/v1/cases/{id}/sessions", { params: { path } })),
      ok(api.GET("/v1/cases/{id}/measures", { params: { path } })),
    ]);
    return { sessions: sessions.items, measures: measures.items };
  }, [caseId]);
  return (
    <Loading loaded={data}>
      {({ sessions, measures }) => (
        <>
          {sessions.length === 0 ? <Empty>{L("Aucune séance prévue.", "No session planned.")}</Empty> : null}
          <ul class="list">
            {sessions.map((s) => (
              <SessionItem key={s.id} session={s} measures={measures} ctx={ctx} onChanged={data.reload} />
            ))}
          </ul>
          <h3>{L("Prévoir une séance", "Plan a session")}</h3>
          <SessionForm caseId={caseId} measures={measures} timeZone={ctx.timeZone} onDone={data.reload} />
        </>
      )}
    </Loading>
  );
}

const ATTENDANCE: SessionStatus[] = ["attended", "excused", "unexcused"];

function SessionItem({ session: s, measures, ctx, onChanged }: { session: Schemas["Session"]; measures: Measure[]; ctx: Context; onChanged: () => void }) {
  const record = useAction(async (status: SessionStatus) => {
    await ok(api.PATCH("/v1/sessions/{id}", { params: { path: { id: s.id } }, body: { status } }));
    announce(`${L("Présence", "Attendance")} : ${label(status)}`);
    onChanged();
  });
  const measure = measures.find((m) => m.id === s.measure_id);
  const past = new Date(s.planned_at).getTime() <= Date.now();
  return (
    <li>
      <div class="item-title">
        {sessionKindLabel(s.kind)} · {when(s.planned_at, ctx.timeZone)} <Badge tone={SESSION_TONE[s.status]}>{label(s.status)}</Badge>
      </div>
      <div class="meta">
        {L("Mesure", "Measure")} : {measure ? measureName(measure) : L("aucune", "none")}
        {s.appointment_id ? ` · ${L("liée à un rendez-vous", "linked to an appointment")}` : ""}
      </div>
      {past ? (
        <div class="row" role="group" aria-label={`${L("Présence à la séance du", "Attendance at the session of")} ${when(s.planned_at, ctx.timeZone)}`}>
          {ATTENDANCE.filter((status) => status !== s.status).map((status) => (
            <button key={status} type="button" class={status === "attended" ? "primary" : ""} disabled={record.busy} onClick={() => void record.run(status)}>
              {label(status)}
            </button>
          ))}
          {s.status !== "planned" ? (
            <button type="button" class="link" disabled={record.busy} onClick={() => void record.run("planned")}>
              {L("Remettre à « prévue »", "Set back to planned")}
            </button>
          ) : null}
        </div>
      ) : (
        <div class="meta">{L("À venir : la présence se note après la séance.", "Upcoming: attendance is recorded after the session.")}</div>
      )}
      <ErrorBox error={record.error} />
    </li>
  );
}

function SessionForm({ caseId, measures, timeZone, onDone }: { caseId: string; measures: Measure[]; timeZone?: string; onDone: () => void }) {
  const [kind, setKind] = useState<SessionKind>("individual");
  const [plannedAt, setPlannedAt] = useState("");
  // The session counts for the case's measure when only one has not ended; with several, the
  // practitioner chooses. Either way the choice stays open.
  const today = todayIn(timeZone);
  const running = measures.filter((m) => !measureEnded(m, today));
  const [measureId, setMeasureId] = useState(running.length === 1 ? (running[0]?.id ?? "") : "");
  const add = useAction(async () => {
    if (!plannedAt) throw new Invalid(L("Indiquez la date et l'heure.", "Give the date and time."));
    const year = Number(plannedAt.slice(0, 4));
    if (year < 2000 || year > 2199) throw new Invalid(L("Date hors des limites (2000 à 2199).", "Date out of range (2000 to 2199)."));
    await ok(
      api.POST("/v1/cases/{id}/sessions", {
        params: { path: { id: caseId } },
        body: { kind, planned_at: isoFromInput(plannedAt, timeZone), measure_id: measureId || null },
      }),
    );
    announce(L("Séance prévue", "Session planned"));
    setPlannedAt("");
    onDone();
  });
  return (
    <Form onSubmit={() => add.run()}>
      <Choice label={L("Type de séance", "Kind of session")} value={kind} options={SESSION_KINDS} text={sessionKindLabel} onChange={setKind} />
      <Field label={L("Date et heure", "Date and time")} hint={L("Une séance passée peut être saisie pour noter la présence.", "A past session may be entered to record attendance.")}>
        {(id, hint) => <input id={id} aria-describedby={hint} type="datetime-local" required value={plannedAt} onInput={(e) => setPlannedAt(e.currentTarget.value)} />}
      </Field>
      <Field
        label={L("Compte pour la mesure", "Counts toward the measure")}
        hint={
          running.length === 1
            ? L("La seule mesure en cours du dossier est proposée ; vous pouvez en choisir une autre.", "The case's only current measure is offered; you may choose another.")
            : running.length > 1
              ? L("Plusieurs mesures sont en cours : choisissez celle pour laquelle la séance compte.", "Several measures are current: choose the one this session counts toward.")
              : undefined
        }
      >
        {(id, hint) => (
          <select id={id} aria-describedby={hint} value={measureId} onChange={(e) => setMeasureId(e.currentTarget.value)}>
            <option value="">{L("Aucune", "None")}</option>
            {measures.map((m) => (
              <option key={m.id} value={m.id}>
                {measureEnded(m, today) ? `${measureName(m)} — ${L("terminée", "ended")}` : measureName(m)}
              </option>
            ))}
          </select>
        )}
      </Field>
      <ErrorBox error={add.error} />
      <div class="row">
        <button type="submit" class="primary" disabled={add.busy}>
          {L("Prévoir la séance", "Plan the session")}
        </button>
      </div>
    </Form>
  );
}
