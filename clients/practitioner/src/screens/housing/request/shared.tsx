// What several parts of the request use: the eviction cap, the funding choice, the focus moved
// into a form as it opens, and what a conflict (409) means.
import type { ComponentChildren } from "preact";
import { useEffect, useRef } from "preact/hooks";
import { ApiError, type Schemas } from "../../../api";
import { L } from "../../../i18n";
import { Choice, ErrorBox } from "../../../ui";
import { fundingLabel } from "../requests";

type Request = Schemas["HousingRequest"];
type Funding = Schemas["Funding"];

const FUNDINGS: Funding[] = ["platform", "centre", "partner"];
/** The platform funds a court-ordered eviction for this many nights at most. */
export const EVICTION_CAP = 183;

/** Moves the focus into a form as it opens (to `[data-focus]`, else its first control). */
export function useFocusInside<T extends HTMLElement>() {
  const ref = useRef<T>(null);
  useEffect(() => {
    ref.current?.querySelector<HTMLElement>("[data-focus], input, select, button")?.focus();
  }, []);
  return ref;
}

export function FundingSelect({ value, onChange, hint }: { value: Funding; onChange: (f: Funding) => void; hint?: string }) {
  return <Choice label={L("Financement", "Funding")} hint={hint} value={value} options={FUNDINGS} text={fundingLabel} onChange={onChange} />;
}

export function evictionHint(request: Request, funding: Funding): string | undefined {
  if (!request.court_eviction || funding !== "platform") return undefined;
  return L(
    `Éviction ordonnée par le juge : la plateforme finance ${EVICTION_CAP} nuits au plus en tout.`,
    `Court-ordered eviction: the platform funds ${EVICTION_CAP} nights at most in all.`,
  );
}

/** The error of an action, with what a 409 means here. */
export function Conflict({ error, children }: { error: unknown; children: ComponentChildren }) {
  if (!error) return null;
  return (
    <>
      <ErrorBox error={error} />
      {error instanceof ApiError && error.status === 409 ? <p class="muted">{children}</p> : null}
    </>
  );
}
