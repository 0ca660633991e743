import 'reflect-metadata';
import { readdirSync, readFileSync } from 'node:fs';
import { plainToInstance } from 'class-transformer';
import { getMetadataStorage, IsBoolean, IsInt, IsOptional, IsString, validateSync } from 'class-validator';
import { SlackError } from '../../src/domain/slack-error.js';
import { slack, slackValidation, ToBoolean } from '../../src/api/slack-args.js';

// slackValidation keeps class-validator's rules per class (src/api/slack-args.ts): what it checks
// must stay what class-validator checks, classes defined after the first validation included.
const args = (metatype: new () => object) => ({ type: 'custom' as const, metatype, data: undefined });
const refusal = (value: object, metatype: new () => object) => {
  try {
    slackValidation.transform(value, args(metatype));
    return undefined;
  } catch (err) {
    return err instanceof SlackError ? err.code : err;
  }
};

describe('slackValidation', () => {
  class Base {
    @IsString(slack('no_text'))
    text: string;
  }

  it('validates the same way on every call, and strips unknown arguments', () => {
    for (let i = 0; i < 3; i++) {
      expect(refusal({ text: 1 }, Base)).toBe('no_text');
      const ok = slackValidation.transform({ text: 'hi', extra: 1 }, args(Base)) as Base;
      expect(ok).toBeInstanceOf(Base);
      expect(ok).toEqual({ text: 'hi' });
    }
  });

  it('sees the rules of a class defined after others were validated, inherited ones included', () => {
    expect(refusal({ text: 1 }, Base)).toBe('no_text');
    class Later extends Base {
      @IsInt(slack('invalid_limit'))
      limit: number;
    }
    expect(refusal({ text: 'hi', limit: 'x' }, Later)).toBe('invalid_limit');
    expect(refusal({ text: 2, limit: 1 }, Later)).toBe('no_text');
    expect(refusal({ text: 'hi', limit: 1 }, Later)).toBeUndefined();
    // The earlier class did not gain the later one's rule.
    expect(slackValidation.transform({ text: 'hi', limit: 'x' }, args(Base))).toEqual({ text: 'hi' });
  });

  it('sees a rule added to a class it has validated before', () => {
    class Grows {
      @IsString(slack('no_text'))
      text: string;
    }
    expect(slackValidation.transform({ text: 'hi', size: 'x' }, args(Grows))).toEqual({ text: 'hi' });
    IsInt(slack('invalid_size'))(Grows.prototype, 'size');
    expect(refusal({ text: 'hi', size: 'x' }, Grows)).toBe('invalid_size');
  });

  it('answers synchronously with an instance of the class, its transforms applied', () => {
    class Flagged {
      @IsString(slack('no_text'))
      text: string;

      @IsOptional()
      @ToBoolean()
      @IsBoolean()
      flag?: boolean;
    }
    const out = slackValidation.transform({ text: 'hi', flag: '1' }, args(Flagged));
    expect(out).toBeInstanceOf(Flagged);
    expect(out).toEqual({ text: 'hi', flag: true });
    expect(refusal({ text: 'hi', flag: 'maybe' }, Flagged)).toBe('invalid_arguments');
  });

  it('drops prototype keys before copying, refuses arguments that are not an object, passes built-in types through', () => {
    const value = JSON.parse('{"text":"hi","__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}') as object;
    const out = slackValidation.transform(value, args(Base)) as Record<string, unknown>;
    expect(out).toEqual({ text: 'hi' });
    expect(out.polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(refusal(['hi'] as unknown as object, Base)).toBe('invalid_arguments');
    const caller = { user: 'U1' };
    expect(slackValidation.transform(caller, { type: 'custom', metatype: Object, data: undefined })).toBe(caller);
    expect(slackValidation.transform({ text: 'hi' }, { type: 'custom', data: undefined })).toEqual({ text: 'hi' });
  });
});

// The pipe decides the accept path with each class's rules compiled once (compileRules) and leaves
// refusals to validateSync: for every argument class in src/, on seeded random arguments, it must
// accept exactly what validateSync accepts, and hand back the same whitelisted instance.
describe('slackValidation against validateSync, every argument class of the app', () => {
  const VALUES: unknown[] = [
    undefined,
    null,
    '',
    'x',
    'C123ABC',
    'U123',
    '#general',
    'true',
    'false',
    '1',
    '0',
    '12',
    '-3',
    '1234567890123',
    'a'.repeat(81),
    'a'.repeat(2001),
    'http://example.com/a.png',
    'ftp://x',
    'not a url',
    '6f1f5d2e-1b2c-4d3e-8f9a-0b1c2d3e4f5a',
    '1700000000.000100',
    'xoxp-1',
    'a,b',
    '😀😀😀',
    'é',
    true,
    false,
    0,
    1,
    5,
    -1,
    1.5,
    1e12,
    [],
    ['a'],
    [1, 2],
    {},
    { a: 1 },
    [{ type: 'section' }],
  ];

  /** Every exported class with class-validator rules, from the modules of src/ that use class-validator. */
  async function argumentClasses(): Promise<Array<new () => object>> {
    const root = new URL('../../src/', import.meta.url);
    const files = (readdirSync(root, { recursive: true }) as string[]).filter(
      (f) => f.endsWith('.ts') && !f.endsWith('.spec.ts') && readFileSync(new URL(f, root), 'utf8').includes("from 'class-validator'"),
    );
    const storage = getMetadataStorage();
    const classes = new Set<new () => object>();
    for (const file of files) {
      const module = (await import(`../../src/${file.replace(/\.ts$/, '.js')}`)) as Record<string, unknown>;
      for (const value of Object.values(module))
        if (typeof value === 'function' && storage.getTargetValidationMetadatas(value, undefined!, false, false, undefined).length)
          classes.add(value as new () => object);
    }
    return [...classes];
  }

  it('accepts exactly what validateSync accepts, with the same instance', async () => {
    const classes = await argumentClasses();
    expect(classes.length).toBeGreaterThan(40);
    const storage = getMetadataStorage();
    let seed = 1;
    const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    let accepted = 0;
    let refused = 0;
    for (const cls of classes) {
      const properties = Object.keys(
        storage.groupByPropertyName(storage.getTargetValidationMetadatas(cls, undefined!, false, false, undefined)),
      );
      for (let i = 0; i < 300; i++) {
        const plain: Record<string, unknown> = {};
        for (const p of properties) if (random() < 0.6) plain[p] = VALUES[Math.floor(random() * VALUES.length)];
        if (random() < 0.2) plain.extra = 'x';
        const expected = plainToInstance(cls, structuredClone(plain));
        const errors = validateSync(expected, {
          whitelist: true,
          forbidUnknownValues: false,
          validationError: { target: false, value: false },
        });
        let out: unknown;
        try {
          out = slackValidation.transform(structuredClone(plain), args(cls));
        } catch (err) {
          if (!(err instanceof SlackError)) throw err;
          out = err;
        }
        const what = `${cls.name} ${JSON.stringify(plain)}`;
        if (errors.length) {
          expect([what, out instanceof SlackError]).toEqual([what, true]);
          refused++;
        } else {
          expect([what, out]).toEqual([what, expected]);
          expect(Object.getPrototypeOf(out)).toBe(cls.prototype);
          accepted++;
        }
      }
    }
    // The inputs reach both paths of the pipe.
    expect(accepted).toBeGreaterThan(1000);
    expect(refused).toBeGreaterThan(1000);
  });
});
