// The activity line under the header: the latest thing that happened ("bob approved …"), in a
// space kept for it, so a notice never covers a control or moves one. Screen readers hear each.
import { h } from './dom-builder.js';

const FRESH_MS = 15_000;

export class Notices {
  #staleTimer = null;

  constructor(container) {
    this.container = container;
    this.clear();
  }

  /** tone: info | success | warning | error. */
  notify(text, tone = 'info') {
    clearTimeout(this.#staleTimer);
    const now = new Date();
    const notice = h('div', { class: `notice notice-${tone}`, title: text },
      h('time', { datetime: now.toISOString() }, now.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' })),
      h('span', { class: 'notice-text' }, text));
    this.container.replaceChildren(notice);
    this.#staleTimer = setTimeout(() => notice.classList.add('stale'), FRESH_MS);
  }

  clear() {
    clearTimeout(this.#staleTimer);
    this.container.replaceChildren(h('div', { class: 'notice notice-info idle stale' }, h('span', { class: 'notice-text' }, 'No activity yet in this session.')));
  }
}
