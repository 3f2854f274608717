// kotelnode: a producer and a consumer on node-rdkafka (built against the
// system librdkafka), for kotel's compatibility suite.
//
//   node kotelnode.js produce BOOTSTRAP TOPIC N        one "dr" line per delivery
//   node kotelnode.js consume BOOTSTRAP TOPIC N GROUP  one "msg" line per message
//
// Keys are k0..kN-1, each message carries the header app=node. Both
// programs disconnect their clients and let Node end the process (the
// consumer reads with consume(count, cb): after disconnect() a consumer in
// flowing mode, consume() without a count, kept node-rdkafka 2.15.0's
// process alive, with or without kotel).
'use strict';

const Kafka = require('node-rdkafka');

function die(what) {
  process.stderr.write('kotelnode: ' + what + '\n');
  process.exit(1);
}

const [mode, bootstrap, topic, nArg, group] = process.argv.slice(2);
const n = parseInt(nArg, 10);
if (!(n > 0) || !bootstrap || !topic) {
  die('usage: kotelnode produce|consume BOOTSTRAP TOPIC N [GROUP]');
}
const timer = setTimeout(() => die('not done after 60s'), 60000);

function produce() {
  const p = new Kafka.Producer({'metadata.broker.list': bootstrap, 'dr_cb': true});
  let delivered = 0;
  p.on('event.error', (err) => die('producer: ' + err));
  p.on('delivery-report', (err, report) => {
    if (err) {
      die('delivery: ' + err);
    }
    console.log('dr key=%s partition=%d offset=%d', report.key.toString(),
                report.partition, report.offset);
    if (++delivered === n) {
      p.flush(10000, (ferr) => {
        if (ferr) {
          die('flush: ' + ferr);
        }
        p.disconnect();
      });
    }
  });
  p.on('disconnected', () => clearTimeout(timer));
  p.on('ready', () => {
    for (let i = 0; i < n; i++) {
      p.produce(topic, null, Buffer.from('v' + i), 'k' + i, Date.now(), null,
                [{app: 'node'}]);
    }
    p.setPollInterval(20);
  });
  p.connect();
}

function consume() {
  const c = new Kafka.KafkaConsumer(
    {'metadata.broker.list': bootstrap, 'group.id': group, 'enable.auto.commit': false},
    {'auto.offset.reset': 'earliest'});
  let got = 0;
  c.on('event.error', (err) => die('consumer: ' + err));
  c.on('disconnected', () => clearTimeout(timer));
  // Non-flowing: one consume(count) call at a time, until N messages.
  const next = () => c.consume(n - got, (err, msgs) => {
    if (err) {
      die('consume: ' + err);
    }
    for (const m of msgs) {
      let tp = '-';
      let app = '-';
      for (const h of m.headers || []) {
        if (h.traceparent !== undefined) {
          tp = h.traceparent.toString();
        }
        if (h.app !== undefined) {
          app = h.app.toString();
        }
      }
      console.log('msg key=%s partition=%d offset=%d traceparent=%s app=%s', m.key.toString(),
                  m.partition, m.offset, tp, app);
      got++;
    }
    if (got < n) {
      next();
    } else {
      c.disconnect();
    }
  });
  c.on('ready', () => {
    c.subscribe([topic]);
    next();
  });
  c.connect();
}

if (mode === 'produce') {
  produce();
} else if (mode === 'consume' && group) {
  consume();
} else {
  die('usage: kotelnode produce|consume BOOTSTRAP TOPIC N [GROUP]');
}
