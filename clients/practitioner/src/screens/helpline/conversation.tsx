// One live conversation: the messages (refreshed by live events, caught up after a
// reconnection) in a pane that opens at the newest and follows new ones, the reply box with
// canned replies and typing signals, private notes, and the listener's moves: orient to a
// centre, transfer, close with an outcome.
import type { ComponentChildren } from "preact";
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { type Schemas, api, ok } from "../../api";
import { L, label, time } from "../../i18n";
import { live } from "../../live";
import { Badge, Choice, ErrorBox, Field, Form, Loading, Screen, announce, go, useAction, useLoad, useScreenTitle } from "../../ui";
import { useLiveReload } from "./queue";
import { OUTCOMES } from "../../vocabulary";

type Outcome = Schemas["ConversationOutcome"];

export function Conversation({ me, id }: { me: Schemas["Me"]; id: string }) {
  const detail = useLoad(() => ok(api.GET("/v1/conversations/{id}", { params: { path: { id } } })), [id]);
  useLiveReload(detail.reload, ["message.new", "message.status", "conversation.assigned", "conversation.closed", "conversation.requeued", "referral.updated"], id);
  const [typing, setTyping] = useState(false);
  // When the listener last sent a reply: the thread goes to its end to show it.
  const [sentAt, setSentAt] = useState(0);
  // A new message from the person is said to screen readers (the thread shows it, or the "new
  // messages" button does), and by the system when the app is in the background: never its words.
  const seen = useRef<number | undefined>(undefined);
  useEffect(() => {
    const messages = detail.data?.messages;
    if (!messages) return;
    const last = messages[messages.length - 1];
    if (seen.current !== undefined && messages.length > seen.current && last?.author === "contact") {
      announce(L("Nouveau message dans la conversation", "New message in the conversation"), true, true);
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

  if (detail.data === undefined) {
    return (
      <Screen title={L("Conversation", "Conversation")}>
        <Loading loaded={detail}>{() => null}</Loading>
      </Screen>
    );
  }
  const { conversation, messages } = detail.data;
  const holding = conversation.state === "active" && conversation.listener_id === me.user?.id;
  return (
    <ChatScreen
      title={conversation.contact_alias}
      meta={
        <>
          {label(conversation.channel)} · {label(conversation.contact_kind)} · <Badge tone={conversation.state === "active" ? "ok" : "info"}>{label(conversation.state)}</Badge>
          {conversation.outcome ? <> · {label(conversation.outcome)}</> : null}
        </>
      }
      tools={
        holding ? (
          <>
            <Orient id={id} />
            <Notes id={id} />
            <Transfer id={id} />
            <Close id={id} />
          </>
        ) : (
          <Notes id={id} />
        )
      }
    >
      {detail.error ? <ErrorBox error={detail.error} /> : null}
      <Thread messages={messages} sentAt={sentAt} />
      <p class="typing" aria-live="polite">
        {typing ? L("La personne est en train d'écrire…", "The person is typing…") : ""}
      </p>
      {holding ? (
        <Composer
          id={id}
          language={conversation.language}
          onSent={() => {
            setSentAt(Date.now());
            detail.reload();
          }}
        />
      ) : conversation.state === "waiting" && me.roles.includes("listener") ? (
        <TakeThis id={id} onTaken={detail.reload} />
      ) : null}
    </ChatScreen>
  );
}

/** The conversation's screen: a compact head, then the thread and the reply box filling the
 * phone's height; the notes and the listener's moves (`tools`) come below, one scroll away or
 * reached by "Notes and actions". */
function ChatScreen({ title, meta, tools, children }: { title: string; meta: ComponentChildren; tools: ComponentChildren; children: ComponentChildren }) {
  useScreenTitle(title);
  const toolsRef = useRef<HTMLDivElement>(null);
  const toTools = () => {
    const first = toolsRef.current?.querySelector<HTMLElement>("summary, button, textarea");
    toolsRef.current?.scrollIntoView({ block: "start", behavior: reducedMotion() ? "auto" : "smooth" });
    first?.focus({ preventScroll: true });
  };
  return (
    <section class="screen chat-screen" aria-labelledby="screen-title">
      <div class="chat">
        <div class="chat-head">
          <a class="button back" href="#/queue">
            <span aria-hidden="true">←</span> {L("File", "Queue")}
          </a>
          <h1 id="screen-title" tabIndex={-1}>
            {title}
          </h1>
          <p class="meta">{meta}</p>
          <button type="button" class="link more" onClick={toTools}>
            {L("Notes et actions", "Notes and actions")} <span aria-hidden="true">↓</span>
          </button>
        </div>
        {children}
      </div>
      <div class="chat-tools" ref={toolsRef}>
        {tools}
      </div>
    </section>
  );
}

const reducedMotion = () => matchMedia("(prefers-reduced-motion: reduce)").matches;

/** Within this many pixels of the end, the thread counts as read to its end. */
const NEAR_END = 48;

/** The messages, in their own scrolling pane: it opens on the newest one and follows new ones
 * while the listener is at the end; scrolled up to read, it stays put and a "New messages"
 * button leads down. */
function Thread({ messages, sentAt }: { messages: Schemas["ConversationMessage"][]; sentAt: number }) {
  const pane = useRef<HTMLDivElement>(null);
  const atEnd = useRef(true);
  const lastId = useRef<string | undefined>(undefined);
  const [unseen, setUnseen] = useState(false);

  const toEnd = (smooth = false) => {
    const element = pane.current;
    if (!element) return;
    element.scrollTo({ top: element.scrollHeight, behavior: smooth && !reducedMotion() ? "smooth" : "auto" });
    atEnd.current = true;
    setUnseen(false);
  };

  // Before the screen is painted: the first render at the newest message, then new ones followed.
  useLayoutEffect(() => {
    const last = messages[messages.length - 1];
    const before = lastId.current;
    lastId.current = last?.id;
    if (before === undefined || atEnd.current) {
      // Opening, or following: to the end.
      toEnd();
    } else if (last && last.id !== before) {
      setUnseen(true);
    }
  }, [messages]);

  // The listener's own reply is always shown.
  useLayoutEffect(() => {
    if (sentAt) toEnd();
  }, [sentAt]);

  // The pane shrinks when the reply box grows (or the keyboard opens): the end stays in view.
  useEffect(() => {
    const element = pane.current;
    if (!element || typeof ResizeObserver === "undefined") return;
    const observer = new ResizeObserver(() => atEnd.current && (element.scrollTop = element.scrollHeight));
    observer.observe(element);
    return () => observer.disconnect();
  }, []);

  const onScroll = () => {
    const element = pane.current;
    if (!element) return;
    atEnd.current = element.scrollHeight - element.scrollTop - element.clientHeight < NEAR_END;
    if (atEnd.current) setUnseen(false);
  };

  const who = (m: Schemas["ConversationMessage"]) =>
    m.author === "contact" ? L("La personne", "The person") : m.author === "bot" ? L("Robot", "Bot") : L("Écoutant·e", "Listener");
  const delivery = (d: Schemas["ConversationMessage"]["delivery"]) =>
    d === "failed" ? L("non remis", "not delivered") : d === "delivered" || d === "read" ? L("remis", "delivered") : d === "sent" ? L("envoyé", "sent") : d === "queued" ? L("en cours d'envoi", "sending") : "";
  return (
    <div class="thread-wrap">
      <div class="thread" ref={pane} onScroll={onScroll} tabIndex={0} role="region" aria-label={L("Fil des messages", "Message thread")}>
        <ol class="messages">
          {messages.map((m) => (
            <li key={m.id} class={m.author === "bot" ? "bot" : m.direction}>
              <span class="meta">
                {who(m)} · {time(m.created_at)}
                {m.direction === "out" && m.delivery ? ` · ${delivery(m.delivery)}` : ""}
              </span>
              {m.body}
            </li>
          ))}
        </ol>
      </div>
      {unseen ? (
        <button
          type="button"
          class="new-messages"
          onClick={() => {
            toEnd(true);
            // The button goes away: the focus goes to the thread, where the new messages are.
            pane.current?.focus({ preventScroll: true });
          }}
        >
          {L("Nouveaux messages", "New messages")} <span aria-hidden="true">↓</span>
        </button>
      ) : null}
    </div>
  );
}

/** The reply box: one line that grows with its text up to a few, then scrolls. */
function Composer({ id, language, onSent }: { id: string; language: Schemas["Language"]; onSent: () => void }) {
  const [text, setText] = useState("");
  const box = useRef<HTMLTextAreaElement>(null);
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
  // The box's height follows its text (the style sheet caps it at a few lines).
  useLayoutEffect(() => {
    const element = box.current;
    if (!element) return;
    element.style.height = "auto";
    const borders = element.offsetHeight - element.clientHeight;
    element.style.height = `${element.scrollHeight + borders}px`;
  }, [text]);
  const replies = (canned.data ?? []).filter((c) => c.language === language);
  return (
    <Form class="composer" onSubmit={() => send.run()}>
      <ErrorBox error={send.error} fields={{ text: L("Votre réponse", "Your reply") }} />
      <div class="composer-row">
        <label class="visually-hidden" for="reply">
          {L("Votre réponse", "Your reply")}
        </label>
        <textarea
          id="reply"
          ref={box}
          rows={1}
          value={text}
          maxLength={4000}
          placeholder={L("Votre réponse…", "Your reply…")}
          onInput={(e) => typed(e.currentTarget.value)}
          onKeyDown={(e) => {
            if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
              e.preventDefault();
              void send.run();
            }
          }}
        />
        <button class="primary" type="submit" disabled={send.busy || !text.trim()}>
          {L("Envoyer", "Send")}
        </button>
      </div>
      {replies.length ? (
        <>
          <label class="visually-hidden" for="canned">
            {L("Réponse type", "Canned reply")}
          </label>
          <select
            id="canned"
            class="canned"
            value=""
            onChange={(e) => {
              const chosen = replies.find((r) => r.id === e.currentTarget.value);
              if (chosen) setText((t) => (t ? `${t}\n${chosen.body}` : chosen.body));
              box.current?.focus();
            }}
          >
            <option value="">{L("Insérer une réponse type…", "Insert a canned reply…")}</option>
            {replies.map((r) => (
              <option key={r.id} value={r.id}>
                {r.title}
              </option>
            ))}
          </select>
        </>
      ) : null}
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
        <ErrorBox error={search.error} fields={{ postal_code: L("Code postal de la personne", "The person's postal code") }} />
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
          <ErrorBox error={orient.error} fields={{ summary: L("Résumé pour le centre", "Summary for the centre") }} />
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
        <ErrorBox error={add.error} fields={{ body: L("Nouvelle note", "New note") }} />
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
      <ErrorBox error={transfer.error} fields={{ note: L("Note de transmission", "Hand-over note") }} />
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
      <ErrorBox error={close.error} fields={{ summary: L("Synthèse", "Summary") }} />
      <button class="danger" type="button" onClick={() => close.run()} disabled={close.busy}>
        {L("Clôturer la conversation", "Close the conversation")}
      </button>
    </details>
  );
}
