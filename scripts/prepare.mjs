// npm's `prepare`: builds dist/ so that every way of installing from a checkout gives a working `rotate`.
// - `npm ci` / `npm install` in a checkout: the dependencies are there; build.
// - `npm install -g .` in a fresh clone: npm links the folder into the global prefix and runs this script in it, but
//   installs none of the folder's dependencies (it printed `added 1 package` and left a dangling bin). Install them
//   first, exactly as the lock file says and with scripts off (this script is the root's own `prepare`: without
//   --ignore-scripts the nested `npm ci` would run it again), then build.
// - `npm install -g git+https://...`: npm installs the dependencies, runs this, packs and installs the tarball.
// - `npm pack` / `npm publish`: build, so the tarball holds dist/.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const npm = process.env.npm_execpath;
// The outer npm's settings reach us as npm_config_* (global=true, prefix=<the global prefix>, omit=dev...): the
// nested npm works on this folder as a project of its own, so it gets none of them.
const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_config_/i.test(key)));
// npm_execpath is npm's own CLI script when npm runs us; fall back to the npm on PATH. stdout goes to stderr:
// `npm pack --silent` prints the tarball's name on stdout, and scripts read it.
const options = { cwd: root, env, stdio: ['ignore', 2, 2] };
const runNpm = (...args) =>
  npm?.endsWith('.js') ? execFileSync(process.execPath, [npm, ...args], options) : execFileSync('npm', args, options);

if (!existsSync(new URL('../node_modules/typescript/package.json', import.meta.url))) {
  process.stderr.write('rotate: installing the build tools from package-lock.json (npm ci --ignore-scripts)\n');
  runNpm('ci', '--ignore-scripts', '--no-audit', '--no-fund', '--include=dev');
}
runNpm('run', 'build');
