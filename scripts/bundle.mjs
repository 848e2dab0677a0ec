// Bundles the CLI into dist/bin/ so start-up reads a few files instead of hundreds.
// pg, ioredis, stripe and @kubernetes/client-node stay outside: the code that needs them loads them on first use.
import { readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

// zod re-exports ~50 locales that a bundler cannot drop (`export * as locales`); rotate speaks English only.
const englishOnly = {
  name: 'zod-english-only',
  setup(b) {
    b.onResolve({ filter: /\/locales\/index\.js$/ }, (args) =>
      args.importer.includes('/zod/') ? { path: fileURLToPath(new URL('./zod-locales.mjs', import.meta.url)) } : undefined,
    );
  },
};

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

rmSync('dist/bin', { recursive: true, force: true });
await build({
  entryPoints: { rotate: 'src/cli.ts' },
  outdir: 'dist/bin',
  bundle: true,
  splitting: true,
  // Whitespace and syntax only: identifiers stay readable in stack traces.
  minifyWhitespace: true,
  minifySyntax: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['pg', 'pg-native', 'ioredis', 'stripe', '@kubernetes/client-node'],
  plugins: [englishOnly],
  // `rotate --version` without reading package.json at start-up.
  define: { 'process.env.ROTATE_BUILD_VERSION': JSON.stringify(version) },
  // CommonJS dependencies inside the bundle expect require, __filename and __dirname.
  banner: {
    js: [
      "import { createRequire as __createRequire } from 'node:module';",
      "import { fileURLToPath as __fileURLToPath } from 'node:url';",
      'const require = __createRequire(import.meta.url);',
      'const __filename = __fileURLToPath(import.meta.url);',
      "const __dirname = __fileURLToPath(new URL('.', import.meta.url));",
    ].join(' '),
  },
  logLevel: 'warning',
});
