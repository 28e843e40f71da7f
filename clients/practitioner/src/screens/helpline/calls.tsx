// The phone-call log: listeners note each call of the phone line (no number, no name), so the
// statistics cover the whole line. The last 30 days' calls, newest first, a page at a time.
import { useState } from "preact/hooks";
import { type Schemas, api, ok } from "../../api";
import { L, label, quantity, when } from "../../i18n";
import { PAGE_SIZE, ShowMore, usePages } from "../../pages";
import { Choice, Empty, ErrorBox, Field, Form, Loading, Screen, announce, isoFromInput, localInput, useAction, useLoad } from "../../ui";
import { CALL_TOPICS, CONTACT_KINDS, OUTCOMES } from "../../vocabulary";


export function Calls({ me }: { me: Schemas["Me"] }) {
  const calls = usePages((cursor) => ok(api.GET("/v1/phone-calls", { params: { query: { limit: PAGE_SIZE, cursor } } })));
  const centres = useLoad(async () => (await ok(api.GET("/v1/centres"))).items);
  const centreName = (id: string | null) => centres.data?.find((c) => c.id === id)?.name ?? "";
  return (
    <Screen title={L("Appels téléphoniques", "Phone calls")}>
      <LogCall centres={centres.data ?? []} onLogged={calls.reload} />
      <h2>{L("Derniers appels (30 jours)", "Recent calls (30 days)")}</h2>
      <Loading loaded={calls}>
        {(items) =>
          items.length ? (
            <>
              <ul class="list">
                {items.map((c) => (
                  <li key={c.id}>
                    <span class="item-title">{when(c.started_at)}</span>
                    <span class="meta">
                      {" "}
                      · {quantity(Math.round(c.duration_seconds / 60), "minute")} · {label(c.caller_kind)} · {label(c.outcome)}
                      {c.centre_id ? ` · ${centreName(c.centre_id)}` : ""}
                      {c.listener_id === me.user?.id ? ` · ${L("vous", "you")}` : ""}
                    </span>
                    {c.topics.length ? <p class="meta">{c.topics.map(label).join(", ")}</p> : null}
                  </li>
                ))}
              </ul>
              <ShowMore pages={calls} />
            </>
          ) : (
            <Empty>{L("Aucun appel enregistré.", "No call logged.")}</Empty>
          )
        }
      </Loading>
    </Screen>
  );
}

function LogCall({ centres, onLogged }: { centres: Schemas["Centre"][]; onLogged: () => void }) {
  const [started, setStarted] = useState(localInput());
  const [minutes, setMinutes] = useState("10");
  const [kind, setKind] = useState<Schemas["ContactKind"]>("author");
  const [topics, setTopics] = useState<Schemas["CallTopic"][]>([]);
  const [outcome, setOutcome] = useState<Schemas["ConversationOutcome"]>("information_given");
  const [centre, setCentre] = useState("");
  const log = useAction(async () => {
    await ok(
      api.POST("/v1/phone-calls", {
        body: {
          started_at: isoFromInput(started),
          duration_seconds: Math.round(Number(minutes) * 60),
          caller_kind: kind,
          topics,
          outcome,
          centre_id: outcome === "oriented_to_centre" || outcome === "appointment_booked" ? centre || null : null,
        },
      }),
    );
    announce(L("Appel enregistré.", "Call logged."));
    setTopics([]);
    setStarted(localInput());
    onLogged();
  });
  return (
    <details>
      <summary>{L("Noter un appel", "Log a call")}</summary>
      <Form onSubmit={() => log.run()}>
        <Field label={L("Début de l'appel", "Call started")}>{(id) => <input id={id} type="datetime-local" required value={started} onInput={(e) => setStarted(e.currentTarget.value)} />}</Field>
        <Field label={L("Durée (minutes)", "Duration (minutes)")}>
          {(id) => <input id={id} type="number" min="0" max="600" step="1" required value={minutes} onInput={(e) => setMinutes(e.currentTarget.value)} />}
        </Field>
        <Choice label={L("Qui appelait", "Who called")} value={kind} options={CONTACT_KINDS} text={label} onChange={setKind} />
        <fieldset>
          <legend>{L("Sujets", "Topics")}</legend>
          {CALL_TOPICS.map((t) => (
            <label class="check" key={t}>
              <input
                type="checkbox"
                checked={topics.includes(t)}
                onChange={(e) => setTopics((list) => (e.currentTarget.checked ? [...list, t] : list.filter((x) => x !== t)))}
              />{" "}
              {label(t)}
            </label>
          ))}
        </fieldset>
        <Choice label={L("Issue", "Outcome")} value={outcome} options={OUTCOMES} text={label} onChange={setOutcome} />
        {outcome === "oriented_to_centre" || outcome === "appointment_booked" ? (
          <Field label={L("Centre", "Centre")}>
            {(id) => (
              <select id={id} value={centre} required onChange={(e) => setCentre(e.currentTarget.value)}>
                <option value="">{L("Choisir…", "Choose…")}</option>
                {centres.map((c) => (
                  <option key={c.id} value={c.id}>
                    {c.name}
                  </option>
                ))}
              </select>
            )}
          </Field>
        ) : null}
        <ErrorBox error={log.error} />
        <button class="primary" type="submit" disabled={log.busy}>
          {L("Enregistrer l'appel", "Log the call")}
        </button>
      </Form>
    </details>
  );
}
