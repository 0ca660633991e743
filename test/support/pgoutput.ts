/**
 * Reads what `pg_recvlogical -P pgoutput -o proto_version=1 …` writes: each message of PostgreSQL's
 * logical replication protocol (https://www.postgresql.org/docs/current/protocol-logicalrep-message-formats.html),
 * followed by a newline. Binary, so it is parsed message by message, never split on newlines.
 * Column values arrive in text format (what pgoutput sends unless asked for binary).
 */

export type Change =
  | { kind: 'begin'; xid: number; finalLsn: bigint }
  | { kind: 'commit'; lsn: bigint }
  | { kind: 'insert' | 'update' | 'delete'; table: string; row: Record<string, string | null> }
  | { kind: 'truncate'; tables: string[] };

/** A change to rows (not a transaction boundary). */
export type DataChange = Exclude<Change, { kind: 'begin' | 'commit' }>;

export class PgOutputReader {
  private buffer = Buffer.alloc(0);
  private readonly relations = new Map<number, { table: string; columns: string[] }>();

  /** Feeds more output; returns the changes of every message now complete. */
  push(chunk: Buffer): Change[] {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    const changes: Change[] = [];
    for (;;) {
      const parsed = this.parse(this.buffer);
      if (!parsed) break;
      this.buffer = this.buffer.subarray(parsed.length + 1); // the message, then pg_recvlogical's '\n'
      if (parsed.change) changes.push(parsed.change);
    }
    return changes;
  }

  /** One message from the start of `b`, or undefined while it is incomplete. */
  private parse(b: Buffer): { length: number; change?: Change } | undefined {
    const r = new Cursor(b);
    try {
      const type = String.fromCharCode(r.u8());
      switch (type) {
        case 'B': {
          const finalLsn = r.u64();
          r.u64(); // commit time
          const change: Change = { kind: 'begin', finalLsn, xid: r.u32() };
          return this.complete(r, change);
        }
        case 'C': {
          r.u8(); // flags
          const change: Change = { kind: 'commit', lsn: r.u64() };
          r.u64(); // end lsn
          r.u64(); // commit time
          return this.complete(r, change);
        }
        case 'R': {
          const id = r.u32();
          const namespace = r.cstring();
          const name = r.cstring();
          r.u8(); // replica identity
          const columns: string[] = [];
          for (let i = r.u16(); i > 0; i--) {
            r.u8(); // flags
            columns.push(r.cstring());
            r.u32(); // type oid
            r.u32(); // type modifier
          }
          const done = this.complete(r);
          if (done) this.relations.set(id, { table: `${namespace}.${name}`, columns });
          return done;
        }
        case 'I':
        case 'U':
        case 'D': {
          const relation = this.relations.get(r.u32());
          if (!relation) throw new Error('pgoutput: a change before its relation');
          let row: Record<string, string | null> = {};
          // I: 'N' new tuple. U: optional 'K'/'O' old tuple, then 'N'. D: 'K' key or 'O' old tuple.
          for (;;) {
            const tag = String.fromCharCode(r.u8());
            row = this.tuple(r, relation.columns);
            if (tag === 'N' || type === 'D') break;
          }
          const kind = ({ I: 'insert', U: 'update', D: 'delete' } as const)[type];
          return this.complete(r, { kind, table: relation.table, row });
        }
        case 'T': {
          const count = r.u32();
          r.u8(); // options
          const tables: string[] = [];
          for (let i = 0; i < count; i++) tables.push(this.relations.get(r.u32())?.table ?? '?');
          return this.complete(r, { kind: 'truncate', tables });
        }
        case 'O': // origin
          r.u64();
          r.cstring();
          return this.complete(r);
        case 'Y': // a type's name, sent before a relation that uses a non-built-in type
          r.u32();
          r.cstring();
          r.cstring();
          return this.complete(r);
        case 'M': {
          // a logical decoding message (pg_logical_emit_message)
          r.u8();
          r.u64();
          r.cstring();
          r.bytes(r.u32());
          return this.complete(r);
        }
        default:
          throw new Error(`pgoutput: unknown message type ${JSON.stringify(type)}`);
      }
    } catch (err) {
      if (err instanceof Incomplete) return undefined;
      throw err;
    }
  }

  private tuple(r: Cursor, columns: string[]): Record<string, string | null> {
    const row: Record<string, string | null> = {};
    const count = r.u16();
    for (let i = 0; i < count; i++) {
      const kind = String.fromCharCode(r.u8());
      const name = columns[i] ?? `column${i}`;
      if (kind === 'n') row[name] = null;
      else if (kind === 'u')
        continue; // unchanged TOAST value: not sent
      else if (kind === 't') row[name] = r.bytes(r.u32()).toString('utf8');
      else throw new Error(`pgoutput: unknown tuple column kind ${kind}`);
    }
    return row;
  }

  /** The message ends here: pg_recvlogical's newline must follow (and be there already). */
  private complete(r: Cursor, change?: Change): { length: number; change?: Change } {
    if (r.offset >= r.buffer.length) throw new Incomplete();
    if (r.buffer[r.offset] !== 0x0a) throw new Error('pgoutput: message not followed by a newline (out of step)');
    return { length: r.offset, change };
  }
}

class Incomplete extends Error {}

class Cursor {
  offset = 0;
  constructor(readonly buffer: Buffer) {}
  private need(n: number) {
    if (this.offset + n > this.buffer.length) throw new Incomplete();
  }
  u8() {
    this.need(1);
    return this.buffer.readUInt8(this.offset++);
  }
  u16() {
    this.need(2);
    const v = this.buffer.readUInt16BE(this.offset);
    this.offset += 2;
    return v;
  }
  u32() {
    this.need(4);
    const v = this.buffer.readUInt32BE(this.offset);
    this.offset += 4;
    return v;
  }
  u64() {
    this.need(8);
    const v = this.buffer.readBigUInt64BE(this.offset);
    this.offset += 8;
    return v;
  }
  bytes(n: number) {
    this.need(n);
    const v = this.buffer.subarray(this.offset, this.offset + n);
    this.offset += n;
    return v;
  }
  cstring() {
    const end = this.buffer.indexOf(0, this.offset);
    if (end < 0) throw new Incomplete();
    const v = this.buffer.toString('utf8', this.offset, end);
    this.offset = end + 1;
    return v;
  }
}
