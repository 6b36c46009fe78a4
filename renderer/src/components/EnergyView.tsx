import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { ApiError, ApiOutput, ConversationEnergy, DailyEnergy, EnergyTrace } from '@shared/contract';
import { describeError } from '../api/errors';
import { useNow } from '../hooks/useNow';
import { downloadText } from '../lib/download';
import {
  approx,
  formatEnergyJ,
  formatInt,
  formatJPerToken,
  formatShare,
  formatWh,
  formatWhFromJ,
  fullTime,
  JOULES_PER_WH,
  relativeTime,
} from '../lib/format';
import { useAppState, useAppStore } from '../state/context';
import { DailyChart, lastDays, localDay } from './DailyChart';
import { IconChart, IconChevronDown, IconDownload, IconMessage } from './Icons';
import { TraceChart } from './TraceChart';
import { ViewHeader } from './ViewHeader';

/** Days of history the Energy view shows (the daily chart's window). */
const DAYS = 30;

/**
 * Capacity of the reference laptop battery used for "share of a battery" when this computer reports
 * none, in Wh. Not a measurement: a round figure in the range of common 13–14" laptops (for example the
 * 2020 MacBook Air M1 is sold with a 49.9 Wh battery, Dell XPS 13 9310 with 52 Wh, ThinkPad X1 Carbon
 * Gen 9 with 57 Wh, according to their makers' spec sheets). The UI always says it is a reference.
 */
export const REFERENCE_BATTERY_WH = 60;

type Summary = ApiOutput<'energy.summary'>;
/** Which conversations the view shows: all, chats in the app, or requests through the local API. */
export type SourceFilter = 'all' | 'app' | 'api';

const FILTERS: { value: SourceFilter; label: string }[] = [
  { value: 'all', label: 'All' },
  { value: 'app', label: 'Chat' },
  { value: 'api', label: 'API' },
];

/** The local day of an API row: its title says it ("API requests · YYYY-MM-DD"), else its last request's day. */
export function apiRowDay(row: ConversationEnergy): string {
  return /(\d{4}-\d{2}-\d{2})\s*$/.exec(row.title)?.[1] ?? localDay(row.updatedAt);
}

/** Energy per day and model of API replies, from their conversations' stored replies (tokens are not in a trace: 0). */
export function apiDaysFromReplies(replies: EnergyTrace['replies'][]): DailyEnergy[] {
  const byDay = new Map<string, Map<string, number>>();
  for (const list of replies) {
    for (const r of list) {
      const day = localDay(r.endedAt);
      const perModel = byDay.get(day) ?? new Map<string, number>();
      perModel.set(r.modelName, (perModel.get(r.modelName) ?? 0) + r.energyJ);
      byDay.set(day, perModel);
    }
  }
  return [...byDay.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([day, perModel]) => ({ day, models: [...perModel.entries()].map(([modelName, energyJ]) => ({ modelName, energyJ, completionTokens: 0 })) }));
}

/** `all` less `part`, per day and model (what is left of the day's energy once the API's is taken out). */
export function subtractDays(all: DailyEnergy[], part: DailyEnergy[]): DailyEnergy[] {
  const minus = new Map(part.map((d) => [d.day, new Map(d.models.map((m) => [m.modelName, m.energyJ]))]));
  return all
    .map((d) => ({
      day: d.day,
      models: d.models
        .map((m) => ({ ...m, energyJ: m.energyJ - (minus.get(d.day)?.get(m.modelName) ?? 0) }))
        .filter((m) => m.energyJ > Math.max(1e-9, 1e-9 * Math.abs(m.energyJ))),
    }))
    .filter((d) => d.models.length > 0);
}

/**
 * The per-day energy of the API rows given (those of the chart's window), read from their stored replies
 * (`energy.trace`, one call per day of API traffic, kept until the row changes); null while loading or
 * when not `active`.
 */
function useApiDays(rows: ConversationEnergy[], active: boolean): DailyEnergy[] | null {
  const store = useAppStore();
  const [replies, setReplies] = useState<Record<string, { version: string; replies: EnergyTrace['replies'] }>>({});
  const asked = useRef(new Map<string, string>());
  const versionOf = (r: ConversationEnergy) => `${r.updatedAt}:${r.energyJ}:${r.replies}`;
  const key = rows.map((r) => `${r.conversationId}@${versionOf(r)}`).join('|');
  useEffect(() => {
    if (!active) return;
    for (const r of rows) {
      const version = versionOf(r);
      if (asked.current.get(r.conversationId) === version) continue;
      asked.current.set(r.conversationId, version);
      void store.energyTrace(r.conversationId).then((result) => {
        if (asked.current.get(r.conversationId) !== version) return;
        // A day deleted meanwhile has no replies left.
        setReplies((all) => ({ ...all, [r.conversationId]: { version, replies: result.ok ? result.value.replies : [] } }));
      });
    }
    // `key` stands for `rows` (a new array on every summary).
  }, [active, key, store]);
  return useMemo(() => {
    if (!active) return null;
    const lists: EnergyTrace['replies'][] = [];
    for (const r of rows) {
      const got = replies[r.conversationId];
      if (!got || got.version !== versionOf(r)) return null;
      lists.push(got.replies);
    }
    return apiDaysFromReplies(lists);
  }, [active, key, replies]);
}
type SortKey = 'updatedAt' | 'title' | 'energyJ' | 'completionTokens' | 'energyJPerToken';

const columns: { key: SortKey | null; label: string; numeric?: boolean; sortLabel?: string }[] = [
  { key: 'title', label: 'Conversation' },
  { key: null, label: 'Models' },
  { key: 'energyJ', label: 'Energy', numeric: true },
  { key: null, label: 'Wh', numeric: true },
  { key: 'completionTokens', label: 'Tokens', numeric: true },
  { key: 'energyJPerToken', label: 'J/token', numeric: true },
  { key: null, label: 'Source' },
];

function sortRows(rows: ConversationEnergy[], key: SortKey, descending: boolean): ConversationEnergy[] {
  const sign = descending ? -1 : 1;
  return [...rows].sort((a, b) => {
    const d = key === 'title' ? a.title.localeCompare(b.title) : a[key] - b[key];
    return d === 0 ? b.updatedAt - a.updatedAt : d * sign;
  });
}

function SourceTag({ measured }: { measured: boolean }) {
  return measured ? <span className="tag tag--measured">measured</span> : <span className="tag tag--estimated">≈ estimated</span>;
}

function ApiBadge() {
  return (
    <span className="tag tag--api" title="Requests from other programs through the local API">
      API
    </span>
  );
}

function ExportControls({ selected }: { selected: ConversationEnergy | null }) {
  const store = useAppStore();
  const [scope, setScope] = useState<'selected' | 'all'>('selected');
  const [busy, setBusy] = useState<'messages' | 'samples' | null>(null);
  const [error, setError] = useState<string | null>(null);
  const effective = scope === 'selected' && selected ? 'selected' : 'all';
  const run = async (kind: 'messages' | 'samples') => {
    setBusy(kind);
    setError(null);
    const result = await store.exportCsv(kind, effective === 'selected' ? selected?.conversationId : undefined);
    setBusy(null);
    if (!result.ok) {
      setError(describeError(result.error));
      return;
    }
    downloadText(result.value.fileName, result.value.csv);
  };
  return (
    <div className="export" role="group" aria-label="Export as CSV">
      <label className="export__scope">
        <span className="visually-hidden">What to export</span>
        <select className="input select input--compact" value={effective} onChange={(e) => setScope(e.target.value as 'selected' | 'all')} data-testid="export-scope">
          <option value="selected" disabled={!selected}>
            Selected conversation
          </option>
          <option value="all">All conversations</option>
        </select>
      </label>
      <button type="button" className="button button--ghost button--small" data-testid="export-messages" disabled={busy !== null} onClick={() => void run('messages')}>
        <IconDownload size={14} />
        Messages CSV
      </button>
      <button type="button" className="button button--ghost button--small" data-testid="export-samples" disabled={busy !== null} onClick={() => void run('samples')}>
        <IconDownload size={14} />
        Samples CSV
      </button>
      {error && (
        <p className="export__error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

function StatCard({ label, value, note }: { label: string; value: string; note?: string }) {
  return (
    <div className="stat">
      <div className="stat__label">{label}</div>
      <div className="stat__value">{value}</div>
      {note && <div className="stat__note">{note}</div>}
    </div>
  );
}

/** "This conversation used 0.6% of a 60 Wh battery", with the battery it refers to. */
function ContextLine({ energyJ, measured, api }: { energyJ: number; measured: boolean; api: boolean }) {
  const battery = useAppState((s) => s.energy.battery);
  const capacityWh = battery?.capacityWh && battery.capacityWh > 0 ? battery.capacityWh : null;
  const referenceWh = capacityWh ?? REFERENCE_BATTERY_WH;
  const share = energyJ / JOULES_PER_WH / referenceWh;
  const about = measured ? '' : 'about ';
  return (
    <p className="energy-context" data-testid="energy-context">
      {api ? 'These requests used' : 'This conversation used'} {about}
      <strong>{formatShare(share)}</strong> of {capacityWh ? `this computer’s ${formatWh(capacityWh)} battery` : `a ${REFERENCE_BATTERY_WH} Wh laptop battery`}
      {capacityWh ? '.' : ' (a typical size, used as a reference: this computer reports no battery capacity).'}
    </p>
  );
}

function SelectedConversation({ row, onOpen }: { row: ConversationEnergy; onOpen: () => void }) {
  const api = row.source === 'api';
  const store = useAppStore();
  const [trace, setTrace] = useState<{ id: string; trace: EnergyTrace } | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const seq = useRef(0);
  const id = row.conversationId;
  const version = `${row.updatedAt}:${row.energyJ}:${row.replies}`;

  useEffect(() => {
    const n = ++seq.current;
    void store.energyTrace(id).then((result) => {
      if (n !== seq.current) return;
      if (result.ok) {
        setTrace({ id, trace: result.value });
        setError(null);
      } else setError(result.error);
    });
  }, [store, id, version]);

  const current = trace?.id === id ? trace.trace : null;
  return (
    <section className="card" aria-labelledby="energy-selected-title" data-testid="energy-selected" data-conversation-id={id}>
      <header className="card__header">
        <div className="card__titles">
          <h2 className="card__title card__title--with-tag" id="energy-selected-title">
            {row.title.trim() || 'New chat'}
            {api && <ApiBadge />}
          </h2>
          <p className="card__subtitle">
            {approx(row.measured)}
            {formatEnergyJ(row.energyJ)} · {approx(row.measured)}
            {formatWhFromJ(row.energyJ)} · {row.replies} {row.replies === 1 ? 'reply' : 'replies'} · {formatInt(row.completionTokens)} tokens
            {row.completionTokens > 0 && ` · ${approx(row.measured)}${formatJPerToken(row.energyJPerToken)}`}
          </p>
        </div>
        {api ? (
          <span className="card__note" data-testid="energy-selected-api-note">
            Requests from other programs through the local API. Not in the chat list.
          </span>
        ) : (
          <button type="button" className="button button--ghost button--small" data-testid="energy-open-chat" onClick={onOpen}>
            <IconMessage size={14} />
            Open chat
          </button>
        )}
      </header>
      <ContextLine energyJ={row.energyJ} measured={row.measured} api={api} />
      {error && (
        <div className="banner banner--error" role="alert">
          {describeError(error)}
        </div>
      )}
      {current ? (
        current.samples.length === 0 && current.replies.length === 0 ? (
          <p className="energy-empty__text">No power samples are stored for this conversation.</p>
        ) : (
          <TraceChart key={id} trace={current} measured={row.measured && current.samples.every((s) => s.measured)} />
        )
      ) : (
        !error && <div className="chart-placeholder" aria-label="Loading the power trace" />
      )}
    </section>
  );
}

/** The Energy view: totals per conversation, energy per day by model, a conversation's power trace, CSV export. */
export function EnergyView() {
  const store = useAppStore();
  const conversations = useAppState((s) => s.conversations);
  const chatSelectedId = useAppState((s) => s.selectedId);
  const measuredNow = useAppState((s) => s.energy.samples[s.energy.samples.length - 1]?.measured ?? s.energy.status?.measured ?? false);
  const now = useNow();
  const [summary, setSummary] = useState<Summary | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [selectedId, setSelectedId] = useState<string | null>(chatSelectedId);
  const [sort, setSort] = useState<{ key: SortKey; descending: boolean }>({ key: 'updatedAt', descending: true });
  const [filter, setFilter] = useState<SourceFilter>('all');
  // API requests end up in the history without touching the chat list: reload when the server answered one.
  const apiServed = useAppState((s) => s.apiStatus?.servedRequests ?? 0);
  const seq = useRef(0);

  const load = useCallback(() => {
    const n = ++seq.current;
    void store.energySummary(DAYS).then((result) => {
      if (n !== seq.current) return;
      if (result.ok) {
        setSummary(result.value);
        setError(null);
      } else setError(result.error);
    });
  }, [store]);

  // Loads at once, then again (debounced) whenever the conversation list changes: a reply ended, a
  // conversation was deleted or renamed.
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      load();
      return;
    }
    const timer = window.setTimeout(load, 300);
    return () => window.clearTimeout(timer);
  }, [conversations, apiServed, load]);

  const allRows = useMemo(() => (summary ? sortRows(summary.conversations, sort.key, sort.descending) : []), [summary, sort]);
  const rows = useMemo(() => (filter === 'all' ? allRows : allRows.filter((r) => r.source === filter)), [allRows, filter]);
  const counts = useMemo(() => {
    const api = allRows.filter((r) => r.source === 'api').length;
    return { all: allRows.length, app: allRows.length - api, api };
  }, [allRows]);
  const selected = rows.find((r) => r.conversationId === selectedId) ?? rows[0] ?? null;
  const dayWindow = useMemo(() => lastDays(DAYS, now), [now]);
  // API rows are one per day: those of the window make the API's share of the totals and of the chart.
  const apiRowsInWindow = useMemo(
    () => (summary?.conversations ?? []).filter((r) => r.source === 'api' && dayWindow.includes(apiRowDay(r))),
    [summary, dayWindow],
  );
  const apiDays = useApiDays(apiRowsInWindow, filter !== 'all');
  const totals = useMemo(() => {
    let energyJ = 0;
    let tokens = 0;
    for (const day of summary?.days ?? []) {
      if (!dayWindow.includes(day.day)) continue;
      for (const m of day.models) {
        energyJ += m.energyJ;
        tokens += m.completionTokens;
      }
    }
    if (filter === 'all') return { energyJ, tokens };
    let apiJ = 0;
    let apiTokens = 0;
    for (const r of apiRowsInWindow) {
      apiJ += r.energyJ;
      apiTokens += r.completionTokens;
    }
    if (filter === 'api') return { energyJ: apiJ, tokens: apiTokens };
    return { energyJ: Math.max(0, energyJ - apiJ), tokens: Math.max(0, tokens - apiTokens) };
  }, [summary, dayWindow, filter, apiRowsInWindow]);
  const chartDays = useMemo(() => {
    if (!summary) return null;
    if (filter === 'all') return summary.days;
    if (!apiDays) return null;
    return filter === 'api' ? apiDays : subtractDays(summary.days, apiDays);
  }, [summary, filter, apiDays]);
  const allMeasured = rows.length > 0 && rows.every((r) => r.measured);
  const measured = rows.length > 0 ? allMeasured : measuredNow;
  const filterName = filter === 'api' ? 'API requests' : filter === 'app' ? 'Chats' : null;

  const toggleSort = (key: SortKey) =>
    setSort((s) => (s.key === key ? { key, descending: !s.descending } : { key, descending: key !== 'title' }));

  let body;
  if (error && !summary) {
    body = (
      <div className="banner banner--error energy-error" role="alert">
        <span>{describeError(error)}</span>
        <button type="button" className="button button--ghost button--small" onClick={load}>
          Try again
        </button>
      </div>
    );
  } else if (!summary) {
    body = (
      <div className="chat__loading" aria-label="Loading energy history">
        <span className="skeleton" />
        <span className="skeleton skeleton--short" />
      </div>
    );
  } else if (allRows.length === 0 && summary.days.length === 0) {
    body = (
      <div className="energy-empty">
        <IconChart size={28} />
        <p className="energy-empty__title">No energy history yet</p>
        <p className="energy-empty__text">Every reply’s energy is recorded here. Send a message in a chat and come back to see it per day, per model and per conversation.</p>
        <button type="button" className="button button--primary" onClick={() => store.newChat()}>
          Start a chat
        </button>
      </div>
    );
  } else {
    body = (
      <>
        {error && (
          <div className="banner banner--error" role="alert">
            {describeError(error)}
          </div>
        )}
        <div className="energy-filter" data-testid="energy-filter">
          <span className="energy-filter__label" id="energy-filter-label">
            Show
          </span>
          <div className="segmented segmented--compact" role="radiogroup" aria-labelledby="energy-filter-label">
            {FILTERS.map((option) => (
              <label key={option.value} className={`segmented__item${filter === option.value ? ' is-active' : ''}`} data-testid={`energy-filter-${option.value}`}>
                <input type="radio" name="energy-source-filter" value={option.value} checked={filter === option.value} onChange={() => setFilter(option.value)} />
                {option.label} <span className="segmented__count">{counts[option.value]}</span>
              </label>
            ))}
          </div>
          <span className="energy-filter__note">
            {filter === 'api'
              ? 'Requests from other programs through the local API, one row per day.'
              : filter === 'app'
                ? 'Conversations in Wattwise.'
                : 'Chats and local API requests.'}
          </span>
        </div>

        <div className="stats" data-filter={filter}>
          <StatCard label={filterName ? `${filterName} · last ${DAYS} days` : `Last ${DAYS} days`} value={`${approx(measured)}${formatEnergyJ(totals.energyJ)}`} note={`${approx(measured)}${formatWhFromJ(totals.energyJ)}`} />
          <StatCard label="Tokens generated" value={formatInt(totals.tokens)} note={`last ${DAYS} days`} />
          <StatCard label="Average per token" value={totals.tokens > 0 ? `${approx(measured)}${formatJPerToken(totals.energyJ / totals.tokens)}` : '—'} note={`last ${DAYS} days`} />
          <StatCard label="Source" value={measured ? 'Measured' : 'Estimated'} note={measured ? 'every reply measured by a sensor' : 'no sensor readable: a CPU model'} />
        </div>

        <section className="card" aria-labelledby="energy-daily-title">
          <header className="card__header">
            <h2 className="card__title" id="energy-daily-title">
              Energy per day, by model
            </h2>
            <span className="card__subtitle">
              Last {DAYS} days{filter === 'api' ? ' · API requests' : filter === 'app' ? ' · chats' : ''}
              {measured ? '' : ' · estimated'}
            </span>
          </header>
          {chartDays ? (
            <DailyChart key={filter} days={chartDays} window={dayWindow} measured={measured} />
          ) : (
            <div className="chart-placeholder" aria-label="Loading the energy per day" />
          )}
        </section>

        <section className="card card--flush" aria-labelledby="energy-table-title">
          <header className="card__header">
            <h2 className="card__title" id="energy-table-title">
              {filter === 'api' ? 'API requests' : filter === 'app' ? 'Chats' : 'Conversations'}
            </h2>
            <span className="card__subtitle">Select one to see its power trace</span>
          </header>
          <div className="table-scroll">
            <table className="energy-table">
              <thead>
                <tr>
                  {columns.map((c) => {
                    const sorted = c.key !== null && sort.key === c.key;
                    return (
                      <th
                        key={c.label}
                        scope="col"
                        className={c.numeric ? 'is-numeric' : undefined}
                        aria-sort={sorted ? (sort.descending ? 'descending' : 'ascending') : undefined}
                      >
                        {c.key ? (
                          <button type="button" className={`th-sort${sorted ? ' is-sorted' : ''}${sorted && !sort.descending ? ' is-ascending' : ''}`} onClick={() => toggleSort(c.key!)} data-testid={`sort-${c.key}`}>
                            {c.label}
                            <IconChevronDown size={12} className="th-sort__icon" />
                          </button>
                        ) : (
                          c.label
                        )}
                      </th>
                    );
                  })}
                </tr>
              </thead>
              <tbody>
                {rows.length === 0 && (
                  <tr className="energy-table__empty" data-testid="energy-table-empty">
                    <td colSpan={columns.length}>
                      {filter === 'api'
                        ? 'No API requests yet. Turn the local API on in Settings → Local API: requests from other programs are listed here, one row per day.'
                        : 'No chats yet.'}
                    </td>
                  </tr>
                )}
                {rows.map((r) => {
                  const isSelected = r.conversationId === selected?.conversationId;
                  return (
                    <tr
                      key={r.conversationId}
                      className={isSelected ? 'is-selected' : undefined}
                      data-testid="energy-row"
                      data-conversation-id={r.conversationId}
                      data-source={r.source}
                      data-energy-j={r.energyJ}
                      onClick={() => setSelectedId(r.conversationId)}
                    >
                      <td className="energy-table__title">
                        <button type="button" className="row-select" aria-pressed={isSelected} onClick={() => setSelectedId(r.conversationId)} title={fullTime(r.updatedAt)}>
                          <span className="row-select__title">{r.title.trim() || 'New chat'}</span>
                          {r.source === 'api' && <ApiBadge />}
                          <span className="row-select__time">{relativeTime(r.updatedAt, now)}</span>
                        </button>
                      </td>
                      <td className="energy-table__models" title={r.models.join(', ')}>
                        {r.models.length === 0 ? '—' : r.models.length === 1 ? r.models[0] : `${r.models[0]} +${r.models.length - 1}`}
                      </td>
                      <td className="is-numeric">
                        {approx(r.measured)}
                        {formatEnergyJ(r.energyJ)}
                      </td>
                      <td className="is-numeric">{formatWhFromJ(r.energyJ).replace(/ Wh$/, '')}</td>
                      <td className="is-numeric" title={`${formatInt(r.promptTokens)} prompt · ${formatInt(r.completionTokens)} completion tokens`}>
                        {formatInt(r.completionTokens)}
                      </td>
                      <td className="is-numeric">{r.completionTokens > 0 ? formatJPerToken(r.energyJPerToken).replace(/ J\/token$/, '') : '—'}</td>
                      <td>
                        <SourceTag measured={r.measured} />
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        </section>

        {selected && <SelectedConversation row={selected} onOpen={() => void store.select(selected.conversationId)} />}
      </>
    );
  }

  return (
    <main className="energy-view" data-testid="energy-view" aria-label="Energy">
      <ViewHeader title="Energy">
          {summary && rows.length > 0 && <ExportControls selected={selected} />}
      </ViewHeader>
      <div className="energy-view__scroll">
        <div className="energy-view__column">{body}</div>
      </div>
    </main>
  );
}
