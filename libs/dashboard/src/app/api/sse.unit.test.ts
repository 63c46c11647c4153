import { describe, expect, it } from 'vitest';
import { createSseParser } from './sse.ts';

describe('createSseParser', () => {
  it('yields events whole, however the stream is cut into chunks', () => {
    const stream = 'event: next\ndata: {"a":1}\n\n:keep-alive\n\nevent: next\r\ndata: {"b":\r\ndata: 2}\r\n\r\nevent: complete\ndata:\n\n';
    for (let size = 1; size <= stream.length; size++) {
      const p = createSseParser();
      const out = [];
      for (let i = 0; i < stream.length; i += size) out.push(...p.push(stream.slice(i, i + size)));
      expect(out, `chunk size ${size}`).toEqual([
        { event: 'next', data: '{"a":1}' },
        { event: 'next', data: '{"b":\n2}' },
        { event: 'complete', data: '' },
      ]);
    }
  });

  it('keeps a line ending in a lone CR until it knows whether LF follows', () => {
    const p = createSseParser();
    expect(p.push('data: x\r')).toEqual([]);
    expect(p.push('\n\r\n')).toEqual([{ event: '', data: 'x' }]);
  });

  it('drops comments and events without data, and resets the event name after each event', () => {
    const p = createSseParser();
    expect(p.push(': ping\n\nevent: next\n\ndata: y\n\n')).toEqual([{ event: '', data: 'y' }]);
  });
});
