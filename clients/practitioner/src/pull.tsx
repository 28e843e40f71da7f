// Reloading a list: pulled down by touch from the top of the page (an indicator follows the
// finger, then says it refreshes), or the "Refresh" button beside the screen's title, which
// does the same for a keyboard, a screen reader or a mouse.
import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { L } from "./i18n";
import { announce, useScreenTitle } from "./ui";

/** How far (in CSS pixels, after damping) the list must be pulled to reload it. */
const THRESHOLD = 64;
/** The indicator stops there however far the finger goes. */
const MOST = 96;

type Phase = "idle" | "pulling" | "armed" | "refreshing";

/**
 * Refreshing a list, by the button or by the pull: `refresh` starts the reload and `busy` is the
 * list's loading state; `done` tells screen readers when the reload ends.
 */
function useRefresh(refresh: () => void, busy: boolean) {
  const [asked, setAsked] = useState(false);
  const sawBusy = useRef(false);
  useEffect(() => {
    if (!asked) return;
    if (busy) {
      sawBusy.current = true;
      return;
    }
    if (!sawBusy.current) return;
    sawBusy.current = false;
    setAsked(false);
    announce(L("Liste actualisée.", "List refreshed."), false, true);
  }, [asked, busy]);
  // Never left spinning: a reload that never said it was busy ends the indicator after a while.
  useEffect(() => {
    if (!asked) return;
    const timer = setTimeout(() => setAsked(false), 15000);
    return () => clearTimeout(timer);
  }, [asked]);
  const start = () => {
    if (asked) return;
    sawBusy.current = false;
    setAsked(true);
    refresh();
  };
  return { refreshing: asked, start };
}

/** The "Refresh" button: `aria-disabled` while the list loads, so the focus stays on it. */
export function RefreshButton({ refresh, busy }: { refresh: () => void; busy: boolean }) {
  const { refreshing, start } = useRefresh(refresh, busy);
  const waiting = refreshing || busy;
  return (
    <button type="button" class="refresh" aria-disabled={waiting ? "true" : undefined} onClick={() => waiting || start()}>
      {waiting ? L("Actualisation…", "Refreshing…") : L("Actualiser", "Refresh")}
    </button>
  );
}

/** A list that a touch pulling down from the top of the page reloads. */
/** A list's screen: its title with the "Refresh" button (and `actions`), reloaded by a pull too. */
export function ListScreen({
  title,
  refresh,
  busy,
  actions,
  children,
}: {
  title: string;
  refresh: () => void;
  busy: boolean;
  actions?: ComponentChildren;
  children: ComponentChildren;
}) {
  useScreenTitle(title);
  return (
    <PullToRefresh refresh={refresh} busy={busy}>
      <section class="screen" aria-labelledby="screen-title">
        <div class="screen-head">
          <h1 id="screen-title" tabIndex={-1}>
            {title}
          </h1>
          <div class="screen-actions">
            {actions}
            <RefreshButton refresh={refresh} busy={busy} />
          </div>
        </div>
        {children}
      </section>
    </PullToRefresh>
  );
}

/** Reloads `refresh` when a touch pulls the page down from its top; the indicator sits above `children`. */
export function PullToRefresh({ refresh, busy, children }: { refresh: () => void; busy: boolean; children: ComponentChildren }) {
  const { refreshing, start } = useRefresh(refresh, busy);
  const [distance, setDistance] = useState(0);
  const from = useRef<number | undefined>(undefined);
  const armed = useRef(false);
  const starter = useRef(start);
  starter.current = start;

  useEffect(() => {
    // Anywhere on the page (the header and the title too), but not from the tabs or the menu.
    const element = document;
    const reset = () => {
      from.current = undefined;
      armed.current = false;
      setDistance(0);
    };
    const begin = (e: TouchEvent) => {
      // Only from the very top of the page, with one finger.
      const touch = e.touches[0];
      const outside = e.target instanceof Element && e.target.closest(".tabs, .menu");
      from.current = e.touches.length === 1 && scrollY <= 0 && touch && !outside ? touch.clientY : undefined;
      armed.current = false;
    };
    const move = (e: TouchEvent) => {
      const touch = e.touches[0];
      if (from.current === undefined || !touch) return;
      const pulled = touch.clientY - from.current;
      if (pulled <= 0 || scrollY > 0 || e.touches.length > 1) return reset();
      const damped = Math.min(MOST, pulled * 0.5);
      armed.current = damped >= THRESHOLD;
      setDistance(damped);
    };
    const end = () => {
      if (from.current === undefined) return;
      const go = armed.current;
      reset();
      if (go) starter.current();
    };
    element.addEventListener("touchstart", begin, { passive: true });
    element.addEventListener("touchmove", move, { passive: true });
    element.addEventListener("touchend", end);
    element.addEventListener("touchcancel", reset);
    return () => {
      element.removeEventListener("touchstart", begin);
      element.removeEventListener("touchmove", move);
      element.removeEventListener("touchend", end);
      element.removeEventListener("touchcancel", reset);
    };
  }, []);

  const shown: Phase = refreshing ? "refreshing" : distance >= THRESHOLD ? "armed" : distance > 0 ? "pulling" : "idle";
  return (
    <div class="pull-zone">
      {/* The indicator is for the eyes: the button beside the title says the same to everyone. */}
      <div class={`pull ${shown}`} aria-hidden="true" style={{ height: `${shown === "refreshing" ? 40 : Math.round(distance)}px` }}>
        <span class="pull-label">
          {shown === "refreshing"
            ? L("Actualisation…", "Refreshing…")
            : shown === "armed"
              ? L("↑ Relâchez pour actualiser", "↑ Release to refresh")
              : L("↓ Tirez pour actualiser", "↓ Pull to refresh")}
        </span>
      </div>
      {children}
    </div>
  );
}
