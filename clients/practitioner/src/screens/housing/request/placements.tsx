// The request's placements (the request names them), each with its nights and the operator's moves.
import { type Schemas, api, ok } from "../../../api";
import { L, day, when } from "../../../i18n";
import { Badge, Loading, useLoad } from "../../../ui";
import { euros, fundingLabel, nightsText, placementStatusLabel, sourceLabel } from "../requests";
import { PlacementActions } from "./placement-actions";

type Request = Schemas["HousingRequest"];
type Placement = Schemas["Placement"];

export function PlacementsPanel({ request, onChanged }: { request: Request; onChanged: () => void }) {
  if (request.placement_ids.length === 0) return null;
  return (
    <>
      <h2>{L("Placements", "Placements")}</h2>
      {request.placement_ids.map((placementId) => (
        <PlacementCard key={placementId} id={placementId} request={request} onChanged={onChanged} />
      ))}
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
                {p.address}, {p.commune_name ?? p.commune}
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
