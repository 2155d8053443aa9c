/**
 * A strict reader of the Prometheus text format 0.0.4, for tests that check what a scrape
 * says: a line it cannot read throws, so a broken exposition fails the test.
 */

/** One sample of the text format 0.0.4: `name{label="value",…} number`. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const samplePattern = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const labelPattern = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)/gy;
const unescape = (value: string): string => value.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));

export function parseExposition(text: string): { types: Map<string, string>; samples: Sample[] } {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ')) continue;
    const type = /^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type) {
      types.set(type[1]!, type[2]!);
      continue;
    }
    const sample = samplePattern.exec(line);
    if (!sample) throw new Error(`not an exposition line: ${JSON.stringify(line)}`);
    const labels: Record<string, string> = {};
    const body = sample[2] ?? '';
    labelPattern.lastIndex = 0;
    while (labelPattern.lastIndex < body.length) {
      const label = labelPattern.exec(body);
      if (!label) throw new Error(`bad labels in ${JSON.stringify(line)}`);
      labels[label[1]!] = unescape(label[2]!);
    }
    // Prometheus reads values with Go's ParseFloat, which takes any case of NaN and Inf;
    // prom-client writes `Nan` (the event-loop lag before its first sample).
    const raw = sample[3]!.toLowerCase();
    const value = raw === '+inf' ? Infinity : raw === '-inf' ? -Infinity : raw === 'nan' ? Number.NaN : Number(raw);
    if (Number.isNaN(value) && raw !== 'nan') throw new Error(`bad value in ${JSON.stringify(line)}`);
    samples.push({ name: sample[1]!, labels, value });
  }
  return { types, samples };
}

/** The value of the sample with exactly these labels, or undefined. */
export function sampleValue(samples: readonly Sample[], name: string, labels: Readonly<Record<string, string>> = {}): number | undefined {
  const wanted = JSON.stringify(Object.entries(labels).sort());
  return samples.find((s) => s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === wanted)?.value;
}
