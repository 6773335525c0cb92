import { newClusterId } from '../../../infra/services/kafka';

describe('the local broker’s KRaft cluster id', () => {
  it('is 16 bytes in URL-safe base64 without padding', () => {
    for (let i = 0; i < 200; i += 1) {
      const id = newClusterId();
      expect(id).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
      expect(Buffer.from(id, 'base64url')).toHaveLength(16);
    }
  });

  it('is drawn again when it would start with "-", which the storage tool reads as an option', () => {
    // 0xF8 puts 62 in the first six bits: "-" in URL-safe base64.
    const draws = [Buffer.alloc(16, 0xf8), Buffer.alloc(16, 0xf8), Buffer.alloc(16, 0x41)];
    let drawn = 0;
    const id = newClusterId(() => draws[drawn++]!);
    expect(Buffer.alloc(16, 0xf8).toString('base64url').startsWith('-')).toBe(true);
    expect(drawn).toBe(3);
    expect(id).toBe(Buffer.alloc(16, 0x41).toString('base64url'));
  });
});
