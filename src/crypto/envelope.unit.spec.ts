import { newDataKey, open, seal } from './envelope.js';
import { LocalKeyProvider } from './local-key-provider.js';

describe('envelope encryption', () => {
  it('round-trips and refuses tampering, the wrong key, or the wrong place', () => {
    const key = newDataKey();
    const box = seal(key, 'hello', 'body:C1:1');
    expect(box.includes(Buffer.from('hello'))).toBe(false);
    expect(open(key, box, 'body:C1:1').toString()).toBe('hello');
    expect(() => open(newDataKey(), box, 'body:C1:1')).toThrow();
    expect(() => open(key, box, 'body:C2:1')).toThrow();
    const tampered = Buffer.from(box);
    tampered[tampered.length - 1] ^= 1;
    expect(() => open(key, tampered, 'body:C1:1')).toThrow();
  });

  it('derives a different KEK per workspace and version from one master key', async () => {
    const provider = new LocalKeyProvider(newDataKey());
    const dek = newDataKey();
    const wrapped = await provider.wrap('T1', 'v1', dek);
    expect(await provider.unwrap('T1', 'v1', wrapped)).toEqual(dek);
    await expect(provider.unwrap('T1', 'v2', wrapped)).rejects.toThrow();
    await expect(provider.unwrap('T2', 'v1', wrapped)).rejects.toThrow();
    expect(() => new LocalKeyProvider(Buffer.alloc(16))).toThrow('32 bytes');
  });
});
