/** Simulated Amazon S3, enough for the deploy lock: conditional writes and deletes. */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { SimFault } from '../faults';
import type { S3ObjectRec } from '../model';
import { page, requireString, type Handler } from '../ops-common';
import type { World } from '../world';

function bucket(w: World, name: unknown, create = false) {
  const n = requireString(name, 'Bucket');
  let b = w.state.buckets[n];
  if (!b && create) b = w.state.buckets[n] = { createdAt: w.now, objects: {} };
  if (!b) throw new SimFault('NoSuchBucket', 'The specified bucket does not exist', 404);
  return b;
}

function bodyBytes(body: unknown): Buffer {
  if (body === undefined || body === null) return Buffer.alloc(0);
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (body instanceof Uint8Array) return Buffer.from(body);
  throw new SimFault('NotImplemented', 'sandbox: PutObject Body must be a string, Buffer or Uint8Array (streams are not simulated)', 501);
}

const preconditionFailed = () => new SimFault('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', 412);

/**
 * [S3-4] A conflicting operation during a conditional write or delete: S3 answers `409
 * ConditionalRequestConflict` and changes nothing; its documentation says to retry. The sandbox
 * runs one request at a time, so the conflict is injected: `s3ConditionalConflicts(world, key, n)`
 * makes the next `n` conditional PutObject/DeleteObject calls on `key` fail that way.
 */
const conflicts = new WeakMap<World, Map<string, number>>();
export function s3ConditionalConflicts(w: World, key: string, n: number): void {
  let m = conflicts.get(w);
  if (!m) conflicts.set(w, (m = new Map()));
  m.set(key, n);
}
function conflictInjected(w: World, key: string): void {
  const m = conflicts.get(w);
  const left = m?.get(key) ?? 0;
  if (left <= 0) return;
  m!.set(key, left - 1);
  throw new SimFault('ConditionalRequestConflict', 'A conflicting conditional operation is currently in progress against this resource. Please try again.', 409);
}

/** A Body like the SDK's: a Readable with transformToString/ByteArray/WebStream [S3-3]. */
function sdkBody(buf: Buffer) {
  const stream: any = Readable.from([buf]);
  let used = false;
  const once = () => {
    if (used) throw new Error('The stream has already been transformed.');
    used = true;
  };
  stream.transformToString = async (encoding?: BufferEncoding) => {
    once();
    return buf.toString(encoding ?? 'utf8');
  };
  stream.transformToByteArray = async () => {
    once();
    return new Uint8Array(buf);
  };
  stream.transformToWebStream = () => {
    once();
    return Readable.toWeb(Readable.from([buf]));
  };
  return stream;
}

export function makeS3Ops(autoCreateBuckets: boolean): Record<string, Handler> {
  const getObject = (w: World, input: any): S3ObjectRec | undefined => {
    const key = requireString(input.Key, 'Key');
    const b = w.state.buckets[requireString(input.Bucket, 'Bucket')];
    if (!b && !autoCreateBuckets) throw new SimFault('NoSuchBucket', 'The specified bucket does not exist', 404);
    return b?.objects[key];
  };
  return {
    CreateBucket(w, input) {
      const n = requireString(input.Bucket, 'Bucket');
      if (w.state.buckets[n]) throw new SimFault('BucketAlreadyOwnedByYou', 'Your previous request to create the named bucket succeeded and you already own it.', 409);
      w.state.buckets[n] = { createdAt: w.now, objects: {} };
      return { Location: `/${n}` };
    },

    HeadBucket(w, input) {
      bucket(w, input.Bucket, autoCreateBuckets);
      return { BucketRegion: w.state.region };
    },

    PutObject(w, input) {
      const b = bucket(w, input.Bucket, autoCreateBuckets);
      const key = requireString(input.Key, 'Key');
      const existing = b.objects[key];
      if (input.IfNoneMatch !== undefined || input.IfMatch !== undefined) conflictInjected(w, key);
      if (input.IfNoneMatch !== undefined) {
        if (input.IfNoneMatch !== '*') throw new SimFault('NotImplemented', 'A header you provided implies functionality that is not implemented', 501);
        if (existing) throw preconditionFailed();
      }
      if (input.IfMatch !== undefined) {
        if (!existing) throw new SimFault('NoSuchKey', 'The specified key does not exist.', 404);
        if (existing.etag !== input.IfMatch) throw preconditionFailed();
      }
      const buf = bodyBytes(input.Body);
      const etag = `"${createHash('md5').update(buf).digest('hex')}"`;
      b.objects[key] = { body: buf.toString('base64'), etag, lastModified: w.now, contentType: input.ContentType };
      return { ETag: etag };
    },

    GetObject(w, input) {
      const o = getObject(w, input);
      if (!o) throw new SimFault('NoSuchKey', 'The specified key does not exist.', 404);
      if (input.IfMatch !== undefined && input.IfMatch !== o.etag) throw preconditionFailed();
      const buf = Buffer.from(o.body, 'base64');
      return { Body: sdkBody(buf), ETag: o.etag, ContentLength: buf.length, LastModified: new Date(o.lastModified), ContentType: o.contentType ?? 'binary/octet-stream' };
    },

    HeadObject(w, input) {
      const o = getObject(w, input);
      if (!o) throw new SimFault('NotFound', 'Not Found', 404);
      return { ETag: o.etag, ContentLength: Buffer.from(o.body, 'base64').length, LastModified: new Date(o.lastModified), ContentType: o.contentType ?? 'binary/octet-stream' };
    },

    DeleteObject(w, input) {
      const b = bucket(w, input.Bucket, autoCreateBuckets);
      const key = requireString(input.Key, 'Key');
      const o = b.objects[key];
      if (input.IfMatch !== undefined) conflictInjected(w, key);
      if (input.IfMatch !== undefined) {
        if (!o) throw new SimFault('NoSuchKey', 'The specified key does not exist.', 404);
        if (o.etag !== input.IfMatch) throw preconditionFailed();
      }
      delete b.objects[key];
      return {};
    },

    ListObjectsV2(w, input, ctx) {
      const b = bucket(w, input.Bucket, autoCreateBuckets);
      const prefix: string = input.Prefix ?? '';
      const keys = Object.keys(b.objects).filter((k) => k.startsWith(prefix)).sort();
      const p = page(keys, input.ContinuationToken, input.MaxKeys, ctx, 1000);
      return {
        Name: input.Bucket,
        Prefix: prefix,
        KeyCount: p.items.length,
        IsTruncated: p.next !== undefined,
        NextContinuationToken: p.next,
        Contents: p.items.map((k) => ({ Key: k, ETag: b.objects[k].etag, LastModified: new Date(b.objects[k].lastModified), Size: Buffer.from(b.objects[k].body, 'base64').length })),
      };
    },
  };
}

export const s3ReadOnly = (op: string) => op.startsWith('Get') || op.startsWith('Head') || op.startsWith('List');
