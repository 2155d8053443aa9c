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

const laneSchema = z
  .strictObject({
    name: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, 'letters, digits, "_" and "-" only, 1 to 32 characters'),
    direction: z.enum(['in', 'out']),
    /** Overrides the checkpoint's confirmation mode for this lane. */
    confirm: confirmSchema.optional(),
    /** An operator stands at this lane; defaults to true exactly when the lane confirms manually. */
    attended: z.boolean().optional(),
    scanner: scannerConfigSchema,
    gpio: gpioConfigSchema,
  });

const policySchema = z.strictObject({
  /** The same credential at the same lane within this window is a `duplicate`: no second pulse. */
  debounceMs: z.number().int().min(0).max(600_000).default(3000),
  relayPulseMs: z.number().int().min(50).max(60_000).default(1000),
  manualTimeoutMs: z.number().int().min(1000).max(600_000).default(15_000),
  /** How long after the relay pulse a passage sensor may still report the person passing. */
  passageGraceMs: z.number().int().min(0).max(60_000).default(2000),
  onStaleList: z.enum(['deny', 'manual', 'allow-known']).default('deny'),
  antiPassback: z.enum(['off', 'soft', 'hard']).default('off'),
  /** A passage older than this no longer counts for anti-passback: nobody is locked out for good by a missed exit scan. */
  antiPassbackWindowMs: z.number().int().min(60_000).default(12 * 3600_000),
});

const logSchema = z.strictObject({ level: z.enum(['trace', 'debug', 'info', 'warn', 'error']).default('info') });

const storageSchema = z.strictObject({
  /**
   * false: WAL with synchronous=NORMAL — survives any process crash (SIGKILL, OOM), may lose
   * the last moments on power loss. true: synchronous=FULL — an fsync per decision, survives
   * power loss, costs SD-card write latency on every scan. See docs/terminal.md.
   */
  powerLossSafe: z.boolean().default(false),
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
    terminalId: terminalIdSchema,
    checkpoint: z.strictObject({
      code: checkpointCodeSchema,
      name: z.string().min(1).max(200),
      confirm: confirmSchema.default('auto'),
    }),
    dataDir: z.string().min(1),
    keys: z.strictObject({
      listPublicKeys: z.array(z.string().min(1)).min(1, 'at least one list authority public key'),
      refKey: z.string().min(1),
    }),
    lists: z.array(listScopeSchema).min(1, 'at least one list scope'),
    lanes: z.array(laneSchema).min(1, 'at least one lane'),
    policy: policySchema.default(() => policySchema.parse({})),
    storage: storageSchema.default(() => storageSchema.parse({})),
    log: logSchema.optional(),
    /** The MQTT uplink (gateway/uplink/config.ts); without it the terminal runs offline. */
    central: uplinkConfigSchema.optional(),
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
