// The sign-in screen: a pasted token in dev mode, the organisation's identity provider in
// production, and a message saying why the approver is here (signed out, session expired …).
import { h } from './dom-builder.js';
import { expiresAtMs, jwtClaims } from './jwt-claims.js';
import { clockText } from './time-text.js';

export const TOKEN_HINT = 'npx portcullis token --console --sub <you> --role approver --kind human';

export class SignInView {
  /** options: config, onToken(token), onOidc(). */
  constructor(container, options) {
    this.container = container;
    this.message = h('div', { class: 'sign-in-message', role: 'alert', hidden: true });
    const sections = [];
    if (options.config.oidc) {
      let host = options.config.oidc.issuer;
      try {
        host = new URL(options.config.oidc.issuer).host;
      } catch {
        // Shown as configured.
      }
      this.oidcLabel = `Sign in with ${host}`;
      this.oidcButton = h('button', { type: 'button', class: 'primary wide' }, this.oidcLabel);
      this.oidcButton.addEventListener('click', () => {
        this.oidcButton.disabled = true;
        this.oidcButton.textContent = 'Opening the sign-in page…';
        options.onOidc();
      });
      sections.push(h('section', { class: 'sign-in-oidc' }, this.oidcButton));
    }
    if (options.config.dev_issuer) {
      this.tokenInput = h('textarea', { id: 'token-input', rows: '4', spellcheck: 'false', autocomplete: 'off', autocapitalize: 'off', placeholder: 'eyJhbGciOi…' });
      const submit = h('button', { type: 'submit', class: 'primary wide' }, 'Sign in');
      const form = h('form', { class: 'sign-in-dev', novalidate: true },
        h('label', { for: 'token-input' }, 'Paste an approver token'),
        this.tokenInput,
        h('p', { class: 'hint' }, 'Development mode: mint one on the PDP host with ', h('code', { class: 'token-command' }, TOKEN_HINT)),
        submit);
      form.addEventListener('submit', (event) => {
        event.preventDefault();
        const token = this.tokenInput.value.trim();
        const problem = tokenProblem(token);
        if (problem) {
          this.show(problem, 'error');
          return;
        }
        this.tokenInput.value = '';
        options.onToken(token);
      });
      this.tokenInput.addEventListener('keydown', (event) => {
        if (event.key === 'Enter' && !event.shiftKey) {
          event.preventDefault();
          form.requestSubmit();
        }
      });
      if (sections.length > 0) sections.push(h('p', { class: 'divider muted' }, 'or'));
      sections.push(form);
    }
    if (sections.length === 0) sections.push(h('p', {}, 'This PDP has no sign-in configured for the console (set PORTCULLIS_CONSOLE_OIDC_CLIENT_ID).'));
    container.replaceChildren(h('div', { class: 'sign-in-panel' },
      h('h1', {}, h('span', { class: 'brand-mark', 'aria-hidden': 'true' }), 'Portcullis approvals'),
      h('p', { class: 'muted' }, 'Review the commands policy holds for a human decision.'),
      this.message, ...sections));
  }

  show(message, tone = 'info') {
    this.container.hidden = false;
    this.message.hidden = !message;
    this.message.className = `sign-in-message tone-${tone}`;
    this.message.textContent = message ?? '';
    if (this.oidcButton) {
      this.oidcButton.disabled = false;
      this.oidcButton.textContent = this.oidcLabel;
    }
    (this.tokenInput ?? this.oidcButton)?.focus();
  }

  hide() {
    this.container.hidden = true;
  }
}

function tokenProblem(token) {
  if (token === '') return 'Paste a token first.';
  const claims = jwtClaims(token);
  if (claims === null) return 'That is not a token: a JWT is three base64url parts joined by dots.';
  const expiresAt = expiresAtMs(claims);
  if (expiresAt !== null && expiresAt <= Date.now()) return `That token expired at ${clockText(new Date(expiresAt).toISOString())}. Mint a new one.`;
  return null;
}
