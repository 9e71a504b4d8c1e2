import type { JSX } from 'preact';
import { useWidth } from '../lib/use-width.js';

type Day = { day: string; conversations: number; messages: number };

/** A day label ("12-07") at the axis font size needs about this much room. */
const LABEL_PX = 44;

/**
 * Conversations and messages per day as paired bars, inline SVG (no chart library). Drawn at its
 * rendered width, one unit per CSS pixel, so the axis text keeps its CSS size at every width.
 */
export function DayChart({ days }: { days: Day[] }): JSX.Element {
  const [ref, measured] = useWidth<HTMLDivElement>(640);
  // The measured element is always rendered, so the width is known by the time days arrive.
  if (days.length === 0)
    return (
      <div ref={ref}>
        <p class="muted">No activity in this range.</p>
      </div>
    );
  const W = Math.max(240, measured);
  const H = 200;
  const pad = { l: 36, r: 8, t: 10, b: 28 };
  const max = Math.max(1, ...days.map((d) => Math.max(d.messages, d.conversations)));
  const slot = (W - pad.l - pad.r) / days.length;
  const bw = Math.max(2, Math.min(18, slot / 2 - 2));
  const y = (v: number) => pad.t + (H - pad.t - pad.b) * (1 - v / max);
  const ticks = [0, Math.round(max / 2), max];
  // Label every n-th day so that labels never overlap at this width.
  const every = Math.max(1, Math.ceil(days.length / Math.max(1, Math.floor((W - pad.l - pad.r) / LABEL_PX))));
  return (
    <figure class="chart">
      <div ref={ref} class="chart-area">
        <svg viewBox={`0 0 ${W} ${H}`} width={W} height={H} role="img" aria-labelledby="daychart-t">
          <title id="daychart-t">{`Conversations and messages per day: ${days.map((d) => `${d.day} ${d.conversations} conversations, ${d.messages} messages`).join('; ')}`}</title>
          {ticks.map((t) => (
            <g key={t}>
              <line x1={pad.l} x2={W - pad.r} y1={y(t)} y2={y(t)} class="grid" />
              <text x={pad.l - 4} y={y(t) + 4} text-anchor="end" class="axis">
                {t}
              </text>
            </g>
          ))}
          {days.map((d, i) => {
            const x = pad.l + i * slot + slot / 2;
            return (
              <g key={d.day}>
                <rect x={x - bw - 1} y={y(d.conversations)} width={bw} height={H - pad.b - y(d.conversations)} class="bar bar-0" />
                <rect x={x + 1} y={y(d.messages)} width={bw} height={H - pad.b - y(d.messages)} class="bar bar-1" />
                {i % every === 0 && (
                  <text x={x} y={H - 10} text-anchor="middle" class="axis">
                    {d.day.slice(5)}
                  </text>
                )}
              </g>
            );
          })}
        </svg>
      </div>
      <figcaption class="legend">
        <span class="key key-0" /> conversations <span class="key key-1" /> messages
      </figcaption>
    </figure>
  );
}
