import 'reflect-metadata';
import { IsBoolean, IsInt, IsOptional, IsString } from 'class-validator';
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
