// The console's entry point: reads the PDP's console configuration, finishes an OIDC sign-in
// when this load is the provider's redirect back, then shows either the sign-in screen or the
// signed-in console, and routes the URL fragment and the keyboard to whichever is on screen.
import { loadConsoleConfig } from './console-config.js';
import { ConsoleSession } from './console-session.js';
import { installShortcuts } from './keyboard-shortcuts.js';
import { beginOidcSignIn, completeOidcSignIn } from './oidc-sign-in.js';
import { SignInView } from './sign-in-view.js';
import { TokenStore } from './token-store.js';

const byId = (id) => document.getElementById(id);
const elements = {
  signIn: byId('sign-in'),
  app: byId('app'),
  meName: byId('me-name'),
  meRoles: byId('me-roles'),
  meExpiry: byId('me-expiry'),
  signOut: byId('sign-out'),
  connection: byId('connection'),
  banner: byId('connection-banner'),
  bannerText: byId('connection-banner-text'),
  retry: byId('connection-retry'),
  notices: byId('notices'),
  count: byId('queue-count'),
  linked: byId('linked-detail'),
  queue: byId('queue'),
  history: byId('history'),
  evidence: byId('evidence'),
  sessions: byId('sessions'),
  policy: byId('policy'),
  tabs: { queue: byId('tab-queue'), history: byId('tab-history'), evidence: byId('tab-evidence'), sessions: byId('tab-sessions'), policy: byId('tab-policy') },
  panels: { queue: byId('view-queue'), history: byId('view-history'), evidence: byId('view-evidence'), sessions: byId('view-sessions'), policy: byId('view-policy') },
  shortcutsDialog: byId('shortcuts'),
};

const tokens = new TokenStore();
let current = null;
let signIn = null;

async function boot() {
  let config;
  try {
    config = await loadConsoleConfig();
  } catch (error) {
    elements.signIn.hidden = false;
    elements.signIn.textContent = `The console cannot start: ${error.message}`;
    return;
  }
  signIn = new SignInView(elements.signIn, {
    config,
    onToken: (token) => {
      tokens.save(token, 'dev');
      enter(config);
    },
    onOidc: () => beginOidcSignIn(config.oidc, window.location.hash).catch((error) => signIn.show(`Sign-in could not start: ${error.message}`, 'error')),
  });
  elements.signOut.addEventListener('click', () => {
    current?.dispose();
    current = null;
    tokens.clear();
    showSignIn('You are signed out.', 'info');
  });
  window.addEventListener('hashchange', () => current?.route(window.location.hash));
  installShortcuts({
    ...Object.fromEntries(['j', 'k', 'a', 'd', 'r', '1', '2', '3', '4', '5', 'ArrowDown', 'ArrowUp'].map((key) => [key, () => current?.shortcuts()[key]?.()])),
    '?': () => (elements.shortcutsDialog.open ? elements.shortcutsDialog.close() : elements.shortcutsDialog.showModal()),
  }, () => current !== null);
  byId('shortcuts-close').addEventListener('click', () => elements.shortcutsDialog.close());

  try {
    const callback = await completeOidcSignIn();
    if (callback !== null) {
      tokens.save(callback.token, 'oidc');
      if (callback.returnHash) window.history.replaceState(null, '', window.location.pathname + callback.returnHash);
    }
  } catch (error) {
    showSignIn(error.message, 'error');
    return;
  }
  const session = tokens.session;
  if (session !== null && (session.expiresAt === null || session.expiresAt > Date.now())) enter(config);
  else showSignIn(session !== null ? 'Your session expired. Sign in again.' : null, 'warning');
}

function enter(config) {
  current?.dispose();
  signIn.hide();
  elements.app.hidden = false;
  current = new ConsoleSession({
    config,
    session: tokens.session,
    elements,
    onEnd: (message, tone) => {
      current = null;
      tokens.clear();
      showSignIn(message, tone);
    },
  });
  current.start();
  current.route(window.location.hash);
}

function showSignIn(message, tone) {
  elements.app.hidden = true;
  document.title = 'Portcullis approvals';
  signIn.show(message, tone);
}

void boot();
