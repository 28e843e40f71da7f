// Proposals: the offers compatible with the request, nearest first, and nothing about the
// others (no offer set aside, no reason, no count that moves when one offer moves: each would
// help draw where a protected person lives). The exclusion factor is the request's, set by the
// following centre; the platform does not choose it.
import { useState } from "preact/hooks";
import { type Schemas, api, ok } from "../../../api";
import { L, count, number, quantity } from "../../../i18n";
import { Badge, Empty, Field, Loading, useLoad } from "../../../ui";
import { euros, kindLabel } from "../requests";
import { PlaceForm } from "./place-form";

type Request = Schemas["HousingRequest"];
type Proposals = Schemas["HousingProposals"];
type Proposal = Proposals["proposals"][number];
type Placement = Schemas["Placement"];

export function ProposalsPanel({ request, onPlaced }: { request: Request; onPlaced: (p: Placement) => void }) {
  const [limit, setLimit] = useState(10);
  const [chosen, setChosen] = useState<string | undefined>(undefined);
  const proposals = useLoad(
    () =>
      ok(
        api.GET("/v1/housing/requests/{id}/proposals", {
          params: { path: { id: request.id }, query: { limit } },
        }),
      ),
    [request.id, limit],
  );

  return (
    <>
      <h2>{L("Offres proposées", "Proposed offers")}</h2>
      <div class="row">
        <Field label={L("Nombre de propositions", "Number of proposals")}>
          {(id) => (
            <select id={id} value={String(limit)} onChange={(e) => setLimit(Number(e.currentTarget.value))}>
              {[5, 10, 20, 50].map((n) => (
                <option key={n} value={String(n)}>
                  {number(n)}
                </option>
              ))}
            </select>
          )}
        </Field>
        <button type="button" onClick={proposals.reload} disabled={proposals.loading}>
          {proposals.loading ? L("Recherche…", "Searching…") : L("Relancer la recherche", "Search again")}
        </button>
      </div>
      <Loading loaded={proposals}>
        {(data) => (
          <>
            <RulesSummary data={data} />
            {data.proposals.length === 0 ? (
              <Empty>{L("Aucune offre compatible avec cette demande pour ces nuits.", "No offer is compatible with this request for these nights.")}</Empty>
            ) : (
              <ul class="list">
                {data.proposals.map((p) => (
                  <li key={p.offer_id}>
                    <ProposalCard proposal={p} from={data.distance_from} />
                    {chosen === p.offer_id ? (
                      <PlaceForm
                        request={request}
                        proposal={p}
                        onCancel={() => setChosen(undefined)}
                        onPlaced={(placement) => {
                          setChosen(undefined);
                          onPlaced(placement);
                        }}
                      />
                    ) : (
                      <div class="row">
                        <button
                          type="button"
                          class="primary"
                          aria-label={L(`Placer ici : ${p.name}`, `Place here: ${p.name}`)}
                          onClick={() => setChosen(p.offer_id)}
                        >
                          {L("Placer ici", "Place here")}
                        </button>
                      </div>
                    )}
                  </li>
                ))}
              </ul>
            )}
          </>
        )}
      </Loading>
    </>
  );
}

/** How many rules applied, never what or where. */
function RulesSummary({ data }: { data: Proposals }) {
  const { protected_persons, communes, departements, areas } = data.rules;
  const parts: string[] = [];
  if (protected_persons) parts.push(count(protected_persons, { one: ["# personne protégée", "# protected person"], other: ["# personnes protégées", "# protected persons"] }));
  if (communes) parts.push(count(communes, { one: ["# commune interdite", "# forbidden commune"], other: ["# communes interdites", "# forbidden communes"] }));
  if (departements) parts.push(count(departements, { one: ["# département interdit", "# forbidden département"], other: ["# départements interdits", "# forbidden départements"] }));
  if (areas) parts.push(count(areas, { one: ["# zone interdite", "# forbidden area"], other: ["# zones interdites", "# forbidden areas"] }));
  return (
    <p class="notice">
      {parts.length
        ? L(`Règles du juge appliquées : ${parts.join(", ")}. `, `Court rules applied: ${parts.join(", ")}. `)
        : L("Aucune règle de lieu ne s'applique. ", "No rule about places applies. ")}
      {count(data.proposals.length, { one: ["# offre compatible.", "# compatible offer."], other: ["# offres compatibles.", "# compatible offers."] })}{" "}
      {L(
        `Facteur d'exclusion fixé par le centre : × ${number(data.radius_factor, 1)}. Les offres écartées ne sont ni listées ni comptées.`,
        `Exclusion factor set by the centre: × ${number(data.radius_factor, 1)}. Offers set aside are neither listed nor counted.`,
      )}{" "}
      {areaLabel(data.area)}
    </p>
  );
}

/** Where the offers were looked for, in words. */
function areaLabel(area: Schemas["HousingProposals"]["area"]): string {
  if (area.kind === "regions") {
    const names = area.regions.map((r) => r.name ?? r.code).join(", ");
    return L(`Recherche dans la région du centre : ${names}.`, `Searched in the centre's region: ${names}.`);
  }
  if (area.kind === "radius") {
    return L(`Recherche à moins de ${quantity(area.km, "kilometer")} du centre.`, `Searched within ${quantity(area.km, "kilometer")} of the centre.`);
  }
  return L("Recherche dans toute la France : le centre n'a ni territoire ni adresse.", "Searched all of France: the centre has neither territory nor address.");
}

function ProposalCard({ proposal: p, from }: { proposal: Proposal; from: Schemas["HousingProposals"]["distance_from"] }) {
  return (
    <>
      <span class="item-title">{p.name}</span> <Badge>{kindLabel(p.kind)}</Badge>
      <dl class="facts">
        <dt>
          {from === "commune"
            ? L("Distance à la mairie de la commune du centre", "Distance to the town hall of the centre's commune")
            : L("Distance au centre", "Distance to the centre")}
        </dt>
        <dd>{p.distance_km === null || p.distance_km === undefined ? L("inconnue", "unknown") : quantity(p.distance_km, "kilometer", 1)}</dd>
        <dt>{L("Prix d'une nuit", "Price of a night")}</dt>
        <dd>{euros(p.price_cents)}</dd>
        <dt>{L("Places libres", "Free places")}</dt>
        <dd>
          {L(`au moins ${number(p.free_places)} chaque nuit demandée`, `at least ${number(p.free_places)} on every night wanted`)}
        </dd>
        <dt>{L("Commune", "Commune")}</dt>
        <dd>
          {p.commune_name ?? p.commune} · {p.departement_name ?? p.departement} ({p.departement})
        </dd>
      </dl>
    </>
  );
}
