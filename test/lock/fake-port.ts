/**
 * A tiny in-memory AwsPort for the lock's unit tests: S3 objects with ETags and conditional
 * writes, group tags. Only the methods the lock uses; the rest throw.
 */
import type { AwsPort, GroupSnapshot, LockRecord } from '../../orchestrator/aws/port';

export class FakeLockPort {
  readonly objects = new Map<string, { record: LockRecord; etag: string }>();
  readonly tags = new Map<string, Record<string, string>>();
  readonly calls: string[] = [];
  private n = 0;
  withReplace = true;

  constructor(groups: string[] = []) {
    for (const g of groups) this.tags.set(g, {});
  }

  port(): AwsPort {
    const self = this;
    const unsupported = (name: string) => async () => {
      throw new Error(`FakeLockPort: ${name} not supported`);
    };
    const port: AwsPort = {
      async groupsNamed(names) {
        self.calls.push('groupsNamed');
        return names.filter((n) => self.tags.has(n));
      },
      async findGroups(prefix) {
        self.calls.push('findGroups');
        return [...self.tags.keys()].filter((g) => g.startsWith(prefix));
      },
      async observeGroup(name) {
        self.calls.push(`observeGroup ${name}`);
        const tags = self.tags.get(name);
        if (!tags) throw new Error(`no group ${name}`);
        return { name, tags: { ...tags }, instances: [] } as unknown as GroupSnapshot;
      },
      describeElb: unsupported('describeElb'),
      setDesired: unsupported('setDesired'),
      updateSizes: unsupported('updateSizes'),
      terminateInstance: unsupported('terminateInstance'),
      suspendProcesses: unsupported('suspendProcesses'),
      resumeProcesses: unsupported('resumeProcesses'),
      setScaleInProtection: unsupported('setScaleInProtection'),
      async putGroupTags(group, tags) {
        self.calls.push(`putGroupTags ${group}`);
        Object.assign(self.tags.get(group)!, tags);
      },
      async deleteGroupTags(group, keys) {
        self.calls.push(`deleteGroupTags ${group}`);
        for (const k of keys) delete self.tags.get(group)![k];
      },
      async putLockObject(bucket, key, record) {
        self.calls.push('putLockObject');
        const k = `${bucket}/${key}`;
        if (self.objects.has(k)) return false;
        self.objects.set(k, { record: { ...record }, etag: `"e${++self.n}"` });
        return true;
      },
      async getLockObject(bucket, key) {
        self.calls.push('getLockObject');
        const o = self.objects.get(`${bucket}/${key}`);
        return o && { record: { ...o.record }, etag: o.etag };
      },
      async deleteLockObject(bucket, key, etag) {
        self.calls.push('deleteLockObject');
        const k = `${bucket}/${key}`;
        const o = self.objects.get(k);
        if (o && (etag === undefined || etag === o.etag)) self.objects.delete(k);
      },
      apiCalls: () => self.calls.length,
    };
    if (this.withReplace) {
      port.replaceLockObject = async (bucket, key, record, etag) => {
        self.calls.push('replaceLockObject');
        const k = `${bucket}/${key}`;
        const o = self.objects.get(k);
        if (!o || o.etag !== etag) return undefined;
        const next = { record: { ...record }, etag: `"e${++self.n}"` };
        self.objects.set(k, next);
        return next.etag;
      };
    }
    return port;
  }
}
