// One live conversation: the messages (refreshed by live events, caught up after a
// reconnection), the reply box with canned replies and typing signals, private notes, and the
// listener's moves: orient to a centre, transfer, close with an outcome.
import { useEffect, useRef, useState } from "preact/hooks";
import { type Schemas, api, ok } from "../../api";
import { L, label, time } from "../../i18n";
import { live } from "../../live";
import { Badge, Choice, ErrorBox, Field, Form, Loading, Screen, announce, go, useAction, useLoad } from "../../ui";
import { useLiveReload } from "./queue";
import { OUTCOMES } from "../../vocabulary";

type Outcome = Schemas["ConversationOutcome"];

export function Conversation({ me, id }: { me: Schemas["Me"]; id: string }) {
  const detail = useLoad(() => ok(api.GET("/v1/conversations/{id}", { params: { path: { id } } })), [id]);
  useLiveReload(detail.reload, ["message.new", "message.status", "conversation.assigned", "conversation.closed", "conversation.requeued", "referral.updated"], id);
  const [typing, setTyping] = useState(false);
  // A new message from the person is said to screen readers, and by the system when the app is in
  // the background: never its words.
  const seen = useRef<number | undefined>(undefined);
  useEffect(() => {
    const messages = detail.data?.messages;
    if (!messages) return;
    const last = messages[messages.length - 1];
    if (seen.current !== undefined && messages.length > seen.current && last?.author === "contact") {
      announce(L("Nouveau message dans la conversation", "New message in the conversation"), true);
    }
    seen.current = messages.length;
  }, [detail.data]);
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const off = live.onTyping((t) => {
      if (t.conversation_id !== id) return;
      setTyping(true);
      clearTimeout(timer);
      timer = setTimeout(() => setTyping(false), 4000);
    });
    return () => {
      off();
      clearTimeout(timer);
    };
  }, [id]);

  return (
    <Loading loaded={detail}>
      {({ conversation, messages }) => {
        const holding = conversation.state === "active" && conversation.listener_id === me.user?.id;
        return (
          <Screen
            title={conversation.contact_alias}
            actions={
              <a class="button" href="#/queue">
                {L("Retour à la file", "Back to the queue")}
              </a>
            }
          >
            <p class="meta">
              {label(conversation.channel)} · {label(conversation.contact_kind)} · <Badge tone={conversation.state === "active" ? "ok" : "info"}>{label(conversation.state)}</Badge>
              {conversation.outcome ? <> · {label(conversation.outcome)}</> : null}
            </p>
            <Messages messages={messages} />
            <p class="typing" aria-live="polite">
              {typing ? L("La personne est en train d'écrire…", "The person is typing…") : ""}
            </p>
            {holding ? (
              <>
                <Composer id={id} language={conversation.language} onSent={detail.reload} />
                <Orient id={id} />
                <Notes id={id} />
                <Transfer id={id} />
                <Close id={id} />
              </>
            ) : (
              <>
                {conversation.state === "waiting" && me.roles.includes("listener") ? <TakeThis id={id} onTaken={detail.reload} /> : null}
                <Notes id={id} />
              </>
            )}
          </Screen>
        );
      }}
    </Loading>
  );
}

function Messages({ messages }: { messages: Schemas["ConversationMessage"][] }) {
  const end = useRef<HTMLLIElement>(null);
  useEffect(() => end.current?.scrollIntoView({ block: "nearest" }), [messages.length]);
  const who = (m: Schemas["ConversationMessage"]) =>
    m.author === "contact" ? L("La personne", "The person") : m.author === "bot" ? L("Robot", "Bot") : L("Écoutant·e", "Listener");
  const delivery = (d: Schemas["ConversationMessage"]["delivery"]) =>
    d === "failed" ? L("non remis", "not delivered") : d === "delivered" || d === "read" ? L("remis", "delivered") : d === "sent" ? L("envoyé", "sent") : d === "queued" ? L("en cours d'envoi", "sending") : "";
  return (
    <ol class="messages" aria-label={L("Fil des messages", "Message thread")}>
      {messages.map((m) => (
        <li key={m.id} class={m.author === "bot" ? "bot" : m.direction}>
          <span class="meta">
            {who(m)} · {time(m.created_at)}
            {m.direction === "out" && m.delivery ? ` · ${delivery(m.delivery)}` : ""}
          </span>
          {m.body}
        </li>
      ))}
      <li ref={end} class="visually-hidden" aria-hidden="true" />
    </ol>
  );
}

function Composer({ id, language, onSent }: { id: string; language: Schemas["Language"]; onSent: () => void }) {
  const [text, setText] = useState("");
  const lastTyping = useRef(0);
  const canned = useLoad(async () => (await ok(api.GET("/v1/canned-replies"))).items, []);
  const send = useAction(async () => {
    const body = text.trim();
    if (!body) return;
    await ok(api.POST("/v1/conversations/{id}/messages", { params: { path: { id } }, body: { text: body } }));
    setText("");
    onSent();
  });
  const typed = (value: string) => {
    setText(value);
    // The person sees "a listener is typing", at most every 3 seconds.
    if (Date.now() - lastTyping.current > 3000) {
      lastTyping.current = Date.now();
      void api.POST("/v1/conversations/{id}/typing", { params: { path: { id } } }).catch(() => undefined);
    }
  };
  const replies = (canned.data ?? []).filter((c) => c.language === language);
  return (
    <Form class="composer" onSubmit={() => send.run()}>
      {replies.length ? (
        <Field label={L("Réponse type", "Canned reply")}>
          {(fid) => (
            <select
              id={fid}
              value=""
              onChange={(e) => {
                const chosen = replies.find((r) => r.id === e.currentTarget.value);
                if (chosen) setText((t) => (t ? `${t}\n${chosen.body}` : chosen.body));
              }}
            >
              <option value="">{L("Choisir…", "Choose…")}</option>
              {replies.map((r) => (
                <option key={r.id} value={r.id}>
                  {r.title}
                </option>
              ))}
            </select>
          )}
        </Field>
      ) : null}
      <Field label={L("Votre réponse", "Your reply")}>
        {(fid) => (
          <textarea
            id={fid}
            value={text}
            maxLength={4000}
            onInput={(e) => typed(e.currentTarget.value)}
            onKeyDown={(e) => {
              if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
                e.preventDefault();
                void send.run();
              }
            }}
          />
        )}
      </Field>
      <ErrorBox error={send.error} />
      <button class="primary" type="submit" disabled={send.busy || !text.trim()}>
        {L("Envoyer", "Send")}
      </button>
    </Form>
  );
}

function TakeThis({ id, onTaken }: { id: string; onTaken: () => void }) {
  const take = useAction(async () => {
    await ok(api.POST("/v1/conversations/{id}/take", { params: { path: { id } } }));
    onTaken();
  });
  return (
    <div class="row">
      <button class="primary" type="button" onClick={() => take.run()} disabled={take.busy}>
        {L("Prendre cette conversation", "Take this conversation")}
      </button>
      <ErrorBox error={take.error} />
    </div>
  );
}

/** Orientation: centres suggested from the postal code the person gave, a short summary; the bot
 * then asks the person's consent and offers the centre's next slots. */
function Orient({ id }: { id: string }) {
  const [postal, setPostal] = useState("");
  const [centres, setCentres] = useState<Schemas["Centre"][]>();
  const [centre, setCentre] = useState("");
  const [summary, setSummary] = useState("");
  const [done, setDone] = useState<Schemas["Orientation"]>();
  const search = useAction(async () => {
    const list = await ok(api.GET("/v1/centres", { params: { query: postal.trim() ? { postal_code: postal.trim() } : {} } }));
    setCentres(list.items);
    setCentre(list.items[0]?.id ?? "");
  });
  const orient = useAction(async () => {
    const orientation = await ok(api.POST("/v1/conversations/{id}/orientation", { params: { path: { id } }, body: { centre_id: centre, summary: summary.trim() } }));
    setDone(orientation);
    announce(L("Orientation envoyée : la personne choisit un créneau avec le robot.", "Orientation sent: the person picks a slot with the bot."));
  });
  if (done) {
    return (
      <p class="notice" role="status">
        {L("Orientation envoyée. La personne donne son accord puis choisit un créneau avec le robot.", "Orientation sent. The person consents, then picks a slot with the bot.")}
      </p>
    );
  }
  return (
    <details>
      <summary>{L("Orienter vers un centre", "Orient to a centre")}</summary>
      <Form onSubmit={() => search.run()}>
        <Field label={L("Code postal de la personne", "The person's postal code")} hint={L("Les centres qui couvrent ce département sont proposés.", "Centres covering this département are suggested.")}>
          {(fid, hint) => <input id={fid} aria-describedby={hint} inputMode="numeric" pattern="[0-9]{5}" maxLength={5} value={postal} onInput={(e) => setPostal(e.currentTarget.value)} />}
        </Field>
        <button type="submit" disabled={search.busy}>
          {L("Chercher les centres", "Find centres")}
        </button>
        <ErrorBox error={search.error} />
      </Form>
      {centres ? (
        <Form onSubmit={() => orient.run()}>
          <fieldset>
            <legend>{L("Centre", "Centre")}</legend>
            {centres.length ? (
              centres.map((c) => (
                <label class="check" key={c.id}>
                  <input type="radio" name="centre" value={c.id} checked={centre === c.id} onChange={() => setCentre(c.id)} /> {c.name}
                </label>
              ))
            ) : (
              <p class="empty">{L("Aucun centre ne couvre ce code postal.", "No centre covers this postal code.")}</p>
            )}
          </fieldset>
          <Field label={L("Résumé pour le centre", "Summary for the centre")} hint={L("Quelques lignes, sans nom ni coordonnées.", "A few lines, without name or contact details.")}>
            {(fid, hint) => <textarea id={fid} aria-describedby={hint} required maxLength={2000} value={summary} onInput={(e) => setSummary(e.currentTarget.value)} />}
          </Field>
          <ErrorBox error={orient.error} />
          <button class="primary" type="submit" disabled={orient.busy || !centre || !summary.trim()}>
            {L("Proposer l'orientation", "Offer the orientation")}
          </button>
        </Form>
      ) : null}
    </details>
  );
}

function Notes({ id }: { id: string }) {
  const notes = useLoad(async () => (await ok(api.GET("/v1/conversations/{id}/notes", { params: { path: { id } } }))).items, [id]);
  const [body, setBody] = useState("");
  const add = useAction(async () => {
    await ok(api.POST("/v1/conversations/{id}/notes", { params: { path: { id } }, body: { body: body.trim() } }));
    setBody("");
    notes.reload();
  });
  return (
    <details>
      <summary>{L("Notes privées", "Private notes")}</summary>
      <p class="meta">{L("Visibles par l'équipe d'écoute seulement, jamais par la personne.", "Seen by the listening team only, never by the person.")}</p>
      <Loading loaded={notes}>
        {(items) => (
          <ul class="list">
            {items.map((n) => (
              <li key={n.id}>
                <span class="meta">{time(n.created_at)}</span>
                <p>{n.body}</p>
              </li>
            ))}
          </ul>
        )}
      </Loading>
      <Form onSubmit={() => add.run()}>
        <Field label={L("Nouvelle note", "New note")}>{(fid) => <textarea id={fid} value={body} maxLength={4000} onInput={(e) => setBody(e.currentTarget.value)} />}</Field>
        <ErrorBox error={add.error} />
        <button type="submit" disabled={add.busy || !body.trim()}>
          {L("Ajouter la note", "Add the note")}
        </button>
      </Form>
    </details>
  );
}

function Transfer({ id }: { id: string }) {
  const [note, setNote] = useState("");
  const transfer = useAction(async () => {
    await ok(api.POST("/v1/conversations/{id}/transfer", { params: { path: { id } }, body: { note: note.trim() || null } }));
    announce(L("Conversation remise dans la file.", "Conversation put back in the queue."));
    go("/queue");
  });
  return (
    <details>
      <summary>{L("Transférer", "Transfer")}</summary>
      <p class="meta">{L("La conversation retourne dans la file, à sa place, pour un·e autre écoutant·e.", "The conversation goes back to the queue, at its place, for another listener.")}</p>
      <Field label={L("Note de transmission (facultative)", "Hand-over note (optional)")}>{(fid) => <textarea id={fid} value={note} maxLength={4000} onInput={(e) => setNote(e.currentTarget.value)} />}</Field>
      <ErrorBox error={transfer.error} />
      <button type="button" onClick={() => transfer.run()} disabled={transfer.busy}>
        {L("Remettre dans la file", "Put back in the queue")}
      </button>
    </details>
  );
}

function Close({ id }: { id: string }) {
  const [outcome, setOutcome] = useState<Outcome>("information_given");
  const [summary, setSummary] = useState("");
  const close = useAction(async () => {
    await ok(api.POST("/v1/conversations/{id}/close", { params: { path: { id } }, body: { outcome, summary: summary.trim() || null } }));
    announce(L("Conversation clôturée.", "Conversation closed."));
    go("/queue");
  });
  return (
    <details>
      <summary>{L("Clôturer", "Close")}</summary>
      <Choice label={L("Issue", "Outcome")} value={outcome} options={OUTCOMES} text={label} onChange={setOutcome} />
      <Field label={L("Synthèse (facultative)", "Summary (optional)")}>{(fid) => <textarea id={fid} value={summary} maxLength={4000} onInput={(e) => setSummary(e.currentTarget.value)} />}</Field>
      <ErrorBox error={close.error} />
      <button class="danger" type="button" onClick={() => close.run()} disabled={close.busy}>
        {L("Clôturer la conversation", "Close the conversation")}
      </button>
    </details>
  );
}
