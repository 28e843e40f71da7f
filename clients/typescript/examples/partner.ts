// Compiled in CI (`tsc --noEmit`): a justice partner sends a court-ordered
// referral, sets its webhook endpoint and replays a dead message. If the
// contract changes under these calls, this stops compiling.
import { createRelaisClient } from "../src/index";

export async function partnerFlow(baseUrl: string, key: string, centreId: string) {
  const relais = createRelaisClient(baseUrl, () => key);
  const sent = await relais.POST("/v1/referrals", {
    body: {
      centre_id: centreId,
      subject_alias: "M. D.",
      summary: "Obligation de soins prononcée le 3 novembre.",
      legal_basis: "court_ordered",
      authority: "jap",
      decision_reference: "JAP-2026-41",
      order_ends_on: "2027-06-30",
    },
  });
  if (sent.error) throw new Error(sent.error.title);
  const endpoint = await relais.PUT("/v1/webhook-endpoint", {
    body: { url: "https://spip.example/relais/webhooks" },
  });
  const secret: string | undefined = endpoint.data?.secret;
  const dead = await relais.GET("/v1/webhook-deliveries", {
    params: { query: { status: "dead" } },
  });
  for (const message of dead.data?.items ?? []) {
    await relais.POST("/v1/webhook-deliveries/{id}/replay", {
      params: { path: { id: message.id } },
    });
  }
  return { referral: sent.data.id, secret };
}
