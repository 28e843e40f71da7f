// A centre manager's view of the centre: open cases per practitioner, the coming week, absences
// without excuse, and the care obligations behind their schedule. Counts and case numbers
// only: a case opens from its number, and that read is audited as any other.
import { api, ok, type Schemas } from "../../api";
import { L, count, day } from "../../i18n";
import { ListScreen } from "../../pull";
import { Badge, Empty, Loading, useLoad } from "../../ui";
import { caseNumber } from "./cases";

export function Overview({ me }: { me: Schemas["Me"] }) {
  const centre = me.organisation.id;
  const overview = useLoad(() => ok(api.GET("/v1/centres/{id}/overview", { params: { path: { id: centre } } })), [centre]);
  return (
    <ListScreen title={L("Vue d'ensemble du centre", "Centre overview")} refresh={overview.reload} busy={overview.loading}>
      <Loading loaded={overview}>
        {(o) => (
          <>
            <ul class="list">
              <li>
                <div class="item-title">{count(o.open_cases, { one: ["# dossier ouvert", "# open case"], other: ["# dossiers ouverts", "# open cases"] })}</div>
                {o.unassigned_open_cases ? (
                  <div class="meta">
                    <Badge tone="warn">
                      {count(o.unassigned_open_cases, {
                        one: ["# sans praticien·ne référent·e", "# without a practitioner"],
                        other: ["# sans praticien·ne référent·e", "# without a practitioner"],
                      })}
                    </Badge>
                  </div>
                ) : null}
              </li>
              <li>
                <div class="item-title">
                  {count(o.sessions_ahead, {
                    one: [`# séance prévue dans les ${o.ahead_days} jours`, `# session planned in the next ${o.ahead_days} days`],
                    other: [`# séances prévues dans les ${o.ahead_days} jours`, `# sessions planned in the next ${o.ahead_days} days`],
                  })}
                </div>
              </li>
              <li>
                <div class="item-title">
                  {count(o.unexcused_back, {
                    one: [`# absence non excusée sur ${o.back_days} jours`, `# unexcused absence over ${o.back_days} days`],
                    other: [`# absences non excusées sur ${o.back_days} jours`, `# unexcused absences over ${o.back_days} days`],
                  })}
                </div>
              </li>
            </ul>
            <h3>{L("Praticien·nes", "Practitioners")}</h3>
            {o.practitioners.length === 0 ? (
              <Empty>{L("Aucun·e praticien·ne actif·ve.", "No active practitioner.")}</Empty>
            ) : (
              <ul class="list">
                {o.practitioners.map((p) => (
                  <li key={p.user_id}>
                    <div class="item-title">{p.display_name}</div>
                    <div class="meta">
                      {count(p.open_cases, { one: ["# dossier ouvert", "# open case"], other: ["# dossiers ouverts", "# open cases"] })} ·{" "}
                      {count(p.sessions_ahead, { one: ["# séance à venir", "# session ahead"], other: ["# séances à venir", "# sessions ahead"] })}
                      {p.unexcused_back ? (
                        <>
                          {" "}
                          ·{" "}
                          <Badge tone="warn">
                            {count(p.unexcused_back, { one: ["# absence non excusée", "# unexcused absence"], other: ["# absences non excusées", "# unexcused absences"] })}
                          </Badge>
                        </>
                      ) : null}
                    </div>
                  </li>
                ))}
              </ul>
            )}
            <h3>{L("Obligations de soins en retard", "Care obligations behind schedule")}</h3>
            <p class="muted">
              {L(
                "Comparées à un rythme régulier entre le début et la fin fixés par la décision ; les obligations sans date de fin ne sont pas évaluées.",
                "Compared with an even pace between the start and the end set by the decision; obligations without an end date are not assessed.",
              )}
            </p>
            {o.obligations_behind.length === 0 ? (
              <Empty>{L("Aucune obligation en retard.", "No obligation behind schedule.")}</Empty>
            ) : (
              <ul class="list">
                {o.obligations_behind.map((b) => (
                  <li key={b.measure_id}>
                    <a class="item" href={`#/case/${b.case_id}`}>
                      <span class="item-title">
                        {L("Dossier n°", "Case no.")} {caseNumber(b.case_id)}
                      </span>
                      <span class="meta">
                        {" "}
                        · {L("séances suivies", "sessions attended")} : {b.sessions_attended} / {b.sessions_required} · {L("attendu à ce jour", "expected by now")} : {b.expected_by_now} ·{" "}
                        {L("échéance le", "due")} {day(b.ends_on)}
                      </span>
                    </a>
                  </li>
                ))}
              </ul>
            )}
          </>
        )}
      </Loading>
    </ListScreen>
  );
}
