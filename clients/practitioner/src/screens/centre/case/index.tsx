// One case file: the person, the case's status and where it comes from, then one folding section
// per part (measures, protected persons, sessions, notes, tasks, certificates, housing). A section
// loads its data only when opened: every read of a case is recorded in the audit log. Protected
// persons' locations are write-only: this screen sends them and never shows them.
// Each part is a module beside this one; shared.tsx holds what several parts use.
import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { type Schemas, api, ok } from "../../../api";
import { L } from "../../../i18n";
import { ErrorBox, Loading, Screen, useLoad } from "../../../ui";
import { Certificates } from "./certificates";
import { Housing } from "./housing";
import { Measures } from "./measures";
import { Notes } from "./notes";
import { Overview } from "./overview";
import { ProtectedPersons } from "./protected-persons";
import { Sessions } from "./sessions";
import { type Context, useDownload } from "./shared";
import { Tasks } from "./tasks";

type Me = Schemas["Me"];

/** The centre's time zone and its staff's names; both optional. */
async function loadContext(me: Me): Promise<Context> {
  const id = me.organisation.id;
  const [centre, users] = await Promise.all([
    ok(api.GET("/v1/centres/{id}", { params: { path: { id } } })).catch(() => undefined),
    ok(api.GET("/v1/organisations/{id}/users", { params: { path: { id } } }))
      .then((list) => list.items)
      .catch(() => [] as Schemas["User"][]),
  ]);
  return { timeZone: centre?.timezone, names: new Map(users.map((u) => [u.id, u.display_name])) };
}

export function CaseFile({ me, id }: { me: Me; id: string }) {
  const file = useLoad(() => ok(api.GET("/v1/cases/{id}", { params: { path: { id } } })), [id]);
  const context = useLoad(() => loadContext(me), [me.organisation.id]);
  const ctx: Context = context.data ?? { timeZone: undefined, names: new Map() };
  return (
    <Screen title={L("Dossier", "Case file")} actions={<ExportButton id={id} />}>
      <p>
        <a href="#/cases">{L("← Tous les dossiers", "← All case files")}</a>
      </p>
      <Loading loaded={file}>
        {(c) => (
          <>
            <Overview me={me} file={c} ctx={ctx} onChanged={file.reload} />
            <Section title={L("Mesures judiciaires", "Judicial measures")}>{() => <Measures caseId={c.id} />}</Section>
            <Section title={L("Personnes protégées", "Protected persons")}>{() => <ProtectedPersons caseId={c.id} />}</Section>
            <Section title={L("Séances et présence", "Sessions and attendance")}>{() => <Sessions caseId={c.id} ctx={ctx} />}</Section>
            <Section title={L("Notes", "Notes")}>{() => <Notes me={me} caseId={c.id} ctx={ctx} />}</Section>
            <Section title={L("Tâches", "Tasks")}>{() => <Tasks caseId={c.id} ctx={ctx} />}</Section>
            <Section title={L("Attestations de suivi", "Attendance certificates")}>{() => <Certificates caseId={c.id} />}</Section>
            <Section title={L("Hébergement", "Housing")}>{() => <Housing caseId={c.id} />}</Section>
          </>
        )}
      </Loading>
    </Screen>
  );
}

/** A folding section whose content is made (and its data loaded) only while it is open. */
function Section({ title, children }: { title: string; children: () => ComponentChildren }) {
  const [open, setOpen] = useState(false);
  return (
    <details onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary>
        <h2>{title}</h2>
      </summary>
      {open ? children() : null}
    </details>
  );
}

function ExportButton({ id }: { id: string }) {
  const download = useDownload(
    () => ok(api.GET("/v1/cases/{id}/export", { params: { path: { id } }, parseAs: "blob" })),
    `dossier-${id}.json`,
  );
  return (
    <div>
      <div class="row">
        <button type="button" disabled={download.busy} onClick={() => void download.run()}>
          {download.busy ? L("Export…", "Exporting…") : L("Exporter (droit d'accès)", "Export (right of access)")}
        </button>
        {download.link}
      </div>
      <ErrorBox error={download.error} />
    </div>
  );
}
