// Hand-written SVG charts: horizontal bars for categories, columns for a series (hours, days).
// The viewBox follows the chart's real width in pixels, so the 11 px labels stay 11 px from a
// 360 px phone to a desktop. Every chart is an image with a label; its numbers are always
// given again in a table next to it, for screen readers. A suppressed value (null) draws no
// bar and shows "—", never a colour alone.
import { useLayoutEffect, useRef, useState } from "preact/hooks";
import { L, number } from "../i18n";

export type Datum = {
  key: string;
  label: string;
  /** null: suppressed (too small to be shown). */
  value: number | null;
  /** Drawn with the alternative colour; say why in the text too (the value or the table). */
  alt?: boolean;
  /** A short text after the value (such as "no centre"), so nothing is said by colour alone. */
  note?: string;
};

const CHAR = 6.3; // about the width of one 11 px character
const MIN_WIDTH = 260;

/** The rendered width of the SVG in CSS pixels, followed as it changes. */
function useWidth(fallback = 340) {
  const ref = useRef<SVGSVGElement>(null);
  const [width, setWidth] = useState(fallback);
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const measure = () => {
      const px = Math.round(el.getBoundingClientRect().width);
      if (px > 0) setWidth((w) => (Math.abs(w - px) >= 1 ? Math.max(MIN_WIDTH, px) : w));
    };
    measure();
    if (typeof ResizeObserver === "undefined") return;
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    return () => observer.disconnect();
  }, []);
  return { ref, width };
}

function fit(text: string, room: number): string {
  const max = Math.max(3, Math.floor(room / CHAR));
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** The chart's accessible name: its title, and its values when they are few. */
function describe(title: string, data: Datum[], format: (n: number) => string): string {
  if (data.length > 8) return `${title}. ${L("Les valeurs sont dans le tableau qui suit.", "The values are in the table that follows.")}`;
  const values = data.map((d) => `${d.label} : ${d.value === null ? L("masqué", "masked") : format(d.value)}${d.note ? ` (${d.note})` : ""}`);
  return `${title}. ${values.join(" ; ")}.`;
}

const shown = (value: number | null, format: (n: number) => string, note?: string) =>
  (value === null ? "—" : format(value)) + (note ? ` · ${note}` : "");

/** Horizontal bars, one per category: labels beside the bars when there is room, above them on a phone. */
export function BarChart({ title, data, format = (n) => number(n) }: { title: string; data: Datum[]; format?: (n: number) => string }) {
  const { ref, width } = useWidth();
  const max = Math.max(1, ...data.map((d) => d.value ?? 0));
  const valueWidth = Math.max(28, ...data.map((d) => shown(d.value, format, d.note).length * CHAR)) + 8;
  const longest = Math.max(...data.map((d) => d.label.length), 4) * CHAR;
  const side = width >= 480 || longest + valueWidth + 60 <= width * 0.55;
  const labelWidth = side ? Math.min(longest + 10, width * 0.4) : 0;
  const barRoom = Math.max(10, width - labelWidth - valueWidth);
  const barHeight = 16;
  const rowHeight = side ? 26 : 40;
  const height = Math.max(rowHeight, data.length * rowHeight) + 4;
  return (
    <svg ref={ref} class="chart" role="img" aria-label={describe(title, data, format)} viewBox={`0 0 ${width} ${height}`} width={width} height={height}>
      {data.map((d, i) => {
        const top = i * rowHeight + 2;
        const barTop = side ? top + (rowHeight - barHeight) / 2 - 2 : top + 16;
        const length = d.value ? Math.max(2, (d.value / max) * barRoom) : 0;
        return (
          <g key={d.key}>
            <text x={0} y={side ? barTop + barHeight - 4 : top + 11}>
              {fit(d.label, side ? labelWidth - 8 : width)}
            </text>
            {length ? <rect class={d.alt ? "bar alt" : "bar"} x={labelWidth} y={barTop} width={length} height={barHeight} rx={2} /> : null}
            <text x={labelWidth + length + 5} y={barTop + barHeight - 4}>
              {shown(d.value, format, d.note)}
            </text>
          </g>
        );
      })}
    </svg>
  );
}

/** Columns along an axis (hours of the day, days of the week); `tick` is the short axis label. */
export function ColumnChart({
  title,
  data,
  tick,
  format = (n) => number(n),
}: {
  title: string;
  data: Datum[];
  tick: (d: Datum) => string;
  format?: (n: number) => string;
}) {
  const { ref, width } = useWidth();
  const max = Math.max(1, ...data.map((d) => d.value ?? 0));
  const plot = 140;
  const top = 16;
  const axis = top + plot;
  const height = axis + 20;
  const slot = width / Math.max(1, data.length);
  const barWidth = Math.max(3, slot * 0.7);
  const tickWidth = Math.max(...data.map((d) => tick(d).length), 1) * CHAR + 6;
  const every = Math.max(1, Math.ceil(tickWidth / slot));
  const valueWidth = Math.max(...data.map((d) => shown(d.value, format).length), 1) * CHAR;
  const values = valueWidth <= slot;
  return (
    <svg ref={ref} class="chart" role="img" aria-label={describe(title, data, format)} viewBox={`0 0 ${width} ${height}`} width={width} height={height}>
      <line class="axis" x1={0} x2={width} y1={axis + 0.5} y2={axis + 0.5} stroke-width={1} />
      {values ? null : (
        <text x={width} y={10} text-anchor="end">
          {`${L("max.", "max.")} ${format(max)}`}
        </text>
      )}
      {data.map((d, i) => {
        const centre = i * slot + slot / 2;
        const length = d.value ? Math.max(2, (d.value / max) * (plot - 4)) : 0;
        return (
          <g key={d.key}>
            {length ? <rect class={d.alt ? "bar alt" : "bar"} x={centre - barWidth / 2} y={axis - length} width={barWidth} height={length} rx={1} /> : null}
            {values || d.value === null ? (
              <text x={centre} y={axis - length - 3} text-anchor="middle">
                {shown(d.value, format)}
              </text>
            ) : null}
            {i % every === 0 ? (
              <text x={centre} y={axis + 14} text-anchor="middle">
                {tick(d)}
              </text>
            ) : null}
          </g>
        );
      })}
    </svg>
  );
}
