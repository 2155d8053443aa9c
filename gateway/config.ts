import { z } from 'zod';
import { checkpointCodeSchema } from '../protocol/checkpointCode.js';
import { listScopeSchema } from '../protocol/lists/index.js';
import { deepFreeze, loadJsonConfig, resolveFrom } from '../protocol/configFile.js';
import { gpioConfigSchema } from '../hardware/gpio/config.js';
import { scannerConfigSchema } from '../hardware/scanners/config.js';
import { uplinkConfigSchema, resolveUplinkPaths } from './uplink/config.js';
import { terminalIdSchema } from '../protocol/terminalId.js';

export { terminalIdSchema };

/**
 * The terminal's configuration (DESIGN.md "Terminal configuration"). Objects are strict:
 * a misspelt field is reported, not silently ignored while its default applies.
 */

/** Ids end up inside MQTT topics: no `+`, `#`, `/` or NUL can ever reach one. */

const confirmSchema = z.enum(['auto', 'manual']);
const confirmText = '`auto`: a valid credential opens at once; `manual`: an operator confirms each scan';

const laneSchema = z
  .strictObject({
    name: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, 'letters, digits, "_" and "-" only, 1 to 32 characters').describe('names the lane in logs and events, e.g. `in`'),
    direction: z.enum(['in', 'out']).describe('a grant here is an entry or an exit (anti-passback, events)'),
    confirm: confirmSchema.optional().describe(`this lane's own confirmation, instead of the checkpoint's: ${confirmText}`),
    attended: z.boolean().optional().describe('an operator stands at this lane; default: true exactly when the lane confirms manually'),
    scanner: scannerConfigSchema.describe('the QR scanner, one of the types below'),
    gpio: gpioConfigSchema.describe("the lane's LEDs, buzzer, relay and buttons"),
  });

const policySchema = z.strictObject({
  debounceMs: z.number().int().min(0).max(600_000).default(3000).describe('the same credential at the same lane within this window (ms) is a `duplicate`: no second pulse'),
  relayPulseMs: z.number().int().min(50).max(60_000).default(1000).describe('how long a grant energises the relay, ms'),
  manualTimeoutMs: z.number().int().min(1000).max(600_000).default(15_000).describe('a pending scan nobody confirms or rejects within this (ms) is refused as `timeout`'),
  passageGraceMs: z.number().int().min(0).max(60_000).default(2000).describe('how long after the relay pulse (ms) a passage sensor may still report the person passing'),
  onStaleList: z
    .enum(['deny', 'manual', 'allow-known'])
    .default('deny')
    .describe('with an expired list: `deny` refuses everyone, `manual` asks the operator, `allow-known` lets `allow` entries in'),
  antiPassback: z
    .enum(['off', 'soft', 'hard'])
    .default('off')
    .describe('the same direction twice in a row: `soft` passes with `passback: true` on the event, `hard` refuses'),
  // Nobody is locked out for good by a missed exit scan.
  antiPassbackWindowMs: z.number().int().min(60_000).default(12 * 3600_000).describe('a passage older than this (ms) no longer counts for anti-passback'),
});

const logSchema = z.strictObject({ level: z.enum(['trace', 'debug', 'info', 'warn', 'error']).default('info').describe('the lowest level logged') });

const storageSchema = z.strictObject({
  powerLossSafe: z
    .boolean()
    .default(false)
    .describe(
      'false: survives any process crash (SIGKILL, OOM), may lose the last moments on power loss; true: an fsync per decision, survives power loss, costs SD-card write latency on every scan',
    ),
});

/**
 * Lane rules across fields. Runs even when other fields are bad, so one pass names every
 * problem: the value may be only partly valid here, hence the defensive reads.
 */
function checkLanes(config: { lanes?: unknown; checkpoint?: { confirm?: unknown } } | undefined, ctx: z.RefinementCtx): void {
  const lanes: unknown[] = Array.isArray(config?.lanes) ? config.lanes : [];
  const checkpointConfirm = config?.checkpoint?.confirm ?? 'auto';
  const seen = new Set<unknown>();
  lanes.forEach((value, i) => {
    const lane = (value ?? {}) as { name?: unknown; confirm?: unknown; attended?: unknown };
    if (seen.has(lane.name)) {
      ctx.addIssue({ code: 'custom', path: ['lanes', i, 'name'], message: `duplicate lane name "${String(lane.name)}"` });
    }
    seen.add(lane.name);
    if ((lane.confirm ?? checkpointConfirm) === 'manual' && lane.attended === false) {
      ctx.addIssue({
        code: 'custom',
        path: ['lanes', i, 'attended'],
        message: 'a manual-confirm lane needs an operator: set attended to true or confirm to "auto"',
      });
    }
  });
}

export const terminalConfigSchema = z
  .strictObject({
    terminalId: terminalIdSchema.describe("the terminal's identity at the central and its MQTT username, e.g. `t-3f9a0c12b4`"),
    checkpoint: z
      .strictObject({
        code: checkpointCodeSchema.describe('its 14-digit code, check digit included'),
        name: z.string().min(1).max(200).describe('its name, e.g. `Cổng A`'),
        confirm: confirmSchema.default('auto').describe(confirmText),
      })
      .describe('the checkpoint this terminal serves, as the central registered it'),
    dataDir: z.string().min(1).describe("the terminal's folder: outbox, lists, lock; relative to the config file's folder"),
    keys: z
      .strictObject({
        listPublicKeys: z
          .array(z.string().min(1))
          .min(1, 'at least one list authority public key')
          .describe('Ed25519 public key files (PEM) a list must be signed by; two during a key rotation'),
        refKey: z.string().min(1).describe("the ref key file: turns an ID number into its credential ref, so no raw ID is stored"),
      })
      .describe("key files, relative to the config file's folder"),
    lists: z.array(listScopeSchema).min(1, 'at least one list scope').describe('the list scopes this terminal holds and syncs, e.g. `["site-a"]`'),
    lanes: z.array(laneSchema).min(1, 'at least one lane').describe('one per scanner, with its outputs and inputs'),
    policy: policySchema.default(() => policySchema.parse({})).describe('how scans are decided'),
    storage: storageSchema.default(() => storageSchema.parse({})).describe('how hard the outbox holds on to a decision'),
    log: logSchema.optional().describe('logging'),
    central: uplinkConfigSchema.optional().describe('the MQTT uplink (gateway/uplink/config.ts); without it the terminal runs offline'),
  })
  .superRefine(checkLanes, { when: () => true });

/**
 * A terminal's hardware alone, before it has an identity (`qrgate terminal --enroll`,
 * gateway/enroll): where its data lives and how its lanes are wired. Enrollment adds the
 * rest (docs/enrollment.md).
 */
export const hardwareConfigSchema = z
  .strictObject({
    dataDir: z.string().min(1),
    lanes: z.array(laneSchema).min(1, 'at least one lane'),
    policy: policySchema.optional(),
    storage: storageSchema.optional(),
    log: logSchema.optional(),
    /**
     * PEM file of the CA that signed the central's certificate, for an `mqtts://` QR when the
     * system's CA store does not know it; becomes `central.ca` of the enrolled config.
     */
    centralCa: z.string().min(1).optional(),
  })
  .superRefine(checkLanes, { when: () => true });
export type HardwareConfig = z.output<typeof hardwareConfigSchema>;

/** Reads and validates a hardware config (`qrgate terminal --enroll`); throws ConfigError naming every bad field. */
export function loadHardwareConfig(file: string): HardwareConfig {
  return deepFreeze(loadJsonConfig(file, hardwareConfigSchema));
}

export type TerminalConfigInput = z.input<typeof terminalConfigSchema>;
type ParsedConfig = z.output<typeof terminalConfigSchema>;
type ParsedLane = ParsedConfig['lanes'][number];

export interface LaneConfig extends Omit<ParsedLane, 'confirm' | 'attended'> {
  readonly confirm: 'auto' | 'manual';
  readonly attended: boolean;
}

export interface TerminalConfig extends Omit<ParsedConfig, 'lanes'> {
  readonly lanes: readonly LaneConfig[];
  /** The file it was read from; relative paths in it are already resolved. */
  readonly file: string;
}

/** A lane's confirmation as configured or the checkpoint's, and whether someone stands at it (manual lanes by default). */
export function withLaneDefaults(lane: ParsedLane, checkpointConfirm: 'auto' | 'manual'): LaneConfig {
  const confirm = lane.confirm ?? checkpointConfirm;
  return { ...lane, confirm, attended: lane.attended ?? confirm === 'manual' };
}

/** Reads and validates a terminal config; throws ConfigError naming every bad field. */
export function loadTerminalConfig(file: string): TerminalConfig {
  const parsed = loadJsonConfig(file, terminalConfigSchema);
  const lanes = parsed.lanes.map((lane) => withLaneDefaults(lane, parsed.checkpoint.confirm));
  return deepFreeze({
    ...parsed,
    file,
    lanes,
    dataDir: resolveFrom(file, parsed.dataDir),
    keys: {
      listPublicKeys: parsed.keys.listPublicKeys.map((p) => resolveFrom(file, p)),
      refKey: resolveFrom(file, parsed.keys.refKey),
    },
    central: parsed.central === undefined ? undefined : resolveUplinkPaths(file, parsed.central),
  });
}
