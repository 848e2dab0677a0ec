// A strict reader of the Prometheus text exposition format (version 0.0.4), written from the format's spec, for
// tests of `rotate metrics`: it throws on anything a Prometheus server or node_exporter would reject.

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  help?: string;
  type?: string;
  samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = ['counter', 'gauge', 'histogram', 'summary', 'untyped'];

function parseValue(text: string, line: number): number {
  if (text === 'NaN') return Number.NaN;
  if (text === '+Inf' || text === 'Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) throw new Error(`line ${line}: bad value "${text}"`);
  return Number(text);
}

/** Reads `{a="x",b="y"}` from `text` at `start` (the `{`); returns the labels and the index after `}`. */
function parseLabels(text: string, start: number, line: number): { labels: Record<string, string>; end: number } {
  const labels: Record<string, string> = {};
  let i = start + 1;
  while (text[i] !== '}') {
    const nameMatch = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(text.slice(i));
    if (!nameMatch || !LABEL_NAME.test(nameMatch[0])) throw new Error(`line ${line}: bad label name at column ${i + 1}`);
    const name = nameMatch[0];
    i += name.length;
    if (text.slice(i, i + 2) !== '="') throw new Error(`line ${line}: expected =" after label ${name}`);
    i += 2;
    let value = '';
    for (;;) {
      const c = text[i];
      if (c === undefined) throw new Error(`line ${line}: unterminated label value`);
      if (c === '"') break;
      if (c === '\n') throw new Error(`line ${line}: raw line feed in a label value`);
      if (c === '\\') {
        const next = text[i + 1];
        if (next === '\\') value += '\\';
        else if (next === '"') value += '"';
        else if (next === 'n') value += '\n';
        else throw new Error(`line ${line}: bad escape \\${next} in a label value`);
        i += 2;
        continue;
      }
      value += c;
      i++;
    }
    i++;
    if (name in labels) throw new Error(`line ${line}: label ${name} given twice`);
    labels[name] = value;
    if (text[i] === ',') i++;
    else if (text[i] !== '}') throw new Error(`line ${line}: expected , or } at column ${i + 1}`);
  }
  return { labels, end: i + 1 };
}

export function parsePrometheusText(text: string): Map<string, Family> {
  if (!text.endsWith('\n')) throw new Error('the exposition must end with a line feed');
  const families = new Map<string, Family>();
  const seenSeries = new Set<string>();
  let current: string | undefined;
  const family = (name: string) => {
    let f = families.get(name);
    if (!f) {
      f = { name, samples: [] };
      families.set(name, f);
    } else if (current !== name) {
      throw new Error(`metric family ${name} is not contiguous`);
    }
    current = name;
    return f;
  };
  text
    .slice(0, -1)
    .split('\n')
    .forEach((raw, index) => {
      const line = index + 1;
      if (raw.trim() === '') return;
      if (raw.startsWith('#')) {
        const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(raw);
        if (!m) return; // a plain comment
        const [, keyword, name, rest] = m as unknown as [string, string, string, string];
        if (!METRIC_NAME.test(name)) throw new Error(`line ${line}: bad metric name ${name}`);
        const f = family(name);
        if (keyword === 'HELP') {
          if (f.help !== undefined) throw new Error(`line ${line}: second HELP for ${name}`);
          if (/\\[^\\n]/.test(rest.replace(/\\\\/g, ''))) throw new Error(`line ${line}: bad escape in HELP`);
          f.help = rest.replace(/\\n/g, '\n').replace(/\\\\/g, '\\');
        } else {
          if (f.type !== undefined) throw new Error(`line ${line}: second TYPE for ${name}`);
          if (f.samples.length > 0) throw new Error(`line ${line}: TYPE after samples of ${name}`);
          if (!TYPES.includes(rest)) throw new Error(`line ${line}: unknown type ${rest}`);
          f.type = rest;
        }
        return;
      }
      const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(raw);
      if (!nameMatch) throw new Error(`line ${line}: a sample must start with a metric name`);
      const name = nameMatch[0];
      let i = name.length;
      let labels: Record<string, string> = {};
      if (raw[i] === '{') ({ labels, end: i } = parseLabels(raw, i, line));
      const rest = raw.slice(i);
      const m = /^ (\S+)( -?\d+)?$/.exec(rest);
      if (!m) throw new Error(`line ${line}: expected " value [timestamp]" after the labels, got "${rest}"`);
      const f = family(name);
      const series = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
      if (seenSeries.has(series)) throw new Error(`line ${line}: duplicate series ${series}`);
      seenSeries.add(series);
      f.samples.push({ name, labels, value: parseValue(m[1]!, line) });
    });
  return families;
}
