import { fileURLToPath } from 'node:url';

/** This checkout's root: tests and benches start its bins and scripts from here. */
export const REPOSITORY_ROOT = fileURLToPath(new URL('../..', import.meta.url));
