// kafkajs (a pure-JavaScript Kafka client) against a real strom broker.
//
//   node test_kafkajs.mjs BOOTSTRAP CASE [ARGS...]
//
// Each case exits 0 when every check holds and 1 with the reason
// otherwise; run.sh runs them under a timeout. STROM_BIN names the strom
// binary for the cases that check what kafkajs wrote with strom's own
// reader (and the other way round).
import { execFileSync } from "node:child_process";
import assert from "node:assert/strict";
import kafkajs from "kafkajs";

const { Kafka, logLevel, ConfigResourceTypes, CompressionTypes } = kafkajs;

const [bootstrap, testCase, ...args] = process.argv.slice(2);
if (!bootstrap || !testCase) {
  console.error("usage: test_kafkajs.mjs BOOTSTRAP CASE [ARGS...]");
  process.exit(2);
}
const strom = process.env.STROM_BIN;

const kafka = new Kafka({
  clientId: "strom-kafkajs-test",
  brokers: bootstrap.split(","),
  logLevel: logLevel.WARN,
  retry: { retries: 8, initialRetryTime: 100 },
  connectionTimeout: 10000,
  requestTimeout: 30000,
});

/** Runs `strom ARGS` and returns its stdout. */
function stromRun(...a) {
  assert.ok(strom, "set STROM_BIN to the strom binary");
  return execFileSync(strom, [...a, "-b", bootstrap], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    timeout: 60000,
  });
}

/** Every record of `topic` as strom consume prints them in JSON. */
function stromRead(topic) {
  return stromRun("consume", "-t", topic, "--from-beginning", "-e", "--output", "json")
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));
}

/** Waits for `f()` to be truthy, polling until `ms` pass. */
async function eventually(what, f, ms = 30000) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    try {
      last = await f();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${last}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function topicEntries(described) {
  const r = described.resources[0];
  assert.equal(r.errorCode, 0, JSON.stringify(r));
  return Object.fromEntries(r.configEntries.map((e) => [e.configName, e.configValue]));
}

const cases = {
  // Create, list, describe, grow, delete records, configs, delete.
  async admin(topic) {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const created = await admin.createTopics({
        topics: [{ topic, numPartitions: 2, replicationFactor: 1,
                   configEntries: [{ name: "retention.ms", value: "3600000" }] }],
        waitForLeaders: true,
      });
      assert.equal(created, true, "createTopics said the topic existed");
      // A second create of the same name: kafkajs answers false.
      assert.equal(await admin.createTopics({ topics: [{ topic }] }), false);
      assert.ok((await admin.listTopics()).includes(topic), "listTopics misses the topic");

      const md = await admin.fetchTopicMetadata({ topics: [topic] });
      assert.equal(md.topics.length, 1);
      assert.deepEqual(md.topics[0].partitions.map((p) => p.partitionId).sort(), [0, 1]);
      for (const p of md.topics[0].partitions) {
        assert.ok(p.leader >= 0, `partition ${p.partitionId} has no leader`);
        assert.deepEqual(p.isr, p.replicas);
      }

      await admin.createPartitions({ topicPartitions: [{ topic, count: 4 }] });
      await eventually("4 partitions", async () => {
        const m = await admin.fetchTopicMetadata({ topics: [topic] });
        return m.topics[0].partitions.length === 4;
      });
      // Shrinking is refused.
      await assert.rejects(
        admin.createPartitions({ topicPartitions: [{ topic, count: 2 }] }),
        /partition|INVALID/i,
      );

      // Ten records to partition 0, then everything before offset 6 deleted.
      const producer = kafka.producer({ allowAutoTopicCreation: false });
      await producer.connect();
      await producer.send({
        topic, acks: -1,
        messages: [...Array(10).keys()].map((i) => ({ value: `r${i}`, partition: 0 })),
      });
      await producer.disconnect();
      await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: "6" }] });
      const offsets = await admin.fetchTopicOffsets(topic);
      const p0 = offsets.find((o) => o.partition === 0);
      assert.equal(p0.low, "6", JSON.stringify(offsets));
      assert.equal(p0.high, "10", JSON.stringify(offsets));

      const names = ["retention.ms", "cleanup.policy", "max.message.bytes"];
      let conf = topicEntries(await admin.describeConfigs({
        resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: names }],
        includeSynonyms: false,
      }));
      assert.equal(conf["retention.ms"], "3600000", JSON.stringify(conf));
      assert.equal(conf["cleanup.policy"], "delete", JSON.stringify(conf));
      await admin.alterConfigs({
        validateOnly: false,
        resources: [{ type: ConfigResourceTypes.TOPIC, name: topic,
                      configEntries: [{ name: "retention.ms", value: "7200000" }] }],
      });
      conf = topicEntries(await admin.describeConfigs({
        resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: names }],
        includeSynonyms: false,
      }));
      assert.equal(conf["retention.ms"], "7200000", JSON.stringify(conf));
      // An unknown config key is refused, not stored.
      await assert.rejects(admin.alterConfigs({
        validateOnly: false,
        resources: [{ type: ConfigResourceTypes.TOPIC, name: topic,
                      configEntries: [{ name: "no.such.config", value: "1" }] }],
      }));

      await admin.deleteTopics({ topics: [topic], timeout: 10000 });
      await eventually("the topic gone", async () => !(await admin.listTopics()).includes(topic));
      console.log(`admin ok on ${topic}`);
    } finally {
      await admin.disconnect();
    }
  },

  // An idempotent producer (acks=all) with keys and headers; strom reads
  // every record once, in order.
  async "idempotent-produce"(topic, n = "2000") {
    const count = Number(n);
    // Unlimited retries, as kafkajs wants for idempotence; run.sh bounds the time.
    const producer = kafka.producer({
      idempotent: true, maxInFlightRequests: 1, retry: { retries: Number.MAX_SAFE_INTEGER },
    });
    await producer.connect();
    const batch = 200;
    for (let i = 0; i < count; i += batch) {
      await producer.send({
        topic, acks: -1,
        messages: [...Array(Math.min(batch, count - i)).keys()].map((j) => ({
          key: `k${i + j}`, value: `v${i + j}`, partition: 0,
          headers: { client: "kafkajs", n: String(i + j) },
        })),
      });
    }
    await producer.disconnect();
    const got = stromRead(topic);
    assert.equal(got.length, count, `strom read ${got.length} records, want ${count}`);
    got.forEach((r, i) => {
      assert.equal(r.offset, i);
      assert.equal(r.key, `k${i}`);
      assert.equal(r.value, `v${i}`);
      assert.deepEqual(r.headers.map((h) => [h.key, h.value]), [["client", "kafkajs"], ["n", String(i)]]);
    });
    console.log(`${count} idempotent records read back once, in order`);
  },

  // kafkajs compresses with gzip (its built-in codec); strom consume
  // decompresses, and kafkajs reads strom's own gzip batches.
  async gzip(topic) {
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic, acks: -1, compression: CompressionTypes.GZIP,
      messages: [...Array(500).keys()].map((i) => ({ key: `g${i}`, value: `gzip ${i} `.repeat(20), partition: 0 })),
    });
    await producer.disconnect();
    const got = stromRead(topic);
    assert.equal(got.length, 500);
    got.forEach((r, i) => assert.equal(r.value, `gzip ${i} `.repeat(20)));

    // The other way: strom produce --compression-type gzip, kafkajs reads.
    const other = `${topic}-from-strom`;
    execFileSync(strom, ["produce", "-t", other, "-b", bootstrap, "--compression-type", "gzip", "-K", ":"], {
      input: [...Array(300).keys()].map((i) => `sk${i}:sv${i}`).join("\n") + "\n",
      stdio: ["pipe", "inherit", "inherit"],
      timeout: 60000,
    });
    const seen = await consumeAll(other, `${other}-reader`, 300);
    seen.forEach((m, i) => {
      assert.equal(m.key, `sk${i}`);
      assert.equal(m.value, `sv${i}`);
    });
    console.log("gzip both ways ok");
  },

  // A group consumer reads a topic strom wrote and commits; the broker's
  // group shows in describeGroups and fetchOffsets, and in strom groups.
  async group(topic, group) {
    execFileSync(strom, ["topics", "create", topic, "--partitions", "3", "-b", bootstrap], {
      stdio: ["ignore", "inherit", "inherit"], timeout: 60000,
    });
    execFileSync(strom, ["produce", "-t", topic, "-b", bootstrap, "-K", ":"], {
      input: [...Array(90).keys()].map((i) => `key${i}:val${i}`).join("\n") + "\n",
      stdio: ["pipe", "inherit", "inherit"],
      timeout: 60000,
    });
    const seen = await consumeAll(topic, group, 90);
    assert.deepEqual(seen.map((m) => m.value).sort(), [...Array(90).keys()].map((i) => `val${i}`).sort());

    const admin = kafka.admin();
    await admin.connect();
    try {
      const offsets = await admin.fetchOffsets({ groupId: group, topics: [topic] });
      const total = offsets[0].partitions.reduce((s, p) => s + Number(p.offset), 0);
      assert.equal(total, 90, JSON.stringify(offsets));
      const groups = await admin.describeGroups([group]);
      assert.equal(groups.groups[0].groupId, group);
      // Everyone left: an empty group that kept its offsets.
      assert.equal(groups.groups[0].state, "Empty", JSON.stringify(groups));
      assert.ok((await admin.listGroups()).groups.some((g) => g.groupId === group));
    } finally {
      await admin.disconnect();
    }
    const described = JSON.parse(stromRun("groups", "describe", "--group", group, "--output", "json"));
    const d = Array.isArray(described) ? described[0] : described;
    const lag = d.partitions.filter((p) => p.topic === topic).reduce((s, p) => s + (p.lag ?? 0), 0);
    assert.equal(lag, 0, JSON.stringify(d));
    console.log(`group ${group} consumed 90, committed, lag 0`);
  },
};

/** Consumes `want` messages of `topic` in group `group`, then leaves. */
async function consumeAll(topic, group, want) {
  const consumer = kafka.consumer({ groupId: group, sessionTimeout: 10000, heartbeatInterval: 1000 });
  await consumer.connect();
  const seen = [];
  let done;
  const finished = new Promise((r) => { done = r; });
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    autoCommit: true,
    eachMessage: async ({ message }) => {
      seen.push({ key: message.key?.toString(), value: message.value?.toString() });
      if (seen.length >= want) done();
    },
  });
  const timer = setTimeout(() => done(), 60000);
  await finished;
  clearTimeout(timer);
  // Stopping commits what was consumed, then leaves the group.
  await consumer.disconnect();
  assert.equal(seen.length, want, `consumed ${seen.length} of ${want}`);
  return seen;
}

const run = cases[testCase];
if (!run) {
  console.error(`unknown case ${testCase}; cases: ${Object.keys(cases).join(", ")}`);
  process.exit(2);
}
try {
  await run(...args);
  process.exit(0);
} catch (e) {
  console.error(e?.stack || String(e));
  process.exit(1);
}
