// The console's places, in the URL fragment so they survive reloads and never reach a server:
// #/queue, #/history, #/evidence, #/sessions, #/sessions/<id>, #/policy, and #/approvals/<id> (decision
// answers link there).

const APPROVAL_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** {tab: 'queue' | 'history' | 'evidence' | 'sessions' | 'policy', approvalId: string | null, sessionId: string | null} */
export function parseRoute(hash) {
  const path = hash.replace(/^#\/?/, '');
  const [first, second] = path.split('/');
  if (first === 'approvals' && second !== undefined && APPROVAL_ID.test(second)) return { tab: 'queue', approvalId: second, sessionId: null };
  if (first === 'history' || first === 'evidence' || first === 'policy') return { tab: first, approvalId: null, sessionId: null };
  if (first === 'sessions') return { tab: 'sessions', approvalId: null, sessionId: second ? sessionIdOf(second) : null };
  return { tab: 'queue', approvalId: null, sessionId: null };
}

function sessionIdOf(encoded) {
  try {
    return decodeURIComponent(encoded) || null;
  } catch {
    return null;
  }
}
