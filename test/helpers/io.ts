import { PassThrough } from 'node:stream';

/** stdout/stderr streams for `main()` that keep what was written, for assertions. */
export function capture() {
  const out = new PassThrough();
  const err = new PassThrough();
  let o = '';
  let e = '';
  out.on('data', (d) => (o += d));
  err.on('data', (d) => (e += d));
  return {
    out,
    err,
    get stdout() {
      return o;
    },
    get stderr() {
      return e;
    },
  };
}
