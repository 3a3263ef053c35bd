// What a refused vote means, in words an approver can act on. Codes are the server's
// (docs/approvals-protocol.md); the server's own message is shown beneath.

const REFUSALS = {
  'self-approval': { title: 'You cannot approve your own request', help: 'Separation of duties: someone other than the requester must decide.' },
  'role-not-allowed': { title: 'Your roles cannot decide this request', help: 'It needs an approver with one of the roles listed on the request.' },
  'kind-not-allowed': { title: 'Your kind of principal cannot decide this request', help: 'Only people vote unless the approval rule names other kinds; sign in with your own (human) account.' },
  'reason-required': { title: 'A reason is required', help: 'Say why you deny it: the requester and the auditors will read it.' },
  'already-voted': { title: 'You already voted on this request', help: 'Each approver votes once.' },
  'not-pending': { title: 'This request was already decided', help: 'Someone else resolved it first; see History.' },
  expired: { title: 'This request expired', help: 'The requester must ask again.' },
  'not-found': { title: 'This request no longer exists', help: 'It may have been removed after it expired.' },
  'approvals-unavailable': { title: 'The approval store is unavailable', help: 'Nothing was recorded. Try again in a moment.' },
};

export function refusalText(code, message) {
  const known = REFUSALS[code] ?? { title: `Vote refused (${code})`, help: '' };
  return { title: known.title, help: known.help, detail: message ?? '' };
}
