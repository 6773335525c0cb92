/**
 * Asks a broker, over the real Kafka protocol, which API versions it supports
 * and which `metadata.version` feature level it runs (ApiVersions v3). The
 * smoke test uses it to prove KafkaJS can speak to the broker: KafkaJS picks
 * min(its newest implemented version, the broker's max) for every request
 * and never checks the broker's min, so a broker that raised a min past what
 * KafkaJS implements (as Kafka 4.0 did for old versions) would break it.
 */
import net from 'node:net';

export interface BrokerApiVersions {
  apis: Map<number, { min: number; max: number }>;
  finalizedFeatures: Map<string, number>;
}

class Reader {
  offset = 0;
  constructor(private readonly buffer: Buffer) {}
  int8 = () => this.buffer.readInt8(this.offset++);
  int16 = () => ((this.offset += 2), this.buffer.readInt16BE(this.offset - 2));
  int32 = () => ((this.offset += 4), this.buffer.readInt32BE(this.offset - 4));
  uvarint(): number {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = this.buffer.readUInt8(this.offset++);
      value |= (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return value;
    }
  }
  compactString(): string {
    const length = this.uvarint() - 1;
    const value = this.buffer.toString('utf8', this.offset, this.offset + length);
    this.offset += length;
    return value;
  }
  skipTaggedFields(): void {
    const count = this.uvarint();
    for (let i = 0; i < count; i++) {
      this.uvarint();
      this.offset += this.uvarint();
    }
  }
}

function apiVersionsRequest(correlationId: number): Buffer {
  const clientId = Buffer.from('escrow-worker-test');
  const compact = (text: string) =>
    Buffer.concat([Buffer.from([text.length + 1]), Buffer.from(text)]);
  const header = Buffer.alloc(8);
  header.writeInt16BE(18, 0); // ApiVersions
  header.writeInt16BE(3, 2);
  header.writeInt32BE(correlationId, 4);
  const clientIdLength = Buffer.alloc(2);
  clientIdLength.writeInt16BE(clientId.length);
  const body = Buffer.concat([
    header,
    clientIdLength,
    clientId,
    Buffer.from([0]), // header tagged fields
    compact('escrow-worker-test'),
    compact('1'),
    Buffer.from([0]), // body tagged fields
  ]);
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length);
  return Buffer.concat([size, body]);
}

function parse(response: Buffer): BrokerApiVersions {
  const reader = new Reader(response);
  reader.int32(); // correlation id; ApiVersions responses keep header v0
  const errorCode = reader.int16();
  if (errorCode !== 0) throw new Error(`ApiVersions failed with error code ${errorCode}`);
  const apis = new Map<number, { min: number; max: number }>();
  const apiCount = reader.uvarint() - 1;
  for (let i = 0; i < apiCount; i++) {
    const key = reader.int16();
    apis.set(key, { min: reader.int16(), max: reader.int16() });
    reader.skipTaggedFields();
  }
  reader.int32(); // throttle time
  const finalizedFeatures = new Map<string, number>();
  const tagCount = reader.uvarint();
  for (let i = 0; i < tagCount; i++) {
    const tag = reader.uvarint();
    const size = reader.uvarint();
    const end = reader.offset + size;
    if (tag === 2) {
      const count = reader.uvarint() - 1;
      for (let j = 0; j < count; j++) {
        const name = reader.compactString();
        const maxLevel = reader.int16();
        reader.int16();
        reader.skipTaggedFields();
        finalizedFeatures.set(name, maxLevel);
      }
    }
    reader.offset = end;
  }
  return { apis, finalizedFeatures };
}

export function brokerApiVersions(broker: string, timeoutMs = 5000): Promise<BrokerApiVersions> {
  const [host, port] = broker.split(':');
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port: Number(port) });
    let received = Buffer.alloc(0);
    socket.setTimeout(timeoutMs, () => {
      socket.destroy();
      reject(new Error(`no ApiVersions answer from ${broker} within ${timeoutMs} ms`));
    });
    socket.once('error', reject);
    socket.once('connect', () => socket.write(apiVersionsRequest(1)));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length >= 4 && received.length >= 4 + received.readInt32BE(0)) {
        socket.end();
        try {
          resolve(parse(received.subarray(4, 4 + received.readInt32BE(0))));
        } catch (error) {
          reject(error instanceof Error ? error : new Error(String(error)));
        }
      }
    });
  });
}
