import { describe, expect, it } from 'vitest';
import { brokerForLogs } from '../../protocol/brokerUrl.js';
import { refusedTopics, subscribeRefused } from '../../protocol/subscribeRefusal.js';
import { tokenHash } from '../../protocol/tokenHash.js';

describe('SUBACK refusal check', () => {
  it('names every refused filter, not only the first, and counts a granted QoS 0, 1 or 2 as granted', () => {
    const granted = [
      { topic: 'a/#', qos: 1 },
      { topic: 'b/#', qos: 0x80 },
      { topic: 'c/#', qos: 0 },
      { topic: 'd/#', qos: 128 },
      { topic: 'e/#', qos: 2 },
    ];
    expect(refusedTopics(granted)).toEqual(['b/#', 'd/#']);
    expect(subscribeRefused(null, granted)).toBe(true);
    expect(subscribeRefused(null, [{ topic: 'a/#', qos: 1 }])).toBe(false);
  });

  it('reads the SUBACK return codes when given: mqtt.js 5 reports a refusal as an error and leaves the grants as requested', () => {
    const requested = [
      { topic: 'a/#', qos: 1 },
      { topic: 'b/#', qos: 1 },
      { topic: 'c/#', qos: 1 },
    ];
    expect(refusedTopics(requested, { granted: [1, 0x80, 0] })).toEqual(['b/#']);
    expect(refusedTopics(requested, { granted: [1, 1, 1] })).toEqual([]);
    expect(refusedTopics(requested, undefined)).toEqual([]);
  });

  it('treats a failed SUBSCRIBE as refused whatever the grants say, and no grants and no error as granted', () => {
    expect(subscribeRefused(new Error('connection closed'), undefined)).toBe(true);
    expect(subscribeRefused(null, undefined)).toBe(false);
    expect(refusedTopics(undefined)).toEqual([]);
  });
});

describe('shared contracts', () => {
  it('brokerForLogs keeps scheme, host and port and drops anything else', () => {
    expect(brokerForLogs('mqtts://central.example:8883')).toBe('mqtts://central.example:8883');
    expect(brokerForLogs('mqtt://user:secret@10.0.0.1:1883/x?y')).toBe('mqtt://10.0.0.1:1883');
  });

  it('tokenHash is the hex SHA-256 both the API tokens and the enrollment desk look secrets up by', () => {
    expect(tokenHash('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});
