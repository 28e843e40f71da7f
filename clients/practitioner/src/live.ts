// The live socket (`/v1/live`): authenticates with the access token, resumes after the last
// event number seen (the server replays what was missed), reconnects with growing pauses,
// and with a fresh token when the server says the old one expired (close code 4001); at once
// when the network comes back.
import { network, session } from "./api";

export type LiveEvent = {
  type: "event";
  seq: number;
  kind: string;
  conversation_id: string | null;
  message_id: string | null;
  listener_id: string | null;
  detail: string | null;
  object_id: string | null;
  at: string;
};
export type Typing = { type: "typing"; conversation_id: string };
export type LiveState = "connecting" | "live" | "offline";

type Handler = (event: LiveEvent) => void;

class Live {
  private socket: WebSocket | undefined;
  private last: number | undefined;
  private pause = 1000;
  private stopped = true;
  private retry: ReturnType<typeof setTimeout> | undefined;
  private handlers = new Set<Handler>();
  private typingHandlers = new Set<(t: Typing) => void>();
  private stateHandlers = new Set<(s: LiveState) => void>();
  state: LiveState = "offline";
  /** The access token the current socket authenticated with. */
  private sent: string | undefined;

  constructor() {
    network.on((online) => {
      if (!online || this.stopped || this.state !== "offline") return;
      clearTimeout(this.retry);
      this.pause = 1000;
      void this.connect();
    });
  }

  on(handler: Handler): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }
  onTyping(handler: (t: Typing) => void): () => void {
    this.typingHandlers.add(handler);
    return () => this.typingHandlers.delete(handler);
  }
  onState(handler: (s: LiveState) => void): () => void {
    this.stateHandlers.add(handler);
    return () => this.stateHandlers.delete(handler);
  }
  private set(state: LiveState) {
    this.state = state;
    this.stateHandlers.forEach((h) => h(state));
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.connect();
  }

  /** Closes the socket and forgets the position (logout, lock). */
  stop(): void {
    this.stopped = true;
    this.last = undefined;
    clearTimeout(this.retry);
    this.socket?.close(1000);
    this.socket = undefined;
    this.set("offline");
  }

  private connecting = false;

  private async connect() {
    if (this.stopped || this.connecting) return;
    this.connecting = true;
    const ready = session.valid || (await session.refresh());
    this.connecting = false;
    if (!ready) {
      if (!this.stopped) this.later();
      return;
    }
    if (this.stopped) return;
    // One socket at a time: a reconnection started early (the network came back) replaces it.
    const old = this.socket;
    this.socket = undefined;
    old?.close(1000);
    this.set("connecting");
    const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/v1/live`;
    const socket = new WebSocket(url);
    this.socket = socket;
    socket.onopen = () => {
      this.sent = session.access;
      socket.send(JSON.stringify({ token: this.sent, after: this.last }));
    };
    socket.onmessage = (message) => {
      const frame = JSON.parse(String(message.data));
      if (frame.type === "ready") {
        this.last = frame.seq;
        this.pause = 1000;
        this.set("live");
      } else if (frame.type === "event") {
        this.last = frame.seq;
        // One failing screen must not keep the others from hearing the event.
        this.handlers.forEach((h) => {
          try {
            h(frame as LiveEvent);
          } catch {
            /* the screen shows its own error */
          }
        });
      } else if (frame.type === "typing") {
        this.typingHandlers.forEach((h) => h(frame as Typing));
      }
    };
    socket.onclose = async (close) => {
      if (this.socket !== socket || this.stopped) return;
      this.set("offline");
      if (close.code === 4003) return; // not for this account: no point retrying
      // Expired: a fresh token, unless one came meanwhile (this tab's plan, or another tab's).
      if (close.code === 4001 && (!session.valid || session.access === this.sent)) await session.refresh(this.sent);
      if (!this.stopped) this.later();
    };
  }

  private later() {
    clearTimeout(this.retry);
    this.retry = setTimeout(() => this.connect(), this.pause);
    this.pause = Math.min(this.pause * 2, 30000);
  }
}

export const live = new Live();
