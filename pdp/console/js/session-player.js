// Plays an interactive session's recording (asciicast v2) with asciinema-player, loaded from
// this PDP the first time a recording is played, so the rest of the console never waits for it.

const PLAYER_SCRIPT = '/console/vendor/asciinema-player/asciinema-player.min.js';
const PLAYER_STYLE = '/console/vendor/asciinema-player/asciinema-player.css';
let loading = null;

function loadPlayer() {
  if (window.AsciinemaPlayer) return Promise.resolve(window.AsciinemaPlayer);
  loading ??= new Promise((resolve, reject) => {
    const style = document.createElement('link');
    style.rel = 'stylesheet';
    style.href = PLAYER_STYLE;
    document.head.append(style);
    const script = document.createElement('script');
    script.src = PLAYER_SCRIPT;
    script.onload = () => (window.AsciinemaPlayer ? resolve(window.AsciinemaPlayer) : reject(new Error('the player did not start')));
    script.onerror = () => {
      loading = null;
      reject(new Error('the player could not be loaded'));
    };
    document.head.append(script);
  });
  return loading;
}

/**
 * Mounts a player for `castText` in `container`; returns what disposes of it. The terminal's
 * size is the recording's; `fit: 'width'` scales it to the page.
 */
export async function mountPlayer(container, castText, header) {
  const player = await loadPlayer();
  const instance = player.create({ data: castText }, container, {
    cols: header?.width,
    rows: header?.height,
    fit: 'width',
    idleTimeLimit: 2,
    controls: true,
    preload: true,
  });
  return () => instance.dispose?.();
}
