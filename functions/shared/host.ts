/**
 * The Mackerel host that check reports and host metrics attach to: given by id, or found by custom
 * identifier and registered on first use. Resolved once per container.
 */
import { MackerelRejectedError, StateTableUnavailableError } from "./errors.js";
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
  /**
   * Replaces `staleId` by `id` unless another writer already replaced it; returns the id that won.
   * Optional: without it the new id lives in this container only.
   */
  replace?(staleId: string, id: string): Promise<string>;
}

/** Resolves the host id once per container; concurrent callers share the same promise. */
export class HostResolver {
  private resolved: Promise<string> | undefined;
  private replacing: Promise<string> | undefined;

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

  /**
   * Mackerel said host `staleId` does not exist (it was retired): looks the host up again by custom
   * identifier, registers it when none is found, stores the new id for every container and uses it from
   * now on. Concurrent callers share one look-up. A fixed host id (`host.id`) is never replaced: `staleId`
   * comes back and the caller's refusal stands.
   */
  replace(staleId: string): Promise<string> {
    if (this.settings.id) return Promise.resolve(staleId);
    this.replacing ??= this.reresolve(staleId).finally(() => {
      this.replacing = undefined;
    });
    return this.replacing;
  }

  private async reresolve(staleId: string): Promise<string> {
    const current = await this.resolved?.catch(() => undefined);
    // Another caller replaced it already: use that id.
    if (current && current !== staleId) return current;
    const customIdentifier = this.settings.customIdentifier ?? this.settings.name;
    const found = await this.client.findHostByCustomIdentifier(customIdentifier);
    // The host is there after all: the refusal was about something else, and it stands.
    if (found === staleId) return staleId;
    const fresh = found ?? (await this.register(customIdentifier));
    const stored = this.store?.replace ? await this.store.replace(staleId, fresh) : fresh;
    this.resolved = Promise.resolve(stored);
    return stored;
  }

  private async resolve(): Promise<string> {
    if (this.settings.id) return this.settings.id;
    try {
      const stored = await this.store?.get();
      if (stored) return stored;
      const resolvedElsewhere = await this.store?.claimResolution?.();
      if (resolvedElsewhere) return resolvedElsewhere;
    } catch (error) {
      // The state table does not answer in this invocation: ask Mackerel, whose unique custom identifier
      // keeps it one host even without the table's registration lease, and leave the table alone.
      if (!(error instanceof StateTableUnavailableError)) throw error;
      return this.lookUpOrRegister();
    }
    const id = await this.lookUpOrRegister();
    return this.store ? this.store.putIfAbsent(id) : id;
  }

  private async lookUpOrRegister(): Promise<string> {
    const customIdentifier = this.settings.customIdentifier ?? this.settings.name;
    return (await this.client.findHostByCustomIdentifier(customIdentifier)) ?? this.register(customIdentifier);
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
