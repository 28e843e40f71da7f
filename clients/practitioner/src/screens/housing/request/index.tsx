// One housing request for the platform's operators: what the centre asks, the offers that
// respect every court rule of the case (and why the others were set aside, never where a
// protected person is), placing the person, closing the request unmet, and the placements.
// Each part is a module beside this one; shared.tsx holds what several parts use.
import { type Schemas, api, ok } from "../../../api";
import { L } from "../../../i18n";
import { Loading, Screen, useLoad } from "../../../ui";
import { RequestFacts } from "./facts";
import { PlacementsPanel } from "./placements";
import { ProposalsPanel } from "./proposals";
import { UnmetPanel } from "./unmet";

export function HousingRequest({ me: _me, id }: { me: Schemas["Me"]; id: string }) {
  const request = useLoad(() => ok(api.GET("/v1/housing/requests/{id}", { params: { path: { id } } })), [id]);

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
                <ProposalsPanel request={r} onPlaced={request.reload} />
                <UnmetPanel request={r} onDone={request.reload} />
              </>
            ) : null}
            <PlacementsPanel request={r} onChanged={request.reload} />
          </>
        )}
      </Loading>
    </Screen>
  );
}
