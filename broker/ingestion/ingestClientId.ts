/**
 * The client id `qrgate ingest` uses on a third-party broker unless told otherwise. Its own
 * module: the Mosquitto ACL names it too, and that must not load the MQTT client library.
 */
export const defaultIngestClientId = 'qrgate-ingest';
