// Bundles the CLI into dist/bin/ so start-up reads a few files instead of hundreds (zod alone is ~100 modules).
// pg, ioredis and stripe stay outside: the rotators that need them load them on first use.
import { build } from 'esbuild';

await build({
  entryPoints: { rotate: 'src/cli.ts' },
  outdir: 'dist/bin',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['pg', 'pg-native', 'ioredis', 'stripe'],
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
