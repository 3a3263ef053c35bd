// Single-key shortcuts for the whole page. Keys typed into a field stay in the field.

/** bindings: {key: handler}; keys as KeyboardEvent.key ('j', 'ArrowDown', '?', …). */
export function installShortcuts(bindings, isActive) {
  document.addEventListener('keydown', (event) => {
    if (!isActive() || event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target;
    if (target instanceof HTMLElement && (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName))) return;
    const handler = bindings[event.key];
    if (handler === undefined) return;
    // Buttons and links keep Enter and Space for themselves.
    if ((event.key === 'Enter' || event.key === ' ') && target instanceof HTMLElement && ['BUTTON', 'A', 'SUMMARY'].includes(target.tagName)) return;
    event.preventDefault();
    handler(event);
  });
}
