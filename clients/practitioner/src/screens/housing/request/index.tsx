// One housing request for the platform's operators: what the centre asks, the offers that
// respect every court rule of the case (and why the others were set aside, never where a
// protected person is), placing the person, closing the request unmet, and the placements.
// Each part is a module beside this one; shared.tsx holds what several parts use.
import { useState } from "preact/hooks";
import { type Schemas, api, ok, session } from "../../../api";
import { L } from "../../../i18n";
import { Loading, Screen, useLoad } from "../../../ui";
import { RequestFacts } from "./facts";
import { PlacementsPanel } from "./placements";
import { ProposalsPanel } from "./proposals";
import { UnmetPanel } from "./unmet";

type Placement = Schemas["Placement"];

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
