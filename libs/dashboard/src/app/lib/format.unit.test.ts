import { describe, expect, it } from 'vitest';
import { duration, millis, short, timeLeft } from './format.ts';

describe('format', () => {
  it('time left counts down and turns urgent in the last minute, then says how long ago it expired', () => {
    const now = Date.parse('2026-05-01T12:00:00Z');
    expect(timeLeft('2026-05-01T12:04:05Z', now)).toEqual({ text: '4m 05s left', expired: false, urgent: false });
    expect(timeLeft('2026-05-01T12:00:30Z', now)).toEqual({ text: '30s left', expired: false, urgent: true });
    expect(timeLeft('2026-05-01T11:59:48Z', now)).toEqual({ text: 'expired 12s ago', expired: true, urgent: true });
    expect(timeLeft('soon', now).text).toBe('unknown deadline');
  });
  it('durations, latencies and digests read compactly', () => {
    expect(duration(850)).toBe('850 ms');
    expect(duration(2 * 3_600_000 + 3 * 60_000)).toBe('2h 03m');
    expect(duration(3 * 86_400_000 + 4 * 3_600_000)).toBe('3d 4h');
    expect(millis(0.42)).toBe('0.42 ms');
    expect(millis(1234)).toBe('1.2 s');
    expect(millis(null)).toBe('–');
    expect(short('sha256:0123456789abcdef0123')).toBe('sha256:0123456789ab…');
    expect(short('abc')).toBe('abc');
  });
});
