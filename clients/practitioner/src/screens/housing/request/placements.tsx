// The request's placements: those made or opened in this tab (the contract lists none).
import { useState } from "preact/hooks";
import { type Schemas, api, ok } from "../../../api";
import { L, day, when } from "../../../i18n";
import { Badge, Empty, Field, Loading, useLoad } from "../../../ui";
import { euros, fundingLabel, nightsText, placementStatusLabel, sourceLabel } from "../requests";
import { PlacementActions } from "./placement-actions";

type Request = Schemas["HousingRequest"];
type Placement = Schemas["Placement"];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function PlacementsPanel({
  request,
  ids,
  onOpen,
  onChanged,
}: {
  request: Request;
  ids: string[];
  onOpen: (id: string) => void;
  onChanged: () => void;
}) {
  const [typed, setTyped] = useState("");
  const [invalid, setInvalid] = useState(false);
  if (request.status !== "placed" && ids.length === 0) return null;
  const open = (e: Event) => {
    e.preventDefault();
    const value = typed.trim();
    if (!UUID.test(value)) {
      setInvalid(true);
      return;
    }
    setInvalid(false);
    setTyped("");
    onOpen(value);
  };
  return (
    <>
      <h2>{L("Placements", "Placements")}</h2>
      {ids.length === 0 ? (
        <Empty>
          {L(
            "La demande est placée. Pour prolonger ou terminer le placement, ouvrez-le avec son identifiant (donné lors du placement).",
            "The request is placed. To extend or end the placement, open it with its id (given when placing).",
          )}
        </Empty>
      ) : (
        ids.map((placementId) => <PlacementCard key={placementId} id={placementId} request={request} onChanged={onChanged} />)
      )}
      <details>
        <summary>{L("Ouvrir un placement par son identifiant", "Open a placement by its id")}</summary>
        <form onSubmit={open}>
          <Field label={L("Identifiant du placement", "Placement id")} hint={invalid ? L("Un identifiant a la forme 8-4-4-4-12 caractères hexadécimaux.", "An id looks like 8-4-4-4-12 hexadecimal characters.") : undefined}>
            {(id, hint) => (
              <input
                id={id}
                value={typed}
                autocomplete="off"
                spellcheck={false}
                aria-invalid={invalid}
                aria-describedby={hint}
                onInput={(e) => setTyped(e.currentTarget.value)}
              />
            )}
          </Field>
          <button type="submit">{L("Ouvrir", "Open")}</button>
        </form>
      </details>
    </>
  );
}

function PlacementCard({ id, request, onChanged }: { id: string; request: Request; onChanged: () => void }) {
  const placement = useLoad(() => ok(api.GET("/v1/housing/placements/{id}", { params: { path: { id } } })), [id]);
  const changed = () => {
    placement.reload();
    onChanged();
  };
  return (
    <article aria-label={L("Placement", "Placement")}>
      <Loading loaded={placement}>
        {(p) => (
          <>
            <h3>
              {p.offer_name}{" "}
              <Badge tone={p.status === "active" ? "ok" : p.status === "no_show" ? "warn" : undefined}>{placementStatusLabel(p.status)}</Badge>
            </h3>
            {p.request_id !== request.id ? (
              <p class="notice">
                {L("Ce placement concerne une autre demande : ", "This placement belongs to another request: ")}
                {p.request_id ? <a href={`#/housing/request/${p.request_id}`}>{L("ouvrir cette demande", "open that request")}</a> : L("déclaré par un centre", "declared by a centre")}
              </p>
            ) : null}
            <dl class="facts">
              <dt>{L("Adresse", "Address")}</dt>
              <dd>
                {p.address} ({L("commune", "commune")} {p.commune})
              </dd>
              <dt>{L("Nuits", "Nights")}</dt>
              <dd>
                {p.first_night && p.last_night
                  ? `${nightsText(p.nights.length)}, ${L("du", "from")} ${day(p.first_night)} ${L("au", "to")} ${day(p.last_night)}`
                  : L("aucune nuit retenue", "no night held")}
              </dd>
              <dt>{L("Coût", "Cost")}</dt>
              <dd>{euros(p.cost_cents)}</dd>
              <dt>{L("Fait par", "Made by")}</dt>
              <dd>
                {sourceLabel(p.source)}, {when(p.created_at)}
              </dd>
              <dt>{L("Identifiant", "Id")}</dt>
              <dd>
                <code>{p.id}</code>
              </dd>
            </dl>
            {p.nights.length ? <NightsTable placement={p} /> : null}
            {p.status === "active" && p.last_night ? <PlacementActions placement={p} request={request} onChanged={changed} /> : null}
          </>
        )}
      </Loading>
    </article>
  );
}

function NightsTable({ placement }: { placement: Placement }) {
  return (
    <details>
      <summary>{L("Détail des nuits", "Nights in detail")}</summary>
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">{L("Nuit", "Night")}</th>
              <th scope="col">{L("Financement", "Funding")}</th>
              <th scope="col" class="num">
                {L("Prix", "Price")}
              </th>
            </tr>
          </thead>
          <tbody>
            {placement.nights.map((n) => (
              <tr key={n.night}>
                <td>{day(n.night)}</td>
                <td>{fundingLabel(n.funding)}</td>
                <td class="num">{euros(n.price_cents)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </details>
  );
}
