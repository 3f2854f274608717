// A librdkafka client written with koffi, Node's FFI (it knows nothing of
// kotel): every function is bound with dlsym on librdkafka's handle, never
// through the dynamic linker. It does what kclient does, with the same
// configuration, so the two can be compared span for span:
//
//   node client.js BOOTSTRAP produce TOPIC COUNT   (kclient produce -a produce)
//   node client.js BOOTSTRAP consume TOPIC COUNT   (kclient consume -a poll)
//
// Output lines as kclient's ("dr ...", "msg ...").
'use strict';
const koffi = require('koffi');

const lib = koffi.load('librdkafka.so.1');
const Msg = koffi.struct('rd_kafka_message_t', {
  err: 'int', rkt: 'void *', partition: 'int32_t', payload: 'void *', len: 'size_t',
  key: 'void *', key_len: 'size_t', offset: 'int64_t', _private: 'void *',
});
const DrCb = koffi.proto('void DrCb(void *rk, void *m, void *opaque)');

const f = (decl) => lib.func(decl);
const confNew = f('void *rd_kafka_conf_new()');
const confSet = f('int rd_kafka_conf_set(void *, const char *, const char *, void *, size_t)');
const setDr = f('void rd_kafka_conf_set_dr_msg_cb(void *, DrCb *)');
const kNew = f('void *rd_kafka_new(int, void *, void *, size_t)');
const destroy = f('void rd_kafka_destroy(void *)');
const topicNew = f('void *rd_kafka_topic_new(void *, const char *, void *)');
const topicDestroy = f('void rd_kafka_topic_destroy(void *)');
const produce = f('int rd_kafka_produce(void *, int32_t, int, void *, size_t, void *, size_t, void *)');
const flush = f('int rd_kafka_flush(void *, int)');
const err2name = f('const char *rd_kafka_err2name(int)');
const msgHeaders = f('int rd_kafka_message_headers(void *, _Out_ void **)');
const headerGetLast = f('int rd_kafka_header_get_last(void *, const char *, _Out_ void **, _Out_ size_t *)');
const tplNew = f('void *rd_kafka_topic_partition_list_new(int)');
const tplAdd = f('void *rd_kafka_topic_partition_list_add(void *, const char *, int32_t)');
const tplDestroy = f('void rd_kafka_topic_partition_list_destroy(void *)');
const pollSetConsumer = f('int rd_kafka_poll_set_consumer(void *)');
const subscribe = f('int rd_kafka_subscribe(void *, void *)');
const consumerPoll = f('void *rd_kafka_consumer_poll(void *, int)');
const messageDestroy = f('void rd_kafka_message_destroy(void *)');
const consumerClose = f('int rd_kafka_consumer_close(void *)');

const PRODUCER = 0, CONSUMER = 1, MSG_F_COPY = 2, PARTITION_UA = -1;
let delivered = 0, failed = 0;

const text = (ptr, n) => (ptr ? koffi.decode.string(ptr, Number(n)) : '');

function traceparent(mptr) {
  const h = [null], v = [null], n = [0];
  if (msgHeaders(mptr, h) === 0 && headerGetLast(h[0], 'traceparent', v, n) === 0)
    return text(v[0], n[0]);
  return '-';
}

const onDelivery = koffi.register((rk, mptr, opaque) => {
  const m = koffi.decode(mptr, Msg);
  if (m.err) failed++; else delivered++;
  console.log(`dr key=${text(m.key, m.key_len)} err=${err2name(m.err)} ` +
              `partition=${m.partition} offset=${m.offset} traceparent=${traceparent(mptr)}`);
}, koffi.pointer(DrCb));

function baseConf(bootstrap) {
  const c = confNew();
  for (const [k, v] of [['bootstrap.servers', bootstrap], ['client.id', 'kclient'],
                        ['log_level', '3']])
    if (confSet(c, k, v, null, 0) !== 0) throw new Error(k);
  return c;
}

function client(kind, conf) {
  const err = Buffer.alloc(256);
  const rk = kNew(kind, conf, err, 256);
  if (!rk) throw new Error('rd_kafka_new: ' + err.toString('utf8').replace(/\0.*$/s, ''));
  return rk;
}

function cmdProduce(bootstrap, topic, count) {
  const c = baseConf(bootstrap);
  confSet(c, 'linger.ms', '5', null, 0);
  setDr(c, onDelivery);
  const rk = client(PRODUCER, c);
  const rkt = topicNew(rk, topic, null);
  for (let i = 0; i < count; i++) {
    const key = Buffer.from(`k${i}`), val = Buffer.from(`payload-${i}`);
    if (produce(rkt, PARTITION_UA, MSG_F_COPY, val, val.length, key, key.length, null) !== 0)
      throw new Error('produce');
  }
  topicDestroy(rkt);
  flush(rk, 10000);
  destroy(rk);
  console.log(`delivered=${delivered} failed=${failed}`);
  return delivered === count ? 0 : 1;
}

function cmdConsume(bootstrap, topic, count) {
  const c = baseConf(bootstrap);
  for (const [k, v] of [['group.id', 'kclient'], ['auto.offset.reset', 'earliest'],
                        ['enable.partition.eof', 'false']])
    confSet(c, k, v, null, 0);
  const rk = client(CONSUMER, c);
  const tpl = tplNew(1);
  tplAdd(tpl, topic, PARTITION_UA);
  pollSetConsumer(rk);
  if (subscribe(rk, tpl) !== 0) throw new Error('subscribe');
  tplDestroy(tpl);
  let seen = 0;
  const deadline = Date.now() + 30000;
  while (seen < count && Date.now() < deadline) {
    const mptr = consumerPoll(rk, 200);
    if (!mptr) continue;
    const m = koffi.decode(mptr, Msg);
    if (!m.err) {
      console.log(`msg key=${text(m.key, m.key_len)} partition=${m.partition} ` +
                  `offset=${m.offset} traceparent=${traceparent(mptr)}`);
      seen++;
    }
    messageDestroy(mptr);
  }
  consumerClose(rk);
  destroy(rk);
  console.log(`consumed=${seen}`);
  return seen === count ? 0 : 1;
}

const [bootstrap, cmd, topic, count] = process.argv.slice(2);
process.exitCode = (cmd === 'produce' ? cmdProduce : cmdConsume)(bootstrap, topic, Number(count));
