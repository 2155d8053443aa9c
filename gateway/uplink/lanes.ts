import type { ScanEvent } from '../../protocol/event.js';

/** What the uplink needs of a lane: its name, its scanner's health, and a remote open. */
export interface UplinkLane {
  readonly name: string;
  scannerConnected(): boolean;
  /** Records a `remote-open` grant, then pulses the relay; null when the lane is not running. */
  remoteOpen(): ScanEvent | null;
}
