// Bundles the CLI into dist/bin/ as one CommonJS file, so start-up reads one file instead of dozens: Node's ESM
// loader costs a resolve, an async read, a compile and a link per chunk and a facade per builtin, and a CommonJS
// require costs none of that (README.md, "Start-up", has the measurements).
// Code reached only through `await import()` is wrapped by esbuild and runs on first use; pg, ioredis, stripe and
// @kubernetes/client-node stay outside the bundle and are required the same way.
import { chmodSync, copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
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

// node:crypto costs about 4 ms of CPU to load on Node 20 and --help and status never call it: every import of it
// (rotate's and its dependencies') gets functions that load it on their first call. Only its functions: an import of
// a class or a constant fails the build (a bundled CommonJS dependency reading one would get undefined; today dotenv
// and write-file-atomic call createDecipheriv and createHash only).
const lazyBuiltins = {
  name: 'lazy-builtins',
  setup(b) {
    b.onResolve({ filter: /^(node:)?(crypto|child_process)$/ }, (args) =>
      args.namespace === 'lazy-builtin' ? undefined : { path: args.path.replace(/^node:/, ''), namespace: 'lazy-builtin' },
    );
    b.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, ({ path }) => {
      const real = createRequire(import.meta.url)(`node:${path}`);
      const functions = Object.keys(real).filter((name) => /^[a-z]/.test(name) && typeof real[name] === 'function');
      const contents = [
        'let real;',
        `const load = () => (real ??= require('node:${path}'));`,
        ...functions.map((name) => `export function ${name}(...args) { return load().${name}(...args); }`),
      ].join('\n');
      return { contents, loader: 'js', resolveDir: '.' };
    });
  },
};

// chalk detects the terminal's colour support at load (supports-color: node:tty, node:os, the environment) for its
// default instance; rotate never uses that instance (src/terminal/logger.ts makes each Chalk with its own level, on
// a TTY without NO_COLOR), so the detection is replaced by "no colour" and --help loads neither module.
const noColorDetection = {
  name: 'no-color-detection',
  setup(b) {
    b.onResolve({ filter: /^#supports-color$/ }, (args) =>
      args.importer.includes('/chalk/') ? { path: 'supports-color', namespace: 'no-color-detection' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'no-color-detection' }, () => ({
      contents: 'export default { stdout: false, stderr: false };',
      loader: 'js',
    }));
  },
};

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

rmSync('dist/bin', { recursive: true, force: true });
await build({
  entryPoints: { cli: 'src/cli.ts' },
  outdir: 'dist/bin',
  bundle: true,
  // Whitespace and syntax only: identifiers stay readable in stack traces.
  minifyWhitespace: true,
  minifySyntax: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  external: ['pg', 'pg-native', 'ioredis', 'stripe', '@kubernetes/client-node'],
  plugins: [englishOnly, lazyBuiltins, noColorDetection],
  define: {
    // `rotate --version` without reading package.json at start-up.
    'process.env.ROTATE_BUILD_VERSION': JSON.stringify(version),
    // The sources are ESM; in the CommonJS bundle import.meta.url is the bundle's own file URL.
    'import.meta.url': '__rotate_bundle_url',
  },
  banner: { js: "const __rotate_bundle_url = require('node:url').pathToFileURL(__filename).href;" },
  logLevel: 'warning',
});
// The package is "type": "module"; the files here are CommonJS.
writeFileSync('dist/bin/package.json', '{ "type": "commonjs" }\n');
// The bin (scripts/rotate-bin.cjs): turns on Node's compile cache where it exists, then requires cli.js.
copyFileSync(new URL('./rotate-bin.cjs', import.meta.url), 'dist/bin/rotate.js');
chmodSync('dist/bin/rotate.js', 0o755);
