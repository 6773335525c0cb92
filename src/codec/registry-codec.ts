/**
 * Encodes and decodes topic values in the Confluent wire format through the
 * schema registry. Decoding reads with the topic's own schema as the reader
 * (Avro schema resolution), so a compatible newer writer still decodes and an
 * incompatible one is refused. Failures are told apart, because they are
 * handled apart: a message that can never be decoded is dead-lettered with
 * its reason; a registry that is unreachable or failing is transient, and the
 * message is retried, never dead-lettered.
 */
import { COMPATIBILITY, SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import avro from 'avsc';
import {
  basicAuth,
  type RegistryAccess,
  RegistryAccessRefused,
  type RegistryAnswer,
  type RegistryEndpoint,
  refusedCredentials,
  registryAccess,
  registryAgent,
  registryRequest,
} from './registry-access';
import type { Config } from '../config';
import { type Topic, schemaText, subjectOf } from './schemas';

export class RegistryUnavailable extends Error {
  readonly code = 'REGISTRY_UNAVAILABLE';
  readonly retryable = true;
  constructor(message: string, options: { cause: unknown }) {
    super(message, options);
    this.name = 'RegistryUnavailable';
  }
}

/** Read-only registry mode found subjects without the project's schemas: the worker stops. */
export class SchemasNotRegistered extends Error {
  readonly code = 'SCHEMAS_NOT_REGISTERED';
  readonly retryable = false;
  constructor(
    registryUrl: string,
    readonly subjects: readonly string[],
  ) {
    super(
      `SCHEMA_AUTO_REGISTER=false and the schema registry at ${registryUrl} lacks the project's schema under ` +
        `${subjects.length === 1 ? 'this subject' : `these ${subjects.length} subjects`}: ${subjects.join(', ')}. ` +
        'Register them from the deploy pipeline with `escrow-worker schemas register` (with the same ' +
        'SCHEMA_REGISTRY_URL and TOPIC_PREFIX, and credentials that may write), or set SCHEMA_AUTO_REGISTER=true.',
    );
    this.name = 'SchemasNotRegistered';
  }
}

/** A value its topic's schema cannot write (a missing field, a wrong type, an unknown symbol). */
export class ValueNotEncodable extends Error {
  readonly code = 'VALUE_NOT_ENCODABLE';
  readonly retryable = false;
  constructor(
    readonly topic: Topic,
    readonly fields: readonly string[],
    cause: unknown,
  ) {
    super(
      `the ${topic} value does not match schemas/${topic}.avsc at ${fields.join(', ') || 'an unknown field'}: ` +
        `${(cause as Error).message}`,
      { cause },
    );
    this.name = 'ValueNotEncodable';
  }
}

export interface SchemaCheck {
  topic: Topic;
  subject: string;
  /** The id of the project's schema under the subject; null when it is not registered there. */
  id: number | null;
  /** Compatible with the subject's latest version; null when the subject has none. */
  compatible: boolean | null;
}

export type Decoded = { ok: true; value: unknown } | { ok: false; reason: string };

const statusOf = (error: unknown) =>
  typeof (error as { status?: unknown }).status === 'number'
    ? (error as { status: number }).status
    : undefined;

export class RegistryCodec {
  private readonly registry: SchemaRegistry;
  private readonly endpoint: RegistryEndpoint;
  private readonly ids = new Map<Topic, number>();
  /**
   * Per topic, its own schema compiled once: the writer every value is
   * encoded with (the schema registered under its id) and the reader every
   * value is decoded with.
   */
  private readonly types = new Map<Topic, avro.Type>();
  /** Where encodeAll writes a batch before copying it out whole; grows to the largest batch. */
  private scratch = Buffer.allocUnsafe(64 * 1024);
  /** Per topic and writer schema id, how to read that writer's bytes with the topic's reader. */
  /** Compiled decoders by topic, then by the writer's schema id. */
  private readonly decoders = new Map<Topic, Map<number, (payload: Buffer) => unknown>>();

  constructor(
    private readonly registryUrl: string,
    private readonly topicPrefix: string,
    private readonly access: RegistryAccess = {},
  ) {
    const auth = basicAuth(access);
    // One agent (the CA file read once) for the client and the codec's own calls.
    const agent = registryAgent(registryUrl, access);
    this.endpoint = { url: registryUrl, access, agent };
    this.registry = new SchemaRegistry({
      host: registryUrl,
      ...(auth ? { auth } : {}),
      ...(agent ? { agent } : {}),
    });
  }

  /** The codec as the configuration says: its registry, its topic prefix, its access. */
  static fromConfig(
    config: Pick<Config, 'SCHEMA_REGISTRY_URL' | 'TOPIC_PREFIX'> &
      Parameters<typeof registryAccess>[0],
  ): RegistryCodec {
    return new RegistryCodec(
      config.SCHEMA_REGISTRY_URL,
      config.TOPIC_PREFIX,
      registryAccess(config),
    );
  }

  /** GET /subjects with the access settings: the readiness probe of the registry. */
  async ping(): Promise<void> {
    const answer = await registryRequest(this.endpoint, 'GET', '/subjects');
    if (answer.status === 401 || answer.status === 403)
      throw refusedCredentials(this.registryUrl, answer.status, this.access);
    if (answer.status !== 200) throw new Error(`registry answered ${answer.status}`);
  }

  /**
   * Registers each topic's schema under `<prefix><topic>-value`, setting the
   * subject's compatibility to BACKWARD explicitly first (registries differ in
   * what an unset subject reports, and the client refuses a mismatch).
   */
  async registerSchemas(topics: readonly Topic[]): Promise<void> {
    for (const topic of topics) {
      const subject = subjectOf(this.topicPrefix, topic);
      // Credentials and certificates are settled here, before the registry client
      // (whose refusals would read as an incompatible schema) is asked anything.
      const setCompatibility = () =>
        this.request('PUT', `/config/${encodeURIComponent(subject)}`, {
          compatibility: 'BACKWARD',
        });
      let setting = await setCompatibility();
      // Apicurio answers 409 to the second of two workers creating the subject's
      // rule at the same moment; the rule exists now, and setting it again updates it.
      if (!setting.ok && setting.status === 409) setting = await setCompatibility();
      if (!setting.ok) throw setting.failure(`set the compatibility of ${subject}`);
      try {
        const { id } = await this.registry.register(
          { type: SchemaType.AVRO, schema: schemaText(topic) },
          { subject, compatibility: COMPATIBILITY.BACKWARD },
        );
        this.ids.set(topic, id);
      } catch (error) {
        const status = statusOf(error);
        if (status === 401 || status === 403)
          throw refusedCredentials(this.registryUrl, status, this.access);
        // 409 is both "incompatible" (Confluent) and "already exists" (Apicurio,
        // when another worker starting at the same moment registered it first):
        // the schema found registered under the subject is the race lost, not a refusal.
        if (status === 409) {
          const found = await this.findRegistered(topic, subject);
          if (found.ok) {
            this.ids.set(topic, (found.body as { id: number }).id);
            continue;
          }
        }
        if (!registryFailureIsTransient(error) && status !== undefined) {
          throw new Error(
            `The registry refused the schema of ${topic} under ${subject} (${status}): ` +
              `${(error as Error).message}. A registered version is not BACKWARD compatible with schemas/${topic}.avsc; ` +
              'make the change compatible (new fields need defaults) or publish a new topic version.',
            { cause: error },
          );
        }
        throw new RegistryUnavailable(
          `The schema registry at ${this.registryUrl} could not register ${subject}: ${(error as Error).message}`,
          { cause: error },
        );
      }
    }
  }

  /** The topic's schema as registered under `subject` (its id in the body), or 404 when it is not. */
  private findRegistered(topic: Topic, subject: string) {
    return this.request('POST', `/subjects/${encodeURIComponent(subject)}`, {
      schema: schemaText(topic),
    });
  }

  /**
   * Read-only registry mode (SCHEMA_AUTO_REGISTER=false): learns the id under
   * which each topic's schema is registered, registering nothing and changing
   * no compatibility setting, as a governed registry requires. Throws
   * SchemasNotRegistered naming every subject that lacks the project's schema.
   */
  async lookUpSchemas(topics: readonly Topic[]): Promise<void> {
    const missing: string[] = [];
    for (const topic of topics) {
      const subject = subjectOf(this.topicPrefix, topic);
      const answer = await this.findRegistered(topic, subject);
      if (answer.status === 404) missing.push(subject);
      else if (answer.ok) this.ids.set(topic, (answer.body as { id: number }).id);
      else throw answer.failure(`look up the schema of ${topic} under ${subject}`);
    }
    if (missing.length > 0) throw new SchemasNotRegistered(this.registryUrl, missing);
  }

  /**
   * For each topic: whether the project's schema is registered under its
   * subject (and its id), and whether it is compatible with the subject's
   * latest version by the subject's own compatibility rule. Reads only.
   */
  async checkSchemas(topics: readonly Topic[]): Promise<SchemaCheck[]> {
    const checks: SchemaCheck[] = [];
    for (const topic of topics) {
      const subject = subjectOf(this.topicPrefix, topic);
      const path = `/subjects/${encodeURIComponent(subject)}`;
      const body = { schema: schemaText(topic) };
      const registered = await this.findRegistered(topic, subject);
      if (!registered.ok && registered.status !== 404)
        throw registered.failure(`look up the schema of ${topic} under ${subject}`);
      const compatible = await this.request('POST', `/compatibility${path}/versions/latest`, body);
      if (!compatible.ok && compatible.status !== 404)
        throw compatible.failure(`test ${topic}'s schema against ${subject}`);
      checks.push({
        topic,
        subject,
        id: registered.ok ? (registered.body as { id: number }).id : null,
        // No version at all (404): nothing to be incompatible with.
        compatible: compatible.ok
          ? (compatible.body as { is_compatible?: boolean }).is_compatible === true
          : null,
      });
    }
    return checks;
  }

  /** One call of the registry's Confluent API, its failures told apart as registerSchemas does. */
  private async request(method: 'POST' | 'PUT', path: string, body: unknown) {
    let answer: RegistryAnswer;
    try {
      answer = await registryRequest(this.endpoint, method, path, body);
    } catch (error) {
      const failure = (what: string) =>
        error instanceof RegistryAccessRefused
          ? error
          : new RegistryUnavailable(
              `The schema registry at ${this.registryUrl} could not ${what}: ${(error as Error).message}`,
              { cause: error },
            );
      return { ok: false, status: 0, body: undefined, failure } as const;
    }
    const { status, text } = answer;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
    const failure = (what: string) => {
      if (status === 401 || status === 403)
        return refusedCredentials(this.registryUrl, status, this.access);
      // nginx and other TLS front ends answer a plain-text request on their TLS port so.
      if (status === 400 && /plain HTTP request was sent to HTTPS port/i.test(text))
        return new RegistryAccessRefused(
          `the schema registry at ${this.registryUrl} listens for TLS: use its https:// URL in SCHEMA_REGISTRY_URL (and SCHEMA_REGISTRY_CA_FILE for a private CA)`,
        );
      const message = `The schema registry at ${this.registryUrl} could not ${what}: ${method} ${path} answered ${status} ${text.slice(0, 300)}`;
      const refusal = Object.assign(new Error(message), { status });
      return registryFailureIsTransient(refusal)
        ? new RegistryUnavailable(message, { cause: refusal })
        : refusal;
    };
    return { ok: status >= 200 && status < 300, status, body: parsed, failure } as const;
  }

  /** One value in the Confluent wire format: encodeAll with one value. */
  async encode(topic: Topic, value: unknown): Promise<Buffer> {
    // Async so that a refusal rejects the promise callers await, as the registry client's did.
    return Promise.resolve(this.encodeAll([{ topic, value }])[0]!);
  }

  /**
   * Values in the Confluent wire format, byte for byte what the registry
   * client's encode writes: magic byte 0, the schema id as 4 bytes big-endian,
   * then the value in Avro binary. The client looks the schema up by id and
   * copies each value twice on every call; here each topic's schema (the one
   * registered under the id) is compiled once, the batch is written into one
   * scratch buffer, copied out whole into a buffer of its exact size, and each
   * value returned as a view of its bytes there. A value its schema cannot
   * write throws ValueNotEncodable, naming the topic and the fields at fault.
   */
  encodeAll(values: readonly { topic: Topic; value: unknown }[]): Buffer[] {
    const bounds: number[] = [0];
    let position = 0;
    for (const { topic, value } of values) {
      const id = this.ids.get(topic);
      if (id === undefined)
        throw new Error(`the schema of ${topic} is not registered; call registerSchemas first`);
      const type = this.typeOf(topic);
      let end = this.writeAt(type, topic, value, position + 5);
      if (end <= 0) {
        // Too small: avsc answers how many bytes were missing. Grow and write again.
        const grown = Buffer.allocUnsafe(
          Math.max(2 * this.scratch.length, this.scratch.length - end),
        );
        this.scratch.copy(grown, 0, 0, position);
        this.scratch = grown;
        end = this.writeAt(type, topic, value, position + 5);
      }
      this.scratch.writeUInt8(0, position);
      this.scratch.writeInt32BE(id, position + 1);
      bounds.push((position = end));
    }
    const encoded = Buffer.allocUnsafe(position);
    this.scratch.copy(encoded, 0, 0, position);
    return values.map((_, index) => encoded.subarray(bounds[index], bounds[index + 1]));
  }

  /** avsc's encode into the scratch buffer at `offset`: the end, or minus the bytes missing. */
  private writeAt(type: avro.Type, topic: Topic, value: unknown, offset: number): number {
    try {
      return type.encode(value, this.scratch, offset);
    } catch (error) {
      const fields: string[] = [];
      type.isValid(value, { errorHook: (path) => fields.push(path.join('.') || '(the value)') });
      throw new ValueNotEncodable(topic, fields, error);
    }
  }

  private typeOf(topic: Topic): avro.Type {
    let type = this.types.get(topic);
    if (!type) {
      type = avro.Type.forSchema(JSON.parse(schemaText(topic)) as avro.Schema);
      this.types.set(topic, type);
    }
    return type;
  }

  /**
   * The same reading the registry client's decode does with a reader schema
   * (Avro schema resolution from the writer's schema to the topic's), with the
   * reader and each resolver compiled once instead of on every message: the
   * client compiles the reader schema per call, which cost more CPU than all
   * the rest of decoding. The writer's schema comes from the client's own
   * cache; an unknown id fails there as before.
   */
  private async decoderFor(topic: Topic, schemaId: number) {
    const known = this.decoders.get(topic)?.get(schemaId);
    if (known) return known;
    const writer = (await this.registry.getSchema(schemaId)) as unknown as avro.Type;
    const target = this.typeOf(topic);
    let decoder: (payload: Buffer) => unknown;
    if (target.equals(writer)) {
      decoder = (payload) => target.fromBuffer(payload) as unknown;
    } else {
      const resolver = target.createResolver(writer);
      decoder = (payload) => target.fromBuffer(payload, resolver) as unknown;
    }
    let byId = this.decoders.get(topic);
    if (byId === undefined) this.decoders.set(topic, (byId = new Map<number, typeof decoder>()));
    byId.set(schemaId, decoder);
    return decoder;
  }

  /**
   * decode's answer without waiting, when it has one at once: a value that is
   * not in the wire format, or one decoded with a decoder already compiled
   * for its schema id. Undefined when the id has not been looked up yet, or
   * the bytes do not decode: decode then does it, with its lookup and its
   * reasons. Every message after a schema's first comes this way, without the
   * promises a lookup needs (a few per message, with a consumer's retry
   * around it).
   */
  decodeKnown(topic: Topic, value: Buffer | null): Decoded | undefined {
    const malformed = this.wireFormatProblem(topic, value);
    if (malformed !== undefined) return malformed;
    const decoder = this.decoders.get(topic)?.get(value!.readInt32BE(1));
    if (decoder === undefined) return undefined;
    try {
      return { ok: true, value: decoder(value!.subarray(5)) };
    } catch {
      return undefined;
    }
  }

  private wireFormatProblem(topic: Topic, value: Buffer | null): Decoded | undefined {
    if (value === null || value.length === 0) {
      return { ok: false, reason: 'the message has no value (a tombstone); every event needs one' };
    }
    if (value.length < 5 || value.readUInt8(0) !== 0) {
      return {
        ok: false,
        reason:
          'the value is not in the Confluent wire format (magic byte 0, then a 4-byte schema id); ' +
          `encode it with a schema registry client under ${subjectOf(this.topicPrefix, topic)}`,
      };
    }
    return undefined;
  }

  /** Decodes a value, or says why it never will be; throws RegistryUnavailable when that cannot be told yet. */
  async decode(topic: Topic, value: Buffer | null): Promise<Decoded> {
    const malformed = this.wireFormatProblem(topic, value);
    if (malformed !== undefined) return malformed;
    const schemaId = value!.readInt32BE(1);
    try {
      const decoder = await this.decoderFor(topic, schemaId);
      const decoded: unknown = decoder(value!.subarray(5));
      return { ok: true, value: decoded };
    } catch (error) {
      if (registryFailureIsTransient(error)) {
        throw new RegistryUnavailable(
          `The schema registry at ${this.registryUrl} could not resolve schema id ${schemaId}: ${(error as Error).message}`,
          { cause: error },
        );
      }
      const why =
        statusOf(error) === 404
          ? `schema id ${schemaId} is not registered`
          : (error as Error).message;
      return {
        ok: false,
        reason: `the value cannot be decoded with the ${topic} schema: ${why}. Encode it with the schema registered under ${subjectOf(this.topicPrefix, topic)}`,
      };
    }
  }
}

/**
 * "Could not ask" or "the registry failed", as opposed to "asked and refused".
 * The client reports a refused connection as a status-400 ResponseError whose
 * message carries the socket error, so the message is checked before the status.
 */
function registryFailureIsTransient(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  const text = `${(error as Error).message} ${typeof code === 'string' ? code : ''}`;
  const network =
    /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EAI_AGAIN|ENOTFOUND|EHOSTUNREACH|socket hang up|timed? ?out|fetch failed/i;
  if (network.test(text)) return true;
  const status = statusOf(error);
  return status !== undefined && (status >= 500 || status === 429);
}
