// Times as a tired reader wants them: "4:59 left", "3 min ago", local clock times.

/** "14:32" (m:ss) or "1:02:09" (h:mm:ss) until `isoTime`; "0:00" once past. */
export function countdownText(isoTime, now = Date.now()) {
  const seconds = Math.max(0, Math.floor((Date.parse(isoTime) - now) / 1000));
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = String(seconds % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

export function secondsUntil(isoTime, now = Date.now()) {
  return Math.floor((Date.parse(isoTime) - now) / 1000);
}

/** "just now", "3 min ago", "2 h ago", or the date for anything older than a day. */
export function agoText(isoTime, now = Date.now()) {
  const seconds = Math.floor((now - Date.parse(isoTime)) / 1000);
  if (Number.isNaN(seconds)) return '';
  if (seconds < 45) return 'just now';
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 86_400) return `${Math.round(seconds / 3600)} h ago`;
  return clockText(isoTime);
}

/** Local date and time, to the second: what an approver compares against other records. */
export function clockText(isoTime) {
  const date = new Date(isoTime);
  if (Number.isNaN(date.getTime())) return String(isoTime ?? '');
  return date.toLocaleString(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });
}
