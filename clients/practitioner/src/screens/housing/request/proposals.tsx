// Proposals: the offers that respect every rule, nearest first, with a radius factor control.
// Offers set aside are listed with the rule that excluded them, never where a protected person is.
import { useState } from "preact/hooks";
import { type Schemas, api, ok } from "../../../api";
import { L, number } from "../../../i18n";
import { Badge, Empty, Field, Loading, useLoad } from "../../../ui";
import { euros, kindLabel } from "../requests";
import { PlaceForm } from "./place-form";

type Request = Schemas["HousingRequest"];
type Proposals = Schemas["HousingProposals"];
type Proposal = Proposals["proposals"][number];
type Placement = Schemas["Placement"];

/** Why an offer was not proposed, as a sentence (never where a protected person is). */
export function exclusionText(rule: Schemas["ExclusionRule"]): string {
  const texts: Record<Schemas["ExclusionRule"], () => string> = {
    protected_person_radius: () => L("Trop proche d'une personne protégée (zone d'exclusion)", "Too close to a protected person (exclusion zone)"),
    forbidden_commune: () => L("Dans une commune interdite par le juge", "In a commune the court forbids"),
    forbidden_departement: () => L("Dans un département interdit par le juge", "In a département the court forbids"),
    forbidden_area: () => L("Dans une zone interdite par le juge", "In an area the court forbids"),
    hosts_victims: () => L("Accueille aussi des victimes : jamais proposée à un auteur", "Also shelters victims: never proposed to an author"),
    not_available: () => L("Pas ouverte toutes les nuits demandées", "Not open on every night wanted"),
    no_capacity: () => L("Complète au moins une des nuits demandées", "Full on at least one night wanted"),
    needs: () => L("Ne répond pas aux besoins de la personne (accessibilité, animal ou couple)", "Does not meet the person's needs (access, pet or couple)"),
  };
  return texts[rule]();
}

export function ProposalsPanel({ request, onPlaced }: { request: Request; onPlaced: (p: Placement) => void }) {
  const [factor, setFactor] = useState(2);
  const [draft, setDraft] = useState(2);
  const [limit, setLimit] = useState(10);
  const [chosen, setChosen] = useState<string | undefined>(undefined);
  const proposals = useLoad(
    () =>
      ok(
        api.GET("/v1/housing/requests/{id}/proposals", {
          params: { path: { id: request.id }, query: { radius_factor: factor, limit } },
        }),
      ),
    [request.id, factor, limit],
  );
  const factorText = (f: number) => `× ${number(f, 1)}`;
  const commit = (value: string) => {
    const f = Math.min(2, Math.max(1, Math.round(Number(value) * 10) / 10));
    setDraft(f);
    setFactor(f);
  };

  return (
    <>
      <h2>{L("Offres proposées", "Proposed offers")}</h2>
      <Field
        label={L(`Facteur du rayon d'exclusion : ${factorText(draft)}`, `Exclusion radius factor: ${factorText(draft)}`)}
        hint={L(
          "Le rayon autour de chaque personne protégée est sa distance d'alerte multipliée par ce facteur, de 1 à 2. 2 par défaut, le plus prudent.",
          "The radius around each protected person is their alert distance times this factor, from 1 to 2. 2 by default, the safest.",
        )}
      >
        {(id, hint) => (
          <input
            id={id}
            type="range"
            min={1}
            max={2}
            step={0.1}
            value={draft}
            aria-describedby={hint}
            aria-valuetext={factorText(draft)}
            onInput={(e) => setDraft(Math.round(Number(e.currentTarget.value) * 10) / 10)}
            onChange={(e) => commit(e.currentTarget.value)}
          />
        )}
      </Field>
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
              <Empty>{L("Aucune offre ne respecte toutes les règles pour ces nuits.", "No offer respects every rule for these nights.")}</Empty>
            ) : (
              <ul class="list">
                {data.proposals.map((p) => (
                  <li key={p.offer_id}>
                    <ProposalCard proposal={p} />
                    {chosen === p.offer_id ? (
                      <PlaceForm
                        request={request}
                        proposal={p}
                        factor={data.radius_factor}
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
            <h3>{L("Offres écartées", "Offers set aside")}</h3>
            {data.exclusions.length === 0 ? (
              <Empty>{L("Aucune offre examinée n'a été écartée.", "No examined offer was set aside.")}</Empty>
            ) : (
              <details>
                <summary>
                  {L(
                    `Voir les ${number(data.exclusions.length)} offres écartées et pourquoi`,
                    `See the ${number(data.exclusions.length)} offers set aside and why`,
                  )}
                </summary>
                <PlaceRuleCounts exclusions={data.exclusions} />
                <ul class="list">
                  {data.exclusions
                    .filter((x) => !PLACE_RULES.includes(x.rule))
                    .map((x) => (
                      <li key={x.offer_id}>
                        <span class="item-title">{x.name}</span>
                        <br />
                        <span class="meta">{exclusionText(x.rule)}</span>
                      </li>
                    ))}
                </ul>
              </details>
            )}
          </>
        )}
      </Loading>
    </>
  );
}

/** The court's rules about places. Offers they set aside are counted, never named: which named
 * places fall inside a zone, as the factor moves, would draw where a protected person lives. */
const PLACE_RULES: Proposals["exclusions"][number]["rule"][] = ["protected_person_radius", "forbidden_commune", "forbidden_departement", "forbidden_area"];

function PlaceRuleCounts({ exclusions }: { exclusions: Proposals["exclusions"] }) {
  const counts = PLACE_RULES.map((rule) => [rule, exclusions.filter((x) => x.rule === rule).length] as const).filter(([, n]) => n > 0);
  if (!counts.length) return null;
  return (
    <ul>
      {counts.map(([rule, n]) => (
        <li key={rule}>
          {exclusionText(rule)} : {L(`${number(n)} offre(s)`, `${number(n)} offer(s)`)}
        </li>
      ))}
    </ul>
  );
}

/** How many rules applied, never what or where. */
function RulesSummary({ data }: { data: Proposals }) {
  const { protected_persons, communes, departements, areas } = data.rules;
  const parts: string[] = [];
  if (protected_persons) parts.push(L(`${number(protected_persons)} personne(s) protégée(s)`, `${number(protected_persons)} protected person(s)`));
  if (communes) parts.push(L(`${number(communes)} commune(s) interdite(s)`, `${number(communes)} forbidden commune(s)`));
  if (departements) parts.push(L(`${number(departements)} département(s) interdit(s)`, `${number(departements)} forbidden département(s)`));
  if (areas) parts.push(L(`${number(areas)} zone(s) interdite(s)`, `${number(areas)} forbidden area(s)`));
  return (
    <p class="notice">
      {parts.length
        ? L(`Règles du juge appliquées : ${parts.join(", ")}. `, `Court rules applied: ${parts.join(", ")}. `)
        : L("Aucune règle de lieu ne s'applique. ", "No rule about places applies. ")}
      {L(
        `${number(data.examined)} offre(s) examinée(s), ${number(data.proposals.length)} proposée(s), facteur × ${number(data.radius_factor, 1)}.`,
        `${number(data.examined)} offer(s) examined, ${number(data.proposals.length)} proposed, factor × ${number(data.radius_factor, 1)}.`,
      )}
    </p>
  );
}

function ProposalCard({ proposal: p }: { proposal: Proposal }) {
  return (
    <>
      <span class="item-title">{p.name}</span> <Badge>{kindLabel(p.kind)}</Badge>
      <dl class="facts">
        <dt>{L("Distance au centre", "Distance to the centre")}</dt>
        <dd>{p.distance_km === null || p.distance_km === undefined ? L("inconnue", "unknown") : `${number(p.distance_km, 1)} km`}</dd>
        <dt>{L("Prix d'une nuit", "Price of a night")}</dt>
        <dd>{euros(p.price_cents)}</dd>
        <dt>{L("Places libres", "Free places")}</dt>
        <dd>
          {L(`au moins ${number(p.free_places)} chaque nuit demandée`, `at least ${number(p.free_places)} on every night wanted`)}
        </dd>
        <dt>{L("Commune (code INSEE)", "Commune (INSEE code)")}</dt>
        <dd>
          {p.commune} · {L("département", "département")} {p.departement}
        </dd>
      </dl>
    </>
  );
}
