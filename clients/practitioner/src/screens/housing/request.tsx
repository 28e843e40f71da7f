// One housing request for the platform's operators: what the centre asks, the offers that
// respect every court rule of the case (and why the others were set aside, never where a
// protected person is), placing the person, closing the request unmet, and the placements.
import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { type Schemas, ApiError, api, ok, session } from "../../api";
import { L, day, number, when } from "../../i18n";
import { Badge, Empty, ErrorBox, Field, Loading, Screen, announce, useAction, useLoad } from "../../ui";
import {
  addDays,
  ageText,
  euros,
  fundingLabel,
  kindLabel,
  needsText,
  nightsBetween,
  nightsText,
  placementStatusLabel,
  sourceLabel,
  statusLabel,
  today,
  unmetLabel,
  urgencyLabel,
} from "./requests";

type Request = Schemas["HousingRequest"];
type Proposals = Schemas["HousingProposals"];
type Proposal = Proposals["proposals"][number];
type Placement = Schemas["Placement"];
type Funding = Schemas["Funding"];

const FUNDINGS: Funding[] = ["platform", "centre", "partner"];
const UNMET: Schemas["UnmetReason"][] = ["no_compliant_offer", "no_capacity", "declined", "other"];
/** The platform funds a court-ordered eviction for this many nights at most. */
const EVICTION_CAP = 183;

// The contract gives no list of a request's placements: the ids of those made or opened in this
// tab are kept in memory only (never in storage) and forgotten when the session ends.
const knownPlacements = new Map<string, string[]>();
session.onChange(() => {
  if (!session.access && !session.refreshToken) knownPlacements.clear();
});
function remember(requestId: string, placementId: string): string[] {
  const list = knownPlacements.get(requestId) ?? [];
  const next = list.includes(placementId) ? list : [...list, placementId];
  knownPlacements.set(requestId, next);
  return next;
}

/** Moves the focus into a form as it opens (to `[data-focus]`, else its first control). */
function useFocusInside<T extends HTMLElement>() {
  const ref = useRef<T>(null);
  useEffect(() => {
    ref.current?.querySelector<HTMLElement>("[data-focus], input, select, button")?.focus();
  }, []);
  return ref;
}

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

export function HousingRequest({ me: _me, id }: { me: Schemas["Me"]; id: string }) {
  const request = useLoad(() => ok(api.GET("/v1/housing/requests/{id}", { params: { path: { id } } })), [id]);
  const [placements, setPlacements] = useState<string[]>(() => knownPlacements.get(id) ?? []);

  const placed = (placement: Placement) => {
    setPlacements(remember(id, placement.id));
    request.reload();
  };

  return (
    <Screen
      title={L("Demande d'hébergement", "Housing request")}
      actions={
        <a class="button" href="#/housing/requests">
          {L("Retour à la file", "Back to the queue")}
        </a>
      }
    >
      <Loading loaded={request}>
        {(r) => (
          <>
            <RequestFacts request={r} />
            {r.status === "open" ? (
              <>
                <ProposalsPanel request={r} onPlaced={placed} />
                <UnmetPanel request={r} onDone={request.reload} />
              </>
            ) : null}
            <PlacementsPanel
              request={r}
              ids={placements}
              onOpen={(placementId) => setPlacements(remember(id, placementId))}
              onChanged={request.reload}
            />
          </>
        )}
      </Loading>
    </Screen>
  );
}

function RequestFacts({ request: r }: { request: Request }) {
  return (
    <>
      <h2>{L("La demande", "The request")}</h2>
      <dl class="facts">
        <dt>{L("Centre", "Centre")}</dt>
        <dd>{r.centre_name}</dd>
        <dt>{L("Nuits demandées", "Nights wanted")}</dt>
        <dd>
          {nightsText(r.nights)}, {L("du", "from")} {day(r.first_night)} {L("au", "to")} {day(r.last_night)}
        </dd>
        <dt>{L("Urgence", "Urgency")}</dt>
        <dd>{r.urgency === "tonight" ? <Badge tone="warn">{urgencyLabel(r.urgency)}</Badge> : urgencyLabel(r.urgency)}</dd>
        <dt>{L("Besoins", "Needs")}</dt>
        <dd>{needsText(r.needs)}</dd>
        <dt>{L("Éviction judiciaire", "Court eviction")}</dt>
        <dd>
          {r.court_eviction
            ? L(`Oui (${EVICTION_CAP} nuits au plus financées par la plateforme)`, `Yes (the platform funds ${EVICTION_CAP} nights at most)`)
            : L("Non", "No")}
        </dd>
        <dt>{L("Statut", "Status")}</dt>
        <dd>
          {statusLabel(r.status)}
          {r.unmet_reason ? ` (${unmetLabel(r.unmet_reason)})` : ""}
        </dd>
        <dt>{L("Demandée", "Asked")}</dt>
        <dd>
          {when(r.created_at)} ({ageText(r.age_hours)})
        </dd>
      </dl>
    </>
  );
}

// Proposals: the offers that respect every rule, nearest first, with a radius factor control.

function ProposalsPanel({ request, onPlaced }: { request: Request; onPlaced: (p: Placement) => void }) {
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
                <ul class="list">
                  {data.exclusions.map((x) => (
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

function FundingSelect({ value, onChange, hint }: { value: Funding; onChange: (f: Funding) => void; hint?: string }) {
  return (
    <Field label={L("Financement", "Funding")} hint={hint}>
      {(id, describedBy) => (
        <select id={id} value={value} aria-describedby={describedBy} onChange={(e) => onChange(e.currentTarget.value as Funding)}>
          {FUNDINGS.map((f) => (
            <option key={f} value={f}>
              {fundingLabel(f)}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}

function evictionHint(request: Request, funding: Funding): string | undefined {
  if (!request.court_eviction || funding !== "platform") return undefined;
  return L(
    `Éviction ordonnée par le juge : la plateforme finance ${EVICTION_CAP} nuits au plus en tout.`,
    `Court-ordered eviction: the platform funds ${EVICTION_CAP} nights at most in all.`,
  );
}

/** Placing in an offer: the nights and funding, then a confirmation before anything is booked. */
function PlaceForm({
  request,
  proposal,
  factor,
  onCancel,
  onPlaced,
}: {
  request: Request;
  proposal: Proposal;
  factor: number;
  onCancel: () => void;
  onPlaced: (p: Placement) => void;
}) {
  const [funding, setFunding] = useState<Funding>("platform");
  const [first, setFirst] = useState(request.first_night);
  const [last, setLast] = useState(request.last_night);
  const [confirming, setConfirming] = useState(false);
  const form = useFocusInside<HTMLFormElement>();
  const nights = nightsBetween(first, last);
  const place = useAction(async () => {
    const placement = await ok(
      api.POST("/v1/housing/placements", {
        body: { request_id: request.id, offer_id: proposal.offer_id, first_night: first, last_night: last, funding, radius_factor: factor },
      }),
    );
    announce(L("Placement enregistré.", "Placement made."));
    onPlaced(placement);
  });

  const submit = (e: Event) => {
    e.preventDefault();
    if (!confirming) {
      place.clear();
      setConfirming(true);
      return;
    }
    void place.run();
  };

  return (
    <form ref={form} onSubmit={submit} aria-label={L("Placer dans cette offre", "Place in this offer")}>
      {confirming ? (
        <p class="notice" role="status">
          {L(
            `Placer la personne à « ${proposal.name} » du ${day(first)} au ${day(last)} (${nightsText(nights)}), financement : ${fundingLabel(funding).toLowerCase()}, pour environ ${euros(proposal.price_cents * nights)} ? Le centre qui la suit sera prévenu.`,
            `Place the person at "${proposal.name}" from ${day(first)} to ${day(last)} (${nightsText(nights)}), funding: ${fundingLabel(funding).toLowerCase()}, for about ${euros(proposal.price_cents * nights)}? The centre following them will be told.`,
          )}
        </p>
      ) : (
        <>
          <FundingSelect value={funding} onChange={setFunding} hint={evictionHint(request, funding)} />
          <Field label={L("Première nuit", "First night")}>
            {(id) => <input id={id} type="date" required value={first} onInput={(e) => setFirst(e.currentTarget.value)} />}
          </Field>
          <Field
            label={L("Dernière nuit (incluse)", "Last night (included)")}
            hint={nights ? `${nightsText(nights)} · ${euros(proposal.price_cents * nights)}` : L("La dernière nuit ne peut précéder la première.", "The last night cannot come before the first.")}
          >
            {(id, hint) => (
              <input id={id} type="date" required min={first} value={last} aria-describedby={hint} onInput={(e) => setLast(e.currentTarget.value)} />
            )}
          </Field>
        </>
      )}
      <Conflict error={place.error}>
        {L(
          "L'offre est peut-être complète, contraire à une règle du juge, ou la demande n'est plus ouverte : relancez la recherche.",
          "The offer may be full or break a court rule, or the request is no longer open: search again.",
        )}
      </Conflict>
      <div class="row">
        <button type="submit" class="primary" disabled={place.busy || nights === 0}>
          {confirming ? (place.busy ? L("Placement…", "Placing…") : L("Confirmer le placement", "Confirm the placement")) : L("Vérifier et placer", "Review and place")}
        </button>
        {confirming ? (
          <button type="button" onClick={() => setConfirming(false)} disabled={place.busy}>
            {L("Modifier", "Change")}
          </button>
        ) : null}
        <button type="button" class="link" onClick={onCancel} disabled={place.busy}>
          {L("Annuler", "Cancel")}
        </button>
      </div>
    </form>
  );
}

/** The error of an action, with what a 409 means here. */
function Conflict({ error, children }: { error: unknown; children: ComponentChildren }) {
  if (!error) return null;
  return (
    <>
      <ErrorBox error={error} />
      {error instanceof ApiError && error.status === 409 ? <p class="muted">{children}</p> : null}
    </>
  );
}

// Closing the request as not met, with its reason.

function UnmetPanel({ request, onDone }: { request: Request; onDone: () => void }) {
  const [reason, setReason] = useState<Schemas["UnmetReason"]>("no_compliant_offer");
  const [confirming, setConfirming] = useState(false);
  const close = useAction(async () => {
    await ok(api.POST("/v1/housing/requests/{id}/unmet", { params: { path: { id: request.id } }, body: { reason } }));
    announce(L("Demande close sans solution.", "Request closed as unmet."));
    setConfirming(false);
    onDone();
  });
  return (
    <>
      <h2>{L("Aucune solution ?", "No solution?")}</h2>
      <Field
        label={L("Raison", "Reason")}
        hint={L("Comptée dans l'inventaire national. Le centre voit la demande close.", "Counted in the national inventory. The centre sees the request closed.")}
      >
        {(id, hint) => (
          <select
            id={id}
            value={reason}
            aria-describedby={hint}
            onChange={(e) => {
              setReason(e.currentTarget.value as Schemas["UnmetReason"]);
              setConfirming(false);
            }}
          >
            {UNMET.map((r) => (
              <option key={r} value={r}>
                {unmetLabel(r)}
              </option>
            ))}
          </select>
        )}
      </Field>
      <ErrorBox error={close.error} />
      {confirming ? (
        <>
          <p class="notice" role="status">
            {L(`Clore la demande sans solution (${unmetLabel(reason)}) ? Ce n'est pas réversible.`, `Close the request as unmet (${unmetLabel(reason)})? This cannot be undone.`)}
          </p>
          <div class="row">
            <button type="button" class="danger" onClick={() => void close.run()} disabled={close.busy}>
              {close.busy ? L("Clôture…", "Closing…") : L("Confirmer la clôture", "Confirm closing")}
            </button>
            <button type="button" onClick={() => setConfirming(false)} disabled={close.busy}>
              {L("Annuler", "Cancel")}
            </button>
          </div>
        </>
      ) : (
        <div class="row">
          <button type="button" class="danger" onClick={() => setConfirming(true)}>
            {L("Clore sans solution", "Close as unmet")}
          </button>
        </div>
      )}
    </>
  );
}

// The request's placements: those made or opened in this tab (the contract lists none).

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function PlacementsPanel({
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

type Mode = "none" | "extend" | "end" | "noshow";

function PlacementActions({ placement, request, onChanged }: { placement: Placement; request: Request; onChanged: () => void }) {
  const [mode, setMode] = useState<Mode>("none");
  const done = () => {
    setMode("none");
    onChanged();
  };
  if (mode === "extend") return <ExtendForm placement={placement} request={request} onCancel={() => setMode("none")} onDone={done} />;
  if (mode === "end") return <EndForm placement={placement} onCancel={() => setMode("none")} onDone={done} />;
  if (mode === "noshow") return <NoShow placement={placement} onCancel={() => setMode("none")} onDone={done} />;
  return (
    <div class="row">
      <button type="button" onClick={() => setMode("extend")}>
        {L("Prolonger", "Extend")}
      </button>
      <button type="button" onClick={() => setMode("end")}>
        {L("Terminer", "End")}
      </button>
      <button type="button" class="danger" onClick={() => setMode("noshow")}>
        {L("Jamais arrivée", "Never came")}
      </button>
    </div>
  );
}

function ExtendForm({ placement, request, onCancel, onDone }: { placement: Placement; request: Request; onCancel: () => void; onDone: () => void }) {
  const current = placement.last_night ?? today();
  const lastFunding = placement.nights[placement.nights.length - 1]?.funding ?? "platform";
  const [last, setLast] = useState(addDays(current, 7));
  const [funding, setFunding] = useState<Funding>(lastFunding);
  const form = useFocusInside<HTMLFormElement>();
  const added = nightsBetween(addDays(current, 1), last);
  const extend = useAction(async () => {
    await ok(api.POST("/v1/housing/placements/{id}/extend", { params: { path: { id: placement.id } }, body: { last_night: last, funding } }));
    announce(L("Placement prolongé.", "Placement extended."));
    onDone();
  });
  return (
    <form
      ref={form}
      onSubmit={(e) => {
        e.preventDefault();
        void extend.run();
      }}
    >
      <Field
        label={L("Nouvelle dernière nuit (incluse)", "New last night (included)")}
        hint={
          added
            ? L(`${nightsText(added)} de plus après le ${day(current)}.`, `${nightsText(added)} more after ${day(current)}.`)
            : L(`Choisissez une nuit après le ${day(current)}.`, `Choose a night after ${day(current)}.`)
        }
      >
        {(id, hint) => (
          <input id={id} type="date" required min={addDays(current, 1)} value={last} aria-describedby={hint} onInput={(e) => setLast(e.currentTarget.value)} />
        )}
      </Field>
      <FundingSelect value={funding} onChange={setFunding} hint={evictionHint(request, funding)} />
      <Conflict error={extend.error}>
        {L(
          "L'offre est peut-être complète sur une des nuits, contraire à une règle du juge, ou le plafond de financement est atteint.",
          "The offer may be full on one of the nights, break a court rule, or the funding cap is reached.",
        )}
      </Conflict>
      <div class="row">
        <button type="submit" class="primary" disabled={extend.busy || added === 0}>
          {extend.busy ? L("Prolongation…", "Extending…") : L("Prolonger", "Extend")}
        </button>
        <button type="button" class="link" onClick={onCancel} disabled={extend.busy}>
          {L("Annuler", "Cancel")}
        </button>
      </div>
    </form>
  );
}

function EndForm({ placement, onCancel, onDone }: { placement: Placement; onCancel: () => void; onDone: () => void }) {
  const first = placement.first_night ?? today();
  const current = placement.last_night ?? today();
  // By default, the person left this morning: last night was the last one spent there.
  const yesterday = addDays(today(), -1);
  const initial = yesterday < first ? first : yesterday > current ? current : yesterday;
  const [last, setLast] = useState(initial);
  const [confirming, setConfirming] = useState(false);
  const form = useFocusInside<HTMLFormElement>();
  const freed = nightsBetween(addDays(last, 1), current);
  const end = useAction(async () => {
    await ok(api.POST("/v1/housing/placements/{id}/end", { params: { path: { id: placement.id } }, body: { last_night: last } }));
    announce(L("Placement terminé.", "Placement ended."));
    onDone();
  });
  return (
    <form
      ref={form}
      onSubmit={(e) => {
        e.preventDefault();
        if (!confirming) setConfirming(true);
        else void end.run();
      }}
    >
      <Field
        label={L("Dernière nuit passée sur place", "Last night spent there")}
        hint={L(
          `Les nuits suivantes sont rendues (libérées et non dues) : ${nightsText(freed)}.`,
          `The later nights are given back (freed and not owed): ${nightsText(freed)}.`,
        )}
      >
        {(id, hint) => (
          <input
            id={id}
            type="date"
            required
            min={first}
            max={current}
            value={last}
            aria-describedby={hint}
            disabled={confirming}
            onInput={(e) => setLast(e.currentTarget.value)}
          />
        )}
      </Field>
      {confirming ? (
        <p class="notice" role="status">
          {L(`Terminer le placement après la nuit du ${day(last)} ?`, `End the placement after the night of ${day(last)}?`)}
        </p>
      ) : null}
      <ErrorBox error={end.error} />
      <div class="row">
        <button type="submit" class="primary" disabled={end.busy || !last}>
          {confirming ? (end.busy ? L("Fin…", "Ending…") : L("Confirmer la fin", "Confirm the end")) : L("Terminer le placement", "End the placement")}
        </button>
        <button type="button" class="link" onClick={confirming ? () => setConfirming(false) : onCancel} disabled={end.busy}>
          {confirming ? L("Modifier", "Change") : L("Annuler", "Cancel")}
        </button>
      </div>
    </form>
  );
}

function NoShow({ placement, onCancel, onDone }: { placement: Placement; onCancel: () => void; onDone: () => void }) {
  const noShow = useAction(async () => {
    await ok(api.POST("/v1/housing/placements/{id}/no-show", { params: { path: { id: placement.id } } }));
    announce(L("Absence enregistrée.", "No-show recorded."));
    onDone();
  });
  const box = useFocusInside<HTMLDivElement>();
  return (
    <div ref={box}>
      <p class="notice" tabIndex={-1} data-focus>
        {L(
          `La personne n'est jamais arrivée ? La première nuit (${day(placement.first_night)}) reste réservée et due, les suivantes sont rendues.`,
          `The person never came? The first night (${day(placement.first_night)}) stays booked and owed, the later ones are given back.`,
        )}
      </p>
      <ErrorBox error={noShow.error} />
      <div class="row">
        <button type="button" class="danger" onClick={() => void noShow.run()} disabled={noShow.busy}>
          {noShow.busy ? L("Enregistrement…", "Saving…") : L("Confirmer : jamais arrivée", "Confirm: never came")}
        </button>
        <button type="button" class="link" onClick={onCancel} disabled={noShow.busy}>
          {L("Annuler", "Cancel")}
        </button>
      </div>
    </div>
  );
}
