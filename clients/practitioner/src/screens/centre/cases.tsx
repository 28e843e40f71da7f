// The centre's case files, by status, newest first, a page at a time; each opens the file.
// A search finds a case by words of the person's name or by the start of its number.
import { useEffect, useState } from "preact/hooks";
import { type Schemas, api, ok } from "../../api";
import { L, day, label } from "../../i18n";
import { PAGE_SIZE, ShowMore, usePages } from "../../pages";
import { ListScreen } from "../../pull";
import { Badge, Empty, Field, Loading } from "../../ui";

/** A case's number as people read and type it: the first eight characters of its id. */
export function caseNumber(id: string): string {
  return id.replace(/-/g, "").slice(0, 8).toUpperCase();
}

export function Cases(_: { me: Schemas["Me"] }) {
  const [status, setStatus] = useState<Schemas["CaseStatus"] | "">("open");
  const [typed, setTyped] = useState("");
  const [q, setQ] = useState("");
  useEffect(() => {
    const timer = setTimeout(() => setQ(typed.trim()), 300);
    return () => clearTimeout(timer);
  }, [typed]);
  const cases = usePages(
    (cursor) =>
      ok(
        api.GET("/v1/cases", {
          params: { query: q ? { status: status || undefined, q, limit: PAGE_SIZE } : { status: status || undefined, limit: PAGE_SIZE, cursor } },
        }),
      ),
    [status, q],
  );
  return (
    <ListScreen title={L("Dossiers", "Case files")} refresh={cases.reload} busy={cases.loading}>
      <Field label={L("Rechercher", "Search")} hint={L("Nom de la personne ou numéro du dossier.", "The person's name or the case number.")}>
        {(id, hint) => (
          <input id={id} type="search" aria-describedby={hint} autocomplete="off" maxLength={100} value={typed} onInput={(e) => setTyped(e.currentTarget.value)} />
        )}
      </Field>
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
                        · {L("n°", "no.")} {caseNumber(c.id)} · {label(c.legal_basis)} · {L("ouvert le", "opened")} {day(c.created_at)}
                      </span>
                    </a>
                  </li>
                ))}
              </ul>
              <ShowMore pages={cases} />
            </>
          ) : (
            <Empty>{q ? L("Aucun dossier ne correspond à cette recherche.", "No case file matches this search.") : L("Aucun dossier.", "No case file.")}</Empty>
          )
        }
      </Loading>
    </ListScreen>
  );
}
