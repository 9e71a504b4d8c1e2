import type { ConversationStatsReply } from '@parley/contracts';
import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { get, query } from '../lib/api.js';
import { useAsync } from '../lib/use-async.js';
import { DayChart } from './day-chart.js';

const RANGES = [
  [1, 'Last 24 hours'],
  [7, 'Last 7 days'],
  [30, 'Last 30 days'],
  [90, 'Last 90 days'],
] as const;

export function StatsPage(): JSX.Element {
  const [days, setDays] = useState(7);
  const stats = useAsync(() => {
    const from = new Date(Date.now() - days * 86_400_000).toISOString();
    return get<ConversationStatsReply>(`/stats${query({ from })}`);
  }, [days]);
  const s = stats.data;
  const ms = (v: number | null) => (v === null ? '—' : `${Math.round(v)} ms`);
  return (
    <section aria-labelledby="stats-h">
      <h1 id="stats-h">Stats</h1>
      <label class="inline">
        Range{' '}
        <select value={days} onChange={(e) => setDays(Number(e.currentTarget.value))}>
          {RANGES.map(([d, label]) => (
            <option key={d} value={d}>
              {label}
            </option>
          ))}
        </select>
      </label>
      {stats.error && (
        <p role="alert" class="error">
          {stats.error.message}
        </p>
      )}
      {s && (
        <>
          <div class="cards">
            <Card label="Conversations" value={s.conversations} id="stat-conversations" />
            <Card label="Messages" value={s.messages} id="stat-messages" />
            <Card label="Latency p50" value={ms(s.assistantLatencyMs.p50)} id="stat-p50" />
            <Card label="Latency p95" value={ms(s.assistantLatencyMs.p95)} id="stat-p95" />
            {/* total counts the messages' own tokens; prompt and completion are what the model billed. */}
            <Card
              label="Message tokens"
              value={s.tokens.total}
              id="stat-tokens"
              sub={`model usage: ${s.tokens.prompt} prompt · ${s.tokens.completion} completion`}
            />
          </div>
          <h2>Per day</h2>
          <DayChart days={fillDays(s.byDay, days)} />
          <h2>Latency and tokens</h2>
          <Bars
            title="Assistant latency"
            unit="ms"
            rows={[
              ['avg', s.assistantLatencyMs.avg],
              ['p50', s.assistantLatencyMs.p50],
              ['p95', s.assistantLatencyMs.p95],
            ]}
          />
          <Bars
            title="Model tokens"
            unit=""
            rows={[
              ['prompt', s.tokens.prompt],
              ['completion', s.tokens.completion],
            ]}
          />
          <div class="split">
            <Breakdown title="By channel" data={s.byChannel} />
            <Breakdown title="By agent" data={s.byAgent} />
          </div>
        </>
      )}
    </section>
  );
}

/** Every UTC day of the range, zeros included, so the chart's axis is the range and not just busy days. */
function fillDays(byDay: ConversationStatsReply['byDay'], days: number): ConversationStatsReply['byDay'] {
  const known = new Map(byDay.map((d) => [d.day, d]));
  const out: ConversationStatsReply['byDay'] = [];
  for (let i = Math.max(days, 1) - 1; i >= 0; i--) {
    const day = new Date(Date.now() - i * 86_400_000).toISOString().slice(0, 10);
    out.push(known.get(day) ?? { day, conversations: 0, messages: 0 });
  }
  // A day the server counted that falls outside (clock skew) still shows.
  for (const d of byDay) if (!out.some((o) => o.day === d.day)) out.push(d);
  return out.sort((a, b) => a.day.localeCompare(b.day));
}

function Card({ label, value, sub, id }: { label: string; value: number | string; sub?: string; id: string }): JSX.Element {
  return (
    <div class="card stat" aria-labelledby={`${id}-l`}>
      <div id={`${id}-l`} class="stat-label">
        {label}
      </div>
      <div class="stat-value" data-testid={id}>
        {value}
      </div>
      {sub && <div class="muted small">{sub}</div>}
    </div>
  );
}

/** Horizontal bars on one scale, so p50 against p95 (or prompt against completion) reads at a glance. */
function Bars({ title, unit, rows }: { title: string; unit: string; rows: Array<[string, number | null]> }): JSX.Element {
  const max = Math.max(1, ...rows.map(([, v]) => v ?? 0));
  return (
    <figure class="bars">
      <figcaption>{title}</figcaption>
      <svg viewBox={`0 0 320 ${rows.length * 26}`} role="img" aria-label={`${title}: ${rows.map(([k, v]) => `${k} ${v ?? 'none'}${unit}`).join(', ')}`}>
        {rows.map(([k, v], i) => (
          <g key={k} transform={`translate(0 ${i * 26})`}>
            <text x="0" y="16" class="axis">
              {k}
            </text>
            <rect x="80" y="4" height="16" width={Math.max(1, ((v ?? 0) / max) * 170)} class={`bar bar-${i}`} rx="2" />
            <text x={86 + ((v ?? 0) / max) * 170} y="16" class="axis">
              {v === null ? '—' : `${Math.round(v)}${unit ? ` ${unit}` : ''}`}
            </text>
          </g>
        ))}
      </svg>
    </figure>
  );
}

function Breakdown({ title, data }: { title: string; data: Record<string, { conversations: number; messages: number }> }): JSX.Element {
  const rows = Object.entries(data);
  return (
    <div>
      <h3>{title}</h3>
      {rows.length === 0 ? (
        <p class="muted">Nothing yet.</p>
      ) : (
        <div class="table-wrap">
          <table class="data">
            <thead>
              <tr>
                <th scope="col">{title.replace('By ', '')}</th>
                <th scope="col" class="num">
                  Conversations
                </th>
                <th scope="col" class="num">
                  Messages
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map(([k, v]) => (
                <tr key={k}>
                  <td>{k}</td>
                  <td class="num">{v.conversations}</td>
                  <td class="num">{v.messages}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
