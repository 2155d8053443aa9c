import { z } from 'zod';

/**
 * A terminal's id: its MQTT client id and username, a topic level, a file name. The
 * terminal's config, the central's provisioning and the broker's ACL all check it by this
 * one rule.
 */
export const terminalIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'letters, digits, ".", "_" and "-" only, 1 to 64 characters');
