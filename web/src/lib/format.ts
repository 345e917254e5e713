export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const now = new Date();
  const sameDay = d.toDateString() === now.toDateString();
  return sameDay
    ? d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })
    : d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/** The swarm header's cost: cents, four decimals below a cent, and never `$0.0000` for a spend that is not 0. */
export function formatCost(usd: number): string {
  if (!usd) return '$0';
  if (usd < 0.00005) return '<$0.0001';
  const four = usd.toFixed(4);
  return Number(four) < 0.01 ? `$${four}` : `$${usd.toFixed(2)}`; // 0.009996 is a cent, not "$0.0100"
}

export function formatMs(ms: number): string {
  return ms < 1000 ? `${ms < 10 ? ms.toFixed(2) : Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString()} ${n === 1 ? one : many}`;
}

/** Natural order for ids like n.2 < n.10. */
export function naturalCompare(a: string, b: string): number {
  return a.localeCompare(b, undefined, { numeric: true });
}
