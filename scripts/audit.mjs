// `npm audit` of the runtime dependencies (what the image ships): exit 1 when any has a high or
// critical advisory. When npm cannot reach the advisory database (no network, a registry or proxy
// without the audit endpoint), the audit did not happen: that is said loudly, never as a pass, and
// the exit code is 0, because a network problem is not a finding about the code.
//
//   node scripts/audit.mjs                 runs `npm audit --omit=dev --json`
//   node scripts/audit.mjs --report FILE   judges a report saved from that command
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

export const BLOCKING_SEVERITIES = ['critical', 'high'];
const NOTED_SEVERITIES = ['moderate', 'low', 'info'];

const isObject = (value) => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * What a report of `npm audit --json` means. Returns { outcome, exitCode, lines } where outcome is
 * 'passed' (no high or critical advisory), 'failed' (some), 'not-run' (the advisory database could
 * not be asked) or 'error' (npm failed for another reason, or printed something unknown).
 */
export function judgeAudit(stdout) {
  let report;
  try {
    report = JSON.parse(stdout);
  } catch {
    const start = stdout.trim().slice(0, 200);
    return error(`npm audit printed no JSON report${start ? `: ${start}` : ' (empty output)'}`);
  }
  if (!isObject(report)) return error(`npm audit printed ${JSON.stringify(report)}, not a report`);
  if (report.auditReportVersion === 2 && isObject(report.vulnerabilities)) return judgeReport(report);
  const unreachable = endpointFailure(report);
  if (unreachable !== undefined) return notRun(unreachable);
  const failure = isObject(report.error) ? report.error : {};
  const code = typeof failure.code === 'string' ? `${failure.code}: ` : '';
  const summary = typeof failure.summary === 'string' && failure.summary ? failure.summary : stdout.trim();
  return error(`npm audit failed: ${code}${summary}`);
}

/**
 * npm prints `{message, uri, statusCode, …}` when its request to the advisory endpoint fails: an
 * HTTP error (e.g. 405 from a registry that has no such endpoint) or a connection error.
 */
function endpointFailure(report) {
  if (typeof report.message !== 'string') return undefined;
  const aboutEndpoint = /\/-\/npm\/v1\/security\//.test(report.message) || typeof report.uri === 'string';
  return aboutEndpoint ? report.message : undefined;
}

function judgeReport(report) {
  const entries = Object.values(report.vulnerabilities).filter(isObject);
  const blocking = entries.filter((v) => BLOCKING_SEVERITIES.includes(v.severity));
  // npm's own totals must agree: a count with no entry to show is still a failure.
  const totals =
    isObject(report.metadata) && isObject(report.metadata.vulnerabilities)
      ? report.metadata.vulnerabilities
      : {};
  const counted = BLOCKING_SEVERITIES.reduce(
    (sum, s) => sum + (typeof totals[s] === 'number' ? totals[s] : 0),
    0,
  );
  const noted = entries.filter((v) => NOTED_SEVERITIES.includes(v.severity));
  const lines = [];
  for (const v of [...blocking, ...noted]) lines.push(describe(v));
  const counts =
    isObject(report.metadata) && isObject(report.metadata.dependencies) ? report.metadata.dependencies : {};
  const scope =
    typeof counts.prod === 'number' ? `${counts.prod} runtime dependencies` : 'runtime dependencies';
  if (blocking.length > 0 || counted > 0) {
    lines.push(
      `npm audit FAILED: ${Math.max(blocking.length, counted)} runtime package(s) with high or critical advisories (${scope} audited)`,
    );
    return { outcome: 'failed', exitCode: 1, lines };
  }
  lines.push(
    `npm audit passed: no high or critical advisories in ${scope}` +
      (noted.length > 0 ? ` (${noted.length} lower-severity finding(s) listed above)` : ''),
  );
  return { outcome: 'passed', exitCode: 0, lines };
}

function describe(v) {
  const name = typeof v.name === 'string' ? v.name : '(unnamed)';
  const via = Array.isArray(v.via) ? v.via : [];
  const advisories = via.filter(isObject).map((a) => `${String(a.title)} ${String(a.url)}`);
  const through = via.filter((a) => typeof a === 'string');
  const how = [
    v.isDirect === true ? 'direct dependency' : 'indirect',
    ...(through.length > 0 ? [`through ${through.join(', ')}`] : []),
    ...advisories,
    v.fixAvailable === false ? 'no fix available' : 'fix available',
  ];
  return `  ${String(v.severity)}: ${name} ${String(v.range ?? '')} — ${how.join('; ')}`;
}

function notRun(reason) {
  return {
    outcome: 'not-run',
    exitCode: 0,
    lines: [
      '!'.repeat(100),
      `npm audit DID NOT RUN: the advisory database could not be reached from here (${reason}).`,
      'The runtime dependencies were NOT checked for advisories. This is not a pass: run the audit where',
      'the npm registry is reachable. Exit status 0 only because a network problem is not a finding.',
      '!'.repeat(100),
    ],
  };
}

function error(message) {
  return { outcome: 'error', exitCode: 1, lines: [message] };
}

function runNpmAudit() {
  // shell: npm is npm.cmd on Windows; no user input reaches the command line.
  const result = spawnSync('npm', ['audit', '--omit=dev', '--json'], {
    encoding: 'utf8',
    shell: process.platform === 'win32',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error) return { stdout: '', problem: `cannot run npm: ${result.error.message}` };
  return { stdout: result.stdout, stderr: result.stderr };
}

function main(argv) {
  let stdout;
  let stderr = '';
  if (argv[0] === '--report' && argv[1] !== undefined && argv.length === 2) {
    stdout = readFileSync(argv[1], 'utf8');
  } else if (argv.length === 0) {
    const ran = runNpmAudit();
    if (ran.problem !== undefined) {
      console.error(ran.problem);
      return 1;
    }
    stdout = ran.stdout;
    stderr = ran.stderr;
  } else {
    console.error('usage: node scripts/audit.mjs [--report FILE]');
    return 2;
  }
  const verdict = judgeAudit(stdout);
  const print = verdict.outcome === 'passed' ? console.log : console.error;
  if (verdict.outcome === 'error' && stderr.trim()) console.error(stderr.trimEnd());
  for (const line of verdict.lines) print(line);
  return verdict.exitCode;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = main(process.argv.slice(2));
}
