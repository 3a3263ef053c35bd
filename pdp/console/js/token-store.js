// The signed-in approver's bearer token: in memory, mirrored to sessionStorage so a reload of
// this tab keeps the session. Never localStorage (it outlives the tab and is shared across
// tabs), never the URL (URLs end up in history and logs).
import { expiresAtMs, jwtClaims } from './jwt-claims.js';

const STORAGE_KEY = 'portcullis.console.session';

export class TokenStore {
  #session = null;

  constructor(storage = window.sessionStorage) {
    this.storage = storage;
    try {
      const saved = JSON.parse(storage.getItem(STORAGE_KEY) ?? 'null');
      if (saved && typeof saved.token === 'string') this.#session = { token: saved.token, method: saved.method === 'oidc' ? 'oidc' : 'dev' };
    } catch {
      this.#forget();
    }
  }

  /** { token, method: 'dev' | 'oidc', claims, expiresAt } or null. */
  get session() {
    if (this.#session === null) return null;
    const claims = jwtClaims(this.#session.token);
    return { ...this.#session, claims, expiresAt: expiresAtMs(claims) };
  }

  save(token, method) {
    this.#session = { token, method };
    try {
      this.storage.setItem(STORAGE_KEY, JSON.stringify(this.#session));
    } catch {
      // Storage refused (private mode, quota): the session lives in memory for this page only.
    }
  }

  clear() {
    this.#session = null;
    this.#forget();
  }

  #forget() {
    try {
      this.storage.removeItem(STORAGE_KEY);
    } catch {
      // Nothing stored.
    }
  }
}
