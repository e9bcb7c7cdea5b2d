/**
 * The metric names a PromQL expression reads (Grafana's $__variables allowed): what remains once
 * strings, label matchers, ranges, grouping clauses, function calls and keywords are taken out.
 * Enough for the expressions sidekick ships; not a PromQL parser.
 */
const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'Inf', 'NaN', 'inf', 'nan']);

export function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const match of bare.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const name = match[0];
    const rest = bare.slice(match.index + name.length);
    if (/^\s*\(/.test(rest) || KEYWORDS.has(name)) continue;
    const before = bare.slice(0, match.index);
    if (/[0-9.]$/.test(before) || /\$$/.test(before)) continue; // 5m, 1e3, $value
    names.add(name);
  }
  return [...names].sort();
}

/** The series names a /metrics page exposes: each family, with a histogram's and summary's parts. */
export function exposedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)/.exec(line);
    if (type) {
      const [, name = '', kind] = type;
      names.add(name);
      if (kind === 'histogram') for (const part of ['_bucket', '_sum', '_count']) names.add(name + part);
      if (kind === 'summary') for (const part of ['_sum', '_count']) names.add(name + part);
      continue;
    }
    const sample = /^([A-Za-z_:][A-Za-z0-9_:]*)[{ ]/.exec(line);
    if (sample?.[1]) names.add(sample[1]);
  }
  return names;
}
