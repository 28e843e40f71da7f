// Attendance certificates: those issued and their PDFs, and issuing one (its verification code
// is shown once).
import { useState } from "preact/hooks";
import { type Schemas, api, ok } from "../../../api";
import { L, count, day } from "../../../i18n";
import { Empty, ErrorBox, Field, Form, Loading, announce, useAction, useLoad } from "../../../ui";
import { Invalid } from "../shared";
import { measureName, today, useDownload } from "./shared";

type Measure = Schemas["Measure"];

export function Certificates({ caseId }: { caseId: string }) {
  const data = useLoad(async () => {
    const path = { id: caseId };
    const [certificates, measures] = await Promise.all([
      ok(api.GET("/v1/cases/{id}/certificates", { params: { path } })),
      ok(api.GET("/v1/cases/{id}/measures", { params: { path } })),
    ]);
    return { certificates: certificates.items, measures: measures.items };
  }, [caseId]);
  const [issued, setIssued] = useState<Schemas["IssuedCertificate"] | undefined>(undefined);
  return (
    <>
      {issued ? <Issued certificate={issued} onHide={() => setIssued(undefined)} /> : null}
      <Loading loaded={data}>
        {({ certificates, measures }) => (
          <>
            {certificates.length === 0 ? <Empty>{L("Aucune attestation délivrée.", "No certificate issued.")}</Empty> : null}
            <ul class="list">
              {certificates.map((c) => {
                const measure = measures.find((m) => m.id === c.measure_id);
                return (
                  <li key={c.id}>
                    <div class="item-title">
                      {L("Attestation du", "Certificate of")} {day(c.issued_at)}
                    </div>
                    <div class="meta">
                      {c.period_from ? `${L("Du", "From")} ${day(c.period_from)} ${L("au", "to")} ${day(c.period_to)}` : `${L("Jusqu'au", "Until")} ${day(c.period_to)}`}
                    </div>
                    <div class="meta">
                      {count(c.sessions.length, { one: ["# séance suivie", "# session attended"], other: ["# séances suivies", "# sessions attended"] })}
                      {c.sessions_required !== null
                        ? ` ${L("sur", "of")} ${count(c.sessions_required, { one: ["# requise", "# required"], other: ["# requises", "# required"] })}`
                        : ""}
                      {" · "}
                      {L("Mesure", "Measure")} : {measure ? measureName(measure) : L("toutes", "all")}
                    </div>
                    <div class="meta">
                      {L("Délivrée par", "Issued by")} {c.issued_by}
                    </div>
                    <PdfButton id={c.id} />
                  </li>
                );
              })}
            </ul>
            <h3>{L("Délivrer une attestation", "Issue a certificate")}</h3>
            <CertificateForm
              caseId={caseId}
              measures={measures}
              onDone={(made) => {
                setIssued(made);
                data.reload();
              }}
            />
          </>
        )}
      </Loading>
    </>
  );
}

function PdfButton({ id }: { id: string }) {
  const download = useDownload(() => ok(api.GET("/v1/certificates/{id}/pdf", { params: { path: { id } }, parseAs: "blob" })), `attestation-${id}.pdf`);
  return (
    <>
      <div class="row">
        <button type="button" disabled={download.busy} onClick={() => void download.run()}>
          {L("Télécharger le PDF", "Download the PDF")}
        </button>
        {download.link}
      </div>
      <ErrorBox error={download.error} />
    </>
  );
}

/** The certificate just issued: its verification code is shown here, this once. */
function Issued({ certificate: c, onHide }: { certificate: Schemas["IssuedCertificate"]; onHide: () => void }) {
  return (
    <div class="notice" role="status">
      <p>
        <strong>{L("Attestation délivrée.", "Certificate issued.")}</strong>{" "}
        {count(c.sessions.length, { one: ["# séance attestée.", "# session certified."], other: ["# séances attestées.", "# sessions certified."] })}
      </p>
      {c.verification_code ? (
        <>
          <p>{L("Code de vérification (imprimé sur l'attestation) :", "Verification code (printed on the certificate):")}</p>
          <p class="secret">{c.verification_code}</p>
          <p class="meta">
            {L("Vérifiable à l'adresse", "Can be checked at")} {c.check_url}
          </p>
        </>
      ) : null}
      <PdfButton id={c.id} />
      <button type="button" class="link" onClick={onHide}>
        {L("Masquer", "Hide")}
      </button>
    </div>
  );
}

function CertificateForm({ caseId, measures, onDone }: { caseId: string; measures: Measure[]; onDone: (made: Schemas["IssuedCertificate"]) => void }) {
  const [measureId, setMeasureId] = useState("");
  const [from, setFrom] = useState("");
  const [to, setTo] = useState("");
  const issue = useAction(async () => {
    if (from && to && from > to) throw new Invalid(L("La période commence après sa fin.", "The period starts after it ends."));
    if (to && to > today()) throw new Invalid(L("La fin de la période ne peut pas dépasser aujourd'hui.", "The period cannot end after today."));
    const made = await ok(
      api.POST("/v1/cases/{id}/certificates", {
        params: { path: { id: caseId } },
        body: { measure_id: measureId || null, from: from || null, to: to || null },
      }),
    );
    announce(L("Attestation délivrée", "Certificate issued"));
    onDone(made);
  });
  return (
    <Form onSubmit={() => issue.run()}>
      <p class="muted">
        {L(
          "L'attestation reprend seulement les séances où la présence a été notée « présent ».",
          "The certificate lists only the sessions recorded as attended.",
        )}
      </p>
      <Field label={L("Mesure", "Measure")}>
        {(id) => (
          <select id={id} value={measureId} onChange={(e) => setMeasureId(e.currentTarget.value)}>
            <option value="">{L("Toutes les séances du dossier", "Every session of the case")}</option>
            {measures.map((m) => (
              <option key={m.id} value={m.id}>
                {measureName(m)}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field label={L("Du (facultatif)", "From (optional)")} hint={L("Par défaut, le début de la mesure.", "By default, the measure's start.")}>
        {(id, hint) => <input id={id} aria-describedby={hint} type="date" min="2000-01-01" max={today()} value={from} onInput={(e) => setFrom(e.currentTarget.value)} />}
      </Field>
      <Field label={L("Au (facultatif)", "To (optional)")} hint={L("Par défaut, aujourd'hui.", "By default, today.")}>
        {(id, hint) => <input id={id} aria-describedby={hint} type="date" min={from || "2000-01-01"} max={today()} value={to} onInput={(e) => setTo(e.currentTarget.value)} />}
      </Field>
      <ErrorBox error={issue.error} />
      <div class="row">
        <button type="submit" class="primary" disabled={issue.busy}>
          {L("Délivrer l'attestation", "Issue the certificate")}
        </button>
      </div>
    </Form>
  );
}
