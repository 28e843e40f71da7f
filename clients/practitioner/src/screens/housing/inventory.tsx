// The national inventory of housing placements, for the platform's operators, the ministry's
// national coordinators and administrators (read-only): counts only, never a person. Rows of
// the regional and départemental breakdowns under 5 placements come back withheld.
import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { type Schemas, api, ok } from "../../api";
import { L, day, lang, number, when } from "../../i18n";
import { BarChart, type Datum } from "../charts";
import { ErrorBox, Field, Loading, Screen, announce, useAction, useLoad } from "../../ui";
import { addDays, fundingLabel, kindLabel, nightsText, sourceLabel, today, unmetLabel } from "./requests";

type Inventory = Schemas["HousingInventory"];
type Row = Schemas["InventoryRow"];

const WITHHELD = () => L("masqué (moins de 5 placements)", "withheld (fewer than 5 placements)");

/** The local label of a source, funding or kind key, else the server's. */
function rowLabel(dimension: "source" | "funding" | "kind" | "place", row: Row): string {
  if (dimension === "source" && (row.key === "platform" || row.key === "centre")) return sourceLabel(row.key);
  if (dimension === "funding" && (row.key === "platform" || row.key === "centre" || row.key === "partner")) return fundingLabel(row.key);
  const kinds: string[] = ["hotel", "shelter", "apartment", "host_family", "centre_place"];
  if (dimension === "kind" && kinds.includes(row.key)) return kindLabel(row.key as Schemas["OfferKind"]);
  return row.label || row.key;
}

export function Inventory({ me: _me }: { me: Schemas["Me"] }) {
  const [from, setFrom] = useState(addDays(today(), -29));
  const [to, setTo] = useState(today());
  const reversed = !!from && !!to && to < from;
  const query = { from: from || undefined, to: to || undefined };
  const inventory = useLoad(
    () =>
      reversed
        ? Promise.reject(L("La date de fin précède la date de début.", "The end date comes before the start date."))
        : ok(api.GET("/v1/housing/inventory", { params: { query } })).then((data) => {
            // JSON was asked for; the contract also allows CSV text on this route.
            if (typeof data === "string") throw L("Réponse inattendue du serveur.", "Unexpected answer from the server.");
            return data;
          }),
    [from, to],
  );

  const csv = useAction(async () => {
    const blob = await ok(api.GET("/v1/housing/inventory", { params: { query: { ...query, format: "csv" } }, parseAs: "blob" }));
    const url = URL.createObjectURL(blob as Blob);
    const link = document.createElement("a");
    link.href = url;
    link.download = `inventaire-hebergement_${from || "debut"}_${to || "fin"}.csv`;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    announce(L("Fichier CSV téléchargé.", "CSV file downloaded."));
  });

  return (
    <Screen title={L("Inventaire de l'hébergement", "Housing inventory")}>
      <p class="muted">
        {L(
          "Les placements, nuits et coûts des nuits comprises entre les deux dates. Des chiffres seulement, jamais une personne.",
          "Placements, nights and cost of the nights between the two dates. Figures only, never a person.",
        )}
      </p>
      <div class="row">
        <Field label={L("Du (première nuit comptée)", "From (first night counted)")} hint={L("Vide : depuis le début.", "Empty: from the start.")}>
          {(id, hint) => <input id={id} type="date" max={to || undefined} aria-describedby={hint} value={from} onChange={(e) => setFrom(e.currentTarget.value)} />}
        </Field>
        <Field label={L("Au (dernière nuit comptée)", "To (last night counted)")} hint={L("Vide : sans fin.", "Empty: no end.")}>
          {(id, hint) => <input id={id} type="date" min={from || undefined} aria-describedby={hint} value={to} onChange={(e) => setTo(e.currentTarget.value)} />}
        </Field>
      </div>
      <div class="row">
        <button type="button" onClick={() => void csv.run()} disabled={csv.busy || reversed}>
          {csv.busy ? L("Préparation…", "Preparing…") : L("Télécharger en CSV", "Download as CSV")}
        </button>
        <button type="button" class="link" onClick={inventory.reload} disabled={inventory.loading || reversed}>
          {L("Actualiser", "Refresh")}
        </button>
      </div>
      <ErrorBox error={csv.error} />
      <Loading loaded={inventory}>{(data) => <Report data={data} />}</Loading>
    </Screen>
  );
}

function Report({ data }: { data: Inventory }) {
  const withheld = [...data.by_region, ...data.by_departement].some((r) => r.suppressed);
  const period =
    data.from && data.to
      ? L(`Nuits du ${day(data.from)} au ${day(data.to)}`, `Nights from ${day(data.from)} to ${day(data.to)}`)
      : data.from
        ? L(`Nuits depuis le ${day(data.from)}`, `Nights since ${day(data.from)}`)
        : data.to
          ? L(`Nuits jusqu'au ${day(data.to)}`, `Nights up to ${day(data.to)}`)
          : L("Toutes les nuits", "Every night");
  return (
    <>
      <p class="muted">
        {period} · {L("établi", "made")} {when(data.generated_at)}
      </p>

      <h2>{L("Totaux", "Totals")}</h2>
      <dl class="facts">
        <dt>{L("Placements", "Placements")}</dt>
        <dd>{number(data.totals.placements)}</dd>
        <dt>{L("Nuits", "Nights")}</dt>
        <dd>{number(data.totals.nights)}</dd>
        <dt>{L("Coût", "Cost")}</dt>
        <dd>{wholeEuros(data.totals.cost_cents)}</dd>
      </dl>
      {withheld ? (
        <p class="notice">
          {L(
            "« — » : masqué (moins de 5 placements), pour qu'aucune personne ne puisse être reconnue ; quand une seule ligne le serait, la plus petite autre l'est aussi. Les totaux restent exacts.",
            "“—”: withheld (fewer than 5 placements), so that no person can be recognised; when only one row would be, the smallest other one is too. Totals stay exact.",
          )}
        </p>
      ) : null}

      <h2>{L("Nuits par région", "Nights by region")}</h2>
      {data.by_region.length ? (
        <>
          <RegionChart rows={data.by_region} />
          <Breakdown name={L("Par région", "By region")} head={L("Région", "Region")} rows={data.by_region} dimension="place" />
        </>
      ) : (
        <p class="empty">{L("Aucune nuit sur la période.", "No night in the period.")}</p>
      )}

      <h2>{L("Par source", "By source")}</h2>
      <Breakdown name={L("Par source", "By source")} head={L("Source", "Source")} rows={data.by_source} dimension="source" />
      <h2>{L("Par financement", "By funding")}</h2>
      <Breakdown name={L("Par financement", "By funding")} head={L("Financement", "Funding")} rows={data.by_funding} dimension="funding" />
      <h2>{L("Par type d'offre", "By kind of offer")}</h2>
      <Breakdown name={L("Par type d'offre", "By kind of offer")} head={L("Type", "Kind")} rows={data.by_kind} dimension="kind" />
      <h2>{L("Par département", "By département")}</h2>
      <Breakdown name={L("Par département", "By département")} head={L("Département", "Département")} rows={data.by_departement} dimension="place" />

      <h2>{L("Durées des placements", "Lengths of placements")}</h2>
      <dl class="facts">
        <dt>{L("Placements comptés", "Placements counted")}</dt>
        <dd>{number(data.durations.placements)}</dd>
        <dt>{L("Durée moyenne", "Mean length")}</dt>
        <dd>{nightsText(data.durations.mean_nights, 1)}</dd>
        <dt>{L("Durée médiane", "Median length")}</dt>
        <dd>{nightsText(data.durations.median_nights)}</dd>
        <dt>{L("Plus long", "Longest")}</dt>
        <dd>{nightsText(data.durations.longest_nights)}</dd>
      </dl>

      <Requests requests={data.requests} />
    </>
  );
}

/** A table that scrolls sideways on a phone, reachable with the keyboard. */
function TableWrap({ name, children }: { name: string; children: ComponentChildren }) {
  return (
    <div class="table-wrap" role="region" aria-label={L(`Tableau : ${name}`, `Table: ${name}`)} tabIndex={0}>
      {children}
    </div>
  );
}

/** Whole euros: the inventory's costs are sums. */
function wholeEuros(cents: number): string {
  return new Intl.NumberFormat(lang() === "en" ? "en-GB" : "fr-FR", { style: "currency", currency: "EUR", maximumFractionDigits: 0 }).format(cents / 100);
}

function Breakdown({ name, head, rows, dimension }: { name: string; head: string; rows: Row[]; dimension: "source" | "funding" | "kind" | "place" }) {
  if (!rows.length) return <p class="empty">{L("Aucune ligne sur la période.", "No row in the period.")}</p>;
  return (
    <TableWrap name={name}>
      <table>
        <thead>
          <tr>
            <th scope="col">{head}</th>
            <th scope="col" class="num">
              {L("Placements", "Placements")}
            </th>
            <th scope="col" class="num">
              {L("Nuits", "Nights")}
            </th>
            <th scope="col" class="num">
              {L("Coût", "Cost")}
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) =>
            row.suppressed || row.placements === null || row.nights === null || row.cost_cents === null ? (
              <tr key={row.key}>
                <th scope="row">
                  {rowLabel(dimension, row)}
                  <br />
                  <small class="muted">{WITHHELD()}</small>
                </th>
                <td class="num">—</td>
                <td class="num">—</td>
                <td class="num">—</td>
              </tr>
            ) : (
              <tr key={row.key}>
                <th scope="row">{rowLabel(dimension, row)}</th>
                <td class="num">{number(row.placements)}</td>
                <td class="num">{number(row.nights)}</td>
                <td class="num">{wholeEuros(row.cost_cents)}</td>
              </tr>
            ),
          )}
        </tbody>
      </table>
    </TableWrap>
  );
}

/** Nights by region as horizontal bars (the shared chart); the same figures are in the table that follows. */
function RegionChart({ rows }: { rows: Row[] }) {
  const data: Datum[] = rows.map((r) => ({
    key: r.key,
    label: r.label || r.key,
    value: r.suppressed ? null : r.nights,
    note: r.suppressed ? WITHHELD() : undefined,
  }));
  return <BarChart title={L("Nuits par région", "Nights by region")} data={data} />;
}

function Requests({ requests }: { requests: Inventory["requests"] }) {
  const reasons = Object.entries(requests.unmet).filter((entry): entry is [string, number] => typeof entry[1] === "number");
  const unmet = reasons.reduce((sum, [, n]) => sum + n, 0);
  const known: string[] = ["no_compliant_offer", "no_capacity", "declined", "other"];
  const outcomes: [string, number][] = [
    [L("Ouvertes", "Open"), requests.open],
    [L("Placées", "Placed"), requests.placed],
    [L("Retirées par le centre", "Withdrawn by the centre"), requests.withdrawn],
    [L("Sans solution", "Unmet"), unmet],
  ];
  return (
    <>
      <h2>{L("Demandes d'hébergement", "Housing requests")}</h2>
      <TableWrap name={L("Demandes par issue", "Requests by outcome")}>
        <table>
          <thead>
            <tr>
              <th scope="col">{L("Issue", "Outcome")}</th>
              <th scope="col" class="num">
                {L("Demandes", "Requests")}
              </th>
            </tr>
          </thead>
          <tbody>
            {outcomes.map(([name, n]) => (
              <tr key={name}>
                <th scope="row">{name}</th>
                <td class="num">{number(n)}</td>
              </tr>
            ))}
          </tbody>
          <tfoot>
            <tr>
              <th scope="row">{L("Total", "Total")}</th>
              <td class="num">{number(requests.total)}</td>
            </tr>
          </tfoot>
        </table>
      </TableWrap>
      <h3>{L("Sans solution, par raison", "Unmet, by reason")}</h3>
      {reasons.length === 0 ? (
        <p class="empty">{L("Aucune demande sans solution.", "No unmet request.")}</p>
      ) : (
        <TableWrap name={L("Demandes sans solution par raison", "Unmet requests by reason")}>
          <table>
            <thead>
              <tr>
                <th scope="col">{L("Raison", "Reason")}</th>
                <th scope="col" class="num">
                  {L("Demandes", "Requests")}
                </th>
              </tr>
            </thead>
            <tbody>
              {reasons.map(([reason, n]) => (
                <tr key={reason}>
                  <th scope="row">{known.includes(reason) ? unmetLabel(reason as Schemas["UnmetReason"]) : reason.replaceAll("_", " ")}</th>
                  <td class="num">{number(n)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      )}
    </>
  );
}
