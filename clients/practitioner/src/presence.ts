// A listener's availability lasts 90 seconds on the server: while the app holds one, it repeats
// it every 30 seconds, whatever screen is open, and stops when the session ends.
import { type Schemas, api, ok, session } from "./api";

type Status = Schemas["PresenceStatus"];

let current: Status | undefined;
let timer: ReturnType<typeof setInterval> | undefined;

export function presence(): Status | undefined {
  return current;
}

export async function setPresence(status: Status): Promise<void> {
  await ok(api.POST("/v1/presence", { body: { status } }));
  current = status;
  clearInterval(timer);
  timer = setInterval(() => {
    if (current) void api.POST("/v1/presence", { body: { status: current } }).catch(() => undefined);
  }, 30000);
}

session.onChange(() => {
  if (session.refreshToken || session.access) return;
  current = undefined;
  clearInterval(timer);
});
