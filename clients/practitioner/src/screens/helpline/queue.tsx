// The listener's queue: who waits (by alias, channel and wait), the conversations the listener
// holds, "take the next one", and the listener's presence. Live events refresh it.
import { useEffect, useState } from "preact/hooks";
import { ApiError, type Schemas, api, ok } from "../../api";
import { L, label, time } from "../../i18n";
import { live } from "../../live";
import { presence, setPresence } from "../../presence";
import { Badge, Empty, ErrorBox, Loading, Screen, announce, go, useAction, useLoad } from "../../ui";

type Conversation = Schemas["ConversationView"];

export function Queue({ me }: { me: Schemas["Me"] }) {
  const listener = me.roles.includes("listener");
  const conversations = useLoad(async () => (await ok(api.GET("/v1/conversations"))).items);
  useLiveReload(conversations.reload, ["queue.changed", "conversation.assigned", "conversation.closed", "conversation.requeued", "message.new"]);

  const take = useAction(async () => {
    const { data, response, error } = await api.POST("/v1/queue/take-next");
    if (response.status === 204) {
      announce(L("La file est vide.", "The queue is empty."));
      conversations.reload();
      return;
    }
    if (!response.ok || !data) throw new ApiError(response.status, error as Partial<Schemas["Problem"]>);
    go(`/conversation/${data.id}`);
  });

  return (
    <Screen title={L("File d'attente", "Queue")} actions={listener ? <Presence me={me} /> : null}>
      {listener ? (
        <div class="row">
          <button class="primary" type="button" onClick={() => take.run()} disabled={take.busy}>
            {L("Prendre la suivante", "Take the next one")}
          </button>
        </div>
      ) : null}
      <ErrorBox error={take.error} />
      <Loading loaded={conversations}>
        {(items) => {
          const mine = items.filter((c) => c.state === "active" && c.listener_id === me.user?.id);
          const waiting = items.filter((c) => c.state === "waiting");
          const others = items.filter((c) => c.state === "active" && c.listener_id !== me.user?.id);
          return (
            <>
              <h2>{L("Mes conversations", "My conversations")}</h2>
              {mine.length ? <ConversationList items={mine} /> : <Empty>{L("Aucune conversation en cours.", "No conversation in progress.")}</Empty>}
              <h2>
                {L("En attente", "Waiting")} <Badge tone={waiting.length ? "warn" : undefined}>{waiting.length}</Badge>
              </h2>
              {waiting.length ? <ConversationList items={waiting} canTake={listener} /> : <Empty>{L("Personne n'attend.", "Nobody is waiting.")}</Empty>}
              {!listener && others.length ? (
                <>
                  <h2>{L("Avec un écoutant", "With a listener")}</h2>
                  <ConversationList items={others} />
                </>
              ) : null}
            </>
          );
        }}
      </Loading>
    </Screen>
  );
}

function ConversationList({ items, canTake }: { items: Conversation[]; canTake?: boolean }) {
  const take = useAction(async (id: string) => {
    await ok(api.POST("/v1/conversations/{id}/take", { params: { path: { id } } }));
    go(`/conversation/${id}`);
  });
  return (
    <>
      <ErrorBox error={take.error} />
      <ul class="list">
        {items.map((c) => (
          <li key={c.id}>
            <a class="item" href={`#/conversation/${c.id}`}>
              <span class="item-title">{c.contact_alias}</span>{" "}
              {c.priority > 0 ? <Badge tone="warn">{L("Prioritaire", "Priority")}</Badge> : null}
              <span class="meta">
                {" "}
                · {label(c.channel)} · {label(c.contact_kind)} ·{" "}
                {c.waiting_since ? `${L("attend depuis", "waiting since")} ${time(c.waiting_since)}` : `${L("dernier message", "last message")} ${time(c.last_message_at)}`}
              </span>
            </a>
            {canTake ? (
              <div class="row">
                <button type="button" onClick={() => take.run(c.id)} disabled={take.busy}>
                  {L("Prendre", "Take")} <span class="visually-hidden">{c.contact_alias}</span>
                </button>
              </div>
            ) : null}
          </li>
        ))}
      </ul>
    </>
  );
}

function Presence({ me }: { me: Schemas["Me"] }) {
  const [status, setStatus] = useState<Schemas["PresenceStatus"] | "">(presence() ?? "");
  useEffect(() => {
    if (presence()) return;
    ok(api.GET("/v1/presence")).then(
      (list) => setStatus(list.items.find((p) => p.listener_id === me.user?.id)?.status ?? ""),
      () => undefined,
    );
  }, []);
  const change = useAction(async (next: Schemas["PresenceStatus"]) => {
    await setPresence(next);
    setStatus(next);
  });
  return (
    <div class="field">
      <label for="presence">{L("Ma disponibilité", "My availability")}</label>
      <select id="presence" value={status} onChange={(e) => change.run(e.currentTarget.value as Schemas["PresenceStatus"])}>
        {status === "" ? <option value="">—</option> : null}
        {(["available", "busy", "away"] as const).map((s) => (
          <option key={s} value={s}>
            {label(s)}
          </option>
        ))}
      </select>
      <ErrorBox error={change.error} />
    </div>
  );
}

/** Reloads when one of these live events arrives, and after a reconnection (catch-up). */
export function useLiveReload(reload: () => void, kinds: string[], conversationId?: string): void {
  useEffect(() => {
    const off = live.on((event) => {
      if (kinds.includes(event.kind) && (!conversationId || event.conversation_id === conversationId)) reload();
    });
    const offState = live.onState((state) => state === "live" && reload());
    return () => {
      off();
      offState();
    };
  }, [conversationId]);
}
