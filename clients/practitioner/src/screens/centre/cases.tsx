// The centre's case files, by status, newest first, a page at a time; each opens the file.
import { useState } from "preact/hooks";
import { type Schemas, api, ok } from "../../api";
import { L, day, label } from "../../i18n";
import { PAGE_SIZE, ShowMore, usePages } from "../../pages";
import { ListScreen } from "../../pull";
import { Badge, Empty, Field, Loading } from "../../ui";

export function Cases(_: { me: Schemas["Me"] }) {
  const [status, setStatus] = useState<Schemas["CaseStatus"] | "">("open");
  const cases = usePages((cursor) => ok(api.GET("/v1/cases", { params: { query: { status: status || undefined, limit: PAGE_SIZE, cursor } } })), [status]);
  return (
    <ListScreen title={L("Dossiers", "Case files")} refresh={cases.reload} busy={cases.loading}>
      <Field label={L("Statut", "Status")}>
        {(id) => (
          <select id={id} value={status} onChange={(e) => setStatus(e.currentTarget.value as Schemas["CaseStatus"] | "")}>
            <option value="open">{label("open")}</option>
            <option value="suspended">{label("suspended")}</option>
            <option value="closed">{label("closed")}</option>
            <option value="">{L("Tous les statuts", "All statuses")}</option>
          </select>
        )}
      </Field>
      <Loading loaded={cases}>
        {(items) =>
          items.length ? (
            <>
              <ul class="list">
                {items.map((c) => (
                  <li key={c.id}>
                    <a class="item" href={`#/case/${c.id}`}>
                      <span class="item-title">{c.identity.name ?? L("Identité non renseignée", "Identity not given")}</span>{" "}
                      <Badge tone={c.status === "open" ? "ok" : undefined}>{label(c.status)}</Badge>
                      <span class="meta">
                        {" "}
                        · {label(c.legal_basis)} · {L("ouverte le", "opened")} {day(c.created_at)}
                      </span>
                    </a>
                  </li>
                ))}
              </ul>
              <ShowMore pages={cases} />
            </>
          ) : (
            <Empty>{L("Aucun dossier.", "No case file.")}</Empty>
          )
        }
      </Loading>
    </ListScreen>
  );
}
