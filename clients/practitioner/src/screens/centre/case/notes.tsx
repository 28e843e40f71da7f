// Notes: the case's notes with their authors, adding one, and correcting one's own (with a
// reason; the earlier texts stay, shown under the note).
import { useState } from "preact/hooks";
import { type Schemas, api, ok } from "../../../api";
import { L, when } from "../../../i18n";
import { Empty, ErrorBox, Field, Form, Loading, announce, useAction, useLoad } from "../../../ui";
import { Invalid } from "../shared";
import { type Context, Lines } from "./shared";

type Me = Schemas["Me"];
type Note = Schemas["CaseNote"];

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
                    {n.corrections.map((c, i) =>
                      i === n.corrections.length - 1 ? ` · ${L("corrigée le", "corrected on")} ${when(c.created_at, ctx.timeZone)}` : null,
                    )}
                  </div>
                  <p>
                    <Lines text={n.body} />
                  </p>
                  {n.corrections.length > 0 && <History note={n} author={author} timeZone={ctx.timeZone} />}
                  {n.author_id === me.user?.id && <Correct note={n} onDone={() => notes.reload()} />}
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

/// The note's earlier texts, each with the reason it was corrected.
function History({ note, author, timeZone }: { note: Note; author: (id: string) => string; timeZone: string | undefined }) {
  return (
    <details>
      <summary>{L("Versions précédentes", "Earlier versions")}</summary>
      <ol class="list">
        {note.corrections.map((c) => (
          <li key={c.id}>
            <div class="meta">
              {L("Corrigée par", "Corrected by")} {author(c.author_id)} · {when(c.created_at, timeZone)} · {L("motif", "reason")} : {c.reason}
            </div>
            <p>
              <Lines text={c.replaced} />
            </p>
          </li>
        ))}
      </ol>
    </details>
  );
}

/// Correcting one's own note: the new text and why.
function Correct({ note, onDone }: { note: Note; onDone: () => void }) {
  const [open, setOpen] = useState(false);
  const [body, setBody] = useState(note.body);
  const [reason, setReason] = useState("");
  const save = useAction(async () => {
    if (!body.trim()) throw new Invalid(L("La note est vide.", "The note is empty."));
    if (!reason.trim()) throw new Invalid(L("Indiquez le motif de la correction.", "Give the reason for the correction."));
    await ok(
      api.POST("/v1/case-notes/{id}/corrections", {
        params: { path: { id: note.id } },
        body: { body: body.trim(), reason: reason.trim() },
      }),
    );
    announce(L("Note corrigée", "Note corrected"));
    setOpen(false);
    setReason("");
    onDone();
  });
  if (!open) {
    return (
      <div class="row">
        <button
          type="button"
          onClick={() => {
            setBody(note.body);
            setOpen(true);
          }}
        >
          {L("Corriger", "Correct")}
        </button>
      </div>
    );
  }
  return (
    <Form onSubmit={() => save.run()}>
      <Field label={L("Texte corrigé", "Corrected text")}>
        {(id) => <textarea id={id} required maxLength={10000} value={body} onInput={(e) => setBody(e.currentTarget.value)} />}
      </Field>
      <Field label={L("Motif de la correction", "Reason for the correction")} hint={L("Gardé avec la version précédente.", "Kept with the earlier version.")}>
        {(id) => <input id={id} required maxLength={500} value={reason} onInput={(e) => setReason(e.currentTarget.value)} />}
      </Field>
      <ErrorBox error={save.error} />
      <div class="row">
        <button type="submit" class="primary" disabled={save.busy}>
          {L("Enregistrer la correction", "Save the correction")}
        </button>
        <button type="button" onClick={() => setOpen(false)}>
          {L("Annuler", "Cancel")}
        </button>
      </div>
    </Form>
  );
}
