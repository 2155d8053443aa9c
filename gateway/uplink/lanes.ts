import type { ScanEvent } from '../../protocol/event.js';
import type { RemoteAnswer } from '../lane.js';

/** What the uplink needs of a lane: its name, its scanner's health, and the central's commands. */
export interface UplinkLane {
  readonly name: string;
  scannerConnected(): boolean;
  /** Records a `remote-open` grant, then pulses the relay; null when the lane is not running. */
  remoteOpen(answer?: RemoteAnswer): ScanEvent | null;
  /** Resolves the pending scan `id` as confirmed / rejected; null when it is not pending here. */
  answerPending(id: string, decision: 'granted' | 'refused', by: string | undefined): ScanEvent | null;
}
