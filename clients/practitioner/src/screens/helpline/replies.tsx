// Canned replies: the team's ready answers, in French and English, inserted into a reply by
// the listener (who can still edit them before sending).
import { useState } from "preact/hooks";
import { type Schemas, api, ok } from "../../api";
import { L } from "../../i18n";
import { Empty, ErrorBox, Field, Form, Loading, Screen, useAction, useLoad } from "../../ui";

type Reply = Schemas["CannedReply"];

export function Replies(_: { me: Schemas["Me"] }) {
  const replies = useLoad(async () => (await ok(api.GET("/v1/canned-replies"))).items);
  return (
    <Screen title={L("Réponses types", "Canned replies")}>
      <Loading loaded={replies}>
        {(items) =>
          items.length ? (
            <ul class="list">
              {items.map((r) => (
                <ReplyItem key={r.id} reply={r} onChange={replies.reload} />
              ))}
            </ul>
          ) : (
            <Empty>{L("Aucune réponse type.", "No canned reply yet.")}</Empty>
          )
        }
      </Loading>
      <details>
        <summary>{L("Nouvelle réponse type", "New canned reply")}</summary>
        <ReplyForm onSaved={replies.reload} />
      </details>
    </Screen>
  );
}

function ReplyItem({ reply, onChange }: { reply: Reply; onChange: () => void }) {
  const [editing, setEditing] = useState(false);
  const remove = useAction(async () => {
    if (!confirm(L("Supprimer cette réponse type ?", "Delete this canned reply?"))) return;
    await ok(api.DELETE("/v1/canned-replies/{id}", { params: { path: { id: reply.id } } }));
    onChange();
  });
  return (
    <li>
      <span class="item-title">{reply.title}</span> <span class="meta">({reply.language === "en" ? "English" : "Français"})</span>
      {editing ? (
        <ReplyForm
          reply={reply}
          onSaved={() => {
            setEditing(false);
            onChange();
          }}
        />
      ) : (
        <>
          <p>{reply.body}</p>
          <div class="row">
            <button type="button" onClick={() => setEditing(true)}>
              {L("Modifier", "Edit")} <span class="visually-hidden">{reply.title}</span>
            </button>
            <button class="danger" type="button" onClick={() => remove.run()} disabled={remove.busy}>
              {L("Supprimer", "Delete")} <span class="visually-hidden">{reply.title}</span>
            </button>
          </div>
          <ErrorBox error={remove.error} />
        </>
      )}
    </li>
  );
}

function ReplyForm({ reply, onSaved }: { reply?: Reply; onSaved: () => void }) {
  const [title, setTitle] = useState(reply?.title ?? "");
  const [body, setBody] = useState(reply?.body ?? "");
  const [language, setLanguage] = useState<Schemas["Language"]>(reply?.language ?? "fr");
  const save = useAction(async () => {
    if (reply) {
      await ok(api.PATCH("/v1/canned-replies/{id}", { params: { path: { id: reply.id } }, body: { title, body } }));
    } else {
      await ok(api.POST("/v1/canned-replies", { body: { title, body, language } }));
      setTitle("");
      setBody("");
    }
    onSaved();
  });
  return (
    <Form onSubmit={() => save.run()}>
      <Field label={L("Titre", "Title")}>{(id) => <input id={id} required maxLength={120} value={title} onInput={(e) => setTitle(e.currentTarget.value)} />}</Field>
      <Field label={L("Texte", "Text")}>{(id) => <textarea id={id} required maxLength={4000} value={body} onInput={(e) => setBody(e.currentTarget.value)} />}</Field>
      <Field label={L("Langue", "Language")}>
        {(id) => (
          <select id={id} value={language} onChange={(e) => setLanguage(e.currentTarget.value as Schemas["Language"])}>
            <option value="fr">Français</option>
            <option value="en">English</option>
          </select>
        )}
      </Field>
      <ErrorBox error={save.error} />
      <button class="primary" type="submit" disabled={save.busy}>
        {L("Enregistrer", "Save")}
      </button>
    </Form>
  );
}
