const RECENT = 'parley.recentRuns';

/** Runs this browser started, newest first: the runs page lists them when the gateway has no run list. */
export function rememberRun(runId: string, label: string): void {
  const list = recentRuns().filter((r) => r.runId !== runId);
  localStorage.setItem(RECENT, JSON.stringify([{ runId, label, at: new Date().toISOString() }, ...list].slice(0, 30)));
}

export function recentRuns(): Array<{ runId: string; label: string; at: string }> {
  try {
    return JSON.parse(localStorage.getItem(RECENT) ?? '[]') as Array<{ runId: string; label: string; at: string }>;
  } catch {
    return [];
  }
}
