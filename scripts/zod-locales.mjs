// Stands in for zod's locales index inside the bundle (see bundle.mjs): English only.
export { default as en } from 'zod/v4/locales/en.js';
