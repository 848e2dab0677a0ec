// The three scanners' real report shapes (gitleaks 8 JSON, trufflehog 3 --json lines, secretlint 11 --format json),
// matched to managed secrets by keyed fingerprint; bad reports refused fast and bounded.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { candidatesOf, matchFindings, withRelated } from '../../src/policy/leak-match.js';
import { MAX_FINDINGS, parseLeakReport } from '../../src/policy/leak-report.js';

const JWT = 'PYf2wAJ2ednttGSjhTZ7cvHZJ_G01a1Sz4r9dchPljU';
const DB_PASSWORD = 'p4ss/w0rd-with-slash';
const DATABASE_URL = `postgresql+asyncpg://app:${encodeURIComponent(DB_PASSWORD)}@db:5432/app`;
const managed = [
  { id: 'jwt', values: [JWT] },
  { id: 'database', values: [DATABASE_URL] },
];
const key = randomBytes(32);

// gitleaks detect --report-format json (gitleaks/gitleaks report/json.go: the Finding struct's fields).
const gitleaks = JSON.stringify([
  {
    RuleID: 'generic-api-key',
    Description: 'Detected a Generic API Key',
    StartLine: 2,
    EndLine: 2,
    StartColumn: 1,
    EndColumn: 55,
    Match: `JWT_SECRET=${JWT}`,
    Secret: JWT,
    File: 'config/settings.env',
    SymlinkFile: '',
    Commit: '0f1e2d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6',
    Entropy: 5.1,
    Author: 'dev',
    Email: 'dev@example.com',
    Date: '2026-12-01T10:00:00Z',
    Message: 'settings',
    Tags: [],
    Fingerprint: '0f1e2d3c:config/settings.env:generic-api-key:2',
  },
]);

// trufflehog git file://. --json: one JSON object per line (pkg/output/json.go).
const trufflehog = [
  {
    SourceMetadata: {
      Data: { Git: { commit: 'abc123', file: '.env.production', email: 'dev@example.com', repository: 'x', timestamp: 't', line: 3 } },
    },
    SourceID: 1,
    SourceType: 16,
    SourceName: 'trufflehog - git',
    DetectorType: 1000,
    DetectorName: 'Postgres',
    DecoderName: 'PLAIN',
    Verified: false,
    Raw: DATABASE_URL,
    RawV2: '',
    Redacted: 'postgresql://app:********@db:5432/app',
    ExtraData: null,
    StructuredData: null,
  },
  {
    SourceMetadata: { Data: { Filesystem: { file: 'notes.txt', line: 1 } } },
    DetectorName: 'AWS',
    Raw: 'AKIAIOSFODNN7EXAMPLE',
    RawV2: 'AKIAIOSFODNN7EXAMPLEwJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  },
]
  .map((line) => JSON.stringify(line))
  .join('\n');

// secretlint --format json (masked, the default): data masked, sourceContent and range intact.
const source = `# prod\nJWT_SECRET=${JWT}\n`;
const secretlint = JSON.stringify([
  {
    filePath: '/repo/config/settings.env',
    sourceContent: source,
    sourceContentType: 'text',
    messages: [
      {
        message: 'found matching ******************: ******',
        range: [7, 7 + 11 + JWT.length],
        type: 'message',
        ruleId: '@secretlint/secretlint-rule-pattern',
        loc: { start: { line: 2, column: 0 }, end: { line: 2, column: 54 } },
        severity: 'error',
        messageId: 'PATTERN',
        data: { PATTERN_NAME: '******************', CREDENTIAL: '******' },
      },
    ],
  },
]);

describe('parseLeakReport and matchFindings', () => {
  it('reads gitleaks and matches its Secret to jwt; the result holds no value', () => {
    const { scanner, findings } = parseLeakReport('r.json', gitleaks);
    expect(scanner).toBe('gitleaks');
    const [match] = matchFindings(findings, managed, key);
    expect(match).toEqual({
      scanner: 'gitleaks',
      rule: 'generic-api-key',
      file: 'config/settings.env',
      line: 2,
      commit: '0f1e2d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6',
      secrets: ['jwt'],
    });
    expect(JSON.stringify(match)).not.toContain(JWT);
  });

  it('says when a finding holds nothing to match (gitleaks --redact), rather than calling it unmanaged without a reason', () => {
    const redacted = JSON.stringify([
      { RuleID: 'generic-api-key', Secret: 'REDACTED', Match: 'JWT_SECRET=REDACTED', File: '.env', StartLine: 2, Commit: 'deadbeef' },
    ]);
    const [match] = matchFindings(parseLeakReport('r.json', redacted).findings, managed, key);
    expect(match).toMatchObject({ rule: 'generic-api-key', secrets: [], redacted: true });
  });

  it('reads trufflehog JSON lines (Git and Filesystem sources); a database URL matches database, an AWS key nothing', () => {
    const { scanner, findings } = parseLeakReport('r.json', trufflehog);
    expect(scanner).toBe('trufflehog');
    const matches = matchFindings(findings, managed, key);
    expect(matches.map((m) => [m.rule, m.file, m.line, m.commit, m.secrets])).toEqual([
      ['Postgres', '.env.production', 3, 'abc123', ['database']],
      ['AWS', 'notes.txt', 1, null, []],
    ]);
    // The same as a JSON array.
    const array = `[${trufflehog.split('\n').join(',')}]`;
    expect(parseLeakReport('r.json', array).findings).toHaveLength(2);
  });

  it('reads a masked secretlint report through sourceContent and range', () => {
    const { scanner, findings } = parseLeakReport('r.json', secretlint);
    expect(scanner).toBe('secretlint');
    expect(matchFindings(findings, managed, key)[0]).toMatchObject({ file: '/repo/config/settings.env', line: 2, secrets: ['jwt'] });
  });

  it('finds a value as a whole, as the value of KEY=value, as a URL password, or inside a longer match', () => {
    expect(candidatesOf(`export JWT_SECRET="${JWT}";`)).toContain(JWT);
    expect(candidatesOf(DATABASE_URL)).toContain(DB_PASSWORD);
    const password = parseLeakReport('r.json', JSON.stringify([{ RuleID: 'x', Secret: DB_PASSWORD, File: 'a' }])).findings;
    expect(matchFindings(password, managed, key)[0]!.secrets).toEqual(['database']);
    const inside = parseLeakReport('r.json', JSON.stringify([{ RuleID: 'x', Match: `token: Bearer ${JWT} end`, File: 'a' }])).findings;
    expect(matchFindings(inside, managed, key)[0]!.secrets).toEqual(['jwt']);
    // A masked gitleaks report (--redact) holds nothing to match.
    const redacted = parseLeakReport(
      'r.json',
      JSON.stringify([{ RuleID: 'x', Secret: 'REDACTED', Match: 'REDACTED', File: 'a' }]),
    ).findings;
    expect(matchFindings(redacted, managed, key)[0]!.secrets).toEqual([]);
  });

  it('refuses an unknown format, a truncated report and a report that is not JSON, naming why, never a value', () => {
    const code = (text: string) => {
      try {
        parseLeakReport('r.json', text);
        return 'parsed';
      } catch (error) {
        return `${(error as { code: string }).code}: ${(error as Error).message}`;
      }
    };
    expect(code(JSON.stringify([{ foo: 1 }]))).toMatch(/^LEAK_REPORT_INVALID: r\.json: no known format/);
    expect(code(JSON.stringify({ findings: [] }))).toMatch(/^LEAK_REPORT_INVALID: r\.json: no known format/);
    expect(code(gitleaks.slice(0, 200))).toMatch(/^LEAK_REPORT_INVALID: .*truncated/);
    expect(code(trufflehog.slice(0, trufflehog.length - 20))).toMatch(
      /^LEAK_REPORT_INVALID: r\.json: line 2 is cut off: the report is truncated/,
    );
    expect(code('not json at all')).toMatch(/not JSON/);
    expect(code(gitleaks.slice(0, 200))).not.toContain(JWT);
    expect(parseLeakReport('r.json', '[]')).toEqual({ scanner: null, findings: [] });
  });

  it('refuses 100,000 findings quickly (exit 2), as an array and as JSON lines', () => {
    const one = JSON.parse(gitleaks)[0];
    const many = JSON.stringify(Array.from({ length: 100_000 }, () => one));
    const lines = Array.from({ length: 100_000 }, () => trufflehog.split('\n')[0]).join('\n');
    const started = performance.now();
    expect(() => parseLeakReport('r.json', many)).toThrow(/100,000 findings or more; rotate leak reads at most 10,000/);
    expect(() => parseLeakReport('r.json', lines)).toThrow(/LEAK_REPORT_TOO_MANY|100,000 findings/);
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(MAX_FINDINGS).toBe(10_000);
  });

  it('matches 10,000 findings against the managed secrets in well under a second', () => {
    const findings = Array.from({ length: MAX_FINDINGS }, (_, i) => ({
      scanner: 'gitleaks' as const,
      rule: 'r',
      file: `f${i}`,
      line: i,
      commit: null,
      texts: [`KEY=${randomBytes(24).toString('base64url')}`],
    }));
    const started = performance.now();
    expect(matchFindings(findings, managed, key).every((m) => m.secrets.length === 0)).toBe(true);
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('adds the related secrets, transitively, in config order', () => {
    const related: Record<string, string[]> = { jwt: ['jwt-refresh'], 'jwt-refresh': ['session'] };
    expect(withRelated(['jwt'], (id) => related[id] ?? [], ['database', 'jwt', 'jwt-refresh', 'session'])).toEqual({
      rotate: ['jwt', 'jwt-refresh', 'session'],
      relatedOnly: ['jwt-refresh', 'session'],
    });
  });
});
