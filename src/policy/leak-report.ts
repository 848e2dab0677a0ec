// The JSON reports of three secret scanners, read into one shape (CONTRACT.md, "Environments, policy, leaks"):
// - gitleaks (`gitleaks detect --report-format json`): an array of { RuleID, Secret, Match, File, StartLine, Commit }.
// - trufflehog (`trufflehog ... --json`): JSON lines (or an array) of { DetectorName, Raw, RawV2, SourceMetadata:
//   { Data: { Git: { file, commit, line } } | { Filesystem: { file, line } } | ... } }.
// - secretlint (`secretlint --format json`): an array of { filePath, sourceContent?, messages: [{ ruleId, range, loc,
//   data? }] }. Its masking (the default) hides the secret in `message` and `data` but not `sourceContent`, where
//   `range` points at the match; `--no-maskSecrets` leaves `data` readable too.
// A finding's raw text stays in memory (`texts`): src/policy/leak-match.ts turns it into keyed fingerprints and the
// report's values go no further. Nothing here prints or stores a value.
import { RotateError } from '../errors.js';

export type Scanner = 'gitleaks' | 'trufflehog' | 'secretlint';

export interface LeakFinding {
  scanner: Scanner;
  rule: string;
  file: string | null;
  line: number | null;
  commit: string | null;
  /** What the scanner matched, raw: only ever fingerprinted (never printed, stored or posted). */
  texts: string[];
}

/** Findings rotate leak reads at most; a larger report is a scan to narrow first (exit 2). */
export const MAX_FINDINGS = 10_000;

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const str = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);
const num = (value: unknown): number | null => (typeof value === 'number' && Number.isFinite(value) ? value : null);
/**
 * A masked value (secretlint's `****`, gitleaks --redact's `REDACTED`, also inside its Match `KEY=REDACTED`) holds
 * nothing to match; a finding left with no text is reported as redacted (leak-match.ts), not silently unmanaged.
 */
const unmasked = (value: unknown): string[] => {
  const text = str(value);
  return text && !/^\**$/.test(text) && !text.includes('REDACTED') ? [text] : [];
};

const invalid = (path: string, message: string) =>
  new RotateError('LEAK_REPORT_INVALID', `${path}: ${message}; nothing was rotated`, {
    hint:
      'give the JSON report of gitleaks (--report-format json), trufflehog (--json) or secretlint (--format json), written whole ' +
      '(rotate leak reads the file only after the scanner has finished)',
  });

const tooMany = (path: string, count: number) =>
  new RotateError(
    'LEAK_REPORT_TOO_MANY',
    `${path} holds ${count.toLocaleString('en')} findings or more; rotate leak reads at most ${MAX_FINDINGS.toLocaleString('en')}; nothing was rotated`,
    {
      hint: 'narrow the scan (a path, a commit range such as --log-opts="HEAD~20..HEAD", or a baseline of known findings), then run rotate leak on that report',
    },
  );

/** The JSON values of the report: one document, or JSON lines (trufflehog). A cut-off report is named as such. */
function parseDocuments(path: string, text: string): unknown[] {
  const trimmed = text.trim();
  if (trimmed === '') throw invalid(path, 'the report is empty (a scan that found nothing writes [] or no line)');
  try {
    return [JSON.parse(trimmed)];
  } catch (error) {
    // One JSON value per line: trufflehog's --json.
    const lines = trimmed.split('\n').filter((l) => l.trim() !== '');
    if (lines.length > 1 && lines[0]!.trim().startsWith('{')) {
      if (lines.length > MAX_FINDINGS) throw tooMany(path, lines.length);
      return lines.map((line, index) => {
        try {
          return JSON.parse(line);
        } catch {
          throw invalid(
            path,
            index === lines.length - 1 ? `line ${index + 1} is cut off: the report is truncated` : `line ${index + 1} is not JSON`,
          );
        }
      });
    }
    const cut = /Unexpected end|Unterminated|end of JSON/i.test((error as Error).message);
    throw invalid(path, cut ? 'the report ends in the middle of its JSON: it is truncated' : 'the report is not JSON');
  }
}

const isGitleaks = (item: Json) => 'RuleID' in item && ('Secret' in item || 'Match' in item);
const isTrufflehog = (item: Json) => 'DetectorName' in item || ('SourceMetadata' in item && ('Raw' in item || 'RawV2' in item));
const isSecretlint = (item: Json) => 'filePath' in item && Array.isArray(item.messages);

function gitleaks(item: Json): LeakFinding {
  return {
    scanner: 'gitleaks',
    rule: str(item.RuleID) ?? 'unknown rule',
    file: str(item.File),
    line: num(item.StartLine),
    commit: str(item.Commit),
    texts: [...unmasked(item.Secret), ...unmasked(item.Match)],
  };
}

function trufflehog(item: Json): LeakFinding {
  const data = isObject(item.SourceMetadata) && isObject(item.SourceMetadata.Data) ? item.SourceMetadata.Data : {};
  // The source's own block: Git, Github, Gitlab, Filesystem, Docker...; the first that names a file or a line.
  const source = Object.values(data).find(isObject) ?? {};
  return {
    scanner: 'trufflehog',
    rule: str(item.DetectorName) ?? str(item.DetectorType) ?? 'unknown detector',
    file: str(source.file),
    line: num(source.line),
    commit: str(source.commit),
    texts: [...unmasked(item.Raw), ...unmasked(item.RawV2)],
  };
}

function secretlint(item: Json): LeakFinding[] {
  const content = str(item.sourceContent);
  return (item.messages as unknown[]).filter(isObject).map((message) => {
    const range = Array.isArray(message.range) ? message.range : [];
    const [start, end] = [num(range[0]), num(range[1])];
    const inSource = content && start !== null && end !== null && end > start ? [content.slice(start, end)] : [];
    const data = isObject(message.data) ? Object.values(message.data).flatMap(unmasked) : [];
    const loc = isObject(message.loc) && isObject(message.loc.start) ? num(message.loc.start.line) : null;
    return {
      scanner: 'secretlint' as const,
      rule: str(message.ruleId) ?? 'unknown rule',
      file: str(item.filePath),
      line: loc,
      commit: null,
      texts: [...inSource, ...data],
    };
  });
}

/** Reads a report's text into findings, or throws (exit 2) naming what is wrong with it. */
export function parseLeakReport(path: string, text: string): { scanner: Scanner | null; findings: LeakFinding[] } {
  const documents = parseDocuments(path, text);
  const items = documents.length === 1 && Array.isArray(documents[0]) ? (documents[0] as unknown[]) : documents;
  if (items.length > MAX_FINDINGS) throw tooMany(path, items.length);
  if (items.length === 0) return { scanner: null, findings: [] };
  if (!items.every(isObject)) throw invalid(path, 'no known format: expected a list of findings (objects)');
  const objects = items as Json[];
  if (objects.every(isGitleaks)) return { scanner: 'gitleaks', findings: objects.map(gitleaks) };
  if (objects.every(isTrufflehog)) return { scanner: 'trufflehog', findings: objects.map(trufflehog) };
  if (objects.every(isSecretlint)) {
    const findings = objects.flatMap(secretlint);
    if (findings.length > MAX_FINDINGS) throw tooMany(path, findings.length);
    return { scanner: 'secretlint', findings };
  }
  throw invalid(
    path,
    'no known format: the findings are not those of gitleaks (RuleID, Secret), trufflehog (DetectorName, Raw) or secretlint (filePath, messages)',
  );
}
