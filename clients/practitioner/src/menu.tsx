// The header's menu: a "Menu" button that opens a short list of actions (the language, the
// notifications, logging out). A disclosure: Tab and the arrow keys move through the list,
// Escape closes it and gives the focus back to the button, and so does choosing an action
// that keeps the screen; a touch or a click elsewhere closes it.
import { useLayoutEffect, useRef, useState } from "preact/hooks";

export type MenuItem = {
  text: string;
  run: () => void;
  /** The language of `text` when it is not the page's (the language switch). */
  lang?: string;
  /** False for an action that leaves the screen (logging out): the focus goes with it. */
  refocus?: boolean;
};

export function Menu({ label, heading, items }: { label: string; heading?: string; items: MenuItem[] }) {
  const [open, setOpen] = useState(false);
  const wrap = useRef<HTMLDivElement>(null);
  const button = useRef<HTMLButtonElement>(null);
  const list = useRef<HTMLUListElement>(null);

  const entries = () => Array.from(list.current?.querySelectorAll<HTMLButtonElement>("button") ?? []);
  const close = (refocus: boolean) => {
    setOpen(false);
    if (refocus) button.current?.focus();
  };

  // At once when it opens (not after the paint): a key pressed next lands in the list.
  useLayoutEffect(() => {
    if (!open) return;
    entries()[0]?.focus();
    const outside = (e: PointerEvent) => {
      if (!wrap.current?.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener("pointerdown", outside);
    return () => document.removeEventListener("pointerdown", outside);
  }, [open]);

  const onKeyDown = (e: KeyboardEvent) => {
    if (!open) return;
    if (e.key === "Escape") {
      e.preventDefault();
      close(true);
      return;
    }
    const all = entries();
    const at = all.indexOf(document.activeElement as HTMLButtonElement);
    const to = e.key === "ArrowDown" ? at + 1 : e.key === "ArrowUp" ? at - 1 : e.key === "Home" ? 0 : e.key === "End" ? all.length - 1 : undefined;
    if (to === undefined || !all.length) return;
    e.preventDefault();
    all[(to + all.length) % all.length]?.focus();
  };

  return (
    <div
      class="menu"
      ref={wrap}
      onKeyDown={onKeyDown}
      onFocusOut={(e) => {
        // Tabbing out of the list closes it.
        const next = e.relatedTarget as Node | null;
        if (next && !wrap.current?.contains(next)) setOpen(false);
      }}
    >
      <button ref={button} class="menu-button" type="button" aria-expanded={open} aria-controls={open ? "app-menu" : undefined} onClick={() => setOpen(!open)}>
        {label}
      </button>
      {open ? (
        <div class="menu-panel" id="app-menu">
          {heading ? <p class="menu-heading">{heading}</p> : null}
          <ul ref={list}>
            {items.map((item) => (
              <li key={item.text}>
                <button
                  type="button"
                  lang={item.lang}
                  onClick={() => {
                    close(item.refocus !== false);
                    item.run();
                  }}
                >
                  {item.text}
                </button>
              </li>
            ))}
          </ul>
        </div>
      ) : null}
    </div>
  );
}
