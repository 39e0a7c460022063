/**
 * One build-cache record as `du` and `prune` report it (the Control API's UsageRecord). Shared by the cache,
 * which makes them, and the client, which shows them; neither may import the other.
 */
export interface UsageRecord {
  id: string;
  mutable: boolean;
  inUse: boolean;
  size: number;
  parents: string[];
  createdAt: Date;
  lastUsedAt?: Date;
  usageCount: number;
  description: string;
  recordType: string;
  shared: boolean;
}
