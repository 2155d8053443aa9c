import type { Server } from 'node:net';

/**
 * Opening a listening socket with an error a person can act on: which setting to change,
 * not just EADDRINUSE. Shared by the MQTT, MQTT-over-TLS and HTTP listeners.
 */

export type ListenProblem = 'port-in-use' | 'port-not-permitted' | 'host-not-available' | 'listen-failed';

export class ListenError extends Error {
  constructor(
    readonly code: ListenProblem,
    /** The config setting to change, e.g. `mqtt.port`. */
    readonly setting: string,
    message: string,
  ) {
    super(message);
    this.name = 'ListenError';
  }
}

export interface ListenTarget {
  readonly host: string;
  readonly port: number;
  /** Config paths named in errors, e.g. `mqtt.host` / `mqtt.port`. */
  readonly hostSetting: string;
  readonly portSetting: string;
}

function explain(err: NodeJS.ErrnoException, target: ListenTarget): ListenError {
  const { host, port, hostSetting, portSetting } = target;
  switch (err.code) {
    case 'EADDRINUSE':
      return new ListenError('port-in-use', portSetting, `${portSetting} ${port} is in use: choose another port or 0`);
    case 'EACCES':
      return new ListenError('port-not-permitted', portSetting, `${portSetting} ${port} needs privileges this process lacks: choose a port above 1023 or 0`);
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
      return new ListenError('host-not-available', hostSetting, `${hostSetting} ${host} is not an address of this machine`);
    default:
      return new ListenError('listen-failed', portSetting, `cannot listen on ${host}:${port} (${portSetting}): ${err.code ?? err.message}`);
  }
}

/** Resolves with the port actually bound (the OS picks one for port 0). */
export function listen(server: Server, target: ListenTarget): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => reject(explain(err, target));
    server.once('error', onError);
    server.listen(target.port, target.host, () => {
      server.removeListener('error', onError);
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : target.port);
    });
  });
}

/** Stops accepting and resolves once every connection has ended; fine on a server that never listened. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
  });
}
