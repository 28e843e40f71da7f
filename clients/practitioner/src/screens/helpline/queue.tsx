// The listener's queue: who waits (by alias, channel and wait), the conversations the listener
// holds, "take the next one", and the listener's presence. Live events refresh it.
import { useEffect, useState } from "preact/hooks";
import { ApiError, type Schemas, api, ok } from "../../api";
import { L, label, number, time } from "../../i18n";
import { live } from "../../live";
import { PAGE_SIZE, ShowMore, WHOLE_PAGE_SIZE, everyPage, usePages } from "../../pages";
import { presence, setPresence } from "../../presence";
import { ListScreen } from "../../pull";
import { Badge, Empty, ErrorBox, Loading, announce, go, useAction, useLoad } from "../../ui";

type Conversation = Schemas["ConversationView"];

export function Queue({ me }: { me: Schemas["Me"] }) {
  const listener = me.roles.includes("listener");
  // Those waiting, in the queue's order, a page at a time; the active ones all (few: a listener
  // holds a handful), split between the caller's and the others' on this side. Closed ones and
  // those still with the bot are not read.
  const waiting = usePages((cursor) => ok(api.GET("/v1/conversations", { params: { query: { state: "waiting", limit: PAGE_SIZE, cursor } } })));
  const active = useLoad(() => everyPage((cursor) => ok(api.GET("/v1/conversations", { params: { query: { state: "active", limit: WHOLE_PAGE_SIZE, cursor } } }))));
  const reload = () => {
    waiting.reload();
    active.reload();
  };
  useLiveReload(reload, ["queue.changed", "conversation.assigned", "conversation.closed", "conversation.requeued", "message.new"]);

  const take = useAction(async () => {
    const { data, response, error } = await api.POST("/v1/queue/take-next");
    if (response.status === 204) {
      announce(L("La file est vide.", "The queue is empty."));
      reload();
      return;
    }
    if (!response.ok || !data) throw ApiError.of(response, error);
    go(`/conversation/${data.id}`);
  });

  return (
    <ListScreen title={L("File d'attente", "Queue")} refresh={reload} busy={waiting.loading || active.loading} actions={listener ? <Presence me={me} /> : null}>
      {listener ? (
        <div class="row">
          <button class="primary" type="button" onClick={() => take.run()} disabled={take.busy}>
            {L("Prendre la suivante", "Take the next one")}
          </button>
        </div>
      ) : null}
      <ErrorBox error={take.error} />
      <h2>{L("Mes conversations", "My conversations")}</h2>
      <Loading loaded={active}>
        {(items) => {
          const mine = items.filter((c) => c.listener_id === me.user?.id);
          return mine.length ? <ConversationList items={mine} /> : <Empty>{L("Aucune conversation en cours.", "No conversation in progress.")}</Empty>;
        }}
      </Loading>
      <h2>
        {L("En attente", "Waiting")} {waiting.data ? <WaitingCount count={waiting.data.length} more={!!waiting.more} /> : null}
      </h2>
      <Loading loaded={waiting}>
        {(items) =>
          items.length ? (
            <>
              <ConversationList items={items} canTake={listener} />
              <ShowMore pages={waiting} />
            </>
          ) : (
            <Empty>{L("Personne n'attend.", "Nobody is waiting.")}</Empty>
          )
        }
      </Loading>
      {!listener && active.data ? <Others items={active.data.filter((c) => c.listener_id !== me.user?.id)} /> : null}
    </ListScreen>
  );
}

/** How many wait: those shown, "at least" while more pages remain. */
function WaitingCount({ count, more }: { count: number; more: boolean }) {
  return <Badge tone={count ? "warn" : undefined}>{more ? L(`au moins ${number(count)}`, `at least ${number(count)}`) : number(count)}</Badge>;
}

/** For a supervisor: the conversations other listeners hold. */
function Others({ items }: { items: Conversation[] }) {
  if (!items.length) return null;
  return (
    <>
      <h2>{L("Avec un·e écoutant·e", "With a listener")}</h2>
      <ConversationList items={items} />
    </>
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
