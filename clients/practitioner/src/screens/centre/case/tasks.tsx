// Tasks: the case's tasks with their due dates, ticking them done, and adding one.
import { useState } from "preact/hooks";
import { type Schemas, api, ok } from "../../../api";
import { L, day, when } from "../../../i18n";
import { Badge, Empty, ErrorBox, Field, Form, Loading, announce, useAction, useLoad } from "../../../ui";
import { Invalid } from "../shared";
import { type Context, today } from "./shared";

export function Tasks({ caseId, ctx }: { caseId: string; ctx: Context }) {
  const tasks = useLoad(() => ok(api.GET("/v1/cases/{id}/tasks", { params: { path: { id: caseId } } })), [caseId]);
  const [title, setTitle] = useState("");
  const [due, setDue] = useState(today());
  const add = useAction(async () => {
    if (!title.trim()) throw new Invalid(L("Indiquez la tâche.", "Give the task."));
    if (!due) throw new Invalid(L("Indiquez l'échéance.", "Give the due date."));
    await ok(api.POST("/v1/cases/{id}/tasks", { params: { path: { id: caseId } }, body: { title: title.trim(), due_on: due } }));
    announce(L("Tâche ajoutée", "Task added"));
    setTitle("");
    tasks.reload();
  });
  return (
    <>
      <Loading loaded={tasks}>
        {(list) =>
          list.items.length === 0 ? (
            <Empty>{L("Aucune tâche.", "No task.")}</Empty>
          ) : (
            <ul class="list">
              {list.items.map((t) => (
                <TaskItem key={t.id} task={t} ctx={ctx} onChanged={tasks.reload} />
              ))}
            </ul>
          )
        }
      </Loading>
      <h3>{L("Ajouter une tâche", "Add a task")}</h3>
      <Form onSubmit={() => add.run()}>
        <Field label={L("Tâche", "Task")}>
          {(id) => <input id={id} required maxLength={200} value={title} onInput={(e) => setTitle(e.currentTarget.value)} />}
        </Field>
        <Field label={L("Échéance", "Due date")}>
          {(id) => <input id={id} type="date" required min="2000-01-01" max="2199-12-31" value={due} onInput={(e) => setDue(e.currentTarget.value)} />}
        </Field>
        <ErrorBox error={add.error} />
        <div class="row">
          <button type="submit" class="primary" disabled={add.busy}>
            {L("Ajouter la tâche", "Add the task")}
          </button>
        </div>
      </Form>
    </>
  );
}

function TaskItem({ task: t, ctx, onChanged }: { task: Schemas["CaseTask"]; ctx: Context; onChanged: () => void }) {
  const toggle = useAction(async (done: boolean) => {
    await ok(api.PATCH("/v1/tasks/{id}", { params: { path: { id: t.id } }, body: { done } }));
    announce(done ? L("Tâche faite", "Task done") : L("Tâche à faire", "Task to do"));
    onChanged();
  });
  const late = !t.done_at && t.due_on < today();
  return (
    <li>
      <label class="check">
        <input type="checkbox" checked={!!t.done_at} disabled={toggle.busy} onChange={(e) => void toggle.run(e.currentTarget.checked)} />
        <span>
          {t.title} — {L("pour le", "due")} {day(t.due_on)}
        </span>
      </label>
      {late ? <Badge tone="warn">{L("En retard", "Overdue")}</Badge> : null}
      {t.done_at ? (
        <div class="meta">
          {L("Faite le", "Done")} {when(t.done_at, ctx.timeZone)}
        </div>
      ) : null}
      <ErrorBox error={toggle.error} />
    </li>
  );
}
