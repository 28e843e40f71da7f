// The Relais API, typed from openapi.yaml. `src/schema.d.ts` is generated
// (`npm run generate`); CI regenerates it and fails when it differs, so the
// contract and this client cannot disagree.
import createFetchClient, { type Client } from "openapi-fetch";
import type { paths } from "./schema";

export type { components, operations, paths } from "./schema";

/** A client for one Relais server. `token` gives the bearer to send (a staff
 * access token, or a partner's `relais_pk_…` key), read at each call. */
export function createRelaisClient(
  baseUrl: string,
  token?: () => string | undefined,
): Client<paths> {
  const client = createFetchClient<paths>({ baseUrl });
  if (token) {
    client.use({
      onRequest({ request }) {
        const bearer = token();
        if (bearer) request.headers.set("Authorization", `Bearer ${bearer}`);
        return request;
      },
    });
  }
  return client;
}
