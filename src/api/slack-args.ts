import { type ArgumentMetadata, createParamDecorator, type ExecutionContext, type PipeTransform } from '@nestjs/common';
import { stripProtoKeys } from '@nestjs/common/utils/strip-proto-keys.util.js';
import { plainToInstance, Transform } from 'class-transformer';
import { getMetadataStorage, type ValidationArguments, validateSync, type ValidationError, ValidationTypes } from 'class-validator';
import type { FastifyRequest } from 'fastify';
import { holdsNul } from '../domain/payload.js';
import { SlackError } from '../domain/slack-error.js';
import type { Caller } from '../workspaces/workspaces.service.js';

const FORM_OR_JSON = /^\s*application\/(json|x-www-form-urlencoded)\s*(;|$)/i;
const JSON_TYPE = /^\s*application\/json\s*(;|$)/i;

/** A method's arguments: query string, form fields and JSON body merged, as Slack accepts them. */
export const SlackArgs = createParamDecorator((_: unknown, ctx: ExecutionContext) => {
  // Argument 0 is the request, as switchToHttp().getRequest() returns it, without the three closures
  // switchToHttp() assigns to the context on each call (the Slack guards read it so too).
  const req = ctx.getArgByIndex<FastifyRequest>(0);
  // Fastify parses text/plain by itself; Slack takes only form and JSON bodies.
  const type = req.headers['content-type'] ?? '';
  if (req.body !== undefined && !FORM_OR_JSON.test(type)) throw new SlackError('invalid_post_type');
  if (req.body !== undefined && JSON_TYPE.test(type) && (req.body === null || typeof req.body !== 'object' || Array.isArray(req.body))) {
    throw new SlackError('json_not_object');
  }
  const body = req.body && typeof req.body === 'object' ? req.body : {};
  const args = { ...(req.query as object), ...body };
  // PostgreSQL text cannot hold NUL: refuse it here rather than fail in the query.
  if (holdsNul(args, 4)) throw new SlackError('invalid_arguments');
  return args;
});

export const CurrentCaller = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): Caller => ctx.getArgByIndex<{ caller: Caller }>(0).caller,
);

/** The Slack error a failed constraint maps to: `@IsString(slack('no_text'))`; otherwise invalid_arguments. */
export const slack = (error: string) => ({ context: { slack: error } });

function firstSlackError(errors: ValidationError[]): string {
  for (const error of errors) {
    // class-validator evaluates a property's decorators bottom-up, so the last failed constraint is
    // the first one written: write the type check first and its code wins (missing text: no_text).
    const codes = Object.keys(error.constraints ?? {}).map((name) => error.contexts?.[name]?.slack as string | undefined);
    const code = codes.reverse().find((c) => c !== undefined);
    if (code) return code;
    const nested = error.children?.length ? firstSlackError(error.children) : undefined;
    if (nested && nested !== 'invalid_arguments') return nested;
  }
  return 'invalid_arguments';
}

/**
 * class-validator looks a class's rules up again on every validate(): it scans the rules of every
 * class it knows (for inherited ones) and groups them by property, a tenth of the app's CPU per
 * chat.postMessage in a profile. A class's rules are fixed once its decorators have run, so both
 * answers are kept per class and options; a rule registered later (a class defined afterwards)
 * clears them, and the compiled checks below. Nothing changes in what is validated: the executor
 * reads them and never alters them.
 */
function memoizeValidationRules(): void {
  type Storage = ReturnType<typeof getMetadataStorage>;
  type Rules = ReturnType<Storage['getTargetValidationMetadatas']>;
  const storage = getMetadataStorage();
  const lookup = storage.getTargetValidationMetadatas.bind(storage);
  const group = storage.groupByPropertyName.bind(storage);
  const add = storage.addValidationMetadata.bind(storage);
  const addConstraint = storage.addConstraintMetadata.bind(storage);
  // The options the Slack pipe and Nest's ValidationPipe use (no schema, groups or `always`) need no key.
  let rules = new Map<unknown, Rules>();
  let rulesByOptions = new Map<unknown, Map<string, Rules>>();
  let grouped = new WeakMap<Rules, ReturnType<Storage['groupByPropertyName']>>();
  const forget = () => {
    rules = new Map();
    rulesByOptions = new Map();
    grouped = new WeakMap();
    compiledChecks.clear();
  };
  storage.addValidationMetadata = (metadata) => {
    forget();
    add(metadata);
  };
  storage.addConstraintMetadata = (metadata) => {
    forget();
    addConstraint(metadata);
  };
  storage.getTargetValidationMetadatas = (target, schema, always, strictGroups, groups) => {
    if (schema === undefined && always === false && strictGroups === false && groups === undefined) {
      let found = rules.get(target);
      if (!found) rules.set(target, (found = lookup(target, schema, always, strictGroups, groups)));
      return found;
    }
    const key = `${schema}\u0000${always}\u0000${strictGroups}\u0000${groups?.join('\u0000') ?? ''}`;
    let byOptions = rulesByOptions.get(target);
    if (!byOptions) rulesByOptions.set(target, (byOptions = new Map()));
    let found = byOptions.get(key);
    if (!found) byOptions.set(key, (found = lookup(target, schema, always, strictGroups, groups)));
    return found;
  };
  storage.groupByPropertyName = (metadata) => {
    let found = grouped.get(metadata);
    if (!found) grouped.set(metadata, (found = group(metadata)));
    return found;
  };
}

/** A class's rules as one check (compileRules), or null when it has a rule the check does not cover. */
const compiledChecks = new Map<unknown, ((args: object) => boolean) | null>();
memoizeValidationRules();

/**
 * A class's rules, as validateSync with the pipe's options (whitelist, no groups) applies them,
 * compiled once into a check that says only whether they all hold: the same rules (class-validator's
 * metadata), in the same order, each decided by class-validator's own constraint. validateSync
 * built, per call and per property, a ValidationError, five filtered copies of the rule list and the
 * constraint lookups, about half of the pipe's CPU per chat.postMessage. A refusal is still
 * validateSync's (its errors carry the codes), and a class with a rule this does not cover (nested,
 * promise, async or `each` rules) is left to validateSync altogether: null.
 */
function compileRules(target: new () => object): ((args: object) => boolean) | null {
  const storage = getMetadataStorage();
  const byProperty = storage.groupByPropertyName(storage.getTargetValidationMetadatas(target, undefined!, false, false, undefined));
  const covered = [
    ValidationTypes.CONDITIONAL_VALIDATION,
    ValidationTypes.IS_DEFINED,
    ValidationTypes.CUSTOM_VALIDATION,
    ValidationTypes.WHITELIST,
  ];
  const properties = Object.entries(byProperty).map(([property, rules]) => {
    const conditions = rules.filter((r) => r.type === ValidationTypes.CONDITIONAL_VALIDATION);
    // IS_DEFINED rules first, as class-validator checks them (after the conditions, before the rest).
    const checked = [
      ...rules.filter((r) => r.type === ValidationTypes.IS_DEFINED),
      ...rules.filter((r) => r.type === ValidationTypes.CUSTOM_VALIDATION),
    ].map((rule) => ({
      rule,
      // A constraint's instance comes from class-validator's container (getFromContainer, a linear
      // search on each call); the app sets no container of its own (useContainer), so it is one object.
      constraints: storage.getTargetValidatorConstraints(rule.constraintCls).map((c) => ({ async: c.async, instance: c.instance })),
    }));
    const unsupported =
      rules.some((r) => !covered.includes(r.type) || r.each) || checked.some(({ constraints }) => constraints.some((c) => c.async));
    return { property, conditions, checked, unsupported };
  });
  if (properties.some((p) => p.unsupported)) return null;
  const known = new Set(Object.keys(byProperty).filter((property) => byProperty[property].length > 0));
  return (args) => {
    const object = args as Record<string, unknown>;
    // whitelist: arguments without a rule are dropped first, as validateSync does.
    for (const key of Object.keys(object)) if (!known.has(key)) delete object[key];
    properties: for (const { property, conditions, checked } of properties) {
      const value = object[property];
      // A loop, not every() with a closure: this runs for each of a class's properties on every request.
      for (const c of conditions) if (!(c.constraints[0] as (o: object, v: unknown) => boolean)(object, value)) continue properties;
      for (const { rule, constraints } of checked) {
        if (rule.validateIf && !rule.validateIf(object, value)) continue;
        for (const { instance } of constraints) {
          const validationArguments: ValidationArguments = {
            targetName: object.constructor?.name,
            property: rule.propertyName,
            object,
            value,
            constraints: rule.constraints,
          };
          // Anything but true (a failure, a promise from a constraint async without saying so): validateSync decides.
          if (instance.validate(value, validationArguments) !== true) return false;
        }
      }
    }
    return true;
  };
}

/** True when stripProtoKeys has nothing to do: no value is an object, no key is __proto__, prototype or constructor. */
function flatWithoutProtoKeys(args: object): boolean {
  for (const key in args) {
    const value = (args as Record<string, unknown>)[key];
    if ((typeof value === 'object' && value !== null) || key === '__proto__' || key === 'prototype' || key === 'constructor') return false;
  }
  return true;
}

/** Built-in types are not argument classes: a param of one (the caller, a request) passes as it is. */
const NOT_ARGUMENTS = new Set<unknown>([String, Boolean, Number, Array, Object, Buffer, Date]);

/**
 * The Slack methods' pipe: the arguments become an instance of the method's class
 * (class-transformer, for @ToBoolean/@ToInt), arguments without a rule are stripped and the rules
 * are checked (class-validator, whitelist); the first failed rule's Slack code is the refusal. It
 * does what Nest's ValidationPipe did with transform, whitelist and validateCustomDecorators, minus
 * what cannot happen to arguments parsed from JSON, a form or a socket message (binary values,
 * sparse arrays: JSON.parse and fast-querystring make dense ones) and its promises: Slack argument
 * classes have no async rule, so validateSync checks them and the pipe answers synchronously.
 */
export class SlackValidationPipe implements PipeTransform {
  transform(value: unknown, { metatype }: ArgumentMetadata): unknown {
    if (!metatype || NOT_ARGUMENTS.has(metatype)) return value;
    const plain = value ?? {};
    // Arguments are an object (SlackArgs and the socket commands see to it); anything else is refused.
    if (typeof plain !== 'object' || Array.isArray(plain)) throw new SlackError('invalid_arguments');
    // As ValidationPipe: __proto__/constructor keys dropped before class-transformer copies the
    // arguments onto an instance (arguments of strings and numbers alone, most of them, have none).
    if (!flatWithoutProtoKeys(plain)) stripProtoKeys(plain);
    const args = plainToInstance(metatype as new () => object, plain) as object;
    let check = compiledChecks.get(metatype);
    if (check === undefined) compiledChecks.set(metatype, (check = compileRules(metatype)));
    if (check?.(args)) return args;
    const errors = validateSync(args, { whitelist: true, forbidUnknownValues: false, validationError: { target: false, value: false } });
    if (errors.length) throw new SlackError(firstSlackError(errors));
    return args;
  }
}

export const slackValidation = new SlackValidationPipe();

/** Slack booleans arrive as true/false, "true"/"false" or "1"/"0". Anything else stays and fails @IsBoolean. */
export const ToBoolean = () =>
  Transform(({ value }) => {
    if (value === true || value === 'true' || value === '1' || value === 1) return true;
    if (value === false || value === 'false' || value === '0' || value === 0) return false;
    return value;
  });

/** Numbers from form fields; anything that is not a plain integer stays and fails @IsInt. */
export const ToInt = () => Transform(({ value }) => (typeof value === 'string' && /^-?\d{1,9}$/.test(value) ? Number(value) : value));

/** Opaque page cursors, Slack-style: base64 of "<kind>:<value>". */
export function encodeCursor(kind: string, value: string): string {
  return Buffer.from(`${kind}:${value}`).toString('base64');
}

/** The value of a cursor of `kind`; invalid_cursor unless it is one we made (ids and ts are alphanumeric). */
export function decodeCursor(cursor: string | undefined, kind: string): string | undefined {
  if (!cursor) return undefined;
  const text = Buffer.from(cursor, 'base64').toString();
  if (!text.startsWith(`${kind}:`) || !/^[0-9A-Za-z]{1,64}$/.test(text.slice(kind.length + 1))) throw new SlackError('invalid_cursor');
  return text.slice(kind.length + 1);
}

/** A ts cursor (microseconds): at most 18 digits, like any ts parseTs accepts, so it fits a bigint column. */
export function decodeTsCursor(cursor: string | undefined, kind: string): bigint | undefined {
  const value = decodeCursor(cursor, kind);
  if (value === undefined) return undefined;
  if (!/^\d{1,18}$/.test(value)) throw new SlackError('invalid_cursor');
  return BigInt(value);
}

/** Slack caps page sizes silently rather than refusing them. */
export const pageSize = (limit: number | undefined, fallback: number, max: number) => Math.min(limit ?? fallback, max);
