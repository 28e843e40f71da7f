// Notes: the case's notes with their authors, and adding one.
import { useState } from "preact/hooks";
import { type Schemas, api, ok } from "../../../api";
import { L, when } from "../../../i18n";
import { Empty, ErrorBox, Field, Form, Loading, announce, useAction, useLoad } from "../../../ui";
import { Invalid } from "../shared";
import { type Context, Lines } from "./shared";

type Me = Schemas["Me"];

export function Notes({ me, caseId, ctx }: { me: Me; caseId: string; ctx: Context }) {
  const notes = useLoad(() => ok(api.GET("/v1/cases/{id}/notes", { params: { path: { id: caseId } } })), [caseId]);
  const [body, setBody] = useState("");
  const add = useAction(async () => {
    if (!body.trim()) throw new Invalid(L("La note est vide.", "The note is empty."));
    await ok(api.POST("/v1/cases/{id}/notes", { params: { path: { id: caseId } }, body: { body: body.trim() } }));
    announce(L("Note ajoutée", "Note added"));
    setBody("");
    notes.reload();
  });
  const author = (id: string) => (id === me.user?.id ? L("Vous", "You") : (ctx.names.get(id) ?? L("Un·e collègue", "A colleague")));
  return (
    <>
      <Loading loaded={notes}>
        {(list) =>
          list.items.length === 0 ? (
            <Empty>{L("Aucune note.", "No note.")}</Empty>
          ) : (
            <ul class="list">
              {list.items.map((n) => (
                <li key={n.id}>
                  <div class="meta">
                    {author(n.author_id)} · {when(n.created_at, ctx.timeZone)}
                  </div>
                  <p>
                    <Lines text={n.body} />
                  </p>
                </li>
              ))}
            </ul>
          )
        }
      </Loading>
      <Form onSubmit={() => add.run()}>
        <Field label={L("Nouvelle note", "New note")}>
          {(id) => <textarea id={id} required maxLength={10000} value={body} onInput={(e) => setBody(e.currentTarget.value)} />}
        </Field>
        <ErrorBox error={add.error} />
        <div class="row">
          <button type="submit" class="primary" disabled={add.busy}>
            {L("Ajouter la note", "Add the note")}
          </button>
        </div>
      </Form>
    </>
  );
}
