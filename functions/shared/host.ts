/**
 * The Mackerel host that check reports and host metrics attach to: given by id, or found by custom
 * identifier and registered on first use. Resolved once per container.
 */
import { MackerelRejectedError } from "./errors.js";
import type { MackerelClient } from "./mackerel-client.js";

export interface HostSettings {
  /** Fixed host id: no look-up, no registration. */
  id?: string;
  name: string;
  customIdentifier?: string;
  /** Role full names (`service:role`) given at registration. */
  roles?: string[];
}

/** Durable memory of the resolved id shared by all containers (the state table), so they agree on one host. */
export interface HostIdStore {
  get(): Promise<string | undefined>;
  /**
   * Optional registration lease, called when `get` found no id: resolves to undefined when this container may
   * look the host up and register it, or to the id another container stored while this one waited. Two cold
   * starts racing then make one look-up and one registration, not two.
   */
  claimResolution?(): Promise<string | undefined>;
  /** Stores `id` unless another writer stored one first; returns the id that won. */
  putIfAbsent(id: string): Promise<string>;
}

/** Resolves the host id once per container; concurrent callers share the same promise. */
export class HostResolver {
  private resolved: Promise<string> | undefined;

  constructor(
    private readonly settings: HostSettings,
    private readonly client: MackerelClient,
    private readonly store?: HostIdStore,
  ) {}

  hostId(): Promise<string> {
    this.resolved ??= this.resolve().catch((error: unknown) => {
      this.resolved = undefined;
      throw error;
    });
    return this.resolved;
  }

  private async resolve(): Promise<string> {
    if (this.settings.id) return this.settings.id;
    const stored = await this.store?.get();
    if (stored) return stored;
    const resolvedElsewhere = await this.store?.claimResolution?.();
    if (resolvedElsewhere) return resolvedElsewhere;
    const customIdentifier = this.settings.customIdentifier ?? this.settings.name;
    const found = await this.client.findHostByCustomIdentifier(customIdentifier);
    const id = found ?? (await this.register(customIdentifier));
    return this.store ? this.store.putIfAbsent(id) : id;
  }

  private async register(customIdentifier: string): Promise<string> {
    try {
      return await this.client.registerHost({
        name: this.settings.name,
        customIdentifier,
        meta: { agent_name: "mackerel-serverless" },
        ...(this.settings.roles?.length ? { roleFullnames: this.settings.roles } : {}),
        memo: "Registered by mackerel-serverless: check reports and the pipeline heartbeat attach to this host.",
      });
    } catch (error) {
      // Another container registered the same custom identifier a moment ago: use that host.
      if (error instanceof MackerelRejectedError) {
        const raced = await this.client.findHostByCustomIdentifier(customIdentifier);
        if (raced) return raced;
      }
      throw error;
    }
  }
}
